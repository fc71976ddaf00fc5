package detect

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/event"
)

func TestAlertIDStable(t *testing.T) {
	a := &Alert{Engine: "sigma", RuleID: "r1", Source: "f.evtx", Offset: 7}
	b := *a
	b.Matches = []Match{{Field: "Image", Value: "x"}}
	if AlertID(a) != AlertID(&b) {
		t.Errorf("AlertID changed with Matches: %s vs %s", AlertID(a), AlertID(&b))
	}
	for _, c := range []Alert{
		{Engine: "ioc", RuleID: "r1", Source: "f.evtx", Offset: 7},
		{Engine: "sigma", RuleID: "r2", Source: "f.evtx", Offset: 7},
		{Engine: "sigma", RuleID: "r1", Source: "g.evtx", Offset: 7},
		{Engine: "sigma", RuleID: "r1", Source: "f.evtx", Offset: 8},
		{Engine: "sigma", RuleID: "r1", Indicator: "indicator--x", Source: "f.evtx", Offset: 7},
	} {
		if AlertID(&c) == AlertID(a) {
			t.Errorf("AlertID(%+v) equals AlertID(%+v)", c, *a)
		}
	}
	c1 := Alert{Engine: "sigma", RuleID: "corr", Events: 3, Time: time.Unix(10, 0)}
	c2 := c1
	c2.Time = time.Unix(20, 0)
	if AlertID(&c1) == AlertID(&c2) {
		t.Error("correlation alerts of different windows share an id")
	}
}

func TestDedup(t *testing.T) {
	var got []string
	d, err := NewDedup(2, func(a *Alert) { got = append(got, a.RuleID) })
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"a", "a", "b", "a", "c", "a"} {
		d.Emit(&Alert{Engine: "sigma", RuleID: r})
	}
	// window 2: a, (a dup), b, (a dup), c evicts a, a again passes.
	want := []string{"a", "b", "c", "a"}
	if len(got) != len(want) {
		t.Fatalf("passed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("passed %v, want %v", got, want)
		}
	}
	if d.Dropped != 2 {
		t.Errorf("Dropped = %d, want 2", d.Dropped)
	}
	if _, err := NewDedup(0, nil); err == nil {
		t.Error("NewDedup(0) succeeded")
	}
}

type engineFunc func(context.Context, *event.Event, Emit) error

func (f engineFunc) Process(ctx context.Context, ev *event.Event, emit Emit) error {
	return f(ctx, ev, emit)
}

func TestEnginesRunAllAndJoinErrors(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	es := Engines{
		engineFunc(func(context.Context, *event.Event, Emit) error { return boom }),
		engineFunc(func(_ context.Context, _ *event.Event, emit Emit) error {
			emit(&Alert{RuleID: "x"})
			return nil
		}),
	}
	err := es.Process(context.Background(), event.New("s", "jsonl", 0, time.Time{}, nil, nil), func(*Alert) { n++ })
	if !errors.Is(err, boom) {
		t.Errorf("Process error = %v, want boom", err)
	}
	if n != 1 {
		t.Errorf("second engine emitted %d alerts, want 1", n)
	}
}
