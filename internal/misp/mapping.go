package misp

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// mapping is what one MISP attribute value becomes: the comparisons of an
// indicator pattern and the cyber-observable objects of an observed-data.
type mapping struct {
	cmps   []comparison
	drafts []*draft
}

// ErrUnmapped is wrapped by warnings about MISP types or objects that have
// no STIX pattern or observable (and were kept as custom objects).
var ErrUnmapped = errors.New("no STIX mapping for this MISP type")

// hashKeys maps MISP hash type names to STIX hash-algorithm-ov keys
// (non-vocabulary algorithms keep a descriptive key). Immutable.
var hashKeys = map[string]string{
	"md5":        "MD5",
	"sha1":       "SHA-1",
	"sha224":     "SHA-224",
	"sha256":     "SHA-256",
	"sha384":     "SHA-384",
	"sha512":     "SHA-512",
	"sha512/224": "SHA-512/224",
	"sha512/256": "SHA-512/256",
	"sha3-224":   "SHA3-224",
	"sha3-256":   "SHA3-256",
	"sha3-384":   "SHA3-384",
	"sha3-512":   "SHA3-512",
	"ssdeep":     "SSDEEP",
	"tlsh":       "TLSH",
}

// hashPath renders the pattern path of a hash key: file:hashes.MD5,
// file:hashes.'SHA-256'.
func hashPath(sco, key string) string {
	if strings.ContainsAny(key, "-/") {
		return sco + ":hashes." + quote(key)
	}
	return sco + ":hashes." + key
}

// hiveAbbrev expands registry hive abbreviations: STIX requires the hive
// of windows-registry-key:key spelled out. Immutable.
var hiveAbbrev = map[string]string{
	"HKLM": "HKEY_LOCAL_MACHINE",
	"HKCU": "HKEY_CURRENT_USER",
	"HKCR": "HKEY_CLASSES_ROOT",
	"HKU":  "HKEY_USERS",
	"HKCC": "HKEY_CURRENT_CONFIG",
}

func normalizeRegKey(k string) string {
	k = strings.TrimSpace(k)
	hive, rest, found := strings.Cut(k, `\`)
	if full, ok := hiveAbbrev[strings.ToUpper(hive)]; ok {
		if found {
			return full + `\` + rest
		}
		return full
	}
	return k
}

// ipDraft parses an address or CIDR prefix.
func ipDraft(v string) (d *draft, typ string, isCIDR bool, err error) {
	v = strings.TrimSpace(v)
	if p, perr := netip.ParsePrefix(v); perr == nil {
		typ = "ipv4-addr"
		if p.Addr().Is6() && !p.Addr().Is4In6() {
			typ = "ipv6-addr"
		}
		full := (typ == "ipv4-addr" && p.Bits() == 32) || (typ == "ipv6-addr" && p.Bits() == 128)
		if full {
			v = p.Addr().String()
		} else {
			v = p.Masked().String()
		}
		return newDraft(typ, map[string]any{"value": v}), typ, !full, nil
	}
	a, aerr := netip.ParseAddr(v)
	if aerr != nil || a.Zone() != "" {
		return nil, "", false, fmt.Errorf("%q is not an IP address or CIDR prefix", v)
	}
	a = a.Unmap()
	typ = "ipv4-addr"
	if a.Is6() {
		typ = "ipv6-addr"
	}
	return newDraft(typ, map[string]any{"value": a.String()}), typ, false, nil
}

// ipMapping maps ip-src / ip-dst as misp-stix does: a network-traffic
// whose src_ref or dst_ref is the address. side is "src" or "dst".
func ipMapping(side, v string) (mapping, error) {
	ip, typ, cidr, err := ipDraft(v)
	if err != nil {
		return mapping{}, err
	}
	val := ip.props["value"].(string)
	op := "="
	if cidr {
		op = "ISSUBSET"
	}
	nt := networkTraffic(typ)
	nt.setRef(side+"_ref", ip)
	return mapping{
		cmps: []comparison{
			{"network-traffic", fmt.Sprintf("network-traffic:%s_ref.type = %s", side, quote(typ))},
			{"network-traffic", fmt.Sprintf("network-traffic:%s_ref.value %s %s", side, op, quote(val))},
		},
		drafts: []*draft{nt, ip},
	}, nil
}

func networkTraffic(ipType string) *draft {
	proto := "ipv4"
	if ipType == "ipv6-addr" {
		proto = "ipv6"
	}
	return newDraft("network-traffic", map[string]any{"protocols": []string{proto}})
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	return p, nil
}

func hashMapping(sco, alg, v string) (mapping, error) {
	key, ok := hashKeys[alg]
	if !ok {
		return mapping{}, ErrUnmapped
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return mapping{}, errors.New("empty hash")
	}
	return mapping{
		cmps:   []comparison{{sco, fmt.Sprintf("%s = %s", hashPath(sco, key), quote(v))}},
		drafts: []*draft{newDraft(sco, map[string]any{"hashes": map[string]any{key: v}})},
	}, nil
}

func valueMapping(typ, path, v string) mapping {
	return mapping{
		cmps:   []comparison{{typ, fmt.Sprintf("%s:%s = %s", typ, path, quote(v))}},
		drafts: []*draft{newDraft(typ, map[string]any{path: v})},
	}
}

func split2(v, sep string, last bool) (string, string, error) {
	i := strings.Index(v, sep)
	if last {
		i = strings.LastIndex(v, sep)
	}
	if i < 0 {
		return "", "", fmt.Errorf("composite value %q lacks %q", v, sep)
	}
	return v[:i], v[i+len(sep):], nil
}

// mapAttribute maps one MISP attribute type and value. It returns
// ErrUnmapped for types without a STIX equivalent and another error for
// values that do not fit their type.
func mapAttribute(typ, v string) (mapping, error) {
	if v == "" {
		return mapping{}, errors.New("empty value")
	}
	switch typ {
	case "ip-src", "ip-dst":
		return ipMapping(strings.TrimPrefix(typ, "ip-"), v)
	case "ip-src|port", "ip-dst|port":
		side := strings.TrimSuffix(strings.TrimPrefix(typ, "ip-"), "|port")
		ipv, pv, err := split2(v, "|", true)
		if err != nil {
			return mapping{}, err
		}
		port, err := parsePort(pv)
		if err != nil {
			return mapping{}, err
		}
		m, err := ipMapping(side, ipv)
		if err != nil {
			return mapping{}, err
		}
		m.cmps = append(m.cmps, comparison{"network-traffic", fmt.Sprintf("network-traffic:%s_port = %d", side, port)})
		m.drafts[0].props[side+"_port"] = port
		return m, nil
	case "domain", "hostname":
		return valueMapping("domain-name", "value", strings.TrimSpace(v)), nil
	case "domain|ip":
		dom, ipv, err := split2(v, "|", false)
		if err != nil {
			return mapping{}, err
		}
		ip, _, _, err := ipDraft(ipv)
		if err != nil {
			return mapping{}, err
		}
		m := valueMapping("domain-name", "value", strings.TrimSpace(dom))
		m.cmps = append(m.cmps, comparison{"domain-name",
			"domain-name:resolves_to_refs[*].value = " + quote(ip.props["value"].(string))})
		m.drafts[0].addListRef("resolves_to_refs", ip)
		m.drafts = append(m.drafts, ip)
		return m, nil
	case "hostname|port":
		host, pv, err := split2(v, "|", true)
		if err != nil {
			return mapping{}, err
		}
		port, err := parsePort(pv)
		if err != nil {
			return mapping{}, err
		}
		dom := newDraft("domain-name", map[string]any{"value": strings.TrimSpace(host)})
		nt := newDraft("network-traffic", map[string]any{"protocols": []string{"tcp"}, "dst_port": port})
		nt.setRef("dst_ref", dom)
		return mapping{
			cmps: []comparison{
				{"network-traffic", "network-traffic:dst_ref.type = 'domain-name'"},
				{"network-traffic", "network-traffic:dst_ref.value = " + quote(strings.TrimSpace(host))},
				{"network-traffic", fmt.Sprintf("network-traffic:dst_port = %d", port)},
			},
			drafts: []*draft{nt, dom},
		}, nil
	case "port":
		port, err := parsePort(v)
		if err != nil {
			return mapping{}, err
		}
		// A bare port is no observable (network-traffic needs an end
		// point) but is a valid pattern.
		return mapping{cmps: []comparison{{"network-traffic", fmt.Sprintf("network-traffic:dst_port = %d", port)}}}, nil
	case "url", "uri", "link":
		return valueMapping("url", "value", strings.TrimSpace(v)), nil
	case "email", "email-src", "email-dst", "target-email", "whois-registrant-email":
		m := valueMapping("email-addr", "value", strings.TrimSpace(v))
		switch typ {
		case "email-src":
			m.cmps = []comparison{{"email-message", "email-message:from_ref.value = " + quote(strings.TrimSpace(v))}}
		case "email-dst":
			m.cmps = []comparison{{"email-message", "email-message:to_refs[*].value = " + quote(strings.TrimSpace(v))}}
		}
		return m, nil
	case "email-subject":
		return mapping{cmps: []comparison{{"email-message", "email-message:subject = " + quote(v)}}}, nil
	case "filename":
		return valueMapping("file", "name", v), nil
	case "size-in-bytes":
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 53)
		if err != nil {
			return mapping{}, fmt.Errorf("%q is not a size", v)
		}
		return mapping{
			cmps:   []comparison{{"file", fmt.Sprintf("file:size = %d", n)}},
			drafts: []*draft{newDraft("file", map[string]any{"size": n})},
		}, nil
	case "mime-type":
		return valueMapping("file", "mime_type", strings.TrimSpace(v)), nil
	case "mutex":
		return valueMapping("mutex", "name", v), nil
	case "regkey":
		return valueMapping("windows-registry-key", "key", normalizeRegKey(v)), nil
	case "regkey|value":
		key, data, err := split2(v, "|", false)
		if err != nil {
			return mapping{}, err
		}
		key = normalizeRegKey(key)
		data = strings.TrimSpace(data)
		return mapping{
			cmps: []comparison{
				{"windows-registry-key", "windows-registry-key:key = " + quote(key)},
				{"windows-registry-key", "windows-registry-key:values[*].data = " + quote(data)},
			},
			drafts: []*draft{newDraft("windows-registry-key", map[string]any{
				"key":    key,
				"values": []any{map[string]any{"name": "", "data": data}},
			})},
		}, nil
	case "user-agent":
		return mapping{cmps: []comparison{{"network-traffic",
			"network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = " + quote(v)}}}, nil
	case "AS":
		s := strings.TrimSpace(v)
		if len(s) > 2 && strings.EqualFold(s[:2], "AS") {
			s = s[2:]
		}
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return mapping{}, fmt.Errorf("%q is not an AS number", v)
		}
		return mapping{
			cmps:   []comparison{{"autonomous-system", fmt.Sprintf("autonomous-system:number = %d", n)}},
			drafts: []*draft{newDraft("autonomous-system", map[string]any{"number": n})},
		}, nil
	case "mac-address":
		mac := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(v), "-", ":"))
		return valueMapping("mac-addr", "value", mac), nil
	case "x509-fingerprint-md5", "x509-fingerprint-sha1", "x509-fingerprint-sha256":
		return hashMapping("x509-certificate", strings.TrimPrefix(typ, "x509-fingerprint-"), v)
	case "malware-sample":
		name, h, err := split2(v, "|", true)
		if err != nil {
			return valueMapping("file", "name", v), nil
		}
		return filenameHash(name, "md5", h)
	}
	if strings.HasPrefix(typ, "filename|") {
		name, h, err := split2(v, "|", true)
		if err != nil {
			return mapping{}, err
		}
		return filenameHash(name, strings.TrimPrefix(typ, "filename|"), h)
	}
	if _, ok := hashKeys[typ]; ok {
		return hashMapping("file", typ, v)
	}
	return mapping{}, ErrUnmapped
}

func filenameHash(name, alg, h string) (mapping, error) {
	m, err := hashMapping("file", alg, h)
	if err != nil {
		return mapping{}, err
	}
	m.cmps = append([]comparison{{"file", "file:name = " + quote(name)}}, m.cmps...)
	m.drafts[0].props["name"] = name
	return m, nil
}
