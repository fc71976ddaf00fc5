package stix

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUpgrade(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // "" means unchanged
		wantErr bool
	}{
		{
			name: "indicator",
			in:   `{"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "labels": ["malicious-activity"], "pattern": "[ipv4-addr:value = '10.0.0.1']", "valid_from": "2016-01-01T00:00:00Z", "x_n": 1.10}`,
			want: `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","labels":["malicious-activity"],"indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z","x_n":1.10}`,
		},
		{
			name: "malware",
			in:   `{"type":"malware","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"Poison Ivy","labels":["remote-access-trojan"]}`,
			want: `{"type":"malware","spec_version":"2.1","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"Poison Ivy","labels":["remote-access-trojan"],"malware_types":["remote-access-trojan"],"is_family":true}`,
		},
		{
			name: "threat-actor keeps existing types",
			in:   `{"type":"threat-actor","id":"threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","name":"x","labels":["crime-syndicate"],"threat_actor_types":["spy"]}`,
			want: `{"type":"threat-actor","spec_version":"2.1","id":"threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","name":"x","labels":["crime-syndicate"],"threat_actor_types":["spy"]}`,
		},
		{
			name: "observed-data objects kept",
			in:   `{"type":"observed-data","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf","created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z","first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z","number_observed":50,"objects":{"0":{"type":"ipv4-addr","value":"10.0.0.1"}}}`,
			want: `{"type":"observed-data","spec_version":"2.1","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf","created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z","first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z","number_observed":50,"objects":{"0":{"type":"ipv4-addr","value":"10.0.0.1"}}}`,
		},
		{
			name: "2.0 marking definition",
			in:   `{"type":"marking-definition","id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","definition":{"tlp":"green"}}`,
			want: `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","definition":{"tlp":"green"}}`,
		},
		{name: "2.1 unchanged", in: bases["indicator"]},
		{name: "observable unchanged", in: bases["file"]},
		{name: "not json", in: `{`, wantErr: true},
		{name: "no type", in: `{"id":"x"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := Upgrade([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Upgrade(%s) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			want := tt.want
			if want == "" {
				want = tt.in
			}
			if changed != (tt.want != "") {
				t.Errorf("Upgrade changed = %v, want %v", changed, tt.want != "")
			}
			if diff := cmp.Diff(want, string(got)); diff != "" {
				t.Errorf("Upgrade(%s) (-want +got):\n%s", tt.in, diff)
			}
			if changed {
				if _, _, err := Decode(got); err != nil {
					t.Errorf("upgraded object does not validate: %v", err)
				}
			}
		})
	}
}
