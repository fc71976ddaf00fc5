package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/store"
)

// alertRow is one line of the alerts table.
type alertRow struct {
	store.TriagedAlert
	Title string
}

type alertsData struct {
	Available           bool
	Params              alertParams
	Rows                []alertRow
	Prev, Next          string // links to the neighbour pages, "" when none
	Bounded             bool   // the text is too short for the index: only the newest alerts were searched
	BoundedN, MinText   int
	Levels, Engines     []string
	Verdicts, Sorts     []string
	Users               []store.User
	FirstIndex, LastIdx int
	Return              string // this page's query, to come back to after a bulk action
}

func alertTitle(a store.AlertRecord) string {
	var t struct {
		RuleTitle string `json:"rule_title"`
	}
	if json.Unmarshal(a.JSON, &t) == nil && t.RuleTitle != "" {
		return t.RuleTitle
	}
	return a.RuleID
}

func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request) {
	p, q, errs := parseAlertParams(r.URL.Query())
	d := alertsData{Available: s.triage != nil, Params: p, Levels: levels, Engines: engines, Verdicts: verdicts, Sorts: sorts}
	pg := s.newPage(r, "Alerts", "alerts", &d)
	if !d.Available {
		s.render(w, r, http.StatusOK, "alerts", pg)
		return
	}
	if len(errs) > 0 {
		pg.Error = "The filter was not applied: " + strings.Join(errs, "; ") + "."
		s.render(w, r, http.StatusBadRequest, "alerts", pg)
		return
	}
	rows, err := s.triage.QueryAlerts(r.Context(), q)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	// The store pages by key: one alert more than a page tells whether
	// there is more in the direction read.
	more := len(rows) > alertsPerPage
	if q.Before != nil && !more {
		// Back at the start of the list: show the first page as it is now
		// (alerts may have been added at the start since).
		q.Before, p.Before, p.Page = nil, "", 1
		d.Params = p
		if rows, err = s.triage.QueryAlerts(r.Context(), q); err != nil {
			s.internal(w, r, err)
			return
		}
		more = len(rows) > alertsPerPage
	}
	if more {
		if q.Before != nil {
			rows = rows[1:]
		} else {
			rows = rows[:alertsPerPage]
		}
	}
	if len(rows) > 0 {
		first, last := store.CursorOf(rows[0].AlertRecord), store.CursorOf(rows[len(rows)-1].AlertRecord)
		if more || q.Before != nil {
			d.Next = "/alerts?" + p.link("after", last, p.Page+1)
		}
		if q.After != nil || q.Before != nil {
			d.Prev = "/alerts?" + p.link("before", first, p.Page-1)
			if p.Page <= 2 {
				// The page before page 2 is the first page: its link is
				// the plain one, which shows the start of the list as it
				// is now.
				d.Prev = "/alerts"
				if v := p.query().Encode(); v != "" {
					d.Prev += "?" + v
				}
			}
		}
	}
	for _, a := range rows {
		d.Rows = append(d.Rows, alertRow{TriagedAlert: a, Title: alertTitle(a.AlertRecord)})
	}
	d.Bounded, d.BoundedN, d.MinText = q.TextBounded(), store.ShortTextAlerts, store.MinIndexedText
	d.FirstIndex = (p.Page-1)*alertsPerPage + 1
	d.Return = p.self()
	d.LastIdx = d.FirstIndex + len(d.Rows) - 1
	if d.Users, err = s.o.Store.Users(r.Context()); err != nil {
		s.internal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "alerts", pg)
}

type alertDetail struct {
	store.TriagedAlert
	Alert     detect.Alert
	Event     string // indented JSON of the event
	Rule      *RuleInfo
	Users     []store.User
	Verdicts  []string
	Form      triageForm
	Available bool
}

func (s *Server) loadAlert(r *http.Request) (*alertDetail, int, error) {
	if s.triage == nil {
		return nil, http.StatusNotFound, errors.New("this node's store keeps no alerts")
	}
	id := r.PathValue("id")
	if err := checkText("id", id, 200); err != nil {
		return nil, http.StatusBadRequest, err
	}
	a, err := s.triage.Alert(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, http.StatusNotFound, fmt.Errorf("no alert %q", id)
	}
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	d := &alertDetail{TriagedAlert: a, Verdicts: []string{store.VerdictTruePositive, store.VerdictFalsePositive}, Available: true}
	if err := json.Unmarshal(a.JSON, &d.Alert); err != nil {
		d.Alert = detect.Alert{RuleID: a.RuleID, Level: a.Level, Engine: a.Engine, Source: a.Source}
	}
	if len(d.Alert.Event) > 0 {
		var buf bytes.Buffer
		if json.Indent(&buf, d.Alert.Event, "", "  ") == nil {
			d.Event = buf.String()
		} else {
			d.Event = string(d.Alert.Event)
		}
	}
	rules, _ := s.o.Rules()
	for _, ri := range rules {
		if ri.ID == a.RuleID {
			d.Rule = &ri
			break
		}
	}
	d.Form = triageForm{Assignee: a.Triage.Assignee, Verdict: a.Triage.Verdict, Note: a.Triage.Note}
	if d.Users, err = s.o.Store.Users(r.Context()); err != nil {
		return nil, http.StatusInternalServerError, err
	}
	return d, http.StatusOK, nil
}

func (s *Server) alertPage(w http.ResponseWriter, r *http.Request) {
	d, status, err := s.loadAlert(r)
	if err != nil {
		if status == http.StatusInternalServerError {
			s.internal(w, r, err)
			return
		}
		s.fail(w, r, status, err.Error()+".")
		return
	}
	pg := s.newPage(r, "Alert "+d.Alert.RuleTitle, "alerts", d)
	if r.URL.Query().Get("saved") == "1" {
		pg.Notice = "Triage saved."
	}
	s.render(w, r, http.StatusOK, "alert", pg)
}

// triageForm is the triage form as submitted.
type triageForm struct {
	Assignee, Verdict, Note string
}

const maxNote = 4000

// parseTriage checks the triage fields; users are the known user names.
func parseTriage(r *http.Request, users []store.User) (triageForm, []string) {
	f := triageForm{Assignee: strings.TrimSpace(r.PostFormValue("assignee")), Verdict: r.PostFormValue("verdict"), Note: r.PostFormValue("note")}
	var errs []string
	if f.Assignee != "" {
		known := false
		for _, u := range users {
			known = known || u.Name == f.Assignee
		}
		if !known {
			errs = append(errs, fmt.Sprintf("assignee: no user named %q", f.Assignee))
		}
	}
	if f.Verdict != "" && f.Verdict != store.VerdictTruePositive && f.Verdict != store.VerdictFalsePositive {
		errs = append(errs, fmt.Sprintf("verdict: %q is not one of %s, %s or empty", f.Verdict, store.VerdictTruePositive, store.VerdictFalsePositive))
	}
	if err := checkMultiline("note", f.Note, maxNote); err != nil {
		errs = append(errs, err.Error())
	}
	return f, errs
}

func (s *Server) triageOne(w http.ResponseWriter, r *http.Request) {
	d, status, err := s.loadAlert(r)
	if err != nil {
		if status == http.StatusInternalServerError {
			s.internal(w, r, err)
			return
		}
		s.fail(w, r, status, err.Error()+".")
		return
	}
	f, errs := parseTriage(r, d.Users)
	if len(errs) > 0 {
		d.Form = f
		pg := s.newPage(r, "Alert "+d.Alert.RuleTitle, "alerts", d)
		pg.Error = "Nothing was saved: " + strings.Join(errs, "; ") + "."
		s.render(w, r, http.StatusBadRequest, "alert", pg)
		return
	}
	t := store.Triage{AlertID: d.ID, Assignee: f.Assignee, Verdict: f.Verdict, Note: f.Note, By: current(r).user.Name}
	if err := s.triage.SetTriage(r.Context(), []store.Triage{t}); err != nil {
		s.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/alerts/"+urlPathEscape(d.ID)+"?saved=1", http.StatusSeeOther)
}

const maxBulk = 500

func (s *Server) triageBulk(w http.ResponseWriter, r *http.Request) {
	if s.triage == nil {
		s.fail(w, r, http.StatusNotFound, "This node's store keeps no alerts.")
		return
	}
	ids := r.PostForm["id"]
	action := r.PostFormValue("action")
	var errs []string
	if len(ids) == 0 {
		errs = append(errs, "select at least one alert")
	}
	if len(ids) > maxBulk {
		errs = append(errs, fmt.Sprintf("at most %d alerts at once", maxBulk))
	}
	for _, id := range ids {
		if err := checkText("id", id, 200); err != nil || id == "" {
			errs = append(errs, "id: malformed alert id")
			break
		}
	}
	users, err := s.o.Store.Users(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	var apply func(t *store.Triage)
	switch action {
	case "true_positive", "false_positive":
		apply = func(t *store.Triage) { t.Verdict = action }
	case "clear":
		apply = func(t *store.Triage) { t.Verdict = "" }
	case "assign":
		f, ferrs := parseTriage(r, users)
		errs = append(errs, ferrs...)
		apply = func(t *store.Triage) { t.Assignee = f.Assignee }
	default:
		errs = append(errs, fmt.Sprintf("action: %q is not one of true_positive, false_positive, clear, assign", action))
	}
	back := "/alerts"
	if ret := r.PostFormValue("return"); strings.HasPrefix(ret, "?") && checkText("return", ret, 2000) == nil {
		back += ret
	}
	if len(errs) > 0 {
		s.fail(w, r, http.StatusBadRequest, "Nothing was changed: "+strings.Join(errs, "; ")+".")
		return
	}
	ts := make([]store.Triage, 0, len(ids))
	for _, id := range ids {
		a, err := s.triage.Alert(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("Nothing was changed: no alert %q.", id))
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		t := a.Triage
		t.AlertID, t.By, t.Time = a.ID, current(r).user.Name, s.now()
		apply(&t)
		ts = append(ts, t)
	}
	if err := s.triage.SetTriage(r.Context(), ts); err != nil {
		s.internal(w, r, err)
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
