package taxii

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/store"
)

// Query parameters of TAXII 2.1 filtering and paging.
const (
	ParamAddedAfter       = "added_after"
	ParamLimit            = "limit"
	ParamNext             = "next"
	ParamMatchID          = "match[id]"
	ParamMatchType        = "match[type]"
	ParamMatchVersion     = "match[version]"
	ParamMatchSpecVersion = "match[spec_version]"
)

// FilterError tells which query parameter is wrong and why. Its message is
// safe to show to the client that sent the query.
type FilterError struct {
	Param  string
	Value  string
	Reason string
}

func (e *FilterError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("query parameter %s: %s", e.Param, e.Reason)
	}
	return fmt.Sprintf("query parameter %s=%q: %s", e.Param, e.Value, e.Reason)
}

// maxValueLen bounds any one parameter's text, so that a hostile query
// cannot make the server build huge filters.
const maxValueLen = 64 << 10

// ParseFilter reads the TAXII 2.1 filtering and paging parameters of q:
//
//   - added_after: an RFC 3339 timestamp (returned in UTC);
//   - limit: a positive integer;
//   - next: the opaque continuation of a previous page;
//   - match[id], match[type], match[spec_version]: comma-separated lists;
//   - match[version]: a comma-separated combination of "first", "last",
//     "all" and RFC 3339 timestamps ("all" subsumes the others).
//
// A parameter given several times is combined for the match[...] lists and
// refused otherwise. Other parameters are ignored, except unknown match[...]
// fields, which are refused since they would silently widen the query. Every
// failure is a *FilterError.
func ParseFilter(q url.Values) (store.Filter, error) {
	var f store.Filter
	// Sorted, so that the error reported for a query is always the same.
	for _, key := range slices.Sorted(maps.Keys(q)) {
		vals := q[key]
		for _, v := range vals {
			if len(v) > maxValueLen {
				return store.Filter{}, &FilterError{Param: key, Reason: fmt.Sprintf("value longer than %d bytes", maxValueLen)}
			}
		}
		var err error
		switch key {
		case ParamAddedAfter:
			err = parseAddedAfter(&f, vals)
		case ParamLimit:
			err = parseLimit(&f, vals)
		case ParamNext:
			var v string
			if v, err = single(key, vals); err == nil {
				f.Next = v
			}
		case ParamMatchID:
			f.IDs, err = parseList(key, vals, validID)
		case ParamMatchType:
			f.Types, err = parseList(key, vals, validType)
		case ParamMatchSpecVersion:
			f.SpecVersions, err = parseList(key, vals, validSpecVersion)
		case ParamMatchVersion:
			f.Versions, err = parseVersions(vals)
		default:
			if strings.HasPrefix(key, "match[") {
				err = &FilterError{Param: key, Reason: "unknown match field; known: id, type, version, spec_version"}
			}
		}
		if err != nil {
			return store.Filter{}, err
		}
	}
	return f, nil
}

// EncodeFilter renders f as query parameters; ParseFilter(EncodeFilter(f))
// gives f back (with "all" in match[version] dropping the other selectors).
func EncodeFilter(f store.Filter) url.Values {
	q := url.Values{}
	if !f.AddedAfter.IsZero() {
		q.Set(ParamAddedAfter, f.AddedAfter.UTC().Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set(ParamLimit, strconv.Itoa(f.Limit))
	}
	if f.Next != "" {
		q.Set(ParamNext, f.Next)
	}
	if len(f.IDs) > 0 {
		q.Set(ParamMatchID, strings.Join(f.IDs, ","))
	}
	if len(f.Types) > 0 {
		q.Set(ParamMatchType, strings.Join(f.Types, ","))
	}
	if len(f.SpecVersions) > 0 {
		q.Set(ParamMatchSpecVersion, strings.Join(f.SpecVersions, ","))
	}
	var vs []string
	switch v := f.Versions; {
	case v.All:
		vs = []string{"all"}
	default:
		if v.First {
			vs = append(vs, "first")
		}
		if v.Last {
			vs = append(vs, "last")
		}
		for _, t := range v.Times {
			vs = append(vs, t.UTC().Format(time.RFC3339Nano))
		}
	}
	if len(vs) > 0 {
		q.Set(ParamMatchVersion, strings.Join(vs, ","))
	}
	return q
}

func single(key string, vals []string) (string, error) {
	if len(vals) != 1 {
		return "", &FilterError{Param: key, Reason: "given more than once"}
	}
	if vals[0] == "" {
		return "", &FilterError{Param: key, Reason: "empty value"}
	}
	return vals[0], nil
}

func parseAddedAfter(f *store.Filter, vals []string) error {
	v, err := single(ParamAddedAfter, vals)
	if err != nil {
		return err
	}
	t, err := parseTime(v)
	if err != nil {
		return &FilterError{Param: ParamAddedAfter, Value: v, Reason: "not an RFC 3339 timestamp"}
	}
	f.AddedAfter = t
	return nil
}

func parseLimit(f *store.Filter, vals []string) error {
	v, err := single(ParamLimit, vals)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || strings.HasPrefix(v, "+") {
		return &FilterError{Param: ParamLimit, Value: v, Reason: "not a positive integer"}
	}
	f.Limit = n
	return nil
}

// parseTime accepts RFC 3339 timestamps with any fractional precision and
// returns them in UTC.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// parseList splits comma-separated values, refusing empty or invalid items.
func parseList(key string, vals []string, valid func(string) bool) ([]string, error) {
	var out []string
	for _, v := range vals {
		for item := range strings.SplitSeq(v, ",") {
			if item == "" {
				return nil, &FilterError{Param: key, Value: v, Reason: "empty item in list"}
			}
			if !valid(item) {
				return nil, &FilterError{Param: key, Value: item, Reason: "malformed value"}
			}
			out = append(out, item)
		}
	}
	return out, nil
}

func parseVersions(vals []string) (store.VersionMatch, error) {
	var vm store.VersionMatch
	for _, v := range vals {
		for item := range strings.SplitSeq(v, ",") {
			switch item {
			case "":
				return store.VersionMatch{}, &FilterError{Param: ParamMatchVersion, Value: v, Reason: "empty item in list"}
			case "all":
				vm.All = true
			case "first":
				vm.First = true
			case "last":
				vm.Last = true
			default:
				t, err := parseTime(item)
				if err != nil {
					return store.VersionMatch{}, &FilterError{Param: ParamMatchVersion, Value: item,
						Reason: `neither "first", "last", "all" nor an RFC 3339 timestamp`}
				}
				vm.Times = append(vm.Times, t)
			}
		}
	}
	if vm.All {
		return store.VersionMatch{All: true}, nil
	}
	return vm, nil
}

// validType reports whether s can be a STIX type: 3 to 250 characters of
// lower-case ASCII letters, digits and hyphens (STIX 2.1 section 3.1).
func validType(s string) bool {
	if len(s) < 3 || len(s) > 250 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validID reports whether s looks like a STIX identifier, type--suffix. The
// suffix is not checked to be a UUID: an identifier that is not one simply
// matches nothing.
func validID(s string) bool {
	typ, rest, ok := strings.Cut(s, "--")
	if !ok || rest == "" || !validType(typ) {
		return false
	}
	return !strings.ContainsFunc(rest, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

// validSpecVersion reports whether s is major.minor in digits ("2.1").
func validSpecVersion(s string) bool {
	major, minor, ok := strings.Cut(s, ".")
	digits := func(p string) bool {
		return p != "" && len(p) <= 4 && !strings.ContainsFunc(p, func(r rune) bool { return r < '0' || r > '9' })
	}
	return ok && digits(major) && digits(minor)
}

// RejectParams returns a *FilterError if q has any of the named parameters;
// endpoints use it to refuse the filters they do not support.
func RejectParams(q url.Values, names ...string) error {
	for _, n := range names {
		if q.Has(n) {
			return &FilterError{Param: n, Reason: "not supported on this endpoint"}
		}
	}
	return nil
}

// OnlyParams returns a *FilterError if q has any filtering parameter
// (added_after, limit, next or match[...]) other than the allowed ones.
func OnlyParams(q url.Values, allowed ...string) error {
	for key := range q {
		switch {
		case slices.Contains(allowed, key):
		case key == ParamAddedAfter, key == ParamLimit, key == ParamNext, strings.HasPrefix(key, "match["):
			return &FilterError{Param: key, Reason: "not supported on this endpoint"}
		}
	}
	return nil
}
