package storetime

import (
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 27, 4, 5, 6, 789123456, time.UTC)
	n, ok := Nanos(at)
	if !ok || !FromNanos(n).Equal(at) {
		t.Errorf("Nanos/FromNanos(%v) = %d, %v", at, n, ok)
	}
	if got := FromMicros(at.UnixMicro()); !got.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("FromMicros = %v", got)
	}
	if _, ok := Nanos(time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)); ok {
		t.Error("Nanos accepted 1600")
	}
	if _, ok := Nanos(time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)); ok {
		t.Error("Nanos accepted 2300")
	}
	if NullNanos(time.Time{}) != nil || Nanos64(time.Time{}) != 0 {
		t.Error("the zero time is not NULL / 0")
	}
	if NullNanos(at) != at.UnixNano() || Nanos64(at) != at.UnixNano() {
		t.Error("NullNanos/Nanos64 of a time")
	}
}

func TestOrZero(t *testing.T) {
	at := time.Date(2026, 11, 27, 4, 5, 6, 789123456, time.UTC)
	for _, tt := range []struct {
		in   time.Time
		want int64
	}{{time.Time{}, 0}, {time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), 0}, {at, at.UnixNano()}} {
		if got := NanosOrZero(tt.in); got != tt.want {
			t.Errorf("NanosOrZero(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
	if !FromNanosOrZero(0).IsZero() || !FromNanosOrZero(at.UnixNano()).Equal(at) {
		t.Error("FromNanosOrZero does not invert NanosOrZero")
	}
}
