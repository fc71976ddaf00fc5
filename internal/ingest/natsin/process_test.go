package natsin_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shieldwall/shieldwall/internal/detect/alertout"
	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/ingest/natsin"
)

// childEnv carries the child consumer's settings; TestChildConsumer only
// runs when it is set.
const childEnv = "SHIELDWALL_NATSIN_CHILD"

// TestChildConsumer is not a test: TestTwoProcesses runs the test binary
// again with childEnv set, and this is the node process. It consumes until
// SIGTERM, printing "handled N" every 100 events and "total N dups D" at
// the end. The handler publishes the alerts and then sleeps before it
// returns, so a SIGKILL most likely lands between publish and ack.
func TestChildConsumer(t *testing.T) {
	spec := os.Getenv(childEnv)
	if spec == "" {
		t.Skip("child consumer of TestTwoProcesses; runs only when " + childEnv + " is set")
	}
	var n names
	var url, delayText string
	if _, err := fmt.Sscanf(spec, "%s %s %s %s %s %s %s", &url, &n.Events, &n.EventSubj, &n.Durable, &n.AlertPrefix, &n.DeadSubj, &delayText); err != nil {
		t.Fatalf("child spec %q: %v", spec, err)
	}
	delay, err := time.ParseDuration(delayText)
	if err != nil {
		t.Fatalf("child spec %q: %v", spec, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	_, js := connect(t, url)
	in, err := natsin.New(ctx, js, natsin.Config{Stream: n.Events, Subject: n.EventSubj, Durable: n.Durable, Batch: 32,
		AckWait: 2 * time.Second, DeadLetter: n.DeadSubj, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, jsonDecoder{})
	if err != nil {
		t.Fatal(err)
	}
	tl := &tally{done: map[int64]int{}, byNode: map[string]int{}}
	h := pipelineHandler("child", alertout.New(js, alertout.Config{Prefix: n.AlertPrefix}), tl)
	handled := 0
	err = in.Run(ctx, func(ctx context.Context, ev *event.Event) error {
		if err := h(ctx, ev); err != nil {
			return err
		}
		time.Sleep(delay)
		handled++
		if handled%100 == 0 {
			fmt.Printf("handled %d\n", handled)
		}
		return nil
	})
	fmt.Printf("total %d dups %d\n", handled, tl.duplicates)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("child Run = %v, want context.Canceled", err)
	}
}

// child is one node process.
type child struct {
	cmd     *exec.Cmd
	handled atomic.Int64 // last "handled N"
	total   chan string  // the "total" line
}

func startChild(t *testing.T, spec string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildConsumer$")
	cmd.Env = append(os.Environ(), childEnv+"="+spec)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	c := &child{cmd: cmd, total: make(chan string, 1)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "handled "); ok {
				k, _ := strconv.ParseInt(v, 10, 64)
				c.handled.Store(k)
			}
			if strings.HasPrefix(line, "total ") {
				c.total <- line
			}
		}
		close(c.total)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return c
}

// TestTwoProcesses runs two node processes on one durable over 10,000
// events, SIGKILLs one once it has handled 1,000, and checks that the other
// finishes every event and that no alert is stored twice.
func TestTwoProcesses(t *testing.T) {
	url := natsURL(t)
	if os.Getenv(childEnv) != "" {
		t.Skip("inside a child process")
	}
	const events = 10000
	_, js := connect(t, url)
	n := setup(t, js)
	publishEvents(t, js, n.EventSubj, events)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	spec := strings.Join([]string{url, n.Events, n.EventSubj, n.Durable, n.AlertPrefix, n.DeadSubj, "100µs"}, " ")
	a, b := startChild(t, spec), startChild(t, spec)
	for a.handled.Load() < 1000 {
		select {
		case <-ctx.Done():
			t.Fatalf("child A handled only %d events", a.handled.Load())
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatalf("SIGKILL child A: %v", err)
	}
	c, err := js.Consumer(ctx, n.Events, n.Durable)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending == 0 {
		t.Fatalf("child A was killed after the stream was fully delivered; the test proves nothing")
	}
	t.Logf("SIGKILLed child A after ≥ %d events; %d events not yet delivered, %d unacknowledged",
		a.handled.Load(), info.NumPending, info.NumAckPending)
	if err := a.cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("child A exit = %v, want killed", err)
	}
	drained(ctx, t, js, n.Events, n.Durable)
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Wait(); err != nil {
		t.Errorf("child B exit = %v, want success", err)
	}
	var total, dups int
	if line := <-b.total; line == "" {
		t.Errorf("child B printed no total")
	} else if _, err := fmt.Sscanf(line, "total %d dups %d", &total, &dups); err != nil {
		t.Errorf("child B total line %q: %v", line, err)
	}
	t.Logf("child B handled %d events; the alert stream dropped %d republished alerts", total, dups)
	if total == 0 {
		t.Errorf("child B handled no event")
	}
	checkAlerts(t, js, n.Alerts, events)
}
