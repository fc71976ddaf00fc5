package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

var all = store.VersionMatch{All: true}

func testRoundTrip(t *testing.T, b store.Backend) {
	coll := newCollection(t, b)
	rev := sdo("malware", uid("malware", 1), at(1), at(2))
	rev.Revoked = true
	objs := []stix.Object{
		indicator(1),
		sco("ipv4-addr", uid("ipv4-addr", 1), "198.51.100.7"),
		rev,
		sdo("report", uid("report", 1), at(3), at(3)),
	}
	res := put(t, b, coll, objs...)
	for i, r := range res {
		if !r.Added {
			t.Errorf("Put: %s not added", objs[i].ID)
		}
	}
	recs := queryAll(t, b, coll, store.Filter{})
	if len(recs) != len(objs) {
		t.Fatalf("Query returned %d records, want %d", len(recs), len(objs))
	}
	for i, r := range recs {
		diff(t, "Record.Object of "+objs[i].ID, r.Object, objs[i])
		if string(r.Object.Raw) != string(objs[i].Raw) {
			t.Errorf("Raw of %s = %s, want byte-identical %s", objs[i].ID, r.Object.Raw, objs[i].Raw)
		}
		if !r.DateAdded.Equal(res[i].DateAdded) {
			t.Errorf("DateAdded of %s = %v, Put said %v", objs[i].ID, r.DateAdded, res[i].DateAdded)
		}
		want := objs[i].Version()
		if want.IsZero() {
			want = r.DateAdded
		}
		if !r.Version.Equal(want) {
			t.Errorf("Version of %s = %v, want %v", objs[i].ID, r.Version, want)
		}
	}
	// An empty batch stores nothing and is not an error.
	if res, err := b.Put(context.Background(), coll, nil); err != nil || len(res) != 0 {
		t.Errorf("Put(nil) = %v, %v; want no results, no error", res, err)
	}
}

func testIdempotent(t *testing.T, b store.Backend) {
	coll := newCollection(t, b)
	ip := sco("ipv4-addr", uid("ipv4-addr", 1), "198.51.100.7")
	batch := []stix.Object{indicator(1), indicator(2), ip}
	first := put(t, b, coll, batch...)
	before := queryAll(t, b, coll, store.Filter{Versions: all})

	second := put(t, b, coll, batch...)
	for i := range batch {
		if second[i].Added {
			t.Errorf("second Put of %s: Added, want a no-op", batch[i].ID)
		}
		if !second[i].DateAdded.Equal(first[i].DateAdded) {
			t.Errorf("second Put of %s: DateAdded %v, want the first %v", batch[i].ID, second[i].DateAdded, first[i].DateAdded)
		}
	}
	// An object without created/modified has one version: a different body
	// under the same id is still a no-op.
	ip2 := sco("ipv4-addr", ip.ID, "203.0.113.9")
	if r := put(t, b, coll, ip2); r[0].Added {
		t.Errorf("Put of %s with new content: Added, want a no-op (objects without version have one)", ip.ID)
	}
	// The same version twice in one batch is added once.
	dup := put(t, b, coll, indicator(3), indicator(3))
	if !dup[0].Added || dup[1].Added || !dup[1].DateAdded.Equal(dup[0].DateAdded) {
		t.Errorf("Put of one version twice in a batch = %+v, want added once", dup)
	}
	after := queryAll(t, b, coll, store.Filter{Versions: all})
	diff(t, "records after re-puts", after[:len(before)], before)
	if len(after) != len(before)+1 {
		t.Errorf("%d records after re-puts, want %d", len(after), len(before)+1)
	}
}

// versions3 returns three versions of one indicator, oldest first.
func versions3(n int) []stix.Object {
	id := uid("indicator", n)
	return []stix.Object{
		sdo("indicator", id, at(0), at(0)),
		sdo("indicator", id, at(0), at(1000)),
		sdo("indicator", id, at(0), at(2000)),
	}
}

func testVersions(t *testing.T, b store.Backend) {
	coll := newCollection(t, b)
	v := versions3(1)
	other := indicator(50)
	put(t, b, coll, v[0])
	put(t, b, coll, other, v[1])
	put(t, b, coll, v[2])
	id := v[0].ID
	for _, tc := range []struct {
		name string
		vm   store.VersionMatch
		want []string
	}{
		{"default", store.VersionMatch{}, objKeys(v[2])},
		{"last", store.VersionMatch{Last: true}, objKeys(v[2])},
		{"first", store.VersionMatch{First: true}, objKeys(v[0])},
		{"all", all, objKeys(v[0], v[1], v[2])},
		{"time", store.VersionMatch{Times: []time.Time{v[1].Modified}}, objKeys(v[1])},
		{"times", store.VersionMatch{Times: []time.Time{v[2].Modified, v[0].Modified}}, objKeys(v[0], v[2])},
		{"unknown time", store.VersionMatch{Times: []time.Time{at(1)}}, nil},
		{"first+last", store.VersionMatch{First: true, Last: true}, objKeys(v[0], v[2])},
		{"first+time", store.VersionMatch{First: true, Times: []time.Time{v[1].Modified}}, objKeys(v[0], v[1])},
		{"last+time of last", store.VersionMatch{Last: true, Times: []time.Time{v[2].Modified}}, objKeys(v[2])},
		{"all+first", store.VersionMatch{All: true, First: true}, objKeys(v[0], v[1], v[2])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := queryAll(t, b, coll, store.Filter{IDs: []string{id}, Versions: tc.vm})
			diff(t, "versions", keys(recs), tc.want)
		})
	}
	// Without an id filter the other object comes too, in date_added order.
	recs := queryAll(t, b, coll, store.Filter{Versions: all})
	diff(t, "all versions of all", keys(recs), objKeys(v[0], other, v[1], v[2]))
}

// testVersionsOldAfterNew stores versions out of order: the latest and first
// marks must follow the version timestamps, not the arrival order.
func testVersionsOldAfterNew(t *testing.T, b store.Backend) {
	coll := newCollection(t, b)
	v := versions3(1)
	w := versions3(2)
	put(t, b, coll, v[1])
	put(t, b, coll, v[2], w[2])
	put(t, b, coll, v[0], w[0]) // older versions arrive last
	put(t, b, coll, w[1])
	last := queryAll(t, b, coll, store.Filter{})
	diff(t, "latest versions", keys(last), objKeys(v[2], w[2]))
	first := queryAll(t, b, coll, store.Filter{Versions: store.VersionMatch{First: true}})
	diff(t, "first versions", keys(first), objKeys(v[0], w[0]))
	allv := queryAll(t, b, coll, store.Filter{Versions: all})
	diff(t, "all versions in date_added order", keys(allv), objKeys(v[1], v[2], w[2], v[0], w[0], w[1]))
	// The same versions in one batch, newest first.
	coll2 := newCollection(t, b)
	put(t, b, coll2, v[2], v[0], v[1])
	diff(t, "latest after one batch", keys(queryAll(t, b, coll2, store.Filter{})), objKeys(v[2]))
	diff(t, "first after one batch", keys(queryAll(t, b, coll2, store.Filter{Versions: store.VersionMatch{First: true}})), objKeys(v[0]))
}

func testFilters(t *testing.T, b store.Backend) {
	coll := newCollection(t, b)
	ind1, ind2 := indicator(1), indicator(2)
	mal := sdo("malware", uid("malware", 3), at(3), at(3))
	ip := sco("ipv4-addr", uid("ipv4-addr", 4), "198.51.100.4")
	old := sdo("indicator", uid("indicator", 5), at(5), at(5))
	old.SpecVersion = "2.0"
	old.Raw = []byte(`{"type":"indicator","id":"` + old.ID + `","created":"` + stix.FormatTime(at(5), 3) + `","modified":"` + stix.FormatTime(at(5), 3) + `"}`)
	ind1v2 := sdo("indicator", ind1.ID, at(1), at(100))
	put(t, b, coll, ind1, ind2, mal, ip, old, ind1v2)
	ipKey := ip.ID + "@"
	for _, tc := range []struct {
		name string
		f    store.Filter
		want []string
	}{
		{"none", store.Filter{}, append(objKeys(ind2, mal), append([]string{ipKey}, objKeys(old, ind1v2)...)...)},
		{"type", store.Filter{Types: []string{"indicator"}}, objKeys(ind2, old, ind1v2)},
		{"types", store.Filter{Types: []string{"malware", "ipv4-addr"}}, append(objKeys(mal), ipKey)},
		{"unknown type", store.Filter{Types: []string{"campaign"}}, nil},
		{"id", store.Filter{IDs: []string{mal.ID}}, objKeys(mal)},
		{"ids", store.Filter{IDs: []string{ind2.ID, ind1.ID}}, objKeys(ind2, ind1v2)},
		{"unknown id", store.Filter{IDs: []string{uid("indicator", 99)}}, nil},
		{"spec_version 2.0", store.Filter{SpecVersions: []string{"2.0"}}, objKeys(old)},
		{"spec_versions", store.Filter{SpecVersions: []string{"2.1", "2.0"}, Types: []string{"indicator"}}, objKeys(ind2, old, ind1v2)},
		{"type and id", store.Filter{Types: []string{"indicator"}, IDs: []string{mal.ID, ind2.ID}}, objKeys(ind2)},
		{"type, id, all versions", store.Filter{Types: []string{"indicator"}, IDs: []string{ind1.ID}, Versions: all}, objKeys(ind1, ind1v2)},
		{"type, spec_version, first", store.Filter{Types: []string{"indicator"}, SpecVersions: []string{"2.1"},
			Versions: store.VersionMatch{First: true}}, objKeys(ind1, ind2)},
		{"everything, nothing matches", store.Filter{Types: []string{"malware"}, IDs: []string{ind1.ID}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := keys(queryAll(t, b, coll, tc.f))
			for i, k := range got { // objects without version: date_added varies
				if len(k) > len(ipKey) && k[:len(ipKey)] == ipKey {
					got[i] = ipKey
				}
			}
			diff(t, "keys", got, tc.want)
			// Paged one by one, the same records come.
			f := tc.f
			f.Limit = 1
			paged := keys(queryAll(t, b, coll, f))
			for i, k := range paged {
				if len(k) > len(ipKey) && k[:len(ipKey)] == ipKey {
					paged[i] = ipKey
				}
			}
			diff(t, "keys paged by 1", paged, tc.want)
		})
	}
}

func testAddedAfter(t *testing.T, b store.Backend) {
	coll := newCollection(t, b)
	var objs []stix.Object
	var res []store.PutResult
	for batch := range 3 {
		bo := []stix.Object{indicator(batch*10 + 1), indicator(batch*10 + 2)}
		objs = append(objs, bo...)
		res = append(res, put(t, b, coll, bo...)...)
	}
	for _, tc := range []struct {
		name  string
		after time.Time
		want  []stix.Object
	}{
		{"zero", time.Time{}, objs},
		{"before all", res[0].DateAdded.Add(-time.Second), objs},
		{"exactly the first", res[0].DateAdded, objs[1:]},
		{"a nanosecond before the third", res[2].DateAdded.Add(-time.Nanosecond), objs[2:]},
		{"a nanosecond after the third", res[2].DateAdded.Add(time.Nanosecond), objs[3:]},
		{"exactly the last", res[5].DateAdded, nil},
		{"in an hour", res[5].DateAdded.Add(time.Hour), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := queryAll(t, b, coll, store.Filter{AddedAfter: tc.after})
			diff(t, "keys", keys(got), objKeys(tc.want...))
			got = queryAll(t, b, coll, store.Filter{AddedAfter: tc.after, Limit: 1})
			diff(t, "keys paged by 1", keys(got), objKeys(tc.want...))
		})
	}
}
