package misp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// Options tune a conversion. The zero value converts with no default
// marking and attributes objects to the event's creator organisation.
type Options struct {
	// DefaultTLP is the TLP 2.0 level ("clear", "green", "amber",
	// "amber+strict", "red"; "white" means "clear") applied when the event
	// carries no tlp: tag. Empty means none.
	DefaultTLP string
	// CreatedByRef, when set, is the identity id put in every object's
	// created_by_ref instead of an identity made from the event's Orgc; no
	// Orgc identity is produced then.
	CreatedByRef string
}

// Warning is a problem with one part of an event that did not stop the
// conversion: an unmapped type, a value that does not fit its type, a
// sighting with nothing to point at.
type Warning struct {
	Event string // event uuid
	Ref   string // attribute or object uuid; empty for the event itself
	Kind  string // MISP attribute type or object name; empty for the event
	Err   error
}

func (w Warning) Error() string {
	var b strings.Builder
	b.WriteString("misp event ")
	b.WriteString(w.Event)
	if w.Ref != "" {
		fmt.Fprintf(&b, ", %s %s", w.Kind, w.Ref)
	}
	b.WriteString(": ")
	b.WriteString(w.Err.Error())
	return b.String()
}

func (w Warning) Unwrap() error { return w.Err }

// Result is the STIX conversion of one or more events.
type Result struct {
	// Objects are the produced objects: marking definitions and identities
	// first, then each event's content, then its report. Ids are unique.
	Objects  []stix.Object
	Warnings []Warning
}

// Convert reads a MISP document from r ({"Event": {...}}, a bare event, a
// list of either or {"response": [...]}) and converts every event. It fails
// on unreadable JSON or bad options; problems inside an event are warnings.
// Objects shared by several events (markings, identities) appear once.
func Convert(r io.Reader, opts Options) (Result, error) {
	var all Result
	seen := map[string]bool{}
	for res, err := range Events(r, opts) {
		if err != nil {
			return all, err
		}
		for _, o := range res.Objects {
			if !seen[o.ID] {
				seen[o.ID] = true
				all.Objects = append(all.Objects, o)
			}
		}
		all.Warnings = append(all.Warnings, res.Warnings...)
	}
	return all, nil
}

// Events converts the events of a MISP document one at a time, holding only
// the current event in memory. Each Result is self-contained (its markings
// and identities included). An event that cannot be decoded yields an
// error and the sequence goes on with the next; an unreadable document or
// bad options yield an error that ends it.
func Events(r io.Reader, opts Options) iter.Seq2[Result, error] {
	return func(yield func(Result, error) bool) {
		if err := opts.validate(); err != nil {
			yield(Result{}, err)
			return
		}
		i := 0
		for raw, err := range readEvents(r) {
			if err != nil {
				yield(Result{}, err)
				return
			}
			res, err := ConvertEvent(raw, opts)
			if err != nil {
				err = fmt.Errorf("event %d: %w", i, err)
			}
			if !yield(res, err) {
				return
			}
			i++
		}
	}
}

var identityRE = regexp.MustCompile(`^identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func (o Options) validate() error {
	if o.DefaultTLP != "" {
		if _, ok := lookupTLP(o.DefaultTLP); !ok {
			return fmt.Errorf("misp: unknown default TLP %q", o.DefaultTLP)
		}
	}
	if o.CreatedByRef != "" && !identityRE.MatchString(o.CreatedByRef) {
		return fmt.Errorf("misp: created_by_ref %q is not an identity id", o.CreatedByRef)
	}
	return nil
}

// ConvertEvent converts one event given as its JSON, with or without the
// {"Event": ...} wrapper.
func ConvertEvent(raw []byte, opts Options) (Result, error) {
	if err := opts.validate(); err != nil {
		return Result{}, err
	}
	inner, err := unwrapEvent(raw)
	if err != nil {
		return Result{}, fmt.Errorf("misp: %w", err)
	}
	var ev event
	if err := json.Unmarshal(inner, &ev); err != nil {
		return Result{}, fmt.Errorf("misp: decoding event: %w", err)
	}
	c := &converter{opts: opts, ev: &ev, ids: map[string]int{}, markings: map[string]stix.TLP{}}
	c.run()
	return c.result()
}

// mispIdentityUUID is misp-stix's identity for MISP itself, used when an event
// names no creator organisation.
const mispIdentityUUID = "55f6ea65-aa10-4c5a-bf01-4f84950d210f"

// converter holds the state of one event's conversion.
type converter struct {
	opts     Options
	ev       *event
	evUUID   string
	evTime   time.Time
	creator  string
	eventTLP *stix.TLP
	markings map[string]stix.TLP // used, by id

	head    []built // identities
	content []built
	ids     map[string]int // id → index+1 in content, for de-duplication
	warns   []Warning
}

// built is one produced object with the timestamps stix.Object carries.
type built struct {
	obj               map[string]any
	created, modified time.Time
}

func (c *converter) warn(ref, kind string, err error) {
	c.warns = append(c.warns, Warning{Event: c.evUUID, Ref: ref, Kind: kind, Err: err})
}

func (c *converter) run() {
	ev := c.ev
	if u, ok := canonicalUUID(ev.UUID); ok {
		c.evUUID = u
	} else {
		c.evUUID = derivedUUID("misp-event", string(ev.Info), string(ev.Date), ev.Timestamp.String())
		c.warn("", "", fmt.Errorf("event uuid %q is not a UUID; using derived %s", ev.UUID, c.evUUID))
	}
	c.evTime = ev.Timestamp.Time
	if c.evTime.IsZero() {
		if t, err := time.Parse(time.DateOnly, string(ev.Date)); err == nil {
			c.evTime = t
		} else if !ev.PublishTimestamp.IsZero() {
			c.evTime = ev.PublishTimestamp.Time
		} else {
			c.evTime = time.Unix(0, 0).UTC()
			c.warn("", "", errors.New("event has no timestamp, date or publish_timestamp; using the Unix epoch"))
		}
	}

	// Event tags: TLP to markings, the rest to report labels.
	var tlps []stix.TLP
	var labels []string
	for _, t := range ev.Tag {
		if l, isTLP, err := classifyTag(string(t.Name)); isTLP {
			if err != nil {
				c.warn("", "", err)
				labels = appendLabel(labels, string(t.Name))
				continue
			}
			tlps = append(tlps, l)
		} else {
			labels = appendLabel(labels, string(t.Name))
		}
	}
	labels = append(labels, galaxyLabels(ev.Galaxy, labels)...)
	if len(tlps) > 1 {
		c.warn("", "", fmt.Errorf("event has %d tlp tags; using the most restrictive", len(tlps)))
	}
	if l, ok := strictest(tlps); ok {
		c.eventTLP = &l
	} else if c.opts.DefaultTLP != "" {
		l, _ := lookupTLP(c.opts.DefaultTLP)
		c.eventTLP = &l
	}

	c.creator = c.opts.CreatedByRef
	if c.creator == "" {
		c.creator = c.identity(ev.Orgc)
	}

	c.clusters(clustersOf(ev.Galaxy, ev.Tag), c.eventTLP)
	for i := range ev.Attribute {
		if a := &ev.Attribute[i]; !a.Deleted {
			c.attribute(a)
		}
	}
	for i := range ev.Object {
		if o := &ev.Object[i]; !o.Deleted {
			c.object(o)
		}
	}
	c.report(labels)
}

// identity adds an identity for an organisation and returns its id; nil
// means MISP itself, as misp-stix does.
func (c *converter) identity(o *org) string {
	id, name := "identity--"+mispIdentityUUID, "MISP"
	if o != nil {
		name = string(o.Name)
		if u, ok := canonicalUUID(o.UUID); ok {
			id = "identity--" + u
		} else if name != "" {
			id = "identity--" + derivedUUID("misp-org", name)
		}
		switch {
		case id == "identity--"+mispIdentityUUID:
			name = "MISP"
		case name == "":
			name = "MISP organisation " + strings.TrimPrefix(id, "identity--")
		}
	}
	for _, b := range c.head {
		if b.obj["id"] == id {
			return id
		}
	}
	obj := map[string]any{
		"type":           "identity",
		"spec_version":   "2.1",
		"id":             id,
		"created":        ts(c.evTime),
		"modified":       ts(c.evTime),
		"name":           name,
		"identity_class": "organization",
	}
	c.mark(obj, c.eventTLP)
	c.head = append(c.head, built{obj, c.evTime, c.evTime})
	return id
}

// classifyTag tells tlp: tags from others; an unknown TLP level (tlp:ex:chr)
// is reported as an error and kept as a label.
func classifyTag(name string) (stix.TLP, bool, error) {
	lower := strings.ToLower(strings.TrimSpace(name))
	if !strings.HasPrefix(lower, "tlp:") {
		return stix.TLP{}, false, nil
	}
	l, ok := lookupTLP(lower)
	if !ok {
		return stix.TLP{}, true, fmt.Errorf("tag %q is no TLP 2.0 level; kept as a label", name)
	}
	return l, true, nil
}

func strictest(ls []stix.TLP) (stix.TLP, bool) {
	if len(ls) == 0 {
		return stix.TLP{}, false
	}
	best := ls[0]
	for _, l := range ls[1:] {
		if l.Rank > best.Rank {
			best = l
		}
	}
	return best, true
}

func appendLabel(labels []string, l string) []string {
	l = strings.TrimSpace(l)
	if l == "" || slices.Contains(labels, l) {
		return labels
	}
	return append(labels, l)
}

// galaxyLabels renders galaxy clusters as misp-galaxy:<type>="<value>"
// labels (their tag names), skipping those already in have.
func galaxyLabels(gs []galaxy, have []string) []string {
	var out []string
	for _, g := range gs {
		for _, cl := range g.GalaxyCluster {
			l := string(cl.TagName)
			if l == "" {
				typ := string(cl.Type)
				if typ == "" {
					typ = string(g.Type)
				}
				if typ == "" || cl.Value == "" {
					continue
				}
				l = fmt.Sprintf("misp-galaxy:%s=%q", typ, string(cl.Value))
			}
			if !slices.Contains(have, l) {
				out = appendLabel(out, l)
			}
		}
	}
	return out
}

// tagsOf splits attribute tags into the strictest of their TLP levels and
// the event's, and labels.
func (c *converter) tagsOf(ref, kind string, tags []tag, gs []galaxy) (*stix.TLP, []string) {
	var tlps []stix.TLP
	if c.eventTLP != nil {
		tlps = append(tlps, *c.eventTLP)
	}
	var labels []string
	for _, t := range tags {
		l, isTLP, err := classifyTag(string(t.Name))
		switch {
		case isTLP && err == nil:
			tlps = append(tlps, l)
		case isTLP:
			c.warn(ref, kind, err)
			fallthrough
		default:
			labels = appendLabel(labels, string(t.Name))
		}
	}
	labels = append(labels, galaxyLabels(gs, labels)...)
	l, ok := strictest(tlps)
	if !ok {
		return nil, labels
	}
	return &l, labels
}

// mark sets object_marking_refs from l and records the marking as used.
func (c *converter) mark(obj map[string]any, l *stix.TLP) {
	if l == nil {
		return
	}
	obj["object_marking_refs"] = []string{l.ID}
	c.markings[l.ID] = *l
}

// common fills the properties every SDO made from an event carries.
func (c *converter) common(typ, id string, created, modified time.Time, labels []string, l *stix.TLP) map[string]any {
	obj := map[string]any{
		"type":         typ,
		"spec_version": "2.1",
		"id":           id,
		"created":      ts(created),
		"modified":     ts(modified),
	}
	if c.creator != "" {
		obj["created_by_ref"] = c.creator
	}
	if len(labels) > 0 {
		obj["labels"] = labels
	}
	c.mark(obj, l)
	return obj
}

// add records a produced object once. A second observable with the same id
// (two attributes naming the same address) is dropped, its marking kept if
// stricter; a second domain object (a duplicated MISP uuid) is dropped with
// a warning.
func (c *converter) add(obj map[string]any, created, modified time.Time) {
	id := obj["id"].(string)
	if i := c.ids[id]; i > 0 {
		if created.IsZero() {
			// Observables are shared by design: keep the strictest marking.
			prev := c.content[i-1].obj
			if p, ok := prev["object_marking_refs"].([]string); ok {
				if n, ok := obj["object_marking_refs"].([]string); ok {
					if best, ok := stix.StrictestTLP(append(slices.Clone(p), n...)); ok {
						prev["object_marking_refs"] = []string{best.ID}
					}
				}
			}
			return
		}
		c.warn("", "", fmt.Errorf("second object with id %s (duplicate MISP uuid); dropped", id))
		return
	}
	c.content = append(c.content, built{obj, created, modified})
	c.ids[id] = len(c.content)
}

// observables finalizes drafts into SCOs and returns their ids. Drafts
// lacking what STIX requires of their type are left out.
func (c *converter) observables(ds []*draft, l *stix.TLP) []string {
	seen := map[*draft]string{}
	var out []map[string]any
	for _, d := range ds {
		if !complete(d) {
			continue
		}
		finalize(d, seen, &out)
	}
	ids := make([]string, 0, len(out))
	for _, o := range out {
		c.mark(o, l)
		c.add(o, time.Time{}, time.Time{})
		ids = append(ids, o["id"].(string))
	}
	return ids
}

func (c *converter) report(labels []string) {
	ev := c.ev
	published := ev.PublishTimestamp.Time
	if published.IsZero() {
		published = c.evTime
	}
	refs := make([]string, 0, len(c.head)+len(c.content))
	for _, b := range c.head {
		refs = append(refs, b.obj["id"].(string))
	}
	for _, b := range c.content {
		refs = append(refs, b.obj["id"].(string))
	}
	if len(refs) == 0 { // only with a CreatedByRef override and an empty event
		refs = append(refs, c.creator)
	}
	obj := c.common("report", "report--"+c.evUUID, c.evTime, c.evTime, labels, c.eventTLP)
	name := strings.TrimSpace(string(ev.Info))
	if name == "" {
		name = "MISP event " + c.evUUID
	}
	obj["name"] = name
	obj["published"] = ts(published)
	obj["report_types"] = []string{"threat-report"}
	obj["object_refs"] = refs
	c.content = append(c.content, built{obj, c.evTime, c.evTime})
}

func (c *converter) result() (Result, error) {
	var res Result
	for _, id := range sortedKeys(c.markings) {
		res.Objects = append(res.Objects, c.markings[id].Object)
	}
	for _, b := range slices.Concat(c.head, c.content) {
		res.Objects = append(res.Objects, stix.Object{
			ID:          b.obj["id"].(string),
			Type:        b.obj["type"].(string),
			SpecVersion: "2.1",
			Created:     b.created,
			Modified:    b.modified,
			Raw:         mustJSON(b.obj),
		})
	}
	res.Warnings = c.warns
	return res, nil
}

// complete reports whether d has the properties STIX requires of its type
// beyond those every draft gets: an end point for network-traffic, a name
// or hashes for file.
func complete(d *draft) bool {
	switch d.typ {
	case "network-traffic":
		return d.ref["src_ref"] != nil || d.ref["dst_ref"] != nil
	case "file":
		return d.props["name"] != nil || d.props["hashes"] != nil
	}
	return true
}
