package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MinSearchText is the shortest text (in characters, per word) that
// ObjectSearch finds by substring: the SQLite backend indexes trigrams.
const MinSearchText = 3

// SearchQuery asks ObjectSearch for the latest versions of the objects of a
// collection whose text (SearchText) holds Text, newest first.
type SearchQuery struct {
	// Text is matched case-insensitively, as substrings: every
	// whitespace-separated word of it when each has at least MinSearchText
	// characters, else the whole text as one substring. "" matches every
	// object. ErrInvalid when it is shorter than MinSearchText.
	Text string
	// Types limits the objects to these types; empty means all.
	Types []string
	// Limit caps the records returned; 0 means 50, at most 1,000.
	Limit int
	// Next continues a previous search with the same Text and Types: the
	// opaque SearchPage.Next it returned. ErrInvalid when malformed.
	Next string
}

// SearchPage is one page of a search: first the objects whose name part of
// SearchText matches, newest (by date_added) first, then those that match
// only with their description, newest first.
type SearchPage struct {
	Records []Record
	// More says whether older matches may follow; Next then continues. A
	// backend may end a page early (fewer than Limit records, even none)
	// when a filter rejects most matches, to bound the page's cost.
	More bool
	Next string
	// Pending counts the objects stored but not yet in the search index
	// (a bulk import is indexed in the background): they are not searched
	// yet. 0 means the index is complete.
	Pending int
}

// ObjectSearch finds objects by text (SearchText) and the objects that
// reference one (RefsOf).
// It is a separate capability: callers probe a Backend for it.
type ObjectSearch interface {
	// SearchObjects searches the latest version of each object of the
	// collection (revoked ones included; Record.Object.Revoked tells them).
	// ErrNotFound: no such collection; ErrInvalid: a bad q.Text or q.Next.
	SearchObjects(ctx context.Context, collectionID string, q SearchQuery) (SearchPage, error)
	// Referencing returns the latest versions of the relationships and
	// sightings of the collection that name objectID (RefsOf), newest
	// first, at most limit of them (0: 1,000), and whether there are more.
	// ErrNotFound: no such collection.
	Referencing(ctx context.Context, collectionID, objectID string, limit int) ([]Record, bool, error)
}

// searchFields are the properties of an object that SearchText reads.
type searchFields struct {
	Name        string   `json:"name"`
	Aliases     []string `json:"aliases"`
	MitreAlias  []string `json:"x_mitre_aliases"`
	Description string   `json:"description"`
	Pattern     string   `json:"pattern"`
	Value       string   `json:"value"`
	ExtRefs     []struct {
		ExternalID string `json:"external_id"`
	} `json:"external_references"`
}

// SearchText is the text an object is found by, in two parts. name holds
// what names it: its name, aliases (aliases and x_mitre_aliases), value
// (cyber-observables), pattern and the external_id of each external
// reference (an ATT&CK T1059, a CVE id); body its description. A search
// lists the objects it finds in their name first, then those it finds only
// with the body (a relationship's description names the groups it relates).
// Parts are one per line. Every backend indexes exactly this.
func SearchText(raw []byte) (name, body string) {
	var f searchFields
	if json.Unmarshal(raw, &f) != nil {
		return "", ""
	}
	parts := make([]string, 0, 8)
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	add(f.Name)
	for _, a := range f.Aliases {
		add(a)
	}
	for _, a := range f.MitreAlias {
		add(a)
	}
	add(f.Value)
	add(f.Pattern)
	for _, r := range f.ExtRefs {
		add(r.ExternalID)
	}
	return strings.Join(parts, "\n"), strings.TrimSpace(f.Description)
}

// SearchTerms splits a search text as SearchQuery.Text says: its words when
// each has at least MinSearchText characters, else the whole text as one
// term. ok is false when a term is too short (or text is empty).
func SearchTerms(text string) (terms []string, ok bool) {
	text = strings.TrimSpace(text)
	words := strings.Fields(text)
	if len(words) == 0 {
		return nil, false
	}
	if !slices.ContainsFunc(words, func(w string) bool { return len([]rune(w)) < MinSearchText }) {
		return words, true
	}
	if len([]rune(text)) < MinSearchText {
		return nil, false
	}
	return []string{text}, true
}

// refFields are the reference properties RefsOf reads.
type refFields struct {
	Source      string   `json:"source_ref"`
	Target      string   `json:"target_ref"`
	SightingOf  string   `json:"sighting_of_ref"`
	WhereSeen   []string `json:"where_sighted_refs"`
	ObservedRef []string `json:"observed_data_refs"`
}

// RefsOf lists the ids an object of type typ references, as Referencing
// finds them: a relationship's source_ref and target_ref; a sighting's
// sighting_of_ref, where_sighted_refs and observed_data_refs. Other types
// have none. Each id once, in that order.
func RefsOf(typ string, raw []byte) []string {
	if typ != "relationship" && typ != "sighting" {
		return nil
	}
	var f refFields
	if json.Unmarshal(raw, &f) != nil {
		return nil
	}
	var refs []string
	add := func(id string) {
		if id != "" && !slices.Contains(refs, id) {
			refs = append(refs, id)
		}
	}
	if typ == "relationship" {
		add(f.Source)
		add(f.Target)
		return refs
	}
	add(f.SightingOf)
	for _, id := range f.WhereSeen {
		add(id)
	}
	for _, id := range f.ObservedRef {
		add(id)
	}
	return refs
}

// SearchMaxLimit caps SearchQuery.Limit; searchMaxTypes caps its Types.
const (
	SearchMaxLimit = 1000
	searchMaxTypes = 10000
)

// SearchPlan is a SearchQuery checked, with its cursor decoded: what every
// backend needs before it reads.
type SearchPlan struct {
	Limit int // 50 when the query's is 0; at most SearchMaxLimit
	// Tier is where the page starts: 1 (found by name) then 2 (found only
	// by the body); a page without text has tier 0 in its cursor.
	Tier   int
	Before int64    // the page holds records with date_added (Unix µs) before this
	Terms  []string // SearchTerms of the text; nil without text
}

// PlanSearch checks q and decodes its cursor. ErrInvalid for too many
// types, a bad cursor or a text shorter than MinSearchText.
func PlanSearch(q SearchQuery) (SearchPlan, error) {
	pl := SearchPlan{Limit: q.Limit, Tier: 1, Before: 1<<63 - 1}
	if pl.Limit <= 0 {
		pl.Limit = 50
	}
	pl.Limit = min(pl.Limit, SearchMaxLimit)
	if len(q.Types) > searchMaxTypes {
		return SearchPlan{}, fmt.Errorf("more than %d types: %w", searchMaxTypes, ErrInvalid)
	}
	if q.Next != "" {
		var err error
		if pl.Tier, pl.Before, err = decodeSearchCursor(q.Next); err != nil {
			return SearchPlan{}, err
		}
	}
	if strings.TrimSpace(q.Text) != "" {
		var ok bool
		if pl.Terms, ok = SearchTerms(q.Text); !ok {
			return SearchPlan{}, fmt.Errorf("text %q: shorter than %d characters: %w", q.Text, MinSearchText, ErrInvalid)
		}
	}
	return pl, nil
}

// A search cursor is searchCursorPrefix, the tier (1: found by name, 2:
// only by the body; 0 without text) and the date_added of the last record
// read.
const searchCursorPrefix = "q2."

// SearchCursor is the SearchPage.Next of a page that ended at date_added
// da in tier.
func SearchCursor(tier int, da int64) string {
	return searchCursorPrefix + strconv.Itoa(tier) + "." + strconv.FormatInt(da, 10)
}

func decodeSearchCursor(s string) (tier int, da int64, err error) {
	rest, ok := strings.CutPrefix(s, searchCursorPrefix)
	t, d, ok2 := strings.Cut(rest, ".")
	if ok && ok2 {
		tier, err = strconv.Atoi(t)
		if err == nil {
			da, err = strconv.ParseInt(d, 10, 64)
		}
		if err == nil && tier >= 0 && tier <= 2 {
			return tier, da, nil
		}
	}
	return 0, 0, fmt.Errorf("cursor %q: %w", s, ErrInvalid)
}
