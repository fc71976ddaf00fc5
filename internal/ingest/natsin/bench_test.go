package natsin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/detect/alertout"
	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/ingest/natsin"
)

// BenchmarkPipeline measures events/s from a JetStream stream through
// natsin, the trivial engine and alertout, with the ack after the alerts are
// stored: b.N events are published first (not timed), then one or two
// consumers on one durable drain them. "alerts=1in7" makes one alert per
// seven events; "alerts=none" measures the input alone.
func BenchmarkPipeline(b *testing.B) {
	url := natsURL(b)
	for _, bc := range []struct {
		consumers int
		badEvery  int
		async     bool
	}{{1, 0, false}, {2, 0, false}, {1, 7, false}, {2, 7, false}, {1, 7, true}, {2, 7, true}} {
		alerts := "none"
		if bc.badEvery > 0 {
			alerts = fmt.Sprintf("1in%d", bc.badEvery)
		}
		run := "Run"
		if bc.async {
			run = "RunAsync"
		}
		b.Run(fmt.Sprintf("%s/consumers=%d/alerts=%s", run, bc.consumers, alerts), func(b *testing.B) {
			benchPipeline(b, url, bc.consumers, bc.badEvery, bc.async)
		})
	}
}

func benchPipeline(b *testing.B, url string, consumers, badEvery int, async bool) {
	b.ReportAllocs()
	_, js := connect(b, url)
	n := setup(b, js)
	publishRecords(b, js, n.EventSubj, b.N, func(i int) []byte {
		bad := "0"
		if badEvery > 0 && i%badEvery == 0 {
			bad = "1"
		}
		return fmt.Appendf(nil, `{"n":%d,"bad":"%s","host":"ws-%d","user":"alice"}`, i, bad, i%50)
	})
	cfg := natsin.Config{Stream: n.Events, Subject: n.EventSubj, Durable: n.Durable, DeadLetter: n.DeadSubj,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, consumers)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	inputs := make([]*natsin.Input, consumers)
	handlers := make([]natsin.Handler, consumers)
	asyncHandlers := make([]natsin.AsyncHandler, consumers)
	for i := range consumers {
		_, jsi := connect(b, url)
		in, err := natsin.New(ctx, jsi, cfg, jsonDecoder{})
		if err != nil {
			b.Fatal(err)
		}
		inputs[i] = in
		pub := alertout.New(jsi, alertout.Config{Prefix: n.AlertPrefix})
		handlers[i], asyncHandlers[i] = pub.Handler(badEngine{}), pub.AsyncHandler(badEngine{})
	}
	b.ResetTimer()
	start := time.Now()
	count := func() {
		if done.Add(1) == int64(b.N) {
			stop()
		}
	}
	for i, in := range inputs {
		h, ah := handlers[i], asyncHandlers[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if async {
				errs <- in.RunAsync(runCtx, func(ctx context.Context, ev *event.Event, done func(error)) {
					ah(ctx, ev, func(err error) {
						if err == nil {
							count()
						}
						done(err)
					})
				})
				return
			}
			errs <- in.Run(runCtx, func(ctx context.Context, ev *event.Event) error {
				if err := h(ctx, ev); err != nil {
					return err
				}
				count()
				return nil
			})
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		if err != context.Canceled {
			b.Errorf("Run = %v, want context.Canceled", err)
		}
	}
	if got := done.Load(); got != int64(b.N) {
		b.Fatalf("handled %d events, want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}
