package ingest

import (
	"context"
	"errors"
	"fmt"

	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/ingest/evtx"
)

// openEVTX is the hook through which OpenFile reads Windows .evtx files,
// with internal/ingest/evtx.
func openEVTX(path string) (Source, error) {
	f, err := evtx.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return evtxSource{f: f, path: path}, nil
}

type evtxSource struct {
	f    *evtx.File
	path string
}

func (s evtxSource) Next(ctx context.Context) (*event.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ev, err := s.f.Next()
	var re *evtx.RecordError
	if errors.As(err, &re) {
		return nil, &RecordError{Source: s.path, Offset: re.Offset, Err: err}
	}
	return ev, err
}

func (s evtxSource) Close() error { return s.f.Close() }
