// Package storetime converts times to and from the integers the SQL stores
// keep: date_added in Unix microseconds, every other timestamp in Unix
// nanoseconds, which cover the years 1678 to 2262 (Put refuses objects with
// timestamps outside).
package storetime

import (
	"math"
	"time"
)

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// Nanos is t in Unix nanoseconds; false when t is outside 1678–2262.
func Nanos(t time.Time) (int64, bool) {
	if t.Before(minTime) || t.After(maxTime) {
		return 0, false
	}
	return t.UnixNano(), true
}

// NullNanos is nil (SQL NULL) for the zero time, else Unix nanoseconds.
func NullNanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// Nanos64 is 0 for the zero time, else Unix nanoseconds; t must be in range.
func Nanos64(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// NanosOrZero is t in Unix nanoseconds, or 0 for the zero time and for
// times outside 1678–2262: the column value of an optional timestamp.
func NanosOrZero(t time.Time) int64 {
	n, ok := Nanos(t) // the zero time (year 1) is out of range too
	if !ok {
		return 0
	}
	return n
}

// FromNanosOrZero is the inverse of NanosOrZero: the zero time for 0.
func FromNanosOrZero(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return FromNanos(n)
}

// FromNanos is the UTC time of Unix nanoseconds n.
func FromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// FromMicros is the UTC time of Unix microseconds n.
func FromMicros(n int64) time.Time { return time.UnixMicro(n).UTC() }
