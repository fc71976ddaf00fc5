//go:build unix

package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The process tests build cmd/shieldwall once and run it as a user would:
// they check the contract of the real binary (stdout, exit status, signals)
// that in-process tests of Run cannot see.

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// shieldwallBinary builds cmd/shieldwall once per test binary.
func shieldwallBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the shieldwall binary")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "shieldwall-cli-test-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "shieldwall")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/shieldwall/shieldwall/cmd/shieldwall").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// process is a running shieldwall.
type process struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{} // closed when Wait returns
	err    error         // from Wait, once done is closed
}

// start starts the binary with args; stdout goes to stdout (nil: discarded).
// The process is killed at the end of the test if still running.
func start(t *testing.T, stdout io.Writer, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(shieldwallBinary(t), args...), stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout = stdout
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop sends SIGTERM and checks that the process exits 0 within a few seconds.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("after SIGTERM: %v, want exit status 0\nstderr:\n%s", p.err, tail(p.stderr.String(), 2000))
		}
	case <-time.After(5 * time.Second):
		t.Errorf("still running 5s after SIGTERM\nstderr:\n%s", tail(p.stderr.String(), 2000))
	}
}

// waitHealthy polls base/healthz until it answers 200 or the process ends.
func waitHealthy(t *testing.T, p *process, base string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("shieldwall exited before serving: %v\nstderr:\n%s", p.err, tail(p.stderr.String(), 2000))
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if strings.TrimSpace(string(body)) != `{"status":"ok"}` {
					t.Errorf("GET /healthz body = %q", body)
				}
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s/healthz not answering 200 after 15s\nstderr:\n%s", base, tail(p.stderr.String(), 2000))
}

// call makes one TAXII request; auth sets the credentials.
func call(t *testing.T, method, url string, auth func(*http.Request), body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	if body != "" {
		req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	}
	auth(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func bearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

func basic(name, token string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(name, token) }
}

// isTAXIIType reports whether a Content-Type is TAXII 2.1's, allowing the
// spacing and case variations RFC 9110 allows around parameters.
func isTAXIIType(ct string) bool {
	ct = strings.ToLower(strings.ReplaceAll(ct, " ", ""))
	return ct == "application/taxii+json;version=2.1"
}

// checkDiscovery fetches the discovery document with each credential and
// returns its default API root.
func checkDiscovery(t *testing.T, base string, auths map[string]func(*http.Request)) string {
	t.Helper()
	resp, _ := call(t, "GET", base+"/taxii2/", func(*http.Request) {}, "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /taxii2/ without credentials = %d, want 401", resp.StatusCode)
	}
	var root string
	for name, auth := range auths {
		resp, body := call(t, "GET", base+"/taxii2/", auth, "")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /taxii2/ with %s = %d %s, want 200", name, resp.StatusCode, body)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); !isTAXIIType(ct) {
			t.Errorf("GET /taxii2/ with %s: Content-Type %q, want application/taxii+json;version=2.1", name, ct)
		}
		var d struct {
			Title    string   `json:"title"`
			Default  string   `json:"default"`
			APIRoots []string `json:"api_roots"`
		}
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatalf("discovery document: %v\n%s", err, body)
		}
		if d.Title == "" || d.Default != base+"/taxii2/root/" || !cmp.Equal(d.APIRoots, []string{d.Default}) {
			t.Errorf("discovery with %s = %+v, want a title and the API root %s/taxii2/root/", name, d, base)
		}
		root = d.Default
	}
	return root
}

// TestProcessNode runs `shieldwall token create` and `shieldwall node` as
// processes and uses the node over HTTP, then stops it with SIGTERM.
func TestProcessNode(t *testing.T) {
	bin := shieldwallBinary(t)
	dir := t.TempDir()

	out, err := exec.Command(bin, "token", "create", "--data", dir, "--name", "root", "--role", "admin").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	if !tokenRE.Match(out) {
		t.Fatalf("token create stdout = %q, want only a token", out)
	}
	token := strings.TrimSpace(string(out))
	// A second token of the same name is refused with exit status 1.
	err = exec.Command(bin, "token", "create", "--data", dir, "--name", "root", "--role", "reader").Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("duplicate token create: %v, want exit status 1", err)
	}
	// An unknown flag is a usage error: exit status 2.
	err = exec.Command(bin, "node", "--data", dir, "--bogus").Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("node --bogus: %v, want exit status 2", err)
	}

	base := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	nodeOut := &lockedBuffer{}
	p := start(t, nodeOut, "node", "--data", dir, "--listen", strings.TrimPrefix(base, "http://"))
	waitHealthy(t, p, base)

	root := checkDiscovery(t, base, map[string]func(*http.Request){
		"Bearer": bearer(token),
		"Basic":  basic("root", token),
	})
	if root == "" {
		t.FailNow()
	}
	if resp, _ := call(t, "GET", base+"/taxii2/", basic("someone", token), ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /taxii2/ with Basic and the wrong user name = %d, want 401", resp.StatusCode)
	}

	// The admin sees the default collection, readable and writable.
	resp, body := call(t, "GET", root+"collections/", bearer(token), "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET collections = %d %s", resp.StatusCode, body)
	}
	var cols struct {
		Collections []struct {
			ID       string `json:"id"`
			Alias    string `json:"alias"`
			Title    string `json:"title"`
			CanRead  bool   `json:"can_read"`
			CanWrite bool   `json:"can_write"`
		} `json:"collections"`
	}
	if err := json.Unmarshal(body, &cols); err != nil {
		t.Fatalf("collections: %v\n%s", err, body)
	}
	var defaultID string
	for _, c := range cols.Collections {
		if c.Alias == "default" {
			defaultID = c.ID
			if !c.CanRead || !c.CanWrite {
				t.Errorf("default collection for the admin: can_read %v can_write %v, want both true", c.CanRead, c.CanWrite)
			}
		}
	}
	if defaultID == "" {
		t.Fatalf("default collection not listed: %s", body)
	}

	// POST one indicator, read the status and the object back.
	objects := root + "collections/" + defaultID + "/objects/"
	resp, body = call(t, "POST", objects, bearer(token), `{"objects":[`+testIndicator+`]}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST objects = %d %s, want 202", resp.StatusCode, body)
	}
	var st struct {
		ID           string `json:"id"`
		Status       string `json:"status"`
		SuccessCount int    `json:"success_count"`
		FailureCount int    `json:"failure_count"`
		TotalCount   int    `json:"total_count"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("status: %v\n%s", err, body)
	}
	if st.Status != "complete" || st.SuccessCount != 1 || st.FailureCount != 0 || st.TotalCount != 1 {
		t.Errorf("POST status = %+v, want complete, success_count 1", st)
	}
	if resp, body := call(t, "GET", root+"status/"+st.ID+"/", bearer(token), ""); resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"success_count":1`)) {
		t.Errorf("GET status/%s/ = %d %s", st.ID, resp.StatusCode, body)
	}
	resp, body = call(t, "GET", objects, basic("root", token), "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET objects = %d %s", resp.StatusCode, body)
	}
	var env struct {
		Objects []any `json:"objects"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("envelope: %v\n%s", err, body)
	}
	var want any
	_ = json.Unmarshal([]byte(testIndicator), &want)
	if diff := cmp.Diff([]any{want}, env.Objects); diff != "" {
		t.Errorf("objects served after POST (-posted +served):\n%s", diff)
	}

	p.stop(t)
	if out := nodeOut.String(); out != "" {
		t.Errorf("node printed %q on stdout, want nothing (logs go to stderr)", out)
	}
	if !strings.Contains(p.stderr.String(), "node serving") {
		t.Errorf("stderr does not log where the node serves:\n%s", tail(p.stderr.String(), 2000))
	}
}

// TestProcessDemo runs `shieldwall demo`, reads its URLs and token from
// stdout and uses them.
func TestProcessDemo(t *testing.T) {
	shieldwallBinary(t)
	pr, pw := io.Pipe()
	p := start(t, pw, "demo", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--corpora", "/nonexistent")
	go func() {
		<-p.done
		pw.Close()
	}()

	discoveryRE := regexp.MustCompile(`^\s*TAXII 2\.1 discovery\s+(http://127\.0\.0\.1:\d+)/taxii2/$`)
	nameRE := regexp.MustCompile(`^\s*admin token \(name (\S+)\):$`)
	tokenLineRE := regexp.MustCompile(`^\s*(swt_[A-Za-z0-9_-]{43})$`)
	consoleRE := regexp.MustCompile(`^\s*web console\s+(http://127\.0\.0\.1:\d+)/\s+\(user (\S+), password (\S+)\)$`)
	var base, name, token string
	var consoleURL, consoleUser, consolePW string
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	timeout := time.After(30 * time.Second)
	var stdout []string
	end := false // the last line of the banner
read:
	for !end {
		select {
		case l, ok := <-lines:
			if !ok {
				break read
			}
			stdout = append(stdout, l)
			if m := discoveryRE.FindStringSubmatch(l); m != nil {
				base = m[1]
			}
			if m := nameRE.FindStringSubmatch(l); m != nil {
				name = m[1]
			}
			if m := consoleRE.FindStringSubmatch(l); m != nil {
				consoleURL, consoleUser, consolePW = m[1], m[2], m[3]
			}
			if m := tokenLineRE.FindStringSubmatch(l); m != nil && name != "" {
				token = m[1]
			}
			end = strings.HasPrefix(l, "Press Ctrl-C")
		case <-timeout:
			break read
		}
	}
	// Keep reading what follows: a full pipe would block the process.
	go func() {
		for range lines {
		}
	}()
	if base == "" || name == "" || token == "" {
		t.Fatalf("demo stdout lacks the discovery URL (%q), token name (%q) or token (%q):\n%s\nstderr:\n%s",
			base, name, token, strings.Join(stdout, "\n"), tail(p.stderr.String(), 2000))
	}
	waitHealthy(t, p, base)
	root := checkDiscovery(t, base, map[string]func(*http.Request){
		"Bearer": bearer(token),
		"Basic":  basic(name, token),
	})
	// The default collection holds the embedded OASIS examples.
	resp, body := call(t, "GET", root+"collections/default/objects/?match[type]=indicator", bearer(token), "")
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"type":"indicator"`)) {
		t.Errorf("GET default indicators of the demo = %d %s, want the seeded indicators", resp.StatusCode, tail(string(body), 500))
	}
	// The printed console login works.
	if consoleURL != base || consoleUser == "" {
		t.Fatalf("demo stdout lacks the console URL and login:\n%s", strings.Join(stdout, "\n"))
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	lr, err := hc.Get(consoleURL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := io.ReadAll(lr.Body)
	lr.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(lb)
	if m == nil {
		t.Fatalf("console login page has no CSRF token:\n%s", lb)
	}
	resp, err = hc.PostForm(consoleURL+"/login", url.Values{"csrf": {string(m[1])}, "name": {consoleUser}, "password": {consolePW}, "next": {"/alerts"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("<h1>Alerts</h1>")) {
		t.Errorf("console sign-in with the printed login = %d, want the alerts page:\n%s", resp.StatusCode, tail(string(body), 500))
	}
	// The alliance runs beside it: the demo node received what the policy
	// let each member send it (RED stays home; the partner does not name
	// the demo node a recipient of its AMBER), and the offline nation's
	// link is cut.
	for _, member := range []string{"alliance-hub", "cert-de", "partner-cert", "cert-pl"} {
		if !regexp.MustCompile(`(?m)^\s+` + member + `\s+http://127\.0\.0\.1:\d+/\s`).MatchString(strings.Join(stdout, "\n")) {
			t.Errorf("demo stdout lacks the URL of %s:\n%s", member, strings.Join(stdout, "\n"))
		}
	}
	want := map[string]bool{}
	for _, m := range []string{"alliance-hub", "cert-de", "partner-cert"} {
		for _, level := range []string{"TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:RED"} {
			want[m+" "+level] = level == "TLP:CLEAR" || level == "TLP:GREEN" || (level == "TLP:AMBER" && m != "partner-cert")
		}
	}
	waitStart := time.Now()
	deadline := waitStart.Add(30 * time.Second)
	for {
		resp, body := call(t, "GET", root+"collections/alliance/objects/?match[type]=indicator", bearer(token), "")
		var env struct {
			Objects []struct {
				Name string `json:"name"`
			} `json:"objects"`
		}
		_ = json.Unmarshal(body, &env)
		got := map[string]bool{}
		for _, o := range env.Objects {
			who, rest, _ := strings.Cut(o.Name, ": ")
			if i := strings.Index(rest, "(TLP:"); i >= 0 {
				level, _, _ := strings.Cut(rest[i+1:], ")")
				got[who+" "+level] = true
			}
		}
		var diff []string
		for k, w := range want {
			if got[k] != w {
				diff = append(diff, fmt.Sprintf("%s held %v, want %v", k, got[k], w))
			}
		}
		_, peers := call(t, "GET", base+"/api/v1/peers", bearer(token), "")
		cut := bytes.Contains(peers, []byte(`"Peer":"cert-pl","Link":"cut"`))
		if len(diff) == 0 && cut {
			t.Logf("the alliance synced and cert-pl's link was cut %.1fs after the demo was healthy", time.Since(waitStart).Seconds())
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo's alliance did not sync in 30 s (GET alliance = %d): %v; cert-pl cut: %v\n%s", resp.StatusCode, diff, cut, peers)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// What waits for the cut nation is counted by priority class in the
	// node's metrics: the demo node's two marking-definitions, and its
	// revoked, urgent and routine indicators the policy would send.
	_, metrics := call(t, "GET", base+"/metrics", bearer(token), "")
	for _, class := range []string{"marking", "revocation", "urgent", "normal"} {
		m := regexp.MustCompile(`(?m)^shieldwall_federation_peer_backlog_objects\{class="` + class + `",peer="cert-pl"\} (\d+)$`).FindSubmatch(metrics)
		if m == nil || string(m[1]) == "0" {
			t.Errorf("metrics: cert-pl's %s backlog = %q, want some", class, m)
		}
	}
	p.stop(t)
}
