package ioc

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/gaissmai/bart"
)

// Suppressor holds MISP warning lists (known-good values) and says whether
// an indicator or a hit is on one of them. It is read-only once loaded and
// safe for concurrent use.
type Suppressor struct {
	names   []string
	nets    bart.Table[uint16] // cidr lists (and string lists of addresses)
	exact   map[string]uint16  // string lists, lower-cased
	hosts   map[string]uint16  // hostname lists: the name and its subdomains
	subs    []listString       // substring lists
	regexps []listRegexp       // regex lists
	attrs   []map[Kind]bool    // per list: kinds it applies to (nil: all)
}

type listString struct {
	s    string
	list uint16
}

type listRegexp struct {
	re   *regexp.Regexp
	list uint16
}

// WarningList is one MISP warning list as its list.json holds it.
type WarningList struct {
	Name               string   `json:"name"`
	Type               string   `json:"type"`
	List               []string `json:"list"`
	MatchingAttributes []string `json:"matching_attributes"`
}

// mispKinds maps MISP attribute types to the kinds they hold.
var mispKinds = map[string][]Kind{
	"ip-src": {IPv4, IPv6}, "ip-dst": {IPv4, IPv6}, "ip-src|port": {IPv4, IPv6}, "ip-dst|port": {IPv4, IPv6},
	"domain|ip": {IPv4, IPv6, Domain}, "domain": {Domain}, "hostname": {Domain},
	"url": {URL}, "uri": {URL}, "link": {URL},
	"email": {Email}, "email-src": {Email}, "email-dst": {Email},
	"md5": {MD5}, "sha1": {SHA1}, "sha256": {SHA256}, "sha512": {SHA512},
	"filename|md5": {MD5}, "filename|sha1": {SHA1}, "filename|sha256": {SHA256}, "filename|sha512": {SHA512},
}

// NewSuppressor returns an empty suppressor.
func NewSuppressor() *Suppressor {
	return &Suppressor{exact: map[string]uint16{}, hosts: map[string]uint16{}}
}

// LoadWarningLists reads every */list.json below dir. A list whose regex
// entries RE2 cannot compile keeps its other entries; the first such error
// is returned along with the suppressor.
func LoadWarningLists(dir string) (*Suppressor, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*", "list.json"))
	if err != nil {
		return nil, fmt.Errorf("ioc: warning lists in %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("ioc: no warning lists (*/list.json) in %s", dir)
	}
	s := NewSuppressor()
	var firstErr error
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("ioc: warning list: %w", err)
		}
		var wl WarningList
		if err := json.Unmarshal(raw, &wl); err != nil {
			return nil, fmt.Errorf("ioc: warning list %s: %w", f, err)
		}
		if wl.Name == "" {
			wl.Name = filepath.Base(filepath.Dir(f))
		}
		if err := s.Add(wl); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return s, firstErr
}

// Add loads one list. Entries that cannot be read are skipped; the first
// problem is returned.
func (s *Suppressor) Add(wl WarningList) error {
	if len(s.names) >= 1<<16-1 {
		return fmt.Errorf("ioc: warning list %q: too many lists", wl.Name)
	}
	id := uint16(len(s.names))
	s.names = append(s.names, wl.Name)
	var kinds map[Kind]bool
	for _, a := range wl.MatchingAttributes {
		for _, k := range mispKinds[a] {
			if kinds == nil {
				kinds = map[Kind]bool{}
			}
			kinds[k] = true
		}
	}
	if len(wl.MatchingAttributes) > 0 && kinds == nil {
		kinds = map[Kind]bool{} // applies to none of our kinds
	}
	s.attrs = append(s.attrs, kinds)
	var firstErr error
	for _, v := range wl.List {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		switch wl.Type {
		case "cidr":
			p, err := netip.ParsePrefix(v)
			if err != nil {
				a, err2 := netip.ParseAddr(v)
				if err2 != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("ioc: warning list %q: %q: %w", wl.Name, v, err)
					}
					continue
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			p = p.Masked()
			if _, ok := s.nets.Get(p); !ok {
				s.nets.Insert(p, id)
			}
		case "string":
			if a, err := netip.ParseAddr(v); err == nil {
				p := netip.PrefixFrom(a, a.BitLen())
				if _, ok := s.nets.Get(p); !ok {
					s.nets.Insert(p, id)
				}
			}
			addFirst(s.exact, strings.ToLower(strings.TrimSuffix(v, ".")), id)
		case "hostname":
			addFirst(s.hosts, strings.ToLower(strings.Trim(v, ".")), id)
		case "substring":
			s.subs = append(s.subs, listString{s: strings.ToLower(v), list: id})
		case "regex":
			re, err := regexp.Compile(v)
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("ioc: warning list %q: %w", wl.Name, err)
				}
				continue
			}
			s.regexps = append(s.regexps, listRegexp{re: re, list: id})
		default:
			return fmt.Errorf("ioc: warning list %q: unknown type %q", wl.Name, wl.Type)
		}
	}
	return firstErr
}

func addFirst(m map[string]uint16, k string, id uint16) {
	if _, ok := m[k]; !ok {
		m[k] = id
	}
}

// Lists returns the names of the lists loaded.
func (s *Suppressor) Lists() []string { return slices.Clone(s.names) }

func (s *Suppressor) applies(id uint16, k Kind) bool {
	a := s.attrs[id]
	return a == nil || a[k]
}

// Suppressed reports whether value of kind k is on a warning list, and
// which. An address is checked against the networks, a domain (or a URL's
// host) against the names and, for hostname lists, their subdomains.
func (s *Suppressor) Suppressed(k Kind, value string) (list string, ok bool) {
	if s == nil {
		return "", false
	}
	value = strings.TrimSpace(value)
	switch k {
	case IPv4, IPv6:
		var p netip.Prefix
		if strings.IndexByte(value, '/') >= 0 {
			var err error
			if p, err = netip.ParsePrefix(value); err != nil {
				return "", false
			}
			p = p.Masked()
		} else {
			a, err := netip.ParseAddr(value)
			if err != nil {
				return "", false
			}
			a = a.WithZone("").Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if id, ok := s.nets.LookupPrefix(p); ok && s.applies(id, k) {
			return s.names[id], true
		}
	case Domain:
		if l, ok := s.host(k, value); ok {
			return l, true
		}
	case URL:
		if u, err := NormalizeURL(value); err == nil {
			if id, ok := s.exact[u]; ok && s.applies(id, k) {
				return s.names[id], true
			}
			host := u[strings.Index(u, "://")+3:]
			host = host[:strings.IndexAny(host, "/")]
			if at := strings.LastIndexByte(host, '@'); at >= 0 {
				host = host[at+1:]
			}
			if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
				host = host[:i]
			}
			if l, ok := s.host(k, host); ok {
				return l, true
			}
		}
	}
	lv := strings.ToLower(value)
	if id, ok := s.exact[lv]; ok && s.applies(id, k) {
		return s.names[id], true
	}
	for _, ls := range s.subs {
		if s.applies(ls.list, k) && strings.Contains(lv, ls.s) {
			return s.names[ls.list], true
		}
	}
	for _, lr := range s.regexps {
		if s.applies(lr.list, k) && lr.re.MatchString(value) {
			return s.names[lr.list], true
		}
	}
	return "", false
}

// host checks a host name against string lists (exact) and hostname lists
// (the name and every parent).
func (s *Suppressor) host(k Kind, name string) (string, bool) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if id, ok := s.exact[name]; ok && s.applies(id, k) {
		return s.names[id], true
	}
	for n := name; n != ""; {
		if id, ok := s.hosts[n]; ok && s.applies(id, k) {
			return s.names[id], true
		}
		i := strings.IndexByte(n, '.')
		if i < 0 {
			break
		}
		n = n[i+1:]
	}
	return "", false
}
