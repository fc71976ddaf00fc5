package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"

	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/shieldwall/shieldwall/internal/config"
	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/detect/alertout"
	"github.com/shieldwall/shieldwall/internal/detect/ioc"
	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/ingest"
	"github.com/shieldwall/shieldwall/internal/ingest/jsonlines"
	"github.com/shieldwall/shieldwall/internal/ingest/natsin"
	"github.com/shieldwall/shieldwall/internal/ingest/syslog"
	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

// SenseOptions configure live sensing.
type SenseOptions struct {
	Detection config.Detection
	Inputs    []config.Input
	// Alerts, when set, receives every alert as one JSON line.
	Alerts io.Writer
	// Stdin is the reader of "stdin" inputs.
	Stdin io.Reader
	// Ready, when set, is called once every input is listening/reading.
	Ready func(addrs map[string]string)
}

// sensor is the running pipeline: inputs → engines → alert sink.
type sensor struct {
	n    *Node
	o    SenseOptions
	det  *Detection
	gen  atomic.Int64 // bumped when the intelligence changes
	sink *alertSink
}

// Sense runs the configured inputs through Sigma, IOC and STIX-pattern
// engines until ctx is done. Alerts are deduplicated, stored (when the
// store keeps alerts), written as JSON lines, and IOC hits become STIX
// sightings in the sightings collection. File inputs commit their
// checkpoints only after the alerts of the events read are stored, so a
// restart neither loses nor repeats events. The intelligence is reloaded
// from the store when it changes.
func (n *Node) Sense(ctx context.Context, o SenseOptions) error {
	if len(o.Inputs) == 0 {
		return nil
	}
	objs, last, err := n.loadIntel(ctx, o.Detection.Intel)
	if err != nil {
		return err
	}
	det, err := BuildDetection(DetectionOptions{SigmaDirs: o.Detection.Sigma, Placeholders: o.Detection.Placeholders,
		Intel: objs, WarningLists: o.Detection.WarningLists, Now: n.now})
	if err != nil {
		return err
	}
	n.detection.Store(det)
	defer n.detection.Store(nil)
	n.log.Info("detection ready", "sigma_compiled", det.SigmaCompiled(), "sigma_failed", len(det.SigmaFailed),
		"ioc_keys", det.IOCIndex.Len(), "stix_patterns", det.STIXReport.Loaded)
	for _, f := range det.SigmaFailed {
		n.log.Warn("sigma rule not loaded", "path", f.Path, "err", f.Err)
	}
	sightings, err := n.Store.Collection(ctx, o.Detection.Sightings)
	if err != nil {
		return fmt.Errorf("sightings collection %q: %w", o.Detection.Sightings, err)
	}
	s := &sensor{n: n, o: o, det: det}
	s.sink = newAlertSink(n, o.Alerts, sightings.ID)
	if out := o.Detection.AlertsNATS; out.URL != "" {
		nc, err := nats.Connect(out.URL, nats.Name("shieldwall-alerts"), nats.MaxReconnects(-1))
		if err != nil {
			return fmt.Errorf("alerts to NATS %s: %w", out.URL, err)
		}
		defer nc.Drain()
		js, err := jetstream.New(nc)
		if err != nil {
			return fmt.Errorf("alerts to NATS: %w", err)
		}
		if _, err := js.CreateOrUpdateStream(ctx, alertout.StreamConfig(out.Stream, out.Prefix, 10*time.Minute)); err != nil {
			return fmt.Errorf("alerts stream %s: %w", out.Stream, err)
		}
		s.sink.pub = alertout.New(js, alertout.Config{Prefix: out.Prefix})
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.sink.run(ctx) })
	g.Go(func() error { return s.reload(ctx, last) })
	addrs := map[string]string{}
	var mu sync.Mutex
	var ready sync.WaitGroup
	for _, in := range o.Inputs {
		switch in.Type {
		case config.InputFile:
			paths, err := expand(in.Paths)
			if err != nil {
				return err
			}
			cps, err := ingest.OpenCheckpoints(filepath.Join(n.dataDir, "checkpoints", safeName(in.Name)))
			if err != nil {
				return err
			}
			for _, p := range paths {
				g.Go(func() error { return s.follow(ctx, in, p, cps) })
			}
		case config.InputStdin:
			g.Go(func() error { return s.stdin(ctx, in) })
		case config.InputNATS:
			g.Go(func() error { return s.nats(ctx, in) })
		case config.InputSyslog:
			ready.Add(1)
			g.Go(func() error {
				return s.syslog(ctx, in, func(addr string) {
					mu.Lock()
					addrs[in.Name] = addr
					mu.Unlock()
					ready.Done()
				})
			})
		}
	}
	if o.Ready != nil {
		go func() { ready.Wait(); o.Ready(addrs) }()
	}
	return g.Wait()
}

func expand(patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("input path %q: %w", p, err)
		}
		if len(m) == 0 {
			m = []string{p} // followed when it appears
		}
		out = append(out, m...)
	}
	return out, nil
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == '*' {
			return '_'
		}
		return r
	}, s)
}

// engines is one goroutine's engine set, rebuilt when the intelligence changes.
type engines struct {
	s      *sensor
	iocCfg ioc.Config
	sigma  detect.Engine
	intel  detect.Engine
	gen    int64
}

func (s *sensor) newEngines(in config.Input) *engines {
	return &engines{s: s, gen: -1, iocCfg: IOCConfig(in.IOCFields), sigma: s.det.SigmaEngine()}
}

func (e *engines) Process(ctx context.Context, ev *event.Event, emit detect.Emit) error {
	if g := e.s.gen.Load(); g != e.gen {
		e.intel, e.gen = e.s.det.IntelEngineFor(e.iocCfg), g
	}
	var errs []error
	if e.sigma != nil {
		errs = append(errs, e.sigma.Process(ctx, ev, emit))
	}
	if e.intel != nil {
		errs = append(errs, e.intel.Process(ctx, ev, emit))
	}
	return errors.Join(errs...)
}

// follow reads one file like tail -F, committing its checkpoint once the
// alerts of what it read are stored.
func (s *sensor) follow(ctx context.Context, in config.Input, path string, cps *ingest.Checkpoints) error {
	opts := ingest.FollowOptions{Checkpoints: cps}
	if in.Format != "auto" && in.Format != "evtx" {
		opts.Format = in.Format
	}
	fl, err := ingest.Follow(path, opts)
	if err != nil {
		return fmt.Errorf("input %s: %w", in.Name, err)
	}
	defer fl.Close()
	eng := s.newEngines(in)
	pending := 0
	commit := func() error {
		if pending == 0 {
			return nil
		}
		if err := s.sink.flush(ctx); err != nil {
			return err
		}
		pending = 0
		return fl.Commit()
	}
	for {
		wait, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		ev, err := fl.Next(wait)
		cancel()
		switch {
		case err == nil:
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			if err := commit(); err != nil {
				return err
			}
			continue
		case ctx.Err() != nil:
			return nil // stopping: what was not committed is read again next time
		default:
			var re *ingest.RecordError
			if errors.As(err, &re) {
				s.n.log.Warn("unreadable record", "input", in.Name, "err", err)
				continue
			}
			return fmt.Errorf("input %s: %w", in.Name, err)
		}
		if err := eng.Process(ctx, ev, s.sink.emit); err != nil {
			s.n.log.Debug("engine error", "input", in.Name, "err", err)
		}
		if pending++; pending >= 2000 {
			if err := commit(); err != nil {
				return err
			}
		}
	}
}

func (s *sensor) stdin(ctx context.Context, in config.Input) error {
	opts := ingest.Options{}
	if in.Format != "auto" {
		opts.Format = in.Format
	}
	src, err := ingest.Stdin(s.o.Stdin, opts)
	if err != nil {
		return fmt.Errorf("input %s: %w", in.Name, err)
	}
	defer src.Close()
	eng := s.newEngines(in)
	for {
		ev, err := src.Next(ctx)
		if err == io.EOF || ctx.Err() != nil {
			return s.sink.flush(ctx)
		}
		if err != nil {
			var re *ingest.RecordError
			if errors.As(err, &re) {
				continue
			}
			return fmt.Errorf("input %s: %w", in.Name, err)
		}
		_ = eng.Process(ctx, ev, s.sink.emit)
	}
}

// nats reads a JetStream stream through a durable consumer that other
// nodes may share. An event is acknowledged only once its alerts are
// stored (and published, when alerts go to NATS); a redelivered event makes
// the same alert ids, which the store and the alert stream keep once.
func (s *sensor) nats(ctx context.Context, in config.Input) error {
	nc, err := nats.Connect(in.NATS.URL, nats.Name("shieldwall-"+in.Name), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("input %s: %w", in.Name, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("input %s: %w", in.Name, err)
	}
	format := ""
	if in.Format != "auto" {
		format = in.Format
	}
	src, err := natsin.New(ctx, js, natsin.Config{Stream: in.NATS.Stream, Subject: in.NATS.Subject, Durable: in.NATS.Durable,
		Format: format, Logger: s.n.log}, jsonlines.Decoder{})
	if err != nil {
		return fmt.Errorf("input %s: %w", in.Name, err)
	}
	eng := s.newEngines(in)
	var alerts []*detect.Alert
	collect := func(a *detect.Alert) { alerts = append(alerts, a) }
	err = src.Run(ctx, func(ctx context.Context, ev *event.Event) error {
		alerts = alerts[:0]
		perr := eng.Process(ctx, ev, collect)
		for _, a := range alerts {
			s.sink.emit(a)
		}
		if len(alerts) > 0 {
			if err := s.sink.flush(ctx); err != nil {
				return err
			}
		}
		if perr != nil {
			s.n.log.Debug("engine error", "input", in.Name, "err", perr)
		}
		return nil
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// syslog listens on UDP or TCP; messages go through one engine set.
func (s *sensor) syslog(ctx context.Context, in config.Input, ready func(addr string)) error {
	u, _ := url.Parse(in.Listen)
	eng := s.newEngines(in)
	var mu sync.Mutex // TCP calls the handler from one goroutine per connection
	h := func(ev *event.Event, err error) {
		if err != nil {
			s.n.log.Debug("unreadable syslog message", "input", in.Name, "err", err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		_ = eng.Process(ctx, ev, s.sink.emit)
	}
	p := syslog.Parser{Now: s.n.now}
	var run func(context.Context) error
	switch u.Scheme {
	case "udp":
		l, err := syslog.ListenUDP(u.Host, p, h)
		if err != nil {
			return err
		}
		ready(l.Addr().String())
		run = l.Run
	default:
		l, err := syslog.ListenTCP(u.Host, p, h)
		if err != nil {
			return err
		}
		ready(l.Addr().String())
		run = l.Run
	}
	return run(ctx)
}

// reload watches the intelligence collections and rebuilds the IOC index
// and STIX patterns when something was added.
func (s *sensor) reload(ctx context.Context, last time.Time) error {
	t := time.NewTicker(s.o.Detection.Reload.Duration)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		changed, err := s.n.intelChangedSince(ctx, s.o.Detection.Intel, last)
		if err != nil {
			s.n.log.Warn("intel reload check failed", "err", err)
			continue
		}
		if !changed {
			continue
		}
		objs, l, err := s.n.loadIntel(ctx, s.o.Detection.Intel)
		if err != nil {
			s.n.log.Warn("intel reload failed", "err", err)
			continue
		}
		if err := s.det.SetIntel(objs); err != nil {
			s.n.log.Warn("intel reload failed", "err", err)
			continue
		}
		last = l
		s.gen.Add(1)
		s.n.log.Info("intelligence reloaded", "objects", len(objs), "ioc_keys", s.det.IOCIndex.Len(), "stix_patterns", s.det.STIXReport.Loaded)
	}
}

// loadIntel reads the latest version of every object of the collections
// and returns the newest date_added seen.
func (n *Node) loadIntel(ctx context.Context, colls []string) ([]stix.Object, time.Time, error) {
	var objs []stix.Object
	var last time.Time
	for _, name := range colls {
		c, err := n.Store.Collection(ctx, name)
		if err != nil {
			return nil, last, fmt.Errorf("intel collection %q: %w", name, err)
		}
		f := store.Filter{Limit: 1000}
		for {
			p, err := n.Store.Query(ctx, c.ID, f)
			if err != nil {
				return nil, last, fmt.Errorf("read intel %q: %w", name, err)
			}
			for _, r := range p.Records {
				objs = append(objs, r.Object)
				if r.DateAdded.After(last) {
					last = r.DateAdded
				}
			}
			if !p.More {
				break
			}
			f.Next = p.Next
		}
	}
	return objs, last, nil
}

func (n *Node) intelChangedSince(ctx context.Context, colls []string, t time.Time) (bool, error) {
	for _, name := range colls {
		c, err := n.Store.Collection(ctx, name)
		if err != nil {
			return false, err
		}
		p, err := n.Store.Query(ctx, c.ID, store.Filter{AddedAfter: t, Limit: 1, Versions: store.VersionMatch{All: true}})
		if err != nil {
			return false, err
		}
		if len(p.Records) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// alertSink deduplicates alerts, writes them as JSON lines, stores them
// and turns IOC hits into sightings. emit may be called from any goroutine.
type alertSink struct {
	n           *Node
	w           io.Writer
	sightings   string
	mu          sync.Mutex
	flushMu     sync.Mutex // one flush at a time, so a requeue keeps order
	dedup       *detect.Dedup
	batch       []store.AlertRecord
	agg         *ioc.Aggregator
	alertsStore store.Alerts
	werr        error
	pub         *alertout.Publisher // alerts to NATS, when configured
	toPublish   []*detect.Alert
}

func newAlertSink(n *Node, w io.Writer, sightingsColl string) *alertSink {
	s := &alertSink{n: n, w: w, sightings: sightingsColl, agg: ioc.NewAggregator(n.Identity.ID())}
	s.alertsStore, _ = n.Store.(store.Alerts)
	s.dedup, _ = detect.NewDedup(1<<16, s.keep)
	return s
}

func (s *alertSink) emit(a *detect.Alert) {
	s.mu.Lock()
	s.dedup.Emit(a)
	s.mu.Unlock()
}

// AlertRecord is a as the store keeps it: its JSON (without an event that
// is not valid JSON) beside the columns consoles filter on. a.ID must be set.
func AlertRecord(a *detect.Alert) (store.AlertRecord, error) {
	if len(a.Event) > 0 && !json.Valid(a.Event) {
		a.Event = nil
	}
	b, err := json.Marshal(a)
	if err != nil {
		return store.AlertRecord{}, fmt.Errorf("alert %s: %w", a.ID, err)
	}
	return store.AlertRecord{ID: a.ID, Time: a.Time, Engine: a.Engine, RuleID: a.RuleID, Level: a.Level, Source: a.Source, JSON: b}, nil
}

// keep runs under s.mu for each new alert.
func (s *alertSink) keep(a *detect.Alert) {
	rec, err := AlertRecord(a)
	if err != nil {
		return
	}
	b := rec.JSON
	if s.w != nil && s.werr == nil {
		if _, s.werr = s.w.Write(append(b, '\n')); s.werr != nil {
			// Alerts are still stored; the file stops receiving them.
			s.n.log.Error("alerts file: write failed; no more alerts are written to it", "err", s.werr)
		}
	}
	s.toPublish = append(s.toPublish, a)
	s.batch = append(s.batch, rec)
	s.agg.Add(a)
}

// flush makes what was emitted so far durable: stored, and published to
// NATS when configured. On failure the alerts are kept for the next flush.
func (s *alertSink) flush(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	batch, pub := s.batch, s.toPublish
	s.batch, s.toPublish = nil, nil
	s.mu.Unlock()
	requeue := func() {
		s.mu.Lock()
		s.batch, s.toPublish = append(batch, s.batch...), append(pub, s.toPublish...)
		s.mu.Unlock()
	}
	if len(batch) > 0 && s.alertsStore != nil {
		if _, err := s.alertsStore.PutAlerts(ctx, batch); err != nil {
			requeue()
			return fmt.Errorf("store alerts: %w", err)
		}
	}
	if len(pub) > 0 && s.pub != nil {
		// Stored alerts are skipped on a retry (same id), so requeueing
		// both on a publish failure is harmless.
		if _, err := s.pub.PublishAll(ctx, pub); err != nil {
			requeue()
			return fmt.Errorf("publish alerts: %w", err)
		}
	}
	return nil
}

// run flushes alerts every second and sightings every minute (and at the end).
func (s *alertSink) run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lastSight := time.Now()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := s.flush(fctx)
			return errors.Join(err, s.flushSightings(fctx))
		case <-t.C:
		}
		if err := s.flush(ctx); err != nil {
			s.n.log.Warn("alerts not stored", "err", err)
		}
		if time.Since(lastSight) >= time.Minute {
			lastSight = time.Now()
			if err := s.flushSightings(ctx); err != nil {
				s.n.log.Warn("sightings not stored", "err", err)
			}
		}
	}
}

func (s *alertSink) flushSightings(ctx context.Context) error {
	objs, err := s.agg.Flush(s.n.now())
	if err != nil || len(objs) == 0 {
		return err
	}
	if _, err := s.n.Store.Put(ctx, s.sightings, objs); err != nil {
		return fmt.Errorf("store %d sightings: %w", len(objs), err)
	}
	return nil
}
