package node

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/shieldwall/shieldwall/internal/federation"
	"github.com/shieldwall/shieldwall/internal/web"
)

// console builds the web console served at / (nil when the store keeps no
// console users).
func (n *Node) console(opts ServeOptions, backlog *federation.BacklogCounter) (http.Handler, error) {
	ws, ok := n.Store.(web.Store)
	if !ok {
		return nil, errors.New("the store keeps no console users")
	}
	wo := web.Options{
		Store:             ws,
		NodeName:          n.Identity.Name,
		IdentityID:        n.Identity.STIX.ID,
		DefaultCollection: DefaultCollectionAlias,
		Secure:            opts.TLSCert != "" && opts.TLSKey != "",
		Logger:            n.log,
		Now:               n.now,
		Rules: func() ([]web.RuleInfo, bool) {
			d := n.detection.Load()
			if d == nil {
				return nil, false
			}
			rs := d.Rules()
			out := make([]web.RuleInfo, 0, len(rs))
			for _, r := range rs {
				out = append(out, web.RuleInfo{ID: r.ID, Title: r.Title, Level: r.Level, Path: r.Path, Tags: r.Tags})
			}
			return out, true
		},
	}
	if s := opts.Federation; s != nil {
		wo.Peers = func() []federation.State { return s.States() }
		wo.Backlog = backlog.Backlogs
	}
	c, err := web.New(wo)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return c, nil
}

// SetDetection makes d the detection the console shows (its loaded rules),
// for a node that runs engines outside Sense (the demo's hunt).
func (n *Node) SetDetection(d *Detection) { n.detection.Store(d) }

func methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}
