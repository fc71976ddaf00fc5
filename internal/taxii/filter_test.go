package taxii

import (
	"bufio"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shieldwall/shieldwall/internal/store"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UTC()
}

func TestParseFilter(t *testing.T) {
	const (
		ind = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
		mal = "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"
	)
	tests := []struct {
		query string
		want  store.Filter
	}{
		{"", store.Filter{}},
		{"unrelated=1", store.Filter{}},
		{"added_after=2026-01-02T03:04:05.123456Z", store.Filter{AddedAfter: mustTime(t, "2026-01-02T03:04:05.123456Z")}},
		{"added_after=2026-01-02T05:04:05%2B02:00", store.Filter{AddedAfter: mustTime(t, "2026-01-02T03:04:05Z")}},
		{"limit=25", store.Filter{Limit: 25}},
		{"next=opaque-cursor", store.Filter{Next: "opaque-cursor"}},
		{"match[id]=" + ind, store.Filter{IDs: []string{ind}}},
		{"match[id]=" + ind + "," + mal, store.Filter{IDs: []string{ind, mal}}},
		{"match[id]=" + ind + "&match[id]=" + mal, store.Filter{IDs: []string{ind, mal}}},
		{"match[type]=indicator,x-custom-thing", store.Filter{Types: []string{"indicator", "x-custom-thing"}}},
		{"match[spec_version]=2.0,2.1", store.Filter{SpecVersions: []string{"2.0", "2.1"}}},
		{"match[version]=first", store.Filter{Versions: store.VersionMatch{First: true}}},
		{"match[version]=last", store.Filter{Versions: store.VersionMatch{Last: true}}},
		{"match[version]=last,first", store.Filter{Versions: store.VersionMatch{First: true, Last: true}}},
		{"match[version]=all", store.Filter{Versions: store.VersionMatch{All: true}}},
		{"match[version]=first,all,2016-04-06T20:06:37Z", store.Filter{Versions: store.VersionMatch{All: true}}},
		{"match[version]=2016-04-06T20:06:37.000Z,last", store.Filter{Versions: store.VersionMatch{
			Last: true, Times: []time.Time{mustTime(t, "2016-04-06T20:06:37Z")}}}},
		{"match[version]=2016-04-06T20:06:37.5Z,2017-01-01T00:00:00.123456789Z", store.Filter{Versions: store.VersionMatch{
			Times: []time.Time{mustTime(t, "2016-04-06T20:06:37.5Z"), mustTime(t, "2017-01-01T00:00:00.123456789Z")}}}},
		{"match[id]=" + ind + "&match[type]=indicator&match[version]=first&match[spec_version]=2.1&added_after=2016-01-01T00:00:00Z&limit=5&next=xyz",
			store.Filter{
				AddedAfter: mustTime(t, "2016-01-01T00:00:00Z"), IDs: []string{ind}, Types: []string{"indicator"},
				SpecVersions: []string{"2.1"}, Versions: store.VersionMatch{First: true}, Limit: 5, Next: "xyz",
			}},
	}
	for _, tt := range tests {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseFilter(q)
		if err != nil {
			t.Errorf("ParseFilter(%q) error: %v", tt.query, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ParseFilter(%q) mismatch (-want +got):\n%s", tt.query, diff)
		}
	}
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		query     string
		wantParam string
	}{
		{"added_after=yesterday", "added_after"},
		{"added_after=2026-01-02", "added_after"},
		{"added_after=2026-01-02T03:04:05", "added_after"}, // no offset
		{"added_after=2026-01-02T03:04:05Z&added_after=2026-01-02T03:04:06Z", "added_after"},
		{"added_after=", "added_after"},
		{"limit=0", "limit"},
		{"limit=-1", "limit"},
		{"limit=+1", "limit"},
		{"limit=1.5", "limit"},
		{"limit=ten", "limit"},
		{"limit=99999999999999999999999", "limit"},
		{"limit=1&limit=2", "limit"},
		{"next=", "next"},
		{"next=a&next=b", "next"},
		{"match[id]=", "match[id]"},
		{"match[id]=a,,b", "match[id]"},
		{"match[id]=not-an-id", "match[id]"},
		{"match[id]=indicator--", "match[id]"},
		{"match[id]=indicator--a%20b", "match[id]"},
		{"match[type]=Indicator", "match[type]"},
		{"match[type]=in", "match[type]"},
		{"match[type]=indicator,", "match[type]"},
		{"match[version]=newest", "match[version]"},
		{"match[version]=first,", "match[version]"},
		{"match[version]=2016-13-01T00:00:00Z", "match[version]"},
		{"match[spec_version]=2", "match[spec_version]"},
		{"match[spec_version]=2.x", "match[spec_version]"},
		{"match[spec_version]=v2.1", "match[spec_version]"},
		{"match[foo]=bar", "match[foo]"},
		{"match[ID]=x", "match[ID]"},
		{"match[id]=" + strings.Repeat("a", maxValueLen+1), "match[id]"},
	}
	for _, tt := range tests {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseFilter(q)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("ParseFilter(%q) = %+v, %v; want a *FilterError", tt.query, got, err)
			continue
		}
		if fe.Param != tt.wantParam {
			t.Errorf("ParseFilter(%q) error names %q, want %q (%v)", tt.query, fe.Param, tt.wantParam, err)
		}
		if !strings.Contains(err.Error(), tt.wantParam) {
			t.Errorf("ParseFilter(%q) error %q does not name the parameter", tt.query, err)
		}
	}
}

func TestParamRestrictions(t *testing.T) {
	q, _ := url.ParseQuery("match[id]=x&limit=3&other=1")
	if err := RejectParams(q, ParamMatchType); err != nil {
		t.Errorf("RejectParams(match[type]) = %v, want nil", err)
	}
	if err := RejectParams(q, ParamMatchType, ParamMatchID); err == nil {
		t.Errorf("RejectParams(match[type], match[id]) = nil, want error")
	}
	if err := OnlyParams(q, ParamMatchID, ParamLimit); err != nil {
		t.Errorf("OnlyParams(match[id], limit) = %v, want nil", err)
	}
	if err := OnlyParams(q, ParamLimit); err == nil {
		t.Errorf("OnlyParams(limit) = nil, want error for match[id]")
	}
}

func TestFormatTimes(t *testing.T) {
	tests := []struct {
		in                 string
		dateAdded, version string
	}{
		{"2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000000Z", "2026-01-02T03:04:05.000Z"},
		{"2026-01-02T03:04:05.1Z", "2026-01-02T03:04:05.100000Z", "2026-01-02T03:04:05.100Z"},
		{"2026-01-02T03:04:05.123456Z", "2026-01-02T03:04:05.123456Z", "2026-01-02T03:04:05.123456Z"},
		{"2026-01-02T03:04:05.123456789Z", "2026-01-02T03:04:05.123456Z", "2026-01-02T03:04:05.123456789Z"},
		{"2026-01-02T05:04:05+02:00", "2026-01-02T03:04:05.000000Z", "2026-01-02T03:04:05.000Z"},
	}
	for _, tt := range tests {
		tm, err := time.Parse(time.RFC3339Nano, tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatDateAdded(tm); got != tt.dateAdded {
			t.Errorf("FormatDateAdded(%s) = %s, want %s", tt.in, got, tt.dateAdded)
		}
		if got := FormatVersion(tm); got != tt.version {
			t.Errorf("FormatVersion(%s) = %s, want %s", tt.in, got, tt.version)
		}
		back, err := time.Parse(time.RFC3339Nano, FormatVersion(tm))
		if err != nil || !back.Equal(tm) {
			t.Errorf("FormatVersion(%s) does not parse back to the same instant: %v, %v", tt.in, back, err)
		}
	}
}

// seedQueries reads testdata/filter-queries.txt.
func seedQueries(t testing.TB) []string {
	f, err := os.Open("testdata/filter-queries.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	qs := []string{""}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		qs = append(qs, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return qs
}

// FuzzParseFilter checks that ParseFilter never panics, that what it accepts
// is well formed, and that EncodeFilter renders it back to the same filter.
func FuzzParseFilter(f *testing.F) {
	for _, q := range seedQueries(f) {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		got, err := ParseFilter(q)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseFilter(%q) error %v is not a *FilterError", raw, err)
			}
			return
		}
		if got.Limit < 0 {
			t.Fatalf("ParseFilter(%q) gave negative limit %d", raw, got.Limit)
		}
		for _, list := range [][]string{got.IDs, got.Types, got.SpecVersions} {
			for _, s := range list {
				if s == "" || strings.Contains(s, ",") {
					t.Fatalf("ParseFilter(%q) gave list item %q", raw, s)
				}
			}
		}
		if got.Versions.All && (got.Versions.First || got.Versions.Last || len(got.Versions.Times) > 0) {
			t.Fatalf("ParseFilter(%q) kept other selectors with all: %+v", raw, got.Versions)
		}
		back, err := ParseFilter(EncodeFilter(got))
		if err != nil {
			t.Fatalf("ParseFilter(EncodeFilter(ParseFilter(%q))) error: %v", raw, err)
		}
		if diff := cmp.Diff(got, back, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip of %q changed the filter (-first +second):\n%s", raw, diff)
		}
	})
}
