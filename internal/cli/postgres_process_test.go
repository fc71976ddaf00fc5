package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// postgresDSN returns a DSN for a fresh schema of the test PostgreSQL
// ($SHIELDWALL_TEST_POSTGRES), dropped when the test ends.
func postgresDSN(t *testing.T) string {
	base := os.Getenv("SHIELDWALL_TEST_POSTGRES")
	if base == "" {
		t.Skip("SHIELDWALL_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); .ci/run sets it")
	}
	schema := "sw_cli_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	conn, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatalf("connect %s: %v", base, err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(t.Context(), base)
		if err == nil {
			c.Exec(t.Context(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(t.Context())
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func indicatorJSON(n int) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%s","created":"2026-01-02T03:04:05.000Z","modified":"2026-01-02T03:04:05.000Z","pattern":"[ipv4-addr:value = '10.%d.%d.%d']","pattern_type":"stix","valid_from":"2026-01-02T03:04:05Z"}`,
		uuid.NewString(), n>>16&255, n>>8&255, n&255)
}

// TestProcessTwoNodesOnePostgres runs two shieldwall node processes on one
// PostgreSQL database. Both take writes at the same time while a reader
// pages through the collection, alternating between the two nodes from page
// to page: every object must come back exactly once.
func TestProcessTwoNodesOnePostgres(t *testing.T) {
	dsn := postgresDSN(t)
	bin := shieldwallBinary(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	out, err := exec.Command(bin, "token", "create", "--db", dsn, "--data", dirA, "--name", "root", "--role", "admin").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	token := strings.TrimSpace(string(out))
	var bases []string
	for _, dir := range []string{dirA, dirB} {
		base := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
		p := start(t, nil, "node", "--db", dsn, "--data", dir, "--listen", strings.TrimPrefix(base, "http://"))
		waitHealthy(t, p, base)
		bases = append(bases, base)
	}
	// The token made through one data directory works on both nodes: it is
	// in the shared database.
	colls := func(base string) string { return base + "/taxii2/root/collections/default/objects/" }

	const perWriter, batch = 1500, 50
	want := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w, base := range bases {
		wg.Go(func() {
			for i := 0; i < perWriter; i += batch {
				var objs []string
				for j := range batch {
					o := indicatorJSON(w*perWriter + i + j)
					objs = append(objs, o)
					mu.Lock()
					var m struct{ ID string }
					json.Unmarshal([]byte(o), &m)
					want[m.ID] = true
					mu.Unlock()
				}
				req, _ := http.NewRequest("POST", colls(base), strings.NewReader(`{"objects":[`+strings.Join(objs, ",")+`]}`))
				req.Header.Set("Accept", "application/taxii+json;version=2.1")
				req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					errs <- fmt.Errorf("POST to %s: %s", base, resp.Status)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	seen := map[string]int{}
	next := ""
	writersDone := false
	for page := 0; ; page++ {
		base := bases[page%2] // alternate nodes page by page
		u := colls(base) + "?limit=200"
		if next != "" {
			u += "&next=" + url.QueryEscape(next)
		}
		resp, body := call(t, "GET", u, bearer(token), "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
		}
		var env struct {
			More    bool              `json:"more"`
			Next    string            `json:"next"`
			Objects []json.RawMessage `json:"objects"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			t.Fatal(err)
		}
		for _, o := range env.Objects {
			var m struct{ ID string }
			json.Unmarshal(o, &m)
			seen[m.ID]++
		}
		if env.Next != "" {
			next = env.Next
		}
		if len(env.Objects) == 0 && !env.More {
			if writersDone {
				break
			}
			select {
			case <-done:
				writersDone = true // one more pass after the last write
			case err := <-errs:
				t.Fatal(err)
			case <-time.After(20 * time.Millisecond):
			}
		}
		if page > 100000 {
			t.Fatal("paging does not end")
		}
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	dups, missing := 0, 0
	for id, n := range seen {
		if n > 1 {
			dups++
		}
		if !want[id] {
			t.Errorf("served %s, which nobody wrote", id)
		}
	}
	for id := range want {
		if seen[id] == 0 {
			missing++
		}
	}
	if len(want) != 2*perWriter || dups != 0 || missing != 0 {
		t.Errorf("wrote %d objects through two nodes; paging across both saw %d distinct, %d twice, %d missing", len(want), len(seen), dups, missing)
	}
}
