package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

const testPoll = 5 * time.Millisecond

func appendLines(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := from; i < to; i++ {
		fmt.Fprintf(f, "{\"n\":%d,\"pad\":\"%020d\"}\n", i, i)
	}
}

// take reads n events from fl (failing after a timeout) and returns their n.
func take(t *testing.T, fl *Follower, n int) []int {
	t.Helper()
	var out []int
	for len(out) < n {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ev, err := fl.Next(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Next after %v: %v", out, err)
		}
		v, _ := ev.Value("n")
		i, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("event %q: n = %q", ev.Raw, v)
		}
		out = append(out, i)
	}
	return out
}

// idle checks nothing more arrives for a little while.
func idle(t *testing.T, fl *Follower) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if ev, err := fl.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next = %v, %v; want nothing (deadline)", ev, err)
	}
}

// seen records deliveries and checks each n comes exactly once, in order.
type seen struct {
	t    *testing.T
	next int
}

func (s *seen) add(ns []int) {
	s.t.Helper()
	for _, n := range ns {
		if n != s.next {
			s.t.Fatalf("got n=%d, want %d (every line exactly once, in order)", n, s.next)
		}
		s.next++
	}
}

func newFollower(t *testing.T, path string, cp *Checkpoints) *Follower {
	t.Helper()
	fl, err := Follow(path, FollowOptions{Poll: testPoll, Checkpoints: cp})
	if err != nil {
		t.Fatalf("Follow: %v", err)
	}
	return fl
}

func TestFollowCheckpointRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.jsonl")
	cp, err := OpenCheckpoints(filepath.Join(dir, "ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	appendLines(t, path, 0, 10)
	s := &seen{t: t}
	fl := newFollower(t, path, cp)
	s.add(take(t, fl, 6))
	if err := fl.Commit(); err != nil {
		t.Fatal(err)
	}
	// Read two more without committing, then "crash": they come again.
	if got := take(t, fl, 2); got[0] != 6 {
		t.Fatalf("got %v, want 6, 7", got)
	}
	fl.Close()

	appendLines(t, path, 10, 15)
	fl = newFollower(t, path, cp)
	s.add(take(t, fl, 9)) // 6..14
	idle(t, fl)
	if err := fl.Commit(); err != nil {
		t.Fatal(err)
	}
	fl.Close()

	fl = newFollower(t, path, cp)
	idle(t, fl)
	appendLines(t, path, 15, 17)
	s.add(take(t, fl, 2))
	fl.Close()
	if pos, ok, err := cp.Load(path); err != nil || !ok || pos.Offset == 0 {
		t.Errorf("Load = %+v, %v, %v", pos, ok, err)
	}
}

func TestFollowPartialLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.jsonl")
	if err := os.WriteFile(path, []byte(`{"n":0}`+"\n"+`{"n":`), 0o644); err != nil {
		t.Fatal(err)
	}
	fl := newFollower(t, path, nil)
	defer fl.Close()
	s := &seen{t: t}
	s.add(take(t, fl, 1))
	idle(t, fl) // the partial line waits
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("1}\n")
	f.Close()
	s.add(take(t, fl, 1))
}

func TestFollowRenameRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.jsonl")
	cp, _ := OpenCheckpoints(filepath.Join(dir, "ckpt"))
	appendLines(t, path, 0, 5)
	fl := newFollower(t, path, cp)
	s := &seen{t: t}
	s.add(take(t, fl, 5))
	// The writer adds to the file, which is then renamed and replaced
	// before the follower looks again; the old file ends in a partial line.
	appendLines(t, path, 5, 8)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"n":8}`)
	f.Close()
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendLines(t, path, 9, 12)
	s.add(take(t, fl, 7)) // 5..11
	idle(t, fl)
	fl.Commit()
	fl.Close()
	appendLines(t, path, 12, 13)
	fl = newFollower(t, path, cp)
	defer fl.Close()
	s.add(take(t, fl, 1))
}

// TestFollowRotatedWhileDown: the file rotates while the follower is not
// running; on restart the rest of the rotated file comes first.
func TestFollowRotatedWhileDown(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.jsonl")
	cp, _ := OpenCheckpoints(filepath.Join(dir, "ckpt"))
	appendLines(t, path, 0, 4)
	fl := newFollower(t, path, cp)
	s := &seen{t: t}
	s.add(take(t, fl, 3))
	fl.Commit()
	fl.Close()
	appendLines(t, path, 4, 6)
	os.Rename(path, path+".1")
	appendLines(t, path, 6, 9)
	fl = newFollower(t, path, cp)
	defer fl.Close()
	s.add(take(t, fl, 6)) // 3..8
	idle(t, fl)
}

func TestFollowCopyTruncate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.jsonl")
	cp, _ := OpenCheckpoints(filepath.Join(dir, "ckpt"))
	appendLines(t, path, 0, 5)
	fl := newFollower(t, path, cp)
	s := &seen{t: t}
	s.add(take(t, fl, 5))
	idle(t, fl)
	fl.Commit()
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	idle(t, fl) // let it see the truncation
	appendLines(t, path, 5, 7)
	s.add(take(t, fl, 2))
	// Truncated and refilled past the old offset before a poll.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendLines(t, path, 7, 12)
	s.add(take(t, fl, 5))
	fl.Commit()
	fl.Close()
	fl = newFollower(t, path, cp)
	defer fl.Close()
	idle(t, fl)
}

func TestFollowWaitsForFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "later.jsonl")
	fl := newFollower(t, path, nil)
	defer fl.Close()
	idle(t, fl)
	appendLines(t, path, 0, 2)
	s := &seen{t: t}
	s.add(take(t, fl, 2))
}

func TestFollowZeekResumesWithHeaders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dns.log")
	cp, _ := OpenCheckpoints(filepath.Join(dir, "ckpt"))
	head := "#separator \\x09\n#path\tdns\n#fields\tts\tn\n#types\ttime\tcount\n"
	os.WriteFile(path, []byte(head+"1692161622.1\t0\n1692161622.2\t1\n"), 0o644)
	fl := newFollower(t, path, cp)
	s := &seen{t: t}
	s.add(take(t, fl, 1))
	fl.Commit()
	fl.Close()
	fl = newFollower(t, path, cp)
	defer fl.Close()
	s.add(take(t, fl, 1))
	ctx := context.Background()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("1692161622.3\t2\n")
	f.Close()
	ev, err := fl.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := ev.Value("_path"); v != "dns" || ev.Format != FormatZeek {
		t.Errorf("resumed record: format %q _path %q, want zeek dns", ev.Format, v)
	}
}

func TestCheckpointsSaveLoad(t *testing.T) {
	dir := t.TempDir()
	cp, err := OpenCheckpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := cp.Load("/var/log/x"); ok || err != nil {
		t.Fatalf("Load of nothing = %v, %v; want false, nil", ok, err)
	}
	for i := int64(1); i <= 3; i++ {
		want := Position{Path: "/var/log/x", Dev: 1, Ino: 2, HeadLen: 3, Head: "abc", Offset: i * 100}
		if err := cp.Save(want); err != nil {
			t.Fatal(err)
		}
		got, ok, err := cp.Load("/var/log/x")
		if !ok || err != nil || got != want {
			t.Errorf("Load = %+v, %v, %v; want %+v", got, ok, err, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || filepath.Ext(entries[0].Name()) != ".json" {
		t.Errorf("checkpoint dir holds %v, want one .json file (no temporary left)", entries)
	}
	os.WriteFile(filepath.Join(dir, entries[0].Name()), []byte("{bad"), 0o644)
	if _, _, err := cp.Load("/var/log/x"); err == nil {
		t.Errorf("Load of a corrupt checkpoint = nil error")
	}
}
