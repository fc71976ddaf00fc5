package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/detect/ioc"
	"github.com/shieldwall/shieldwall/internal/detect/sigma"
	"github.com/shieldwall/shieldwall/internal/detect/stixmatch"
	"github.com/shieldwall/shieldwall/internal/intel"
	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/stix/pattern"
	"github.com/shieldwall/shieldwall/internal/store"
)

// DetectionOptions say which rules and intelligence the engines use.
type DetectionOptions struct {
	SigmaDirs    []string
	Placeholders map[string][]string
	// Intel is the STIX intelligence for IOC matching and STIX patterns.
	Intel []stix.Object
	// WarningLists is a folder of MISP warning lists ("" for none).
	WarningLists string
	Now          func() time.Time
}

// Detection is everything the engines were built from, with what failed.
type Detection struct {
	mu            sync.Mutex // guards the intelligence, which SetIntel replaces
	opts          DetectionOptions
	rules         []*sigma.Rule
	sigma         *sigma.Matcher // compiled once; each goroutine gets a Clone
	SigmaRules    int            // rules read: compiled + failed
	sigmaCompiled int
	SigmaFailed   []sigma.LoadError // rules that did not load or compile
	IOCIndex      *ioc.Index
	IOCErrors     []error // intelligence objects that could not be indexed
	STIXReport    stixmatch.Report
	suppressor    *ioc.Suppressor
	stixPatterns  []stix.Object
}

// Lookups adapts the STIX pattern parser to the IOC compiler: a pattern
// made only of plain look-ups is indexed, anything else goes to stixmatch.
func Lookups(s string) ([]ioc.Lookup, bool) {
	p, err := pattern.Parse(s)
	if err != nil {
		return nil, false
	}
	ls, ok := p.Lookups()
	if !ok {
		return nil, false
	}
	out := make([]ioc.Lookup, len(ls))
	for i, l := range ls {
		out[i] = ioc.Lookup{ObjectType: l.ObjectType, Path: l.Path, Op: l.Op, Values: l.Values}
	}
	return out, true
}

// BuildDetection loads the Sigma rules, indexes the intelligence and
// prepares the engines. Rules and objects that fail are reported, not fatal.
func BuildDetection(o DetectionOptions) (*Detection, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	d := &Detection{opts: o}
	if len(o.SigmaDirs) > 0 {
		rs, errs, err := sigma.LoadDirs(o.SigmaDirs, sigma.Options{Placeholders: o.Placeholders})
		if err != nil {
			return nil, err
		}
		d.rules = rs.Rules
		d.sigma = rs.Matcher
		_, d.sigmaCompiled = rs.Matcher.Stats()
		d.SigmaFailed = errs
		// A rule is either compiled or failed (a file that does not parse
		// counts as one failed rule).
		d.SigmaRules = d.sigmaCompiled + len(errs)
	}
	if o.WarningLists != "" {
		s, err := ioc.LoadWarningLists(o.WarningLists)
		if err != nil {
			return nil, fmt.Errorf("warning lists: %w", err)
		}
		d.suppressor = s
	}
	if err := d.SetIntel(o.Intel); err != nil {
		return nil, err
	}
	return d, nil
}

// SetIntel rebuilds the IOC index and the STIX-pattern set from objs.
func (d *Detection) SetIntel(objs []stix.Object) error {
	b := ioc.NewBuilder(len(objs))
	c := &ioc.Compiler{Lookups: Lookups}
	var errs []error
	for _, o := range objs {
		if err := c.AddObject(b, o); err != nil && !errors.Is(err, ioc.ErrNotLookup) {
			errs = append(errs, fmt.Errorf("%s: %w", o.ID, err))
		}
	}
	ix, err := b.Build()
	if err != nil {
		return fmt.Errorf("build IOC index: %w", err)
	}
	_, rep := stixmatch.New(objs, stixmatch.Options{Now: d.opts.Now})
	d.mu.Lock()
	d.IOCIndex, d.IOCErrors = ix, errs
	d.stixPatterns = objs
	d.STIXReport = rep
	d.mu.Unlock()
	return nil
}

// Rules returns the Sigma rules that loaded (compiled or not); callers must
// not change them.
func (d *Detection) Rules() []*sigma.Rule { return d.rules }

// SigmaCompiled is how many Sigma rules compiled.
func (d *Detection) SigmaCompiled() int { return d.sigmaCompiled }

// NewEngine returns a fresh engine set (Sigma, IOC, STIX patterns) for one
// goroutine: each engine keeps per-goroutine scratch and windows.
func (d *Detection) NewEngine() (detect.Engine, error) {
	var es detect.Engines
	if sig := d.SigmaEngine(); sig != nil {
		es = append(es, sig)
	}
	if in := d.IntelEngine(); in != nil {
		es = append(es, in)
	}
	return es, nil
}

// SigmaEngine compiles the Sigma rules into a matcher for one goroutine
// (nil when there are no rules).
func (d *Detection) SigmaEngine() detect.Engine {
	if d.sigma == nil || d.sigmaCompiled == 0 {
		return nil
	}
	return d.sigma.Clone()
}

// IOCConfig is the default IOC field configuration plus extra fields
// (field name → kind name, as config.Input.IOCFields) checked in every format.
func IOCConfig(extra map[string]string) ioc.Config {
	cfg := ioc.DefaultConfig()
	if len(extra) == 0 {
		return cfg
	}
	var specs []ioc.FieldSpec
	for f, k := range extra {
		var kind ioc.Kind
		switch k {
		case "ip":
			kind = ioc.IP
		case "host":
			kind = ioc.Host
		case "hashes":
			kind = ioc.Hashes
		default:
			var err error
			if kind, err = ioc.ParseKind(k); err != nil {
				continue // config.Validate refuses unknown kinds
			}
		}
		specs = append(specs, ioc.FieldSpec{Field: f, Kind: kind})
	}
	for format := range cfg {
		cfg[format] = append(cfg[format], specs...)
	}
	return cfg
}

// IntelEngine returns the IOC and STIX-pattern engines over the current
// intelligence for one goroutine (nil when there is none), checking the
// default IOC fields.
func (d *Detection) IntelEngine() detect.Engine { return d.IntelEngineFor(nil) }

// IntelEngineFor is IntelEngine with an input's IOC field configuration.
func (d *Detection) IntelEngineFor(cfg ioc.Config) detect.Engine {
	d.mu.Lock()
	ix, objs, loaded := d.IOCIndex, d.stixPatterns, d.STIXReport.Loaded
	d.mu.Unlock()
	var es detect.Engines
	if ix != nil && ix.Len() > 0 {
		es = append(es, ioc.NewMatcher(ix, cfg, d.suppressor))
	}
	if loaded > 0 {
		e, _ := stixmatch.New(objs, stixmatch.Options{Now: d.opts.Now})
		es = append(es, e)
	}
	if len(es) == 0 {
		return nil
	}
	return es
}

// ReadIntelFiles reads STIX, MISP, CSV or IOC-list files (as intel import
// does) into memory, without a store: for hunting with --intel. Indicators
// made from list lines and CSV rows without dates are valid from the
// Unix epoch: a hunt looks back over old logs, and a list made today
// says nothing about when its values turned bad.
func ReadIntelFiles(ctx context.Context, paths []string) ([]stix.Object, []intel.Report, error) {
	var c collector
	var reps []intel.Report
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return nil, reps, fmt.Errorf("intel: %w", err)
		}
		rep, err := (&intel.Importer{Store: &c}).ImportFile(ctx, "memory", p, intel.Options{ValidFrom: time.Unix(0, 0).UTC()})
		reps = append(reps, rep)
		if err != nil {
			return nil, reps, fmt.Errorf("intel %s: %w", p, err)
		}
	}
	return c.objs, reps, nil
}

// collector is a store.Objects that only keeps what is Put, in order.
type collector struct{ objs []stix.Object }

func (c *collector) Put(_ context.Context, _ string, objs []stix.Object) ([]store.PutResult, error) {
	res := make([]store.PutResult, len(objs))
	for i := range objs {
		c.objs = append(c.objs, objs[i])
		res[i] = store.PutResult{Added: true}
	}
	return res, nil
}

func (c *collector) Query(context.Context, string, store.Filter) (store.Page, error) {
	return store.Page{}, errors.New("collector: write only")
}

func (c *collector) Delete(context.Context, string, string, store.VersionMatch) (int, error) {
	return 0, errors.New("collector: write only")
}
