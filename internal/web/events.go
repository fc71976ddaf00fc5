package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/shieldwall/shieldwall/internal/store"
)

// liveAlert is what the event stream says about a new alert.
type liveAlert struct {
	ID    string    `json:"id"`
	Level string    `json:"level"`
	Title string    `json:"title"`
	Rule  string    `json:"rule"`
	Time  time.Time `json:"time"`
}

type livePeer struct {
	Peer       string  `json:"peer"`
	Link       string  `json:"link"`
	LagObjects int     `json:"lag_objects"`
	LagSeconds float64 `json:"lag_seconds"`
	BytesIn    int64   `json:"bytes_in"`
	BytesOut   int64   `json:"bytes_out"`
	LastError  string  `json:"last_error"`
}

// events streams server-sent events: "alert" for each alert stored after
// the stream opened (polling the store, so alerts from any process sharing
// it are seen) and "peers" whenever a peer's link, lag or bytes change.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ctx := r.Context()
	var last int64
	if s.alerts != nil {
		newest, err := s.alerts.Alerts(ctx, store.AlertFilter{Limit: 1})
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if len(newest) == 1 {
			last = newest[0].Seq
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 5000\n\n")
	fl.Flush()
	var lastPeers string
	send := func(event string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return err
		}
		fl.Flush()
		return nil
	}
	tick := time.NewTicker(s.o.EventInterval)
	defer tick.Stop()
	for {
		if s.alerts != nil {
			page, err := s.alerts.Alerts(ctx, store.AlertFilter{Limit: 50})
			if err != nil {
				s.log.Warn("web: event stream: alerts", "err", err)
				return
			}
			var fresh []liveAlert
			for i := len(page) - 1; i >= 0; i-- {
				if a := page[i]; a.Seq > last {
					fresh = append(fresh, liveAlert{ID: a.ID, Level: a.Level, Title: alertTitle(a), Rule: a.RuleID, Time: a.Time})
					last = a.Seq
				}
			}
			for _, a := range fresh {
				if send("alert", a) != nil {
					return
				}
			}
		}
		if s.o.Peers != nil {
			var ps []livePeer
			for _, p := range s.o.Peers() {
				ps = append(ps, livePeer{Peer: p.Peer, Link: p.Link, LagObjects: p.LagObjects, LagSeconds: p.LagSeconds,
					BytesIn: p.BytesIn, BytesOut: p.BytesOut, LastError: p.LastError})
			}
			b, _ := json.Marshal(ps)
			if string(b) != lastPeers {
				lastPeers = string(b)
				if send("peers", ps) != nil {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
