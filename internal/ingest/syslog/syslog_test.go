package syslog

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shieldwall/shieldwall/internal/event"
)

type F = event.Field

var testNow = func() time.Time { return time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC) }

func pri(fac, sev int, fn, sn string) []F {
	return []F{
		{Name: "facility", Value: fmt.Sprint(fac), Kind: event.Number},
		{Name: "severity", Value: fmt.Sprint(sev), Kind: event.Number},
		{Name: "facility_name", Value: fn}, {Name: "severity_name", Value: sn}}
}

func cat(parts ...[]F) []F {
	var out []F
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		in     string
		time   time.Time
		fields []F
	}{
		// RFC 5424 section 6.5 examples.
		{`<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ` + "\uFEFF'su root' failed for lonvick on /dev/pts/8",
			time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC),
			cat(pri(4, 2, "auth", "crit"), []F{{Name: "version", Value: "1", Kind: event.Number}, {Name: "timestamp", Value: "2003-10-11T22:14:15.003Z"},
				{Name: "hostname", Value: "mymachine.example.com"}, {Name: "appname", Value: "su"}, {Name: "msgid", Value: "ID47"},
				{Name: "message", Value: "'su root' failed for lonvick on /dev/pts/8"}})},
		{`<165>1 2003-10-11T22:14:15.003000-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.`,
			time.Date(2003, 10, 12, 5, 14, 15, 3e6, time.UTC),
			cat(pri(20, 5, "local4", "notice"), []F{{Name: "version", Value: "1", Kind: event.Number}, {Name: "timestamp", Value: "2003-10-11T22:14:15.003000-07:00"},
				{Name: "hostname", Value: "192.0.2.1"}, {Name: "appname", Value: "myproc"}, {Name: "procid", Value: "8710"},
				{Name: "message", Value: "%% It's time to make the do-nuts."}})},
		{`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high" q="a\"b\]c\\"] An application event`,
			time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC),
			cat(pri(20, 5, "local4", "notice"), []F{{Name: "version", Value: "1", Kind: event.Number}, {Name: "timestamp", Value: "2003-10-11T22:14:15.003Z"},
				{Name: "hostname", Value: "mymachine.example.com"}, {Name: "appname", Value: "evntslog"}, {Name: "msgid", Value: "ID47"},
				{Name: "exampleSDID@32473.iut", Value: "3"}, {Name: "exampleSDID@32473.eventSource", Value: "Application"},
				{Name: "exampleSDID@32473.eventID", Value: "1011"}, {Name: "examplePriority@32473.class", Value: "high"},
				{Name: "examplePriority@32473.q", Value: `a"b]c\`}, {Name: "message", Value: "An application event"}})},
		{`<13>1 - - - - - -`, time.Time{}, cat(pri(1, 5, "user", "notice"), []F{{Name: "version", Value: "1", Kind: event.Number}})},
		// RFC 3164.
		{`<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`,
			time.Date(2025, 10, 11, 22, 14, 15, 0, time.UTC),
			cat(pri(4, 2, "auth", "crit"), []F{{Name: "timestamp", Value: "Oct 11 22:14:15"}, {Name: "hostname", Value: "mymachine"},
				{Name: "appname", Value: "su"}, {Name: "message", Value: "'su root' failed for lonvick on /dev/pts/8"}})},
		{`Jan  5 11:59:01 web01 sshd[4242]: Failed password for root from 203.0.113.9 port 52113 ssh2`,
			time.Date(2026, 1, 5, 11, 59, 1, 0, time.UTC),
			[]F{{Name: "timestamp", Value: "Jan  5 11:59:01"}, {Name: "hostname", Value: "web01"}, {Name: "appname", Value: "sshd"},
				{Name: "procid", Value: "4242"}, {Name: "message", Value: "Failed password for root from 203.0.113.9 port 52113 ssh2"}}},
		{`<13>Feb  1 00:00:00 kernel: [ 0.0] Linux`, time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC),
			cat(pri(1, 5, "user", "notice"), []F{{Name: "timestamp", Value: "Feb  1 00:00:00"}, {Name: "appname", Value: "kernel"}, {Name: "message", Value: "[ 0.0] Linux"}})},
		{`2026-01-05T10:00:00.5+01:00 host CRON[7]: (root) CMD (run-parts)`, time.Date(2026, 1, 5, 9, 0, 0, 5e8, time.UTC),
			[]F{{Name: "timestamp", Value: "2026-01-05T10:00:00.5+01:00"}, {Name: "hostname", Value: "host"}, {Name: "appname", Value: "CRON"},
				{Name: "procid", Value: "7"}, {Name: "message", Value: "(root) CMD (run-parts)"}}},
		{"<14>free text \xff here\r\n", time.Time{}, cat(pri(1, 6, "user", "info"), []F{{Name: "message", Value: "free text \uFFFD here"}})},
	}
	p := Parser{Now: testNow}
	for _, tt := range tests {
		ev, err := p.Parse("test", 0, []byte(tt.in))
		if err != nil {
			t.Errorf("Parse(%q) error %v", tt.in, err)
			continue
		}
		if !ev.Time.Equal(tt.time) {
			t.Errorf("Parse(%q) time = %v, want %v", tt.in, ev.Time, tt.time)
		}
		if diff := cmp.Diff(tt.fields, ev.Fields()); diff != "" {
			t.Errorf("Parse(%q) fields (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrEmpty},
		{"\r\n", ErrEmpty},
		{"<>1 - - - - - -", ErrBadPRI},
		{"<192>x", ErrBadPRI},
		{"<012>x", ErrBadPRI},
		{"<1x>y", ErrBadPRI},
		{"just some text", ErrNotSyslog},
		{`<1>1 - - - - - [id a="b`, ErrBadSD},
		{`<1>1 - - - - - [id a=b]`, ErrBadSD},
		{`<1>1 - - - - - x`, ErrBadSD},
	}
	for _, tt := range tests {
		_, err := Parser{Now: testNow}.Parse("t", 0, []byte(tt.in))
		if !errors.Is(err, tt.want) {
			t.Errorf("Parse(%q) = %v, want %v", tt.in, err, tt.want)
		}
	}
}

type collector struct {
	mu   sync.Mutex
	msgs []string
	errs []error
	got  chan struct{}
}

func newCollector() *collector { return &collector{got: make(chan struct{}, 100)} }

func (c *collector) handle(ev *event.Event, err error) {
	c.mu.Lock()
	if err != nil {
		c.errs = append(c.errs, err)
	} else {
		m, _ := ev.Value("message")
		c.msgs = append(c.msgs, m)
	}
	c.mu.Unlock()
	c.got <- struct{}{}
}

func (c *collector) wait(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-c.got:
		case <-time.After(5 * time.Second):
			t.Fatalf("got %d messages, want %d", i, n)
		}
	}
}

func TestUDP(t *testing.T) {
	c := newCollector()
	l, err := ListenUDP("127.0.0.1:0", Parser{}, c.handle)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	conn, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, m := range []string{"<13>1 - h a - - - one", "garbage", "<13>Jan  1 00:00:00 h a: two"} {
		if _, err := conn.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.wait(t, 3)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if diff := cmp.Diff([]string{"one", "two"}, c.msgs); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if len(c.errs) != 1 || !errors.Is(c.errs[0], ErrNotSyslog) {
		t.Errorf("errors = %v, want one ErrNotSyslog", c.errs)
	}
}

func TestTCP(t *testing.T) {
	c := newCollector()
	l, err := ListenTCP("127.0.0.1:0", Parser{}, c.handle)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	m1 := "<13>1 - h a - - - octet\ncounted"
	big := "<13>1 - h a - - - " + strings.Repeat("x", MaxMessage)
	stream := fmt.Sprintf("%d %s", len(m1), m1) +
		"<13>1 - h a - - - newline\n" +
		"2026-01-05T10:00:00Z host app: iso\n" +
		fmt.Sprintf("%d %s", len(big), big) +
		big + "\n" +
		"<13>Jan  1 00:00:00 h a: last\n"
	if _, err := conn.Write([]byte(stream)); err != nil {
		t.Fatal(err)
	}
	c.wait(t, 6)
	// A second connection still open at cancel must not block Run.
	conn2, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	conn2.Write([]byte("<13>1 - h a - - - partial"))
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	conn.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if diff := cmp.Diff([]string{"octet\ncounted", "newline", "iso", "last"}, c.msgs); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if len(c.errs) < 2 || !errors.Is(c.errs[0], ErrTooLong) || !errors.Is(c.errs[1], ErrTooLong) {
		t.Errorf("errors = %v, want two ErrTooLong", c.errs)
	}
}

func BenchmarkParse(b *testing.B) {
	lines := [][]byte{
		[]byte(`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry`),
		[]byte(`<34>Oct 11 22:14:15 mymachine sshd[4242]: Failed password for root from 203.0.113.9 port 52113 ssh2`),
	}
	for i, l := range lines {
		b.Run([]string{"rfc5424", "rfc3164"}[i], func(b *testing.B) {
			b.SetBytes(int64(len(l)))
			b.ReportAllocs()
			p := Parser{Now: testNow}
			for b.Loop() {
				if _, err := p.Parse("b", 0, l); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

func FuzzSyslog(f *testing.F) {
	if data, err := os.ReadFile("testdata/messages.txt"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			f.Add([]byte(l))
		}
	}
	for _, s := range []string{
		`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event`,
		`<34>Oct 11 22:14:15 mymachine su: 'su root' failed`, `Jan  5 11:59:01 web01 sshd[4242]: x`, `<13>1 - - - - - -`, `<1>`, "<1>Feb 29 2024 00:00:00 h t[: m",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		ev, err := Parser{Now: testNow}.Parse("fuzz", 0, msg)
		if (ev == nil) == (err == nil) {
			t.Fatalf("Parse(%q) = %v, %v: want exactly one of event and error", msg, ev, err)
		}
		if ev == nil {
			return
		}
		for _, f := range ev.Fields() {
			if f.Name == "" {
				t.Fatalf("Parse(%q): field with no name", msg)
			}
		}
	})
}

// TestTestdata parses every sample message of testdata/messages.txt (the
// fuzz seeds): lines starting with "!" must fail, the others parse.
func TestTestdata(t *testing.T) {
	data, err := os.ReadFile("testdata/messages.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		bad := strings.HasPrefix(l, "!")
		_, err := Parser{Now: testNow}.Parse("t", 0, []byte(strings.TrimPrefix(l, "!")))
		if (err != nil) != bad {
			t.Errorf("Parse(%q) error = %v, want error %v", l, err, bad)
		}
	}
}
