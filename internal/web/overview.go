package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/federation"
	"github.com/shieldwall/shieldwall/internal/store"
)

// tagScanLimit bounds how many of the newest alerts the tag statistics
// read, so the overview answers in bounded time whatever the store holds.
const tagScanLimit = 2000

type count struct {
	Key   string
	Name  string // the ATT&CK name, when the store holds it
	Count int
}

// tagStats counts the ATT&CK tags of the newest alerts: techniques
// (attack.tNNNN), groups (attack.gNNNN: threat actors) and software
// (attack.sNNNN: malware and tools), and the indicators IOC alerts hit.
type tagStats struct {
	Scanned                                  int
	Techniques, Groups, Software, Indicators []count
	techniques                               map[string]int
}

func topN(m map[string]int, n int) []count {
	out := make([]count, 0, len(m))
	for k, v := range m {
		out = append(out, count{Key: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// attackTag classifies a Sigma tag: kind t (technique), g (group), s
// (software) or a tactic name; id is the ATT&CK id in upper case.
func attackTag(tag string) (kind, id string) {
	t := strings.ToLower(tag)
	rest, ok := strings.CutPrefix(t, "attack.")
	if !ok || rest == "" {
		return "", ""
	}
	if len(rest) >= 5 && (rest[0] == 't' || rest[0] == 'g' || rest[0] == 's') && rest[1] >= '0' && rest[1] <= '9' {
		return rest[:1], strings.ToUpper(rest)
	}
	return "tactic", rest
}

func (s *Server) scanTags(ctx context.Context, limit int) (*tagStats, error) {
	st := &tagStats{techniques: map[string]int{}}
	if s.alerts == nil {
		return st, nil
	}
	groups, software, inds := map[string]int{}, map[string]int{}, map[string]int{}
	var before int64
	for st.Scanned < limit {
		page, err := s.alerts.Alerts(ctx, store.AlertFilter{Before: before, Limit: min(500, limit-st.Scanned)})
		if err != nil {
			return nil, fmt.Errorf("alerts for tag statistics: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			var v struct {
				Tags      []string `json:"tags"`
				Indicator string   `json:"indicator"`
			}
			if json.Unmarshal(a.JSON, &v) != nil {
				continue
			}
			for _, tag := range v.Tags {
				switch kind, id := attackTag(tag); kind {
				case "t":
					st.techniques[id]++
				case "g":
					groups[id]++
				case "s":
					software[id]++
				}
			}
			if v.Indicator != "" {
				inds[v.Indicator]++
			}
		}
		st.Scanned += len(page)
		before = page[len(page)-1].Seq
	}
	st.Techniques, st.Groups, st.Software, st.Indicators = topN(st.techniques, 10), topN(groups, 10), topN(software, 10), topN(inds, 10)
	if len(st.Techniques)+len(st.Groups)+len(st.Software) > 0 {
		names := s.attackName(ctx)
		for _, l := range [][]count{st.Techniques, st.Groups, st.Software} {
			for i := range l {
				l[i].Name = names[l[i].Key]
			}
		}
	}
	return st, nil
}

type overviewData struct {
	AlertsAvailable bool
	Federation      bool
	Graph           string // JSON for the federation graph
	Chart           string // JSON for the alerts-over-time chart
	ChartNote       string
	Tags            *tagStats
	Urgent          []alertRow
	CutPeers        []federation.State
	Peers           []federation.State
	TagScanLimit    int
}

// graphJSON is the federation as Cytoscape elements: this node in the
// centre, one node per peer, edges coloured by link state.
func graphJSON(self string, peers []federation.State) string {
	type data map[string]any
	els := []map[string]any{{"data": data{"id": "self", "label": self, "kind": "self"}}}
	for _, p := range peers {
		id := "peer:" + p.Peer
		lag := fmt.Sprintf("%d waiting, %.0fs", p.LagObjects, p.LagSeconds)
		els = append(els,
			map[string]any{"data": data{"id": id, "label": p.Peer, "kind": "peer", "link": p.Link}},
			map[string]any{"data": data{"id": "e:" + p.Peer, "source": "self", "target": id, "link": p.Link, "label": p.Link + " · " + lag}})
	}
	b, _ := json.Marshal(els)
	return string(b)
}

func (s *Server) peers() []federation.State {
	if s.o.Peers == nil {
		return nil
	}
	return s.o.Peers()
}

// chartJSON buckets alerts by hour over the last day. When the last day
// had none (hunted or replayed logs), it spans the event times of the
// newest alerts instead, in about 30 buckets of a round size.
func (s *Server) chartJSON(ctx context.Context) (string, string, error) {
	if s.triage == nil {
		return "", "", nil
	}
	n := 24
	step := time.Hour
	end := s.now().Truncate(step).Add(step)
	note := "last 24 hours, by hour"
	buckets, err := s.triage.AlertHistogram(ctx, end.Add(-time.Duration(n)*step), step, n)
	if err != nil {
		return "", "", err
	}
	if len(buckets) == 0 && s.alerts != nil {
		recent, err := s.alerts.Alerts(ctx, store.AlertFilter{Limit: 1000})
		if err != nil {
			return "", "", err
		}
		var lo, hi time.Time
		for _, a := range recent {
			if a.Time.IsZero() {
				continue
			}
			if lo.IsZero() || a.Time.Before(lo) {
				lo = a.Time
			}
			if a.Time.After(hi) {
				hi = a.Time
			}
		}
		if !lo.IsZero() {
			step = time.Hour
			for _, st := range []time.Duration{time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour, 91 * 24 * time.Hour, 365 * 24 * time.Hour} {
				step = st
				if hi.Sub(lo)/st < 30 {
					break
				}
			}
			start := lo.Truncate(step)
			end = hi.Truncate(step).Add(step)
			n = int(end.Sub(start) / step)
			note = fmt.Sprintf("no alerts in the last 24 hours: the event times of the newest %d alerts, %s to %s, per %s",
				len(recent), fmtTime(lo), fmtTime(hi), stepName(step))
			if buckets, err = s.triage.AlertHistogram(ctx, start, step, n); err != nil {
				return "", "", err
			}
		}
	}
	start := end.Add(-time.Duration(n) * step)
	layout := "01-02 15:04"
	if step >= 24*time.Hour {
		layout = "2006-01-02"
	}
	labels := make([]string, n)
	for i := range labels {
		labels[i] = start.Add(time.Duration(i) * step).UTC().Format(layout)
	}
	series := map[string][]int{}
	for _, l := range levels {
		series[l] = make([]int, n)
	}
	for _, b := range buckets {
		i := int(b.Start.Sub(start) / step)
		if _, ok := series[b.Level]; ok && i >= 0 && i < n {
			series[b.Level][i] += b.Count
		}
	}
	out, _ := json.Marshal(map[string]any{"labels": labels, "levels": levels, "series": series})
	return string(out), note, nil
}

func stepName(d time.Duration) string {
	switch d {
	case time.Hour:
		return "hour"
	case 6 * time.Hour:
		return "6 hours"
	case 24 * time.Hour:
		return "day"
	case 7 * 24 * time.Hour:
		return "week"
	case 30 * 24 * time.Hour:
		return "30 days"
	case 91 * 24 * time.Hour:
		return "quarter"
	}
	return "year"
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := overviewData{AlertsAvailable: s.triage != nil, Federation: s.o.Peers != nil, TagScanLimit: tagScanLimit}
	d.Peers = s.peers()
	d.Graph = graphJSON(s.o.NodeName, d.Peers)
	for _, p := range d.Peers {
		if p.Link == federation.LinkCut || p.Link == federation.LinkDegraded {
			d.CutPeers = append(d.CutPeers, p)
		}
	}
	var err error
	if d.Chart, d.ChartNote, err = s.chartJSON(ctx); err != nil {
		s.internal(w, r, err)
		return
	}
	if d.Tags, err = s.scanTags(ctx, tagScanLimit); err != nil {
		s.internal(w, r, err)
		return
	}
	if s.triage != nil {
		for _, l := range []string{"critical", "high"} {
			as, err := s.triage.QueryAlerts(ctx, store.AlertQuery{Level: l, Verdict: "untriaged", Limit: 10})
			if err != nil {
				s.internal(w, r, err)
				return
			}
			for _, a := range as {
				d.Urgent = append(d.Urgent, alertRow{TriagedAlert: a, Title: alertTitle(a.AlertRecord)})
			}
		}
	}
	s.render(w, r, http.StatusOK, "overview", s.newPage(r, "Overview", "overview", &d))
}

// heatCell is one technique of the ATT&CK heatmap.
type heatCell struct {
	ID       string
	Name     string
	Detected int // alerts tagged with it (among the newest scanned)
	Rules    int // loaded rules tagged with it
	Class    string
}

type heatTactic struct {
	Tactic string
	Cells  []heatCell
}

type attackData struct {
	RulesLoaded     bool
	RuleCount       int
	Scanned         int
	Tactics         []heatTactic
	DetectedOnly    int
	CoveredOnly     int
	AlertsAvailable bool
}

// heatClass buckets a count into one of six CSS classes (no inline styles:
// the CSP forbids them).
func heatClass(n int) string {
	switch {
	case n == 0:
		return "heat-0"
	case n < 2:
		return "heat-1"
	case n < 5:
		return "heat-2"
	case n < 20:
		return "heat-3"
	case n < 100:
		return "heat-4"
	}
	return "heat-5"
}

const attackScanLimit = 10000

func (s *Server) attackPage(w http.ResponseWriter, r *http.Request) {
	rs, loaded := s.o.Rules()
	d := attackData{RulesLoaded: loaded, AlertsAvailable: s.alerts != nil}
	tags, err := s.scanTags(r.Context(), attackScanLimit)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	d.Scanned = tags.Scanned
	rules := map[string]int{}
	tacticOf := map[string]string{}
	if loaded {
		d.RuleCount = len(rs)
		for _, ri := range rs {
			var techs []string
			tactic := ""
			for _, tag := range ri.Tags {
				switch kind, id := attackTag(tag); kind {
				case "t":
					techs = append(techs, id)
				case "tactic":
					if tactic == "" {
						tactic = id
					}
				}
			}
			for _, t := range techs {
				rules[t]++
				if _, ok := tacticOf[t]; !ok && tactic != "" {
					tacticOf[t] = tactic
				}
			}
		}
	}
	all := map[string]bool{}
	for t := range rules {
		all[t] = true
	}
	for t := range tags.techniques {
		all[t] = true
		if rules[t] == 0 {
			d.DetectedOnly++
		}
	}
	for t := range rules {
		if tags.techniques[t] == 0 {
			d.CoveredOnly++
		}
	}
	names := s.attackName(r.Context())
	byTactic := map[string][]heatCell{}
	for t := range all {
		tac := tacticOf[t]
		if tac == "" {
			tac = "other (no tactic tag)"
		}
		byTactic[tac] = append(byTactic[tac], heatCell{ID: t, Name: names[t], Detected: tags.techniques[t], Rules: rules[t], Class: heatClass(tags.techniques[t])})
	}
	for tac, cells := range byTactic {
		slices.SortFunc(cells, func(a, b heatCell) int { return strings.Compare(a.ID, b.ID) })
		d.Tactics = append(d.Tactics, heatTactic{Tactic: tac, Cells: cells})
	}
	slices.SortFunc(d.Tactics, func(a, b heatTactic) int { return strings.Compare(a.Tactic, b.Tactic) })
	s.render(w, r, http.StatusOK, "attack", s.newPage(r, "ATT&CK", "attack", &d))
}

type sharingData struct {
	Available bool
	Peer      string
	PeerNames []string
	Decisions []store.FedDecision
	Next      string
	States    []federation.State
}

func (s *Server) sharingPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := sharingData{Available: s.decisions != nil, Peer: q.Get("peer"), States: s.peers()}
	for _, p := range d.States {
		d.PeerNames = append(d.PeerNames, p.Peer)
	}
	pg := s.newPage(r, "Sharing", "sharing", &d)
	var errs []string
	if err := checkText("peer", d.Peer, 100); err != nil {
		errs = append(errs, err.Error())
	}
	var before int64
	if v := q.Get("before"); v != "" {
		if _, err := fmt.Sscan(v, &before); err != nil || before < 1 {
			errs = append(errs, fmt.Sprintf("before: %q is not a positive whole number", v))
		}
	}
	if len(errs) > 0 {
		pg.Error = strings.Join(errs, "; ") + "."
		s.render(w, r, http.StatusBadRequest, "sharing", pg)
		return
	}
	if !d.Available {
		s.render(w, r, http.StatusOK, "sharing", pg)
		return
	}
	const per = 100
	ds, err := s.decisions.RecentDecisions(r.Context(), d.Peer, before, per)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	d.Decisions = ds
	if len(ds) == per {
		d.Next = fmt.Sprintf("peer=%s&before=%d", urlQueryEscape(d.Peer), ds[len(ds)-1].Seq)
	}
	s.render(w, r, http.StatusOK, "sharing", pg)
}

type peersData struct {
	Federation bool
	States     []federation.State
	Graph      string
	// Backlogs are per peer, in the order of States (nil: not counted).
	Backlogs map[string]backlogRow
	Classes  []string
}

// backlogRow is one peer's backlog as the page shows it: "≥ N" when the
// count stopped at its limit.
type backlogRow struct {
	ByClass  []string // in the order of federation.BacklogClasses
	Withheld string
	Total    string
	Err      string
}

func backlogCells(b federation.Backlog) backlogRow {
	f := func(n int) string {
		if b.Capped {
			return fmt.Sprintf("≥ %d", n)
		}
		return fmt.Sprint(n)
	}
	row := backlogRow{Withheld: f(b.Withheld), Total: f(b.Total()), Err: b.Err}
	for _, cl := range federation.BacklogClasses {
		row.ByClass = append(row.ByClass, f(b.ByClass[cl]))
	}
	return row
}

func (s *Server) peersPage(w http.ResponseWriter, r *http.Request) {
	d := peersData{Federation: s.o.Peers != nil, States: s.peers(), Classes: federation.BacklogClasses}
	d.Graph = graphJSON(s.o.NodeName, d.States)
	if s.o.Backlog != nil {
		d.Backlogs = map[string]backlogRow{}
		for _, b := range s.o.Backlog(r.Context()) {
			d.Backlogs[b.Peer] = backlogCells(b)
		}
	}
	s.render(w, r, http.StatusOK, "peers", s.newPage(r, "Peers", "peers", &d))
}
