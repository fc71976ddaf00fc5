package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

// RunSearch runs the conformance checks of the optional store.ObjectSearch
// capability; each subtest skips when the backend lacks it. open must
// return a new, empty backend each time.
func RunSearch(t *testing.T, open func(t *testing.T) store.Backend) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, b store.Backend, s store.ObjectSearch)
	}{
		{"Text", testSearchText},
		{"LatestOnly", testSearchLatestOnly},
		{"Paging", testSearchPaging},
		{"Errors", testSearchErrors},
		{"Referencing", testReferencing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := open(t)
			t.Cleanup(func() {
				if err := b.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			s, ok := b.(store.ObjectSearch)
			if !ok {
				t.Skip("backend does not search objects (store.ObjectSearch)")
			}
			tc.fn(t, b, s)
		})
	}
}

// obj builds a versioned object of type typ with these extra properties.
func obj(typ string, n int, modified time.Time, props map[string]any) stix.Object {
	id := uid(typ, n)
	m := map[string]any{"type": typ, "spec_version": "2.1", "id": id,
		"created": stix.FormatTime(at(n), 3), "modified": stix.FormatTime(modified, 3)}
	for k, v := range props {
		m[k] = v
	}
	raw, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	o := stix.Object{ID: id, Type: typ, SpecVersion: "2.1", Created: at(n), Modified: modified, Raw: raw}
	if r, _ := props["revoked"].(bool); r {
		o.Revoked = true
	}
	return o
}

// search runs one search and returns the ids found, in order.
func search(t *testing.T, s store.ObjectSearch, coll string, q store.SearchQuery) ([]string, store.SearchPage) {
	t.Helper()
	p, err := s.SearchObjects(context.Background(), coll, q)
	if err != nil {
		t.Fatalf("SearchObjects(%+v): %v", q, err)
	}
	var ids []string
	for _, r := range p.Records {
		ids = append(ids, r.Object.ID)
	}
	return ids, p
}

func testSearchText(t *testing.T, b store.Backend, s store.ObjectSearch) {
	coll, other := newCollection(t, b), newCollection(t, b)
	apt := obj("intrusion-set", 1, at(1), map[string]any{"name": "APT28", "aliases": []string{"Fancy Bear", "Sofacy"},
		"description": "A threat group attributed to Russia's GRU."})
	tech := obj("attack-pattern", 2, at(2), map[string]any{"name": "Command and Scripting Interpreter",
		"external_references": []map[string]any{{"source_name": "mitre-attack", "external_id": "T1059"}}})
	vuln := obj("vulnerability", 3, at(3), map[string]any{"name": "Log4Shell",
		"external_references": []map[string]any{{"source_name": "cve", "external_id": "CVE-2021-44228"}}})
	ind := obj("indicator", 4, at(4), map[string]any{"name": "C2 server", "pattern": "[ipv4-addr:value = '203.0.113.77']",
		"pattern_type": "stix", "valid_from": stix.FormatTime(at(4), 3)})
	soft := obj("tool", 5, at(5), map[string]any{"name": "Mimikatz", "x_mitre_aliases": []string{"mimi-katz-alias"}})
	ip := sco("ipv4-addr", uid("ipv4-addr", 6), "198.51.100.66")
	// Newer than apt, but names APT28 only in its description: it comes after.
	camp := obj("campaign", 8, at(8), map[string]any{"name": "Operation Quill", "description": "Run by APT28 in 2024."})
	put(t, b, coll, apt, tech, vuln, ind, soft, ip, camp)
	put(t, b, other, obj("intrusion-set", 7, at(7), map[string]any{"name": "APT28 elsewhere"}))

	for _, c := range []struct {
		text  string
		types []string
		want  []string
	}{
		{"APT28", nil, []string{apt.ID, camp.ID}},   // by name first, then by description
		{"apt28", nil, []string{apt.ID, camp.ID}},   // case-insensitive
		{"APT28 2024", nil, []string{camp.ID}},      // one word in the name, one in the description
		{"fancy bear", nil, []string{apt.ID}},       // an alias, two words
		{"bear fancy", nil, []string{apt.ID}},       // words in any order
		{"ofac", nil, []string{apt.ID}},             // a substring of an alias
		{"Russia's GRU", nil, []string{apt.ID}},     // the description
		{"T1059", nil, []string{tech.ID}},           // an ATT&CK id
		{"cve-2021-44228", nil, []string{vuln.ID}},  // a CVE id
		{"203.0.113.77", nil, []string{ind.ID}},     // the pattern
		{"mimi-katz-alias", nil, []string{soft.ID}}, // x_mitre_aliases
		{"198.51.100.66", nil, []string{ip.ID}},     // an observable's value
		{"C2 server", nil, []string{ind.ID}},        // "C2" is short: the whole text as one substring
		{"APT28", []string{"indicator"}, nil},       // type filter
		{"APT28", []string{"indicator", "intrusion-set"}, []string{apt.ID}},
		{"APT28", []string{"campaign"}, []string{camp.ID}},
		{"zzqx-no-such-text", nil, nil},
		{"", []string{"tool"}, []string{soft.ID}},                                      // no text: every object of the type
		{"", nil, []string{camp.ID, ip.ID, soft.ID, ind.ID, vuln.ID, tech.ID, apt.ID}}, // newest first
	} {
		got, p := search(t, s, coll, store.SearchQuery{Text: c.text, Types: c.types})
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("search %q types %v (-want +got):\n%s", c.text, c.types, diff)
		}
		if p.More || p.Pending != 0 {
			t.Errorf("search %q: More %v, Pending %d; want false, 0", c.text, p.More, p.Pending)
		}
	}
	// What comes back is the stored record.
	_, p := search(t, s, coll, store.SearchQuery{Text: "Log4Shell"})
	if len(p.Records) != 1 || string(p.Records[0].Object.Raw) != string(vuln.Raw) || p.Records[0].Object.Type != "vulnerability" ||
		!p.Records[0].Version.Equal(at(3)) {
		t.Errorf("search Log4Shell: %+v; want the stored vulnerability", p.Records)
	}
}

func testSearchLatestOnly(t *testing.T, b store.Backend, s store.ObjectSearch) {
	ctx := context.Background()
	coll := newCollection(t, b)
	v1 := obj("malware", 1, at(1), map[string]any{"name": "Oldname", "is_family": true})
	v2 := obj("malware", 1, at(2), map[string]any{"name": "Newname", "is_family": true})
	put(t, b, coll, v1, v2)
	if got, _ := search(t, s, coll, store.SearchQuery{Text: "oldname"}); got != nil {
		t.Errorf("search of the old version's name found %v; want nothing (only latest versions)", got)
	}
	if got, _ := search(t, s, coll, store.SearchQuery{Text: "newname"}); !slices.Equal(got, []string{v1.ID}) {
		t.Errorf("search of the latest name found %v; want %s", got, v1.ID)
	}
	// An older version put after the latest stays unfound.
	v0 := obj("malware", 1, at(0), map[string]any{"name": "Ancientname", "is_family": true})
	put(t, b, coll, v0)
	if got, _ := search(t, s, coll, store.SearchQuery{Text: "ancientname"}); got != nil {
		t.Errorf("search of an older version put late found %v; want nothing", got)
	}
	// Deleting the latest makes the previous version the one found.
	if _, err := b.Delete(ctx, coll, v1.ID, store.VersionMatch{Last: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := search(t, s, coll, store.SearchQuery{Text: "oldname"}); !slices.Equal(got, []string{v1.ID}) {
		t.Errorf("after deleting the latest version, search found %v; want %s by its previous name", got, v1.ID)
	}
	if got, _ := search(t, s, coll, store.SearchQuery{Text: "newname"}); got != nil {
		t.Errorf("after deleting the latest version, its name still finds %v", got)
	}
	// A revoked latest version is found, and marked.
	rev := obj("malware", 1, at(3), map[string]any{"name": "Oldname", "is_family": true, "revoked": true})
	put(t, b, coll, rev)
	_, p := search(t, s, coll, store.SearchQuery{Text: "oldname"})
	if len(p.Records) != 1 || !p.Records[0].Object.Revoked {
		t.Errorf("search of a revoked object: %+v; want it, with Revoked", p.Records)
	}
	if _, err := b.Delete(ctx, coll, v1.ID, store.VersionMatch{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := search(t, s, coll, store.SearchQuery{Text: "oldname"}); got != nil {
		t.Errorf("search found %v after the object was deleted", got)
	}
}

func testSearchPaging(t *testing.T, b store.Backend, s store.ObjectSearch) {
	coll := newCollection(t, b)
	var objs []stix.Object
	var want, wantText, wantMalware []string // newest first; by name then by description; malware by name then description
	var byDesc, malDesc []string
	for i := range 25 {
		typ := "indicator"
		if i%5 == 0 {
			typ = "malware"
		}
		props := map[string]any{"name": fmt.Sprintf("Pagedname %02d", i)}
		if i%7 == 3 {
			props = map[string]any{"name": fmt.Sprintf("Other %02d", i), "description": "See pagedname."}
		}
		objs = append(objs, obj(typ, i, at(i), props))
	}
	put(t, b, coll, objs...)
	for i := len(objs) - 1; i >= 0; i-- {
		id := objs[i].ID
		want = append(want, id)
		switch {
		case i%7 == 3 && i%5 == 0:
			byDesc, malDesc = append(byDesc, id), append(malDesc, id)
		case i%7 == 3:
			byDesc = append(byDesc, id)
		case i%5 == 0:
			wantText, wantMalware = append(wantText, id), append(wantMalware, id)
		default:
			wantText = append(wantText, id)
		}
	}
	wantText = append(wantText, byDesc...)
	wantMalware = append(wantMalware, malDesc...)
	for _, c := range []struct {
		text  string
		types []string
		want  []string
	}{
		{"pagedname", nil, wantText},
		{"", nil, want},
		{"pagedname", []string{"malware"}, wantMalware},
		{"", []string{"malware"}, []string{objs[20].ID, objs[15].ID, objs[10].ID, objs[5].ID, objs[0].ID}},
	} {
		for _, limit := range []int{1, 2, 10, 25, 100} {
			var got []string
			q := store.SearchQuery{Text: c.text, Types: c.types, Limit: limit}
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatalf("search %q limit %d: too many pages", c.text, limit)
				}
				ids, p := search(t, s, coll, q)
				if len(ids) > limit {
					t.Fatalf("search %q limit %d: %d records", c.text, limit, len(ids))
				}
				got = append(got, ids...)
				if !p.More {
					break
				}
				if p.Next == "" {
					t.Fatalf("search %q limit %d: More without Next", c.text, limit)
				}
				q.Next = p.Next
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("search %q types %v, pages of %d (-want +got):\n%s", c.text, c.types, limit, diff)
			}
		}
	}
	// A page walked stays the same when newer objects arrive.
	p1, err := s.SearchObjects(context.Background(), coll, store.SearchQuery{Text: "pagedname", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	put(t, b, coll, obj("indicator", 99, at(99), map[string]any{"name": "Pagedname newest"}))
	ids, _ := search(t, s, coll, store.SearchQuery{Text: "pagedname", Limit: 10, Next: p1.Next})
	if !slices.Equal(ids, wantText[10:20]) {
		t.Errorf("second page after a new object: %v; want %v", ids, wantText[10:20])
	}
}

func testSearchErrors(t *testing.T, b store.Backend, s store.ObjectSearch) {
	ctx := context.Background()
	coll := newCollection(t, b)
	put(t, b, coll, indicator(1))
	for _, q := range []store.SearchQuery{
		{Text: "ab"},
		{Text: " x "},
		{Text: "abc", Next: "not-a-cursor"},
		{Next: "q2.1.notanumber"},
		{Next: "q2.7.123"},
	} {
		if _, err := s.SearchObjects(ctx, coll, q); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("SearchObjects(%+v) = %v; want ErrInvalid", q, err)
		}
	}
	if _, err := s.SearchObjects(ctx, "no-such-collection", store.SearchQuery{Text: "abc"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SearchObjects(no such collection) = %v; want ErrNotFound", err)
	}
	if _, _, err := s.Referencing(ctx, "no-such-collection", uid("indicator", 1), 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Referencing(no such collection) = %v; want ErrNotFound", err)
	}
	// Quotes and FTS or LIKE syntax in the text are text.
	for _, text := range []string{`"abc`, `a"b"c`, `abc OR def`, `%_%`, `ab*`, `NEAR(abc)`, `'; DROP TABLE objects; --`} {
		if _, err := s.SearchObjects(ctx, coll, store.SearchQuery{Text: text}); err != nil {
			t.Errorf("SearchObjects(%q): %v", text, err)
		}
	}
	if got, _ := search(t, s, coll, store.SearchQuery{Text: "%%%"}); got != nil {
		t.Errorf("search %%%%%% found %v; want nothing (no object holds it)", got)
	}
}

func testReferencing(t *testing.T, b store.Backend, s store.ObjectSearch) {
	ctx := context.Background()
	coll, other := newCollection(t, b), newCollection(t, b)
	apt := uid("intrusion-set", 1)
	mal, tool, loc, od := uid("malware", 2), uid("tool", 3), uid("identity", 4), uid("observed-data", 5)
	rel := func(n int, modified time.Time, src, dst string) stix.Object {
		return obj("relationship", n, modified, map[string]any{"relationship_type": "uses", "source_ref": src, "target_ref": dst})
	}
	r1 := rel(10, at(10), apt, mal)
	r2 := rel(11, at(11), tool, apt)
	r3v1 := rel(12, at(12), apt, tool)
	r3v2 := rel(12, at(13), mal, tool) // the latest no longer names apt
	unrelated := rel(13, at(14), mal, tool)
	sight := obj("sighting", 14, at(15), map[string]any{"sighting_of_ref": mal, "where_sighted_refs": []string{loc}, "observed_data_refs": []string{od}})
	put(t, b, coll, r1, r2, r3v1, r3v2, unrelated, sight)
	put(t, b, other, rel(15, at(16), apt, mal))

	ids := func(recs []store.Record) []string {
		var out []string
		for _, r := range recs {
			out = append(out, r.Object.ID)
		}
		return out
	}
	for _, c := range []struct {
		id   string
		want []string // newest first
	}{
		{apt, []string{r2.ID, r1.ID}},
		{mal, []string{sight.ID, unrelated.ID, r3v2.ID, r1.ID}},
		{loc, []string{sight.ID}},
		{od, []string{sight.ID}},
		{uid("campaign", 9), nil},
	} {
		recs, more, err := s.Referencing(ctx, coll, c.id, 0)
		if err != nil {
			t.Fatalf("Referencing(%s): %v", c.id, err)
		}
		if diff := cmp.Diff(c.want, ids(recs)); diff != "" || more {
			t.Errorf("Referencing(%s), more %v (-want +got):\n%s", c.id, more, diff)
		}
	}
	recs, _, _ := s.Referencing(ctx, coll, tool, 0)
	for _, r := range recs {
		if r.Object.ID == r3v2.ID && string(r.Object.Raw) != string(r3v2.Raw) {
			t.Errorf("Referencing(tool) returned an old version of %s", r3v2.ID)
		}
	}
	recs, more, err := s.Referencing(ctx, coll, mal, 2)
	if err != nil || !more || !slices.Equal(ids(recs), []string{sight.ID, unrelated.ID}) {
		t.Errorf("Referencing(limit 2) = %v, more %v, %v; want the 2 newest and more", ids(recs), more, err)
	}
	// Revoked relationships are returned (the caller decides); deleted ones are not.
	if _, err := b.Delete(ctx, coll, r1.ID, store.VersionMatch{}); err != nil {
		t.Fatal(err)
	}
	if recs, _, _ := s.Referencing(ctx, coll, apt, 0); !slices.Equal(ids(recs), []string{r2.ID}) {
		t.Errorf("Referencing(apt) after deleting %s = %v; want only %s", r1.ID, ids(recs), r2.ID)
	}
}
