package ioc

import (
	"context"
	"encoding/json"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
)

// Special field kinds of a FieldSpec, besides the index kinds.
const (
	// IP reads an IPv4 or IPv6 address.
	IP Kind = 200 + iota
	// Host reads an address or, failing that, a domain name.
	Host
	// Hashes reads a Sysmon "SHA256=…,MD5=…,IMPHASH=…" list; IMPHASH and
	// other algorithms are ignored.
	Hashes
)

// FieldSpec says which kind of indicator an event field holds.
type FieldSpec struct {
	Field string
	Kind  Kind
	// HostField, for a URL field that holds only a path (Zeek uri, EVE
	// http.url), names the field with the host; the URL looked up is then
	// "http://" + host + path.
	HostField string
}

// Config says, per event format, which fields are checked. The "*" entry
// is used for formats not listed.
type Config map[string][]FieldSpec

// DefaultConfig returns the fields of Sysmon/Windows (format "evtx"),
// Suricata EVE ("eve"), Zeek ("zeek") and ECS ("ecs"); JSON lines ("jsonl")
// and unknown formats are checked with all of them.
func DefaultConfig() Config {
	windows := []FieldSpec{
		{Field: "DestinationIp", Kind: IP}, {Field: "SourceIp", Kind: IP},
		{Field: "DestinationHostname", Kind: Host}, {Field: "QueryName", Kind: Host},
		{Field: "Hashes", Kind: Hashes}, {Field: "Hash", Kind: Hashes},
		{Field: "IpAddress", Kind: IP},
	}
	eve := []FieldSpec{
		{Field: "src_ip", Kind: IP}, {Field: "dest_ip", Kind: IP},
		{Field: "dns.rrname", Kind: Host}, {Field: "dns.query.rrname", Kind: Host},
		{Field: "http.hostname", Kind: Host}, {Field: "http.url", Kind: URL, HostField: "http.hostname"},
		{Field: "tls.sni", Kind: Host}, {Field: "fileinfo.sha256", Kind: SHA256},
		{Field: "fileinfo.md5", Kind: MD5}, {Field: "fileinfo.sha1", Kind: SHA1},
	}
	zeek := []FieldSpec{
		{Field: "id.orig_h", Kind: IP}, {Field: "id.resp_h", Kind: IP},
		{Field: "query", Kind: Host}, {Field: "host", Kind: Host},
		{Field: "uri", Kind: URL, HostField: "host"}, {Field: "server_name", Kind: Host},
		{Field: "md5", Kind: MD5}, {Field: "sha1", Kind: SHA1}, {Field: "sha256", Kind: SHA256},
	}
	ecs := []FieldSpec{
		{Field: "source.ip", Kind: IP}, {Field: "destination.ip", Kind: IP},
		{Field: "dns.question.name", Kind: Host}, {Field: "url.full", Kind: URL},
		{Field: "url.original", Kind: URL}, {Field: "url.domain", Kind: Host},
		{Field: "file.hash.md5", Kind: MD5}, {Field: "file.hash.sha1", Kind: SHA1},
		{Field: "file.hash.sha256", Kind: SHA256}, {Field: "file.hash.sha512", Kind: SHA512},
		{Field: "process.hash.sha256", Kind: SHA256}, {Field: "process.hash.md5", Kind: MD5},
		{Field: "email.from.address", Kind: Email}, {Field: "email.to.address", Kind: Email},
	}
	// JSON lines carry any of these schemas (OTRF and many shippers write
	// Sysmon with its own flat names, Zeek JSON keeps Zeek's): check all.
	any := slices.Concat(ecs, windows, zeek, eve)
	return Config{"evtx": windows, "sysmon": windows, "windows": windows,
		"eve": eve, "suricata": eve, "zeek": zeek, "ecs": ecs, "jsonl": any, "*": any}
}

// compiled is a Config as the matcher reads it: per format, field name to
// specs.
type compiled map[string]map[string][]FieldSpec

func compile(c Config) compiled {
	out := make(compiled, len(c))
	for format, specs := range c {
		m := make(map[string][]FieldSpec, len(specs))
		for _, s := range specs {
			m[s.Field] = append(m[s.Field], s)
		}
		out[format] = m
	}
	return out
}

// Stats counts what a matcher did.
type Stats struct {
	Events, Hits, Alerts, Expired, Suppressed uint64
}

// Matcher is the IOC detection engine. Its index can be replaced with Swap
// from any goroutine while Process runs; an event is matched against one
// index from start to end.
type Matcher struct {
	index      atomic.Pointer[Index]
	fields     compiled
	suppressor *Suppressor
	now        func() time.Time

	events, hits, alerts, expired, suppressed atomic.Uint64

	// scratch; Process runs on one goroutine at a time
	b       batcher  // the probes of an event's look-ups
	hitBuf  []hit    // lookupBatch's scratch
	names   []string // the field of each look-up of the event being processed
	qs      []Query  // the look-ups, for lookupBatch
	found   []qhit   // the hits of the batch
	collect func(q int, h hit)
}

// qhit is a hit of query q of a batch.
type qhit struct {
	q int
	h hit
}

var _ detect.Engine = (*Matcher)(nil)

// NewMatcher returns a matcher over ix (which may be nil: nothing matches)
// reading the fields of cfg (DefaultConfig when nil). Hits on a value of
// the suppressor's lists are dropped (s may be nil).
func NewMatcher(ix *Index, cfg Config, s *Suppressor) *Matcher {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	m := &Matcher{fields: compile(cfg), suppressor: s, now: time.Now}
	m.collect = func(q int, h hit) { m.found = append(m.found, qhit{q, h}) }
	m.index.Store(ix)
	return m
}

// Swap installs ix and returns the index it replaces.
func (m *Matcher) Swap(ix *Index) *Index { return m.index.Swap(ix) }

// Index returns the current index.
func (m *Matcher) Index() *Index { return m.index.Load() }

// Stats returns the counters so far.
func (m *Matcher) Stats() Stats {
	return Stats{Events: m.events.Load(), Hits: m.hits.Load(), Alerts: m.alerts.Load(),
		Expired: m.expired.Load(), Suppressed: m.suppressed.Load()}
}

// Process checks the configured fields of ev and emits one alert per
// indicator that matched, listing every field and value that hit it.
// Indicators outside their validity at the event's time (now when the
// event has none) are ignored.
func (m *Matcher) Process(ctx context.Context, ev *event.Event, emit detect.Emit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.events.Add(1)
	ix := m.index.Load()
	if ix == nil || ix.Len() == 0 {
		return nil
	}
	specs, ok := m.fields[ev.Format]
	if !ok {
		if specs, ok = m.fields["*"]; !ok {
			return nil
		}
	}
	// Every look-up of the event goes into one batch, so that their
	// memory reads overlap (see batchSize), then the hits are turned into
	// alerts in the order of the fields.
	m.names, m.qs, m.found = m.names[:0], m.qs[:0], m.found[:0]
	for _, f := range ev.Fields() {
		for _, spec := range specs[f.Name] {
			m.check(ev, spec, f)
		}
	}
	if len(m.qs) == 0 {
		return nil
	}
	defer runtime.KeepAlive(ix) // its arrays may be mapped outside the heap (Index.place)
	m.hitBuf = ix.lookupBatch(&m.b, m.qs, m.collect, m.hitBuf)
	if len(m.found) == 0 {
		return nil
	}
	slices.SortStableFunc(m.found, func(a, b qhit) int { return a.q - b.q })
	var alerts []*detect.Alert
	for i := 0; i < len(m.found); {
		j := i + 1
		for j < len(m.found) && m.found[j].q == m.found[i].q {
			j++
		}
		alerts = m.alert(ix, ev, m.found[i].q, m.found[i:j], alerts)
		i = j
	}
	for _, a := range alerts {
		m.alerts.Add(1)
		emit(a)
	}
	return nil
}

// check adds the look-ups of field f of ev, read as spec says, to the
// event's batch.
func (m *Matcher) check(ev *event.Event, spec FieldSpec, f event.Field) {
	if f.Kind != event.String || f.Value == "" {
		return
	}
	value := f.Value
	if spec.Kind == Hashes {
		for part := range strings.SplitSeq(value, ",") {
			alg, h, ok := strings.Cut(part, "=")
			if !ok {
				continue
			}
			if k, ok := hashKinds[strings.ToUpper(strings.TrimSpace(alg))]; ok {
				m.add(f.Name, k, strings.TrimSpace(h))
			}
		}
		return
	}
	k := spec.Kind
	switch spec.Kind {
	case IP, Host:
		k = IPv4
		if strings.IndexByte(value, ':') >= 0 {
			k = IPv6
		} else if spec.Kind == Host && !looksIPv4(value) {
			k = Domain
		}
	case URL:
		if spec.HostField != "" && strings.HasPrefix(value, "/") {
			host, ok := ev.Value(spec.HostField)
			if !ok || host == "" {
				return
			}
			value = "http://" + host + value
		}
	}
	m.add(f.Name, k, value)
}

func (m *Matcher) add(field string, k Kind, value string) {
	m.names = append(m.names, field)
	m.qs = append(m.qs, Query{k, value})
}

func looksIPv4(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// alert turns the hits of query q of the event's batch into alerts, or
// adds the field to an alert of the same indicator.
func (m *Matcher) alert(ix *Index, ev *event.Event, q int, hits []qhit, alerts []*detect.Alert) []*detect.Alert {
	field, k, value := m.names[q], m.qs[q].Kind, m.qs[q].Value
	m.hits.Add(uint64(len(hits)))
	if list, ok := m.suppressor.Suppressed(k, value); ok && list != "" {
		m.suppressed.Add(1)
		return alerts
	}
	t := ev.Time
	if t.IsZero() {
		t = m.now()
	}
	for _, qh := range hits {
		h := qh.h
		ix.eachRef(h.v, func(r *Ref) {
			if !r.ValidAt(t) {
				m.expired.Add(1)
				return
			}
			match := detect.Match{Field: field, Value: value}
			for _, a := range alerts {
				if a.Indicator == r.ID && r.ID != "" {
					a.Matches = append(a.Matches, match)
					return
				}
			}
			alerts = append(alerts, newAlert(ev, r, k, value, h.matched, match))
		})
	}
	return alerts
}

func newAlert(ev *event.Event, r *Ref, k Kind, value, matched string, match detect.Match) *detect.Alert {
	title := r.Name
	if title == "" {
		if matched == "" {
			matched = value
		}
		title = "IOC " + matched
	}
	a := &detect.Alert{
		Engine: "ioc", RuleID: r.ID, RuleTitle: title, Level: level(r.Confidence),
		Tags:   append([]string{"ioc." + k.String()}, r.Labels...),
		Source: ev.Source, Offset: ev.Offset, Time: ev.Time,
		Matches: []detect.Match{match}, Indicator: r.ID, Events: 1,
	}
	if raw := bytesTrimSpace(ev.Raw); len(raw) > 0 && raw[0] == '{' && json.Valid(raw) {
		a.Event = append([]byte(nil), ev.Raw...)
	}
	return a
}

// level maps a STIX confidence to an alert level: 85 and above high, 50
// and above medium, else low; unknown confidence is high.
func level(confidence int) string {
	switch {
	case confidence < 0 || confidence >= 85:
		return "high"
	case confidence >= 50:
		return "medium"
	}
	return "low"
}

func bytesTrimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}
