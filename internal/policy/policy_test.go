package policy

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var self = Self{Org: "CERT-FR", Nation: "FRA", Identities: []string{"identity--11111111-1111-4111-8111-111111111111"}}

const otherIdentity = "identity--22222222-2222-4222-8222-222222222222"

// TestTLPMatrix checks every combination of TLP level, relation,
// provenance, organisation and recipient naming against
// testdata/tlp_matrix.txt, which was written from FIRST's TLP 2.0 text and
// not from this code.
func TestTLPMatrix(t *testing.T) {
	f, err := os.Open("testdata/tlp_matrix.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 7 || fs[5] != "->" {
			t.Fatalf("bad matrix line %q", line)
		}
		level, rel, prov, org, rec, want := fs[0], fs[1], fs[2], fs[3], fs[4], Action(fs[6])
		item := Item{ID: "indicator--x", Type: "indicator", TLP: level}
		if level == "unmarked" {
			item.TLP = ""
		}
		if prov == "received" {
			item.CreatedBy = otherIdentity
			item.ReceivedFrom = "hub"
		} else {
			item.CreatedBy = self.Identities[0]
		}
		peer := Peer{Name: "peer", Org: "CERT-DE", Nation: "DEU", Relation: Relation(rel), Recipient: rec == "named"}
		if org == "same" {
			peer.Org = self.Org
		}
		d := Decide(Rules{}, self, item, peer)
		if d.Action != want {
			t.Errorf("%s: got %s", line, d)
		}
		if d.Reason == "" {
			t.Errorf("%s: decision without a reason", line)
		}
		n++
	}
	if n != 6*4*2*2*2 {
		t.Errorf("matrix has %d cases, want %d", n, 6*4*2*2*2)
	}
}

func TestDecide(t *testing.T) {
	member := Peer{Name: "de", Org: "CERT-DE", Nation: "DEU", Relation: Member, Groups: []string{"baltic"}}
	tests := []struct {
		name     string
		rules    Rules
		item     Item
		peer     Peer
		want     Action
		wantRule string
		strip    []string
	}{
		{"unknown relation denies", Rules{}, Item{ID: "a", TLP: Clear}, Peer{Name: "x"}, Deny, "relation", nil},
		{"typo relation denies", Rules{}, Item{ID: "a", TLP: Clear}, Peer{Name: "x", Relation: "friend"}, Deny, "relation", nil},
		{"no echo", Rules{}, Item{ID: "a", TLP: Clear, ReceivedFrom: "de"}, member, Deny, "echo", nil},
		{"received from another peer goes on", Rules{}, Item{ID: "a", TLP: Green, ReceivedFrom: "hub"}, member, Allow, "allow", nil},
		{"rel-to nation", Rules{}, Item{ID: "a", TLP: Green, ReleasableTo: []string{"DEU", "POL"}}, member, Allow, "allow", nil},
		{"rel-to org, case-insensitive", Rules{}, Item{ID: "a", TLP: Green, ReleasableTo: []string{"cert-de"}}, member, Allow, "allow", nil},
		{"rel-to elsewhere", Rules{}, Item{ID: "a", TLP: Green, ReleasableTo: []string{"POL"}}, member, Deny, "rel-to", nil},
		{"rel-to on clear still binds", Rules{}, Item{ID: "a", TLP: Clear, ReleasableTo: []string{"POL"}}, member, Deny, "rel-to", nil},
		{"sharing group member", Rules{}, Item{ID: "a", TLP: Green, Groups: []string{"nordic", "baltic"}}, member, Allow, "allow", nil},
		{"sharing group outsider", Rules{}, Item{ID: "a", TLP: Green, Groups: []string{"nordic"}}, member, Deny, "sharing-group", nil},
		{"tlp before rel-to", Rules{}, Item{ID: "a", TLP: Red, ReleasableTo: []string{"DEU"}}, member, Deny, "tlp", nil},
		{"unmarked assumed green", Rules{Unmarked: "TLP:GREEN"}, Item{ID: "a"}, member, Allow, "allow", nil},
		{"unmarked assumed amber, received", Rules{Unmarked: Amber}, Item{ID: "a", ReceivedFrom: "hub"}, member, Deny, "tlp", nil},
		{"tlp 1.0 white is clear", Rules{}, Item{ID: "a", TLP: "white"}, Peer{Name: "p", Relation: Public}, Allow, "allow", nil},
		{"unknown level denies", Rules{}, Item{ID: "a", TLP: "purple"}, member, Deny, "tlp", nil},
		{"type filter", Rules{}, Item{ID: "a", Type: "sighting", TLP: Clear}, Peer{Name: "p", Relation: Partner, DenyTypes: []string{"sighting"}}, Deny, "type", nil},
		{"always-share markings", Rules{AlwaysShare: []string{"marking-definition"}}, Item{ID: "m", Type: "marking-definition"}, Peer{Name: "p", Relation: Public}, Allow, "allow", nil},
		{"always-share still no echo", Rules{AlwaysShare: []string{"marking-definition"}}, Item{ID: "m", Type: "marking-definition", ReceivedFrom: "p"}, Peer{Name: "p", Relation: Member}, Deny, "echo", nil},
		{"redact sightings", Rules{}, Item{ID: "s", Type: "sighting", TLP: Green},
			Peer{Name: "p", Relation: Partner, Strip: map[string][]string{"sighting": {"where_sighted_refs"}, "*": {"x_internal", "where_sighted_refs"}}},
			Redact, "redact", []string{"where_sighted_refs", "x_internal"}},
		{"redaction never overrides a deny", Rules{}, Item{ID: "s", Type: "sighting", TLP: Red},
			Peer{Name: "p", Relation: Partner, Strip: map[string][]string{"*": {"x"}}}, Deny, "tlp", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.rules, self, tc.item, tc.peer)
			if d.Action != tc.want || d.Rule != tc.wantRule {
				t.Errorf("Decide = %s; want %s (%s)", d, tc.want, tc.wantRule)
			}
			if !cmp.Equal(d.Strip, tc.strip) {
				t.Errorf("Strip = %v, want %v", d.Strip, tc.strip)
			}
			if d.Reason == "" {
				t.Error("no reason")
			}
		})
	}
}
