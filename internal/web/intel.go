package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/stix/pattern"
	"github.com/shieldwall/shieldwall/internal/store"
)

// Search bounds: a request reads at most searchScan records of one
// collection (in pages of 1,000), so it answers in bounded time however
// large the collection; the page offers to continue from where it stopped.
const (
	searchScan    = 5000
	searchResults = 50
	// relScan bounds the relationship and sighting records read to draw one
	// object's graph.
	relScan = 10000
)

type objectRow struct {
	ID, Type, Name string
	Modified       time.Time
	Revoked        bool
	TLP            string
}

type intelSearchData struct {
	Collections []store.Collection
	Coll        store.Collection
	Type, ID, Q string
	Rows        []objectRow
	Scanned     int
	Next        string // the cursor to continue with, "" when there is no more
	CanWrite    bool
	Searched    bool
	// Indexed: the store searched its index (store.ObjectSearch), newest
	// first; Pending objects were not indexed yet.
	Indexed bool
	Pending int
	Partial bool // the page ended early (store.SearchPage.More with fewer rows)
}

// readable lists the collections u may read.
func (s *Server) readable(ctx context.Context, u store.User) ([]store.Collection, error) {
	cs, err := s.o.Store.Collections(ctx)
	if err != nil {
		return nil, fmt.Errorf("collections: %w", err)
	}
	var out []store.Collection
	for _, c := range cs {
		rt, err := s.rights(ctx, u, c.ID)
		if err != nil {
			return nil, err
		}
		if rt.Read {
			out = append(out, c)
		}
	}
	return out, nil
}

// pickCollection resolves the coll parameter among the readable ones; ""
// means the default collection (or the first readable one).
func pickCollection(cs []store.Collection, v, def string) (store.Collection, bool) {
	for _, c := range cs {
		if v != "" && (c.ID == v || c.Alias == v) || v == "" && (c.ID == def || c.Alias == def) {
			return c, true
		}
	}
	if v == "" && len(cs) > 0 {
		return cs[0], true
	}
	return store.Collection{}, false
}

// summary is the few properties the console lists.
type summary struct {
	Name      string   `json:"name"`
	Pattern   string   `json:"pattern"`
	Value     string   `json:"value"`
	Markings  []string `json:"object_marking_refs"`
	Source    string   `json:"source_ref"`
	Target    string   `json:"target_ref"`
	RelType   string   `json:"relationship_type"`
	SightOf   string   `json:"sighting_of_ref"`
	Sighted   []string `json:"where_sighted_refs"`
	ValidFrom string   `json:"valid_from"`
	Desc      string   `json:"description"`
	Conf      *int     `json:"confidence"`
}

func summarize(o stix.Object) summary {
	var sm summary
	_ = json.Unmarshal(o.Raw, &sm)
	if sm.Name == "" && sm.Value != "" {
		sm.Name = sm.Value
	}
	return sm
}

func rowOf(o stix.Object) objectRow {
	sm := summarize(o)
	r := objectRow{ID: o.ID, Type: o.Type, Name: sm.Name, Modified: o.Version(), Revoked: o.Revoked}
	if r.Name == "" {
		r.Name = sm.Pattern
	}
	if t, ok := stix.StrictestTLP(sm.Markings); ok {
		r.TLP = t.Name
	}
	return r
}

func (s *Server) intelSearch(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	u := current(r).user
	cs, err := s.readable(ctx, u)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	d := intelSearchData{Collections: cs, Type: strings.TrimSpace(q.Get("type")), ID: strings.TrimSpace(q.Get("id")), Q: strings.TrimSpace(q.Get("q"))}
	pg := s.newPage(r, "Intelligence", "intel", &d)
	var errs []string
	coll, ok := pickCollection(cs, q.Get("coll"), s.o.DefaultCollection)
	if !ok {
		errs = append(errs, fmt.Sprintf("coll: no collection %q that you may read", q.Get("coll")))
	}
	d.Coll = coll
	if d.Type != "" {
		if msg := stix.CheckTypeName(d.Type); msg != "" {
			errs = append(errs, "type: "+msg)
		}
	}
	for _, t := range []struct{ n, v string }{{"id", d.ID}, {"q", d.Q}, {"next", q.Get("next")}} {
		if err := checkText(t.n, t.v, 500); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if d.ID != "" && !strings.Contains(d.ID, "--") {
		errs = append(errs, fmt.Sprintf("id: %q is not a STIX id (type--uuid)", d.ID))
	}
	searcher, indexed := s.o.Store.(store.ObjectSearch)
	indexed = indexed && d.ID == "" // an id is looked up directly
	if _, ok := store.SearchTerms(d.Q); indexed && d.Q != "" && !ok && len(errs) == 0 {
		errs = append(errs, fmt.Sprintf("q: %q is too short: give at least %d characters (each word at least %d, or the whole text)", d.Q, store.MinSearchText, store.MinSearchText))
	}
	if len(errs) > 0 {
		pg.Error = "The search was not run: " + strings.Join(errs, "; ") + "."
		s.render(w, r, http.StatusBadRequest, "intel", pg)
		return
	}
	if rt, err := s.rights(ctx, u, coll.ID); err == nil {
		d.CanWrite = rt.Write && pg.CanEdit
	}
	d.Searched = true
	if indexed {
		sq := store.SearchQuery{Text: d.Q, Limit: searchResults, Next: q.Get("next")}
		if d.Type != "" {
			sq.Types = []string{d.Type}
		}
		res, err := searcher.SearchObjects(ctx, coll.ID, sq)
		if errors.Is(err, store.ErrInvalid) {
			pg.Error = "The search was not run: next: not a cursor of this search."
			s.render(w, r, http.StatusBadRequest, "intel", pg)
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		d.Indexed, d.Pending = true, res.Pending
		for _, rec := range res.Records {
			d.Rows = append(d.Rows, rowOf(rec.Object))
		}
		if res.More {
			d.Next = res.Next
			d.Partial = len(res.Records) < searchResults
		}
		s.render(w, r, http.StatusOK, "intel", pg)
		return
	}
	f := store.Filter{Limit: 1000, Next: q.Get("next")}
	if d.Type != "" {
		f.Types = []string{d.Type}
	}
	if d.ID != "" {
		f.IDs = []string{d.ID}
	}
	needle := strings.ToLower(d.Q)
	for d.Scanned < searchScan && len(d.Rows) < searchResults {
		page, err := s.o.Store.Query(ctx, coll.ID, f)
		if errors.Is(err, store.ErrInvalid) {
			pg.Error = "The search was not run: next: not a cursor of this search."
			s.render(w, r, http.StatusBadRequest, "intel", pg)
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		for _, rec := range page.Records {
			d.Scanned++
			if needle != "" {
				sm := summarize(rec.Object)
				if !strings.Contains(strings.ToLower(sm.Name), needle) && !strings.Contains(strings.ToLower(sm.Pattern), needle) &&
					!strings.Contains(rec.Object.ID, needle) {
					continue
				}
			}
			d.Rows = append(d.Rows, rowOf(rec.Object))
		}
		if !page.More {
			f.Next = ""
			break
		}
		f.Next = page.Next
	}
	if f.Next != "" {
		d.Next = f.Next
	}
	s.render(w, r, http.StatusOK, "intel", pg)
}

type versionRow struct {
	Version, DateAdded time.Time
	Revoked            bool
}

type marking struct {
	ID, Name string
}

type objectData struct {
	Coll      store.Collection
	Object    stix.Object
	Summary   summary
	JSON      string
	Versions  []versionRow
	Markings  []marking
	Graph     string
	Related   int
	Truncated bool
	CanWrite  bool
	IsInd     bool
}

// latestObject reads every version of id in coll and returns them with the
// latest. store.ErrNotFound when there is none.
func (s *Server) latestObject(ctx context.Context, collID, id string) (stix.Object, []store.Record, error) {
	page, err := s.o.Store.Query(ctx, collID, store.Filter{IDs: []string{id}, Versions: store.VersionMatch{All: true}, Limit: 1000})
	if err != nil {
		return stix.Object{}, nil, err
	}
	if len(page.Records) == 0 {
		return stix.Object{}, nil, fmt.Errorf("object %s: %w", id, store.ErrNotFound)
	}
	latest := page.Records[0]
	for _, rec := range page.Records {
		if rec.Version.After(latest.Version) {
			latest = rec
		}
	}
	return latest.Object, page.Records, nil
}

func (s *Server) objectPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	u := current(r).user
	cs, err := s.readable(ctx, u)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	coll, ok := pickCollection(cs, q.Get("coll"), s.o.DefaultCollection)
	id := q.Get("id")
	if !ok {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("No collection %q that you may read.", q.Get("coll")))
		return
	}
	if err := checkText("id", id, 500); err != nil || id == "" {
		s.fail(w, r, http.StatusBadRequest, "id: give the STIX id of an object.")
		return
	}
	obj, recs, err := s.latestObject(ctx, coll.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("No object %q in collection %s.", id, coll.Title))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	d := objectData{Coll: coll, Object: obj, Summary: summarize(obj), IsInd: obj.Type == "indicator"}
	var buf bytes.Buffer
	if json.Indent(&buf, obj.Raw, "", "  ") == nil {
		d.JSON = buf.String()
	}
	for _, rec := range recs {
		d.Versions = append(d.Versions, versionRow{Version: rec.Version, DateAdded: rec.DateAdded, Revoked: rec.Object.Revoked})
	}
	slices.SortFunc(d.Versions, func(a, b versionRow) int { return b.Version.Compare(a.Version) })
	for _, m := range d.Summary.Markings {
		mk := marking{ID: m, Name: m}
		if t, ok := stix.TLPByID(m); ok {
			mk.Name = t.Name
		}
		d.Markings = append(d.Markings, mk)
	}
	if d.Graph, d.Related, d.Truncated, err = s.relationGraph(ctx, coll.ID, obj); err != nil {
		s.internal(w, r, err)
		return
	}
	if rt, err := s.rights(ctx, u, coll.ID); err == nil {
		d.CanWrite = rt.Write && roleRank(u.Role) >= roleRank(store.RoleAnalyst)
	}
	pg := s.newPage(r, obj.Type+" "+d.Summary.Name, "intel", &d)
	switch q.Get("done") {
	case "created":
		pg.Notice = "Indicator created."
	case "edited":
		pg.Notice = "New version saved."
	case "revoked":
		pg.Notice = "Indicator revoked: a revoked version was stored and will be shared like any version."
	}
	s.render(w, r, http.StatusOK, "object", pg)
}

// relatedRecords returns candidates for obj's graph: its own relationships
// and sightings when the store indexes references (store.ObjectSearch, at
// most relScan of them), else at most relScan of the collection's
// relationships and sightings. truncated tells that some were left out.
func (s *Server) relatedRecords(ctx context.Context, collID, id string) ([]store.Record, bool, error) {
	if rs, ok := s.o.Store.(store.ObjectSearch); ok {
		return rs.Referencing(ctx, collID, id, relScan)
	}
	var out []store.Record
	f := store.Filter{Types: []string{"relationship", "sighting"}, Limit: 1000}
	for {
		page, err := s.o.Store.Query(ctx, collID, f)
		if err != nil {
			return nil, false, err
		}
		out = append(out, page.Records...)
		if !page.More {
			return out, false, nil
		}
		if len(out) >= relScan {
			return out, true, nil
		}
		f.Next = page.Next
	}
}

// relationGraph finds the relationships and sightings that reference obj
// (reading at most relScan of them) and returns them as Cytoscape elements.
func (s *Server) relationGraph(ctx context.Context, collID string, obj stix.Object) (string, int, bool, error) {
	type data map[string]any
	nodes := map[string]bool{obj.ID: true}
	els := []map[string]any{{"data": data{"id": obj.ID, "label": labelOf(obj.ID, summarize(obj).Name), "kind": "self"}}}
	var edges []map[string]any
	batch, truncated, err := s.relatedRecords(ctx, collID, obj.ID)
	if err != nil {
		return "", 0, false, fmt.Errorf("relationships of %s: %w", obj.ID, err)
	}
	for _, rec := range batch {
		sm := summarize(rec.Object)
		var ends [][2]string // (source, target)
		switch rec.Object.Type {
		case "relationship":
			if sm.Source == obj.ID || sm.Target == obj.ID {
				ends = append(ends, [2]string{sm.Source, sm.Target})
			}
			if len(ends) > 0 && rec.Object.Revoked {
				ends = nil
			}
		case "sighting":
			if sm.SightOf == obj.ID || slices.Contains(sm.Sighted, obj.ID) {
				for _, w := range sm.Sighted {
					ends = append(ends, [2]string{w, sm.SightOf})
				}
				if len(sm.Sighted) == 0 {
					ends = append(ends, [2]string{rec.Object.ID, sm.SightOf})
				}
			}
		}
		for _, e := range ends {
			for _, n := range e {
				if !nodes[n] {
					nodes[n] = true
					els = append(els, map[string]any{"data": data{"id": n, "label": labelOf(n, ""), "kind": strings.SplitN(n, "--", 2)[0]}})
				}
			}
			label := sm.RelType
			if rec.Object.Type == "sighting" {
				label = "sighted"
			}
			edges = append(edges, map[string]any{"data": data{"id": rec.Object.ID + e[0], "source": e[0], "target": e[1], "label": label}})
		}
	}
	// Name the neighbours (one query for up to 200 of them).
	var ids []string
	for n := range nodes {
		if n != obj.ID && len(ids) < 200 {
			ids = append(ids, n)
		}
	}
	if len(ids) > 0 {
		page, err := s.o.Store.Query(ctx, collID, store.Filter{IDs: ids, Limit: 1000})
		if err != nil {
			return "", 0, false, fmt.Errorf("names of related objects: %w", err)
		}
		names := map[string]string{}
		for _, rec := range page.Records {
			names[rec.Object.ID] = summarize(rec.Object).Name
		}
		for _, el := range els[1:] {
			dd := el["data"].(data)
			dd["label"] = labelOf(dd["id"].(string), names[dd["id"].(string)])
		}
	}
	b, _ := json.Marshal(append(els, edges...))
	return string(b), len(edges), truncated, nil
}

func labelOf(id, name string) string {
	typ, _, _ := strings.Cut(id, "--")
	if name == "" {
		if len(id) > 20 {
			return typ + " " + id[len(typ)+2:][:8]
		}
		return id
	}
	if len(name) > 40 {
		name = name[:40] + "…"
	}
	return typ + ": " + name
}

// indicatorForm is the create/edit form of an indicator.
type indicatorForm struct {
	Coll, ID                   string // ID set when editing
	Name, Description, Pattern string
	ValidFrom, TLP, Confidence string
	TLPs                       []string
}

var tlpLevels = []string{"clear", "green", "amber", "amber+strict", "red"}

func (s *Server) indicatorForm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	f := indicatorForm{TLPs: tlpLevels, TLP: "amber", Coll: q.Get("coll")}
	title := "New indicator"
	if id := q.Get("id"); id != "" {
		coll, status, err := s.writableCollection(ctx, r, q.Get("coll"))
		if err != nil {
			s.failErr(w, r, status, err)
			return
		}
		obj, _, err := s.latestObject(ctx, coll.ID, id)
		if err != nil || obj.Type != "indicator" {
			s.fail(w, r, http.StatusNotFound, fmt.Sprintf("No indicator %q in this collection.", id))
			return
		}
		if obj.Revoked {
			s.fail(w, r, http.StatusBadRequest, "This indicator is revoked; a revoked object cannot be edited.")
			return
		}
		sm := summarize(obj)
		f = indicatorForm{Coll: coll.ID, ID: obj.ID, Name: sm.Name, Description: sm.Desc, Pattern: sm.Pattern, ValidFrom: sm.ValidFrom, TLPs: tlpLevels}
		if t, ok := stix.StrictestTLP(sm.Markings); ok {
			f.TLP = t.Level
		}
		if sm.Conf != nil {
			f.Confidence = strconv.Itoa(*sm.Conf)
		}
		title = "Edit indicator"
	}
	s.render(w, r, http.StatusOK, "indicator", s.newPage(r, title, "intel", &f))
}

// writableCollection resolves coll ("" for the default) among the
// collections the user may write, with a status for the refusal.
func (s *Server) writableCollection(ctx context.Context, r *http.Request, v string) (store.Collection, int, error) {
	u := current(r).user
	var c store.Collection
	var err error
	if v == "" {
		c, err = s.defaultCollection(ctx)
	} else {
		c, err = s.o.Store.Collection(ctx, v)
	}
	if errors.Is(err, store.ErrNotFound) {
		return c, http.StatusNotFound, fmt.Errorf("no collection %q", v)
	}
	if err != nil {
		return c, http.StatusInternalServerError, err
	}
	rt, err := s.rights(ctx, u, c.ID)
	if err != nil {
		return c, http.StatusInternalServerError, err
	}
	if !rt.Write {
		return c, http.StatusForbidden, fmt.Errorf("you may not write to collection %s", c.Title)
	}
	return c, http.StatusOK, nil
}

func (s *Server) failErr(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status == http.StatusInternalServerError {
		s.internal(w, r, err)
		return
	}
	s.fail(w, r, status, strings.ToUpper(err.Error()[:1])+err.Error()[1:]+".")
}

// parseValidFrom accepts RFC 3339 and the browser's datetime-local form
// (taken as UTC).
func parseValidFrom(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("valid_from: %q is not a time like 2026-01-02T15:04:05Z", v)
}

// buildIndicator checks the form and makes the indicator version it
// describes (a new one, or the next version of prev). Errors are messages
// for the user, one per bad field.
func (s *Server) buildIndicator(f indicatorForm, prev *stix.Object) (stix.Object, []string) {
	var errs []string
	if f.Name == "" {
		errs = append(errs, "name: required")
	} else if err := checkText("name", f.Name, 200); err != nil {
		errs = append(errs, err.Error())
	}
	if err := checkMultiline("description", f.Description, 4000); err != nil {
		errs = append(errs, err.Error())
	}
	if f.Pattern == "" {
		errs = append(errs, "pattern: required, for example [ipv4-addr:value = '203.0.113.7']")
	} else if err := checkMultiline("pattern", f.Pattern, 4000); err != nil {
		errs = append(errs, err.Error())
	} else if _, err := pattern.Parse(f.Pattern); err != nil {
		errs = append(errs, "pattern: "+err.Error())
	}
	tlp, ok := stix.TLPByName(f.TLP)
	if !ok || f.TLP == "" || !slices.Contains(tlpLevels, strings.ToLower(f.TLP)) {
		errs = append(errs, fmt.Sprintf("tlp: %q is not one of %s", f.TLP, strings.Join(tlpLevels, ", ")))
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	validFrom := now
	if f.ValidFrom != "" {
		t, err := parseValidFrom(f.ValidFrom)
		if err != nil {
			errs = append(errs, err.Error())
		}
		validFrom = t
	}
	var conf *int
	if f.Confidence != "" {
		n, err := strconv.Atoi(f.Confidence)
		if err != nil || n < 0 || n > 100 {
			errs = append(errs, fmt.Sprintf("confidence: %q is not a whole number from 0 to 100", f.Confidence))
		}
		conf = &n
	}
	if len(errs) > 0 {
		return stix.Object{}, errs
	}
	m := map[string]any{}
	if prev != nil {
		if err := json.Unmarshal(prev.Raw, &m); err != nil {
			return stix.Object{}, []string{"the stored version could not be read: " + err.Error()}
		}
		modified := now
		if !modified.After(prev.Version()) {
			modified = prev.Version().Add(time.Millisecond)
		}
		m["modified"] = stix.FormatTime(modified, 3)
		// Keep markings that are not TLP; replace the TLP one.
		var refs []any
		if old, ok := m["object_marking_refs"].([]any); ok {
			for _, r := range old {
				if id, _ := r.(string); id != "" {
					if _, isTLP := stix.TLPByID(id); !isTLP {
						refs = append(refs, id)
					}
				}
			}
		}
		m["object_marking_refs"] = append(refs, tlp.ID)
	} else {
		m["type"], m["spec_version"], m["id"] = "indicator", "2.1", stix.NewID("indicator")
		m["created"], m["modified"] = stix.FormatTime(now, 3), stix.FormatTime(now, 3)
		m["pattern_type"] = "stix"
		m["object_marking_refs"] = []any{tlp.ID}
		if s.o.IdentityID != "" {
			m["created_by_ref"] = s.o.IdentityID
		}
	}
	m["name"], m["pattern"], m["valid_from"] = f.Name, f.Pattern, stix.FormatTime(validFrom, 3)
	if f.Description != "" {
		m["description"] = f.Description
	} else {
		delete(m, "description")
	}
	if conf != nil {
		m["confidence"] = *conf
	} else {
		delete(m, "confidence")
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return stix.Object{}, []string{err.Error()}
	}
	obj, _, err := stix.Decode(raw)
	if err != nil {
		return stix.Object{}, []string{"the indicator does not validate: " + err.Error()}
	}
	return obj, nil
}

func (s *Server) indicatorSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f := indicatorForm{Coll: r.PostFormValue("coll"), ID: r.PostFormValue("id"), Name: strings.TrimSpace(r.PostFormValue("name")),
		Description: r.PostFormValue("description"), Pattern: strings.TrimSpace(r.PostFormValue("pattern")),
		ValidFrom: strings.TrimSpace(r.PostFormValue("valid_from")), TLP: r.PostFormValue("tlp"),
		Confidence: strings.TrimSpace(r.PostFormValue("confidence")), TLPs: tlpLevels}
	coll, status, err := s.writableCollection(ctx, r, f.Coll)
	if err != nil {
		s.failErr(w, r, status, err)
		return
	}
	var prev *stix.Object
	if f.ID != "" {
		obj, _, err := s.latestObject(ctx, coll.ID, f.ID)
		if err != nil || obj.Type != "indicator" {
			s.fail(w, r, http.StatusNotFound, fmt.Sprintf("No indicator %q in this collection: nothing was stored.", f.ID))
			return
		}
		if obj.Revoked {
			s.fail(w, r, http.StatusBadRequest, "This indicator is revoked; a revoked object cannot be edited.")
			return
		}
		prev = &obj
	}
	obj, errs := s.buildIndicator(f, prev)
	if len(errs) > 0 {
		pg := s.newPage(r, "Indicator", "intel", &f)
		pg.Error = "Nothing was stored: " + strings.Join(errs, "; ") + "."
		s.render(w, r, http.StatusBadRequest, "indicator", pg)
		return
	}
	if _, err := s.o.Store.Put(ctx, coll.ID, []stix.Object{obj}); err != nil {
		s.internal(w, r, err)
		return
	}
	done := "created"
	if prev != nil {
		done = "edited"
	}
	s.log.Info("console: indicator stored", "user", current(r).user.Name, "id", obj.ID, "action", done)
	http.Redirect(w, r, fmt.Sprintf("/intel/object?coll=%s&id=%s&done=%s", urlQueryEscape(coll.ID), urlQueryEscape(obj.ID), done), http.StatusSeeOther)
}

func (s *Server) revokeSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	coll, status, err := s.writableCollection(ctx, r, r.PostFormValue("coll"))
	if err != nil {
		s.failErr(w, r, status, err)
		return
	}
	id := r.PostFormValue("id")
	if err := checkText("id", id, 500); err != nil || id == "" {
		s.fail(w, r, http.StatusBadRequest, "id: give the STIX id of the indicator to revoke.")
		return
	}
	obj, _, err := s.latestObject(ctx, coll.ID, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && obj.Type != "indicator" {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("No indicator %q in this collection: nothing was revoked.", id))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if obj.Revoked {
		s.fail(w, r, http.StatusBadRequest, "This indicator is revoked already.")
		return
	}
	m := map[string]any{}
	if err := json.Unmarshal(obj.Raw, &m); err != nil {
		s.internal(w, r, err)
		return
	}
	modified := s.now().UTC().Truncate(time.Millisecond)
	if !modified.After(obj.Version()) {
		modified = obj.Version().Add(time.Millisecond)
	}
	m["revoked"], m["modified"] = true, stix.FormatTime(modified, 3)
	raw, err := json.Marshal(m)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	next, _, err := stix.Decode(raw)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "The revoked version does not validate (nothing was stored): "+err.Error())
		return
	}
	if _, err := s.o.Store.Put(ctx, coll.ID, []stix.Object{next}); err != nil {
		s.internal(w, r, err)
		return
	}
	s.log.Info("console: indicator revoked", "user", current(r).user.Name, "id", id)
	http.Redirect(w, r, fmt.Sprintf("/intel/object?coll=%s&id=%s&done=revoked", urlQueryEscape(coll.ID), urlQueryEscape(id)), http.StatusSeeOther)
}
