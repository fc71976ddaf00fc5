package taxiiserver

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shieldwall/shieldwall/internal/taxii"
)

// seedVersions posts, in three requests, the records (in date_added order)
// ind1@1 ind2@1 mal1@1 | ind1@2 ind3@1 | ind1@3 mal2@5 to collShared and
// returns the manifest of every version.
func seedVersions(f *fixture) []taxii.ManifestRecord {
	f.t.Helper()
	f.post(collShared, indicator(1, 1), indicator(2, 1), malware(1, 1))
	f.post(collShared, indicator(1, 2), indicator(3, 1))
	f.post(collShared, indicator(1, 3), malware(2, 5))
	var m taxii.Manifest
	f.ok(req{path: collPath(collShared) + "manifest/?match[version]=all"}, http.StatusOK, &m)
	if len(m.Objects) != 7 {
		f.t.Fatalf("manifest of every version has %d records, want 7: %+v", len(m.Objects), m)
	}
	return m.Objects
}

// at names a record as envelopeOut.ids does.
func at(id string, v int) string { return id + "@" + stamp(v) }

func TestGetObjectsFilters(t *testing.T) {
	f := newFixture(t)
	recs := seedVersions(f)
	ind1, ind2, ind3, mal1, mal2 := indID(1), indID(2), indID(3), malID(1), malID(2)
	afterInd1v2 := url.QueryEscape(recs[3].DateAdded)

	tests := []struct {
		query string
		want  []string
		more  bool
	}{
		{"", []string{at(ind2, 1), at(mal1, 1), at(ind3, 1), at(ind1, 3), at(mal2, 5)}, false},
		{"match[version]=last", []string{at(ind2, 1), at(mal1, 1), at(ind3, 1), at(ind1, 3), at(mal2, 5)}, false},
		{"match[version]=first", []string{at(ind1, 1), at(ind2, 1), at(mal1, 1), at(ind3, 1), at(mal2, 5)}, false},
		{"match[version]=first,last", []string{at(ind1, 1), at(ind2, 1), at(mal1, 1), at(ind3, 1), at(ind1, 3), at(mal2, 5)}, false},
		{"match[version]=all", []string{at(ind1, 1), at(ind2, 1), at(mal1, 1), at(ind1, 2), at(ind3, 1), at(ind1, 3), at(mal2, 5)}, false},
		{"match[version]=" + url.QueryEscape(stamp(2)), []string{at(ind1, 2)}, false},
		{"match[version]=" + url.QueryEscape(stamp(2)+","+stamp(5)), []string{at(ind1, 2), at(mal2, 5)}, false},
		{"match[type]=malware", []string{at(mal1, 1), at(mal2, 5)}, false},
		{"match[type]=malware,indicator&match[version]=first", []string{at(ind1, 1), at(ind2, 1), at(mal1, 1), at(ind3, 1), at(mal2, 5)}, false},
		{"match[id]=" + ind1, []string{at(ind1, 3)}, false},
		{"match[id]=" + ind1 + "&match[version]=all", []string{at(ind1, 1), at(ind1, 2), at(ind1, 3)}, false},
		{"match[id]=" + ind1 + "," + mal1, []string{at(mal1, 1), at(ind1, 3)}, false},
		{"match[id]=" + ind1 + "&match[type]=malware", nil, false},
		{"match[spec_version]=2.1", []string{at(ind2, 1), at(mal1, 1), at(ind3, 1), at(ind1, 3), at(mal2, 5)}, false},
		{"match[spec_version]=2.0", nil, false},
		{"match[spec_version]=2.0,2.1&match[type]=malware", []string{at(mal1, 1), at(mal2, 5)}, false},
		{"added_after=" + afterInd1v2 + "&match[version]=all", []string{at(ind3, 1), at(ind1, 3), at(mal2, 5)}, false},
		{"added_after=" + afterInd1v2, []string{at(ind3, 1), at(ind1, 3), at(mal2, 5)}, false},
		{"limit=2", []string{at(ind2, 1), at(mal1, 1)}, true},
		{"match[type]=indicator&match[version]=all&added_after=" + afterInd1v2 + "&limit=1", []string{at(ind3, 1)}, true},
		{"match[type]=indicator&match[version]=all&match[spec_version]=2.1&match[id]=" + ind1 + "," + ind3 + "&limit=10",
			[]string{at(ind1, 1), at(ind1, 2), at(ind3, 1), at(ind1, 3)}, false},
	}
	for _, tt := range tests {
		var env envelopeOut
		resp := f.ok(req{path: objectsPath(collShared) + "?" + tt.query}, http.StatusOK, &env)
		if diff := cmp.Diff(tt.want, env.ids(t), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("GET objects?%s mismatch (-want +got):\n%s", tt.query, diff)
		}
		if env.More != tt.more {
			t.Errorf("GET objects?%s: more = %v, want %v", tt.query, env.More, tt.more)
		}
		first, last := resp.header.Get("X-TAXII-Date-Added-First"), resp.header.Get("X-TAXII-Date-Added-Last")
		if len(tt.want) == 0 {
			if first != "" || last != "" {
				t.Errorf("GET objects?%s: empty page has X-TAXII-Date-Added headers %q, %q", tt.query, first, last)
			}
			continue
		}
		// The headers are the date_added of the first and last records.
		var wantFirst, wantLast string
		for _, r := range recs {
			name := r.ID + "@" + r.Version
			if name == tt.want[0] && wantFirst == "" {
				wantFirst = r.DateAdded
			}
			if name == tt.want[len(tt.want)-1] {
				wantLast = r.DateAdded
			}
		}
		if first != wantFirst || last != wantLast {
			t.Errorf("GET objects?%s: X-TAXII-Date-Added-First/Last = %q, %q; want %q, %q", tt.query, first, last, wantFirst, wantLast)
		}
	}
}

var dateAddedRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

func TestManifest(t *testing.T) {
	f := newFixture(t)
	recs := seedVersions(f)
	var gotNames []string
	var prev time.Time
	for _, r := range recs {
		gotNames = append(gotNames, r.ID+"@"+r.Version)
		if !dateAddedRE.MatchString(r.DateAdded) {
			t.Errorf("date_added %q is not RFC 3339 UTC with microseconds", r.DateAdded)
		}
		da, err := time.Parse(time.RFC3339Nano, r.DateAdded)
		if err != nil || !da.After(prev) {
			t.Errorf("date_added %q does not increase (previous %v): %v", r.DateAdded, prev, err)
		}
		prev = da
		if r.MediaType != taxii.STIXMediaType {
			t.Errorf("media_type %q, want %q", r.MediaType, taxii.STIXMediaType)
		}
	}
	want := []string{at(indID(1), 1), at(indID(2), 1), at(malID(1), 1), at(indID(1), 2), at(indID(3), 1), at(indID(1), 3), at(malID(2), 5)}
	if diff := cmp.Diff(want, gotNames); diff != "" {
		t.Errorf("manifest mismatch (-want +got):\n%s", diff)
	}

	var m taxii.Manifest
	resp := f.ok(req{path: collPath("shared") + "manifest/?match[type]=malware&limit=1"}, http.StatusOK, &m)
	if len(m.Objects) != 1 || m.Objects[0].ID != malID(1) || !m.More || m.Next == "" {
		t.Errorf("manifest?match[type]=malware&limit=1 = %+v, want mal1 with more and next", m)
	}
	if got := resp.header.Get("X-TAXII-Date-Added-Last"); got != m.Objects[0].DateAdded {
		t.Errorf("manifest X-TAXII-Date-Added-Last = %q, want %q", got, m.Objects[0].DateAdded)
	}
	var m2 taxii.Manifest
	f.ok(req{path: collPath("shared") + "manifest/?match[type]=malware&limit=1&next=" + url.QueryEscape(m.Next)}, http.StatusOK, &m2)
	if len(m2.Objects) != 1 || m2.Objects[0].ID != malID(2) || m2.More {
		t.Errorf("second manifest page = %+v, want mal2 and no more", m2)
	}
}

// TestPaging walks 250 objects in pages of 7 with next, and again with
// added_after from X-TAXII-Date-Added-Last, expecting no gap or duplicate.
func TestPaging(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxPageSize = 100 })
	const n = 250
	var want []string
	batch := make([]string, 0, 50)
	for i := range n {
		if i%3 == 0 {
			batch = append(batch, malware(1000+i, 1))
			want = append(want, at(malID(1000+i), 1))
		} else {
			batch = append(batch, indicator(1000+i, 1))
			want = append(want, at(indID(1000+i), 1))
		}
		if len(batch) == cap(batch) {
			f.post(collShared, batch...)
			batch = batch[:0]
		}
	}

	var got []string
	next, pages := "", 0
	for {
		q := "?limit=7"
		if next != "" {
			q += "&next=" + url.QueryEscape(next)
		}
		var env envelopeOut
		f.ok(req{path: objectsPath(collShared) + q}, http.StatusOK, &env)
		pages++
		got = append(got, env.ids(t)...)
		if len(env.Objects) > 7 {
			t.Fatalf("page of %d objects, limit 7", len(env.Objects))
		}
		if !env.More {
			break
		}
		if env.Next == "" || pages > n {
			t.Fatalf("more without next after %d pages", pages)
		}
		next = env.Next
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paging with next (%d pages) mismatch (-want +got):\n%s", pages, diff)
	}
	if pages != (n+6)/7 {
		t.Errorf("%d pages, want %d", pages, (n+6)/7)
	}

	got = nil
	after := ""
	for range n {
		q := "?match[type]=indicator&limit=13"
		if after != "" {
			q += "&added_after=" + url.QueryEscape(after)
		}
		var env envelopeOut
		resp := f.ok(req{path: objectsPath(collShared) + q}, http.StatusOK, &env)
		got = append(got, env.ids(t)...)
		if !env.More {
			break
		}
		after = resp.header.Get("X-TAXII-Date-Added-Last")
	}
	var wantInd []string
	for i, w := range want {
		if i%3 != 0 {
			wantInd = append(wantInd, w)
		}
	}
	if diff := cmp.Diff(wantInd, got); diff != "" {
		t.Errorf("paging with added_after mismatch (-want +got):\n%s", diff)
	}

	// A limit over MaxPageSize gets MaxPageSize.
	var env envelopeOut
	f.ok(req{path: objectsPath(collShared) + "?limit=100000"}, http.StatusOK, &env)
	if len(env.Objects) != 100 || !env.More {
		t.Errorf("limit=100000 gave %d objects (more %v), want 100 and more", len(env.Objects), env.More)
	}
}

func TestGetObjectAndVersions(t *testing.T) {
	f := newFixture(t)
	seedVersions(f)
	ind1 := indID(1)
	tests := []struct {
		query string
		want  []string
		more  bool
	}{
		{"", []string{at(ind1, 3)}, false},
		{"match[version]=all", []string{at(ind1, 1), at(ind1, 2), at(ind1, 3)}, false},
		{"match[version]=first", []string{at(ind1, 1)}, false},
		{"match[version]=first,last", []string{at(ind1, 1), at(ind1, 3)}, false},
		{"match[version]=" + url.QueryEscape(stamp(2)), []string{at(ind1, 2)}, false},
		{"match[version]=all&limit=2", []string{at(ind1, 1), at(ind1, 2)}, true},
		{"match[spec_version]=2.1", []string{at(ind1, 3)}, false},
	}
	for _, tt := range tests {
		var env envelopeOut
		f.ok(req{path: objectPath(collShared, ind1) + "?" + tt.query}, http.StatusOK, &env)
		if diff := cmp.Diff(tt.want, env.ids(t)); diff != "" || env.More != tt.more {
			t.Errorf("GET object?%s: more %v (want %v), mismatch (-want +got):\n%s", tt.query, env.More, tt.more, diff)
		}
	}
	for _, q := range []string{"match[version]=" + url.QueryEscape(stamp(99)), "match[spec_version]=2.0"} {
		checkError(t, "GET object?"+q, f.do(req{path: objectPath(collShared, ind1) + "?" + q}), http.StatusNotFound)
	}
	for _, q := range []string{"match[id]=" + ind1, "match[type]=indicator", "limit=0", "match[version]=newest", "match[colour]=red"} {
		checkError(t, "GET object?"+q, f.do(req{path: objectPath(collShared, ind1) + "?" + q}), http.StatusBadRequest)
	}
	checkError(t, "GET unknown object", f.do(req{path: objectPath(collShared, indID(404))}), http.StatusNotFound)
	checkError(t, "GET object in unknown collection", f.do(req{path: objectPath("nope", ind1)}), http.StatusNotFound)

	versions := objectPath(collShared, ind1) + "versions/"
	var v taxii.Versions
	resp := f.ok(req{path: versions}, http.StatusOK, &v)
	if want := []string{stamp(1), stamp(2), stamp(3)}; !cmp.Equal(v.Versions, want) || v.More {
		t.Errorf("versions = %+v, want %v and no more", v, want)
	}
	if resp.header.Get("X-TAXII-Date-Added-First") == "" || resp.header.Get("X-TAXII-Date-Added-Last") == "" {
		t.Errorf("versions lack X-TAXII-Date-Added headers: %v", resp.header)
	}
	var p1, p2 taxii.Versions
	f.ok(req{path: versions + "?limit=2"}, http.StatusOK, &p1)
	f.ok(req{path: versions + "?limit=2&next=" + url.QueryEscape(p1.Next)}, http.StatusOK, &p2)
	if !cmp.Equal(p1.Versions, []string{stamp(1), stamp(2)}) || !p1.More || !cmp.Equal(p2.Versions, []string{stamp(3)}) || p2.More {
		t.Errorf("versions in pages of 2 = %+v then %+v", p1, p2)
	}
	var p3 taxii.Versions
	f.ok(req{path: versions + "?added_after=" + url.QueryEscape(resp.header.Get("X-TAXII-Date-Added-First")) + "&match[spec_version]=2.1"}, http.StatusOK, &p3)
	if !cmp.Equal(p3.Versions, []string{stamp(2), stamp(3)}) {
		t.Errorf("versions after the first = %v, want %v", p3.Versions, []string{stamp(2), stamp(3)})
	}
	for _, q := range []string{"match[version]=all", "match[id]=" + ind1, "match[type]=indicator", "limit=-1"} {
		checkError(t, "GET versions?"+q, f.do(req{path: versions + "?" + q}), http.StatusBadRequest)
	}
	checkError(t, "versions of unknown object", f.do(req{path: objectPath(collShared, indID(404)) + "versions/"}), http.StatusNotFound)

	// An older version added later is still listed in version order.
	f.post(collShared, indicator(5, 7))
	f.post(collShared, indicator(5, 4))
	var v5 taxii.Versions
	f.ok(req{path: objectPath(collShared, indID(5)) + "versions/"}, http.StatusOK, &v5)
	if want := []string{stamp(4), stamp(7)}; !cmp.Equal(v5.Versions, want) {
		t.Errorf("versions of an object added out of order = %v, want %v", v5.Versions, want)
	}
}

func TestDelete(t *testing.T) {
	f := newFixture(t)
	seedVersions(f)
	ind1 := indID(1)
	versionsOf := func(id string) []string {
		resp := f.do(req{path: objectPath(collShared, id) + "versions/"})
		if resp.status == http.StatusNotFound {
			return nil
		}
		var v taxii.Versions
		f.ok(req{path: objectPath(collShared, id) + "versions/"}, http.StatusOK, &v)
		return v.Versions
	}
	del := func(id, query string, want int) {
		t.Helper()
		resp := f.do(req{method: http.MethodDelete, path: objectPath(collShared, id) + query})
		if want == http.StatusOK {
			if resp.status != http.StatusOK {
				t.Fatalf("DELETE %s%s = %d %s, want 200", id, query, resp.status, resp.body)
			}
			return
		}
		checkError(t, fmt.Sprintf("DELETE %s%s", id, query), resp, want)
	}

	del(ind1, "?match[version]="+url.QueryEscape(stamp(1)), http.StatusOK)
	if got, want := versionsOf(ind1), []string{stamp(2), stamp(3)}; !cmp.Equal(got, want) {
		t.Errorf("after deleting version 1: %v, want %v", got, want)
	}
	del(ind1, "?match[version]=last", http.StatusOK)
	if got, want := versionsOf(ind1), []string{stamp(2)}; !cmp.Equal(got, want) {
		t.Errorf("after deleting the last version: %v, want %v", got, want)
	}
	del(ind1, "?match[version]="+url.QueryEscape(stamp(99)), http.StatusNotFound)
	del(ind1, "?match[spec_version]=2.0", http.StatusNotFound)
	del(ind1, "?match[type]=indicator", http.StatusBadRequest)
	del(ind1, "?limit=1", http.StatusBadRequest)
	del(ind1, "?match[version]=soon", http.StatusBadRequest)
	del(ind1, "?match[spec_version]=2.1", http.StatusOK)
	if got := versionsOf(ind1); got != nil {
		t.Errorf("after deleting every 2.1 version: %v, want none", got)
	}
	del(ind1, "", http.StatusNotFound)
	del(malID(2), "", http.StatusOK)
	checkError(t, "GET deleted object", f.do(req{path: objectPath(collShared, malID(2))}), http.StatusNotFound)
	del(indID(404), "", http.StatusNotFound)
	checkError(t, "DELETE in unknown collection", f.do(req{method: http.MethodDelete, path: objectPath("nope", indID(2))}), http.StatusNotFound)
	// The others are untouched.
	var env envelopeOut
	f.ok(req{path: objectsPath(collShared)}, http.StatusOK, &env)
	if want := []string{at(indID(2), 1), at(malID(1), 1), at(indID(3), 1)}; !cmp.Equal(env.ids(t), want) {
		t.Errorf("after deletes: %v, want %v", env.ids(t), want)
	}
}
