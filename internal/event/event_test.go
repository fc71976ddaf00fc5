package event

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type countingDecoder struct {
	calls int
	err   error
}

func (d *countingDecoder) DecodeFields(raw []byte, dst []Field) ([]Field, error) {
	d.calls++
	return append(dst, Field{Name: "raw", Value: string(raw)}, Field{Name: "tag", Value: "a"}, Field{Name: "tag", Value: "b"}), d.err
}

func TestLazyDecodeOnce(t *testing.T) {
	d := &countingDecoder{}
	ev := NewLazy("f", "jsonl", 3, time.Time{}, []byte("x"), d)
	if d.calls != 0 {
		t.Fatalf("decoder ran before any access")
	}
	if v, ok := ev.Value("raw"); !ok || v != "x" {
		t.Errorf(`Value("raw") = %q, %v; want "x", true`, v, ok)
	}
	if got := ev.All("tag"); !cmp.Equal(got, []Field{{Name: "tag", Value: "a"}, {Name: "tag", Value: "b"}}) {
		t.Errorf(`All("tag") = %v`, got)
	}
	if _, ok := ev.Get("nope"); ok {
		t.Error(`Get("nope") found a field`)
	}
	if d.calls != 1 {
		t.Errorf("decoder ran %d times, want 1", d.calls)
	}
}

func TestDecodeErrorKeepsFields(t *testing.T) {
	bad := errors.New("bad utf-8")
	d := &countingDecoder{err: bad}
	ev := NewLazy("f", "jsonl", 0, time.Time{}, []byte("y"), d)
	if !errors.Is(ev.Err(), bad) {
		t.Errorf("Err() = %v, want %v", ev.Err(), bad)
	}
	if len(ev.Fields()) != 3 {
		t.Errorf("fields kept = %d, want 3", len(ev.Fields()))
	}
}

func TestResetReusesStorage(t *testing.T) {
	ev := New("a", "evtx", 1, time.Time{}, nil, make([]Field, 0, 8))
	ev.AppendField("EventID", "1", Number)
	d := &countingDecoder{}
	ev.Reset("b", "jsonl", 2, time.Time{}, []byte("z"), d)
	if ev.Source != "b" || ev.Offset != 2 {
		t.Errorf("Reset kept old location %s:%d", ev.Source, ev.Offset)
	}
	if _, ok := ev.Get("EventID"); ok {
		t.Error("Reset kept an old field")
	}
	if v, _ := ev.Value("raw"); v != "z" {
		t.Errorf(`after Reset Value("raw") = %q, want "z"`, v)
	}
	ev.Reset("c", "evtx", 3, time.Time{}, nil, nil)
	if len(ev.Fields()) != 0 || ev.Err() != nil {
		t.Errorf("Reset without decoder: fields %v err %v", ev.Fields(), ev.Err())
	}
}
