package suricata

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	data, err := os.ReadFile("testdata/eve.json")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	tests := []struct {
		time    time.Time
		fields  map[string][]string // name -> values
		wantErr bool                // Parse error
		bad     bool                // decode error (ev.Err)
	}{
		{time: time.Date(2024, 3, 12, 10, 15, 2, 123456e3, time.UTC), fields: map[string][]string{
			"event_type": {"alert"}, "alert.signature_id": {"2024897"}, "http.hostname": {"evil.example"},
			"alert.metadata.created_at": {"2017_10_31"}, "flow_id": {"1234567890123456"}}},
		{time: time.Date(2024, 3, 12, 9, 15, 3, 1e3, time.UTC), fields: map[string][]string{
			"dns.answers.rdata": {"203.0.113.7", "203.0.113.8"}, "dns.rrname": {"evil.example"}}},
		{time: time.Date(2024, 3, 12, 10, 15, 4, 5e8, time.UTC), fields: map[string][]string{
			"tls.sni": {"café.example"}, "tls.ja3.hash": {"e7d705a3286e19ea42f587b344ee6865"}}},
		{wantErr: true},
		{wantErr: true},
		{time: time.Date(2024, 3, 12, 10, 15, 6, 0, time.UTC), fields: map[string][]string{"stats.uptime": {"8"}}},
	}
	if len(lines) != len(tests) {
		t.Fatalf("testdata has %d lines, want %d", len(lines), len(tests))
	}
	for i, tt := range tests {
		ev, err := Parser{}.Parse("eve.json", int64(i), lines[i])
		if (err != nil) != tt.wantErr {
			t.Errorf("Parse(line %d) error = %v, want error %v", i, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if ev.Format != "eve" || !ev.Time.Equal(tt.time) {
			t.Errorf("Parse(line %d) = format %q time %v, want eve %v", i, ev.Format, ev.Time, tt.time)
		}
		if ev.Err() != nil {
			t.Errorf("Parse(line %d) decode error %v", i, ev.Err())
		}
		for name, want := range tt.fields {
			var got []string
			for _, f := range ev.All(name) {
				got = append(got, f.Value)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("line %d field %s (-want +got):\n%s", i, name, diff)
			}
		}
		if !IsEVE(lines[i]) {
			t.Errorf("IsEVE(line %d) = false", i)
		}
	}
	if IsEVE([]byte(`{"ts":1,"uid":"C"}`)) {
		t.Errorf("IsEVE(zeek record) = true")
	}
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/eve.json")
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))[:3]
	var n int64
	for _, l := range lines {
		n += int64(len(l))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			ev, _ := Parser{}.Parse("b", 0, l)
			_ = ev.Fields()
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(lines))/b.Elapsed().Seconds(), "lines/s")
}
