// Package intel moves intelligence files in and out of a store: it detects
// the format (STIX 2.1 or 2.0 bundles, MISP event JSON, CSV, plain IOC lists),
// streams the objects through validation on every core, stores them in
// batched transactions, and exports collections as STIX 2.1 bundles. A
// rejected object is reported with its reason; the others are stored.
package intel

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

// Format names an input format.
type Format string

const (
	FormatAuto Format = ""
	FormatSTIX Format = "stix" // STIX 2.1 or 2.0 bundle, or a single object
	FormatMISP Format = "misp" // MISP event JSON
	FormatCSV  Format = "csv"  // CSV with a header row
	FormatIOC  Format = "ioc"  // one indicator value per line
)

// ParseFormat accepts the names above ("auto" or "" for detection).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "auto", FormatAuto:
		return FormatAuto, nil
	case FormatSTIX, FormatMISP, FormatCSV, FormatIOC:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want auto, stix, misp, csv or ioc)", s)
}

// Options tune an import.
type Options struct {
	Format Format
	// TLP, when set ("green", "amber+strict"...), marks objects created from
	// MISP, CSV and IOC lists that carry no TLP of their own.
	TLP string
	// Now stamps objects this import creates (CSV and IOC lists). Zero: time.Now.
	Now time.Time
	// ValidFrom, when set, is the valid_from of indicators made from CSV
	// rows and IOC-list lines that name none (instead of Now).
	ValidFrom time.Time
	// BatchSize is the number of objects validated together (default 2,000).
	BatchSize int
	// WriteSize is the number of valid objects stored per transaction
	// (default 50,000). Large transactions matter: objects have random ids,
	// so each one dirties its own page of the id index, and a transaction
	// writes each dirty page once however many objects landed on it.
	WriteSize int
	// Workers validating in parallel (default GOMAXPROCS-1, at least 1).
	Workers int
	// MaxRejections caps the rejections kept in the report (all are counted).
	MaxRejections int
}

// Rejection is one object or line refused, with its reason.
type Rejection struct {
	Index  int    `json:"index"` // position in the input, from 0 (line number for line formats)
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
}

// Report says what an import did.
type Report struct {
	Source     string        `json:"source"`
	Format     Format        `json:"format"`
	Read       int           `json:"read"`
	Stored     int           `json:"stored"`
	Duplicates int           `json:"duplicates"`
	Rejected   int           `json:"rejected"`
	Warnings   int           `json:"warnings"`
	Upgraded   int           `json:"upgraded_from_2_0"`
	Rejections []Rejection   `json:"rejections,omitempty"`
	Elapsed    time.Duration `json:"elapsed_ns"`
}

// Importer stores what it reads into one store.
type Importer struct {
	Store store.Objects
}

// ImportFile imports one file into a collection.
func (im *Importer) ImportFile(ctx context.Context, collectionID, path string, opts Options) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{Source: path}, err
	}
	defer f.Close()
	if opts.Format == FormatAuto && strings.EqualFold(filepath.Ext(path), ".csv") {
		opts.Format = FormatCSV
	}
	rep, err := im.Import(ctx, collectionID, f, opts)
	rep.Source = path
	return rep, err
}

// Import reads r in the given (or detected) format and stores what is valid.
// The error is non-nil only when the import as a whole failed (unreadable
// input, store failure); refused objects are in the report.
func (im *Importer) Import(ctx context.Context, collectionID string, r io.Reader, opts Options) (Report, error) {
	start := time.Now()
	if opts.BatchSize <= 0 {
		opts.BatchSize = 2000
	}
	if opts.WriteSize <= 0 {
		opts.WriteSize = 50000
	}
	if opts.Workers <= 0 {
		// Leave a core to the store's single writer, the slowest stage: on
		// 2 cores one validator beat two by 3-4% at 1M objects.
		opts.Workers = max(1, runtime.GOMAXPROCS(0)-1)
	}
	if opts.MaxRejections <= 0 {
		opts.MaxRejections = 1000
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now().UTC()
	}
	br := bufio.NewReaderSize(r, 1<<20)
	if opts.Format == FormatAuto {
		opts.Format = sniff(br)
	}
	rep := Report{Format: opts.Format}
	var src source
	switch opts.Format {
	case FormatSTIX:
		if typ := topLevelType(br); typ != "" && typ != "bundle" {
			src = &singleSource{r: br}
		} else {
			src = newSTIXSource(br)
		}
	case FormatMISP:
		src = newMISPSource(br, opts)
	case FormatCSV:
		src = newCSVSource(br, opts)
	case FormatIOC:
		src = newIOCSource(br, opts)
	default:
		return rep, fmt.Errorf("unknown format %q", opts.Format)
	}
	if c, ok := src.(closer); ok {
		// A failed or cancelled import stops reading midway; without this
		// the converter's iter.Pull goroutine would stay parked forever.
		defer c.close()
	}
	err := im.run(ctx, collectionID, src, opts, &rep)
	if w, ok := src.(warner); ok {
		rep.Warnings += w.warnings()
	}
	rep.Elapsed = time.Since(start)
	return rep, err
}

// sniff guesses the format from the first bytes.
func sniff(br *bufio.Reader) Format {
	head, _ := br.Peek(64 << 10)
	head = bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(head) == 0 {
		return FormatIOC
	}
	switch head[0] {
	case '{', '[':
		if topLevelType(br) != "" {
			return FormatSTIX // a bundle or object names its type; MISP documents do not
		}
		if bytes.Contains(head, []byte(`"Event"`)) || bytes.Contains(head, []byte(`"Attribute"`)) {
			return FormatMISP
		}
		return FormatSTIX
	}
	line, _, _ := bytes.Cut(head, []byte("\n"))
	if bytes.Count(line, []byte(",")) >= 1 && !bytes.Contains(line, []byte("://")) {
		return FormatCSV
	}
	return FormatIOC
}

// item is one unit from a source: raw STIX JSON to validate (converters
// hand over what they built, which is validated like everything else), or a
// refusal of one object or line with its reason.
type item struct {
	index int
	raw   []byte
	err   error
}

// source yields items until io.EOF. A non-EOF error is terminal.
type source interface {
	next() (item, error)
}

// closer is a source that holds resources until read to the end or closed.
// run has returned (the reader goroutine is done) when close is called.
type closer interface{ close() }

// warner is a source that counts conversion warnings of its own.
type warner interface{ warnings() int }

type batch struct {
	items []item
	objs  []stix.Object
	done  chan struct{}
	// filled by the worker
	rejections []Rejection
	warnings   int
	upgraded   int
}

// run streams the source through parallel validation into ordered,
// batched writes. Memory is bounded by (workers+2) batches.
func (im *Importer) run(ctx context.Context, collectionID string, src source, opts Options, rep *Report) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *batch, opts.Workers)
	ordered := make(chan *batch, opts.Workers+1)
	readErr := make(chan error, 1)

	go func() {
		defer close(work)
		defer close(ordered)
		for {
			b := &batch{done: make(chan struct{})}
			var err error
			for len(b.items) < opts.BatchSize {
				var it item
				it, err = src.next()
				if err != nil {
					break
				}
				b.items = append(b.items, it)
			}
			if len(b.items) > 0 {
				select {
				case work <- b:
				case <-ctx.Done():
					readErr <- ctx.Err()
					return
				}
				select {
				case ordered <- b:
				case <-ctx.Done():
					readErr <- ctx.Err()
					return
				}
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				readErr <- err
				return
			}
		}
	}()
	for range opts.Workers {
		go func() {
			for b := range work {
				validate(b)
				close(b.done)
			}
		}()
	}

	var firstErr error
	pending := make([]stix.Object, 0, opts.WriteSize+opts.BatchSize)
	write := func() {
		if len(pending) == 0 {
			return
		}
		res, err := im.Store.Put(ctx, collectionID, pending)
		pending = pending[:0]
		if err != nil {
			firstErr = fmt.Errorf("store batch: %w", err)
			cancel()
			return
		}
		for _, r := range res {
			if r.Added {
				rep.Stored++
			} else {
				rep.Duplicates++
			}
		}
	}
	for b := range ordered {
		<-b.done
		if firstErr != nil {
			continue // drain
		}
		rep.Read += len(b.items)
		rep.Warnings += b.warnings
		rep.Upgraded += b.upgraded
		rep.Rejected += len(b.rejections)
		for _, rj := range b.rejections {
			if len(rep.Rejections) < opts.MaxRejections {
				rep.Rejections = append(rep.Rejections, rj)
			}
		}
		pending = append(pending, b.objs...)
		if len(pending) >= opts.WriteSize {
			write()
		}
	}
	if firstErr == nil {
		write()
	}
	if err := <-readErr; err != nil && firstErr == nil && !errors.Is(err, context.Canceled) {
		firstErr = fmt.Errorf("read input: %w", err)
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// validate upgrades and decodes the raw items of a batch.
func validate(b *batch) {
	b.objs = make([]stix.Object, 0, len(b.items))
	for _, it := range b.items {
		if it.err != nil {
			b.rejections = append(b.rejections, Rejection{Index: it.index, Reason: it.err.Error()})
			continue
		}
		// Most input is STIX 2.1: validate it as it is, and upgrade only
		// what does not validate and turns out to be STIX 2.0.
		obj, warns, err := stix.Decode(it.raw)
		if err != nil {
			if raw, up, uerr := stix.Upgrade(it.raw); uerr == nil && up {
				b.upgraded++
				obj, warns, err = stix.Decode(raw)
			}
		}
		if err != nil {
			b.rejections = append(b.rejections, Rejection{Index: it.index, ID: peekID(it.raw), Reason: err.Error()})
			continue
		}
		b.warnings += len(warns)
		b.objs = append(b.objs, obj)
	}
}
