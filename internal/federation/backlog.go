package federation

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shieldwall/shieldwall/internal/store"
)

// Priority classes of the backlog, in the order the push sends them (see
// priorityOf).
const (
	ClassMarking    = "marking"    // marking-definitions (class -1)
	ClassRevocation = "revocation" // revoked versions (class 0, first)
	ClassUrgent     = "urgent"     // indicators with confidence >= 85 or labelled critical (class 0)
	ClassNormal     = "normal"     // everything else (class 1)
)

// BacklogClasses lists the priority classes in push order.
var BacklogClasses = []string{ClassMarking, ClassRevocation, ClassUrgent, ClassNormal}

// Backlog is what waits to be pushed to one peer, by priority class. Only
// records the sharing policy would send are counted by class; those it
// will withhold are counted apart. Counting stops after Limit records per
// push collection: then Capped is set and every figure is a lower bound.
type Backlog struct {
	Peer string
	// ByClass maps each of BacklogClasses to the records of that class the
	// policy would send.
	ByClass map[string]int
	// Withheld counts waiting records the policy will not send (they are
	// only decided and logged, which costs the link nothing).
	Withheld int
	Capped   bool
	Limit    int
	// Counted is when the figures were counted; Err is set when counting
	// failed (the figures are then those counted before the failure).
	Counted time.Time
	Err     string
}

// Total is how many records would be sent.
func (b Backlog) Total() int {
	n := 0
	for _, v := range b.ByClass {
		n += v
	}
	return n
}

// classOf names the priority class of a record.
func classOf(p priority) string {
	switch {
	case p.class < 0:
		return ClassMarking
	case p.class == 0 && p.revoked:
		return ClassRevocation
	case p.class == 0:
		return ClassUrgent
	}
	return ClassNormal
}

// BacklogCounter counts peers' backlogs on demand, for the console and
// /metrics, and keeps each count for a while so that page views, live
// updates and scrapes do not repeat the work. It reads the store and the
// syncer's caches only: it never moves a cursor or logs a decision.
type BacklogCounter struct {
	s     *Syncer
	limit int
	ttl   time.Duration

	mu    sync.Mutex
	cache map[string]Backlog
	busy  map[string]*sync.Mutex // one count per peer at a time
}

// NewBacklogCounter counts at most limit waiting records per push
// collection of a peer (0: 2000, at most the syncer's ScanAhead) and keeps
// each count for ttl (0: 5s).
func NewBacklogCounter(s *Syncer, limit int, ttl time.Duration) *BacklogCounter {
	if limit <= 0 {
		limit = 2000
	}
	limit = min(limit, s.o.ScanAhead)
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	return &BacklogCounter{s: s, limit: limit, ttl: ttl, cache: map[string]Backlog{}, busy: map[string]*sync.Mutex{}}
}

// Backlogs returns the backlog of every peer, in configuration order.
func (c *BacklogCounter) Backlogs(ctx context.Context) []Backlog {
	out := make([]Backlog, 0, len(c.s.order))
	for _, name := range c.s.order {
		b, _ := c.Backlog(ctx, name)
		out = append(out, b)
	}
	return out
}

// Backlog returns one peer's backlog, counted at most ttl ago.
func (c *BacklogCounter) Backlog(ctx context.Context, name string) (Backlog, error) {
	p, err := c.s.peer(name)
	if err != nil {
		return Backlog{}, err
	}
	c.mu.Lock()
	m := c.busy[name]
	if m == nil {
		m = &sync.Mutex{}
		c.busy[name] = m
	}
	c.mu.Unlock()
	m.Lock()
	defer m.Unlock()
	c.mu.Lock()
	b, ok := c.cache[name]
	c.mu.Unlock()
	if ok && c.s.now().Sub(b.Counted) < c.ttl {
		return b, nil
	}
	b = c.count(ctx, p)
	c.mu.Lock()
	c.cache[name] = b
	c.mu.Unlock()
	if b.Err != "" {
		return b, fmt.Errorf("federation: backlog of %s: %s", name, b.Err)
	}
	return b, nil
}

// count reads, for each push collection of the peer, the records after
// its push cursor that are not handled yet (as the push's own window
// does, up to the limit), and runs the policy on each.
func (c *BacklogCounter) count(ctx context.Context, p *peer) Backlog {
	b := Backlog{Peer: p.cfg.Name, ByClass: map[string]int{}, Limit: c.limit, Counted: c.s.now()}
	for _, cl := range BacklogClasses {
		b.ByClass[cl] = 0
	}
	if p.client == nil {
		return b // an offline peer gets bundles, not pushes
	}
	for _, coll := range p.cfg.Push {
		if err := c.countColl(ctx, p, coll, &b); err != nil {
			b.Err = err.Error()
			return b
		}
	}
	return b
}

func (c *BacklogCounter) countColl(ctx context.Context, p *peer, coll string, b *Backlog) error {
	cur, err := c.s.timeCursor(ctx, p.cfg.Name, coll, store.DirPush)
	if err != nil {
		return err
	}
	f := store.Filter{AddedAfter: cur, Versions: store.VersionMatch{All: true}, Limit: min(c.limit, 1000)}
	seen := 0
	for {
		pg, err := c.s.query(ctx, coll, f)
		if err != nil {
			return fmt.Errorf("%s: %w", coll, err)
		}
		var waiting []store.Record
		p.mu.Lock()
		done := p.done[coll]
		for _, r := range pg.Records {
			if !r.DateAdded.After(cur) {
				continue
			}
			if seen == c.limit {
				b.Capped = true // more after the limit
				break
			}
			seen++
			if !done[keyOf(r)] {
				waiting = append(waiting, r)
			}
		}
		p.mu.Unlock()
		for _, r := range waiting {
			o, err := c.s.decide(ctx, p, r)
			if err != nil {
				return err
			}
			if o.raw == nil {
				b.Withheld++
				continue
			}
			b.ByClass[classOf(c.s.priority(r))]++
		}
		if b.Capped || !pg.More || pg.Next == "" {
			return nil
		}
		if seen == c.limit {
			b.Capped = true // the store says more follow
			return nil
		}
		f.Next = pg.Next
	}
}

// Collector returns a prometheus.Collector of every peer's backlog by
// priority class, for the node's /metrics.
func (c *BacklogCounter) Collector() prometheus.Collector { return backlogMetrics{c} }

var (
	descBacklog = prometheus.NewDesc("shieldwall_federation_peer_backlog_objects",
		"Local object versions waiting to be pushed to the peer that the policy would send, by priority class (marking, revocation, urgent, normal); a lower bound when shieldwall_federation_peer_backlog_capped is 1.",
		[]string{"peer", "class"}, nil)
	descBacklogWithheld = prometheus.NewDesc("shieldwall_federation_peer_backlog_withheld_objects",
		"Local object versions waiting for the peer that the policy will withhold.", []string{"peer"}, nil)
	descBacklogCapped = prometheus.NewDesc("shieldwall_federation_peer_backlog_capped",
		"1 when counting the peer's backlog stopped at its limit (the backlog figures are lower bounds).", []string{"peer"}, nil)
)

type backlogMetrics struct{ c *BacklogCounter }

func (m backlogMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- descBacklog
	ch <- descBacklogWithheld
	ch <- descBacklogCapped
}

func (m backlogMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, b := range m.c.Backlogs(ctx) {
		for _, cl := range BacklogClasses {
			ch <- prometheus.MustNewConstMetric(descBacklog, prometheus.GaugeValue, float64(b.ByClass[cl]), b.Peer, cl)
		}
		ch <- prometheus.MustNewConstMetric(descBacklogWithheld, prometheus.GaugeValue, float64(b.Withheld), b.Peer)
		capped := 0.0
		if b.Capped {
			capped = 1
		}
		ch <- prometheus.MustNewConstMetric(descBacklogCapped, prometheus.GaugeValue, capped, b.Peer)
	}
}
