package detect

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/event"
)

func TestAlertID(t *testing.T) {
	base := Alert{Engine: "sigma", RuleID: "r1", Source: "nats://S/x", Offset: 42, Level: "high"}
	id := AlertID(&base)
	if len(id) != 32 {
		t.Fatalf("AlertID(%+v) = %q, want 32 hex digits", base, id)
	}
	same := base
	same.Level, same.RuleTitle, same.Time = "low", "other title", time.Unix(5, 0)
	same.Matches = []Match{{Field: "a", Value: "b"}}
	if got := AlertID(&same); got != id {
		t.Errorf("AlertID with other level/title/time/matches = %q, want %q (same event, same rule)", got, id)
	}
	for name, mod := range map[string]func(a *Alert){
		"engine":    func(a *Alert) { a.Engine = "ioc" },
		"rule":      func(a *Alert) { a.RuleID = "r2" },
		"source":    func(a *Alert) { a.Source = "nats://S/y" },
		"offset":    func(a *Alert) { a.Offset = 43 },
		"indicator": func(a *Alert) { a.Indicator = "indicator--1" },
		"shifted":   func(a *Alert) { a.Engine, a.RuleID = "sigmar", "1" },
	} {
		a := base
		mod(&a)
		if got := AlertID(&a); got == id {
			t.Errorf("AlertID with other %s = %q, same as the original", name, got)
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
