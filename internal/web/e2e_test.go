package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/sqlitestore"
)

// The end-to-end test drives the console of a real `shieldwall demo`
// process in headless Chromium (Debian's chromium package).

const chromiumPath = "/usr/bin/chromium"

var updateShots = flag.Bool("update", false, "rewrite docs/screenshots from this run of the browser test (or SHIELDWALL_UPDATE_SCREENSHOTS=1)")

// demoNode is a running `shieldwall demo`.
type demoNode struct {
	base, user, password, token string
	dataDir                     string
	collections                 map[string]string // alias → id
	stderr                      *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	consoleRe    = regexp.MustCompile(`web console\s+(http://127\.0\.0\.1:\d+)/\s+\(user (\S+), password (\S+)\)`)
	tokenRe      = regexp.MustCompile(`^\s+(swt_\S+)\s*$`)
	collectionRe = regexp.MustCompile(`collection (\S+)\s+http://\S+/collections/([0-9a-f-]+)/objects/`)
	demoAlertsRe = regexp.MustCompile(`demo: (\d+) alerts from hunting`)
)

// startDemo builds cmd/shieldwall and runs `shieldwall demo` on 127.0.0.1
// with a fresh data directory, with the shared corpora when corpora != "".
// It returns once the node prints its URLs (and, with the corpora, once the
// background hunt has stored its alerts).
func startDemo(t *testing.T, ctx context.Context, corpora string) *demoNode {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "shieldwall")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/shieldwall/shieldwall/cmd/shieldwall")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	d := &demoNode{dataDir: filepath.Join(dir, "data"), collections: map[string]string{}, stderr: &syncBuffer{}}
	args := []string{"demo", "--data", d.dataDir, "--listen", "127.0.0.1:0"}
	if corpora != "" {
		args = append(args, "--corpora", corpora)
	} else {
		// An empty folder: the demo must not find ../shared/corpora by itself.
		empty := filepath.Join(dir, "no-corpora")
		if err := os.Mkdir(empty, 0o755); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--corpora", empty)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = d.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	up := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if m := consoleRe.FindStringSubmatch(line); m != nil {
				d.base, d.user, d.password = m[1], m[2], m[3]
			}
			if m := tokenRe.FindStringSubmatch(line); m != nil {
				d.token = m[1]
			}
			if m := collectionRe.FindStringSubmatch(line); m != nil {
				d.collections[m[1]] = m[2]
			}
			if strings.HasPrefix(line, "Press Ctrl-C") && !sent {
				sent = true
				up <- nil
			}
		}
		if !sent {
			up <- fmt.Errorf("shieldwall demo ended before it was up: %v", sc.Err())
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case err := <-up:
		if err != nil {
			t.Fatalf("%v\nstderr:\n%s", err, d.stderr)
		}
	case <-ctx.Done():
		t.Fatalf("shieldwall demo not up in time\nstderr:\n%s", d.stderr)
	}
	if d.base == "" || d.user == "" || d.password == "" || d.token == "" || d.collections["default"] == "" {
		t.Fatalf("the demo did not print its console URL, login, token and default collection: %+v", d)
	}
	if corpora != "" {
		// The demo hunts the attack samples in the background: wait until
		// its alerts are stored, so every page shows them.
		for demoAlertsRe.FindStringSubmatch(d.stderr.String()) == nil {
			select {
			case <-ctx.Done():
				t.Fatalf("the demo's hunt did not finish in time\nstderr:\n%s", d.stderr)
			case <-exited:
				t.Fatalf("shieldwall demo exited\nstderr:\n%s", d.stderr)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return d
}

// taxiiObject fetches the newest version of an object over TAXII 2.1.
func (d *demoNode) taxiiObject(t *testing.T, collection, id string) map[string]any {
	t.Helper()
	u := d.base + "/taxii2/root/collections/" + collection + "/objects/" + url.PathEscape(id) + "/"
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", u, resp.Status, b)
	}
	var env struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(b, &env); err != nil || len(env.Objects) != 1 {
		t.Fatalf("GET %s: want one object, got %s (%v)", u, b, err)
	}
	return env.Objects[0]
}

// peerStates reads the demo node's federation peer states.
func (d *demoNode) peerStates(t *testing.T) map[string]map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, d.base+"/api/v1/peers", nil)
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Peers []map[string]any `json:"peers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET /api/v1/peers: %s: %v", resp.Status, err)
	}
	out := map[string]map[string]any{}
	for _, p := range v.Peers {
		name, _ := p["Peer"].(string)
		out[name] = p
	}
	return out
}

// waitAlliance waits until the demo's alliance has synced: the running
// members connected, with objects sent both ways, and the offline nation's
// link cut.
func (d *demoNode) waitAlliance(t *testing.T, ctx context.Context) {
	t.Helper()
	for {
		ps := d.peerStates(t)
		ok := len(ps) == 4 && ps["cert-pl"]["Link"] == "cut"
		for _, m := range []string{"alliance-hub", "cert-de", "partner-cert"} {
			sent, _ := ps[m]["Sent"].(float64)
			received, _ := ps[m]["Received"].(float64)
			ok = ok && ps[m]["Link"] == "connected" && sent > 0 && received > 0
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the demo's alliance did not sync in time: %v", ps)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// browserLog collects what the page did that the test must refuse.
type browserLog struct {
	mu       sync.Mutex
	requests []string
	problems []string
}

func (b *browserLog) add(p string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, p)
}

func (b *browserLog) take() (requests, problems []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	requests, problems = b.requests, b.problems
	b.requests, b.problems = nil, nil
	return requests, problems
}

// local reports whether a request URL stays on this machine.
func local(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "data", "blob", "about":
		return true
	case "http", "https", "ws", "wss":
		h := u.Hostname()
		return h == "127.0.0.1" || h == "localhost"
	}
	return false
}

// cspWatch runs before any page script and records Content Security Policy
// violations the page reports (they also reach the console log).
const cspWatch = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + e.blockedURI + " at " + e.sourceFile + ":" + e.lineNumber);
});`

// event records one protocol event of the tab. It runs in chromedp's
// read loop, so it only appends under the lock.
func (bl *browserLog) event(ev any) {
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		bl.mu.Lock()
		bl.requests = append(bl.requests, e.Request.URL)
		bl.mu.Unlock()
		if !local(e.Request.URL) {
			bl.add("request leaves 127.0.0.1: " + e.Request.URL)
		}
	case *network.EventResponseReceived:
		if e.Response.Status >= 400 {
			bl.add(fmt.Sprintf("HTTP %d for %s", e.Response.Status, e.Response.URL))
		}
	case *network.EventLoadingFailed:
		// Leaving a page cancels its event stream; that is not a failure.
		if !e.Canceled && e.ErrorText != "net::ERR_ABORTED" {
			bl.add(fmt.Sprintf("loading failed (%s): %s", e.Type, e.ErrorText))
		}
	case *runtime.EventExceptionThrown:
		msg := e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
		bl.add(fmt.Sprintf("script exception: %s at %s:%d", msg, e.ExceptionDetails.URL, e.ExceptionDetails.LineNumber+1))
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			bl.add(fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
		}
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			bl.add(fmt.Sprintf("browser log (%s, %s): %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	}
}

// TestDemoConsoleInChromium runs the real `shieldwall demo` process, as a
// user does, signs in to its console in headless Chromium with the login it
// prints, opens every page, triages an alert (checked in the store),
// creates a TLP:AMBER indicator and revokes it (both checked over TAXII),
// sees an alert stored by another process arrive over the event stream
// without a reload, sees the demo's alliance on the Overview, Sharing and
// Peers pages, follows a keyboard shortcut, and fails on any request that
// leaves 127.0.0.1, any console error or warning, CSP violation, script
// exception, failed load or HTTP error. With -update (or
// SHIELDWALL_UPDATE_SCREENSHOTS=1) it rewrites docs/screenshots with a
// full-page screenshot of every page.
func TestDemoConsoleInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts shieldwall demo and headless Chromium (not in -short)")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("the end-to-end console test needs Chromium at %s (Debian: apt-get install chromium): %v", chromiumPath, err)
	}
	corpora, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "corpora"))
	if _, err := os.Stat(filepath.Join(corpora, "evtx-attack-samples")); err != nil {
		t.Logf("%s is absent: the demo runs without its real alerts, the test stores its own", corpora)
		corpora = ""
	}
	// Generous: a loaded 2-core machine builds the binary, hunts the
	// samples and runs Chromium at once.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	start := time.Now()
	d := startDemo(t, ctx, corpora)
	t.Logf("demo node up at %s with its data in %.1fs", d.base, time.Since(start).Seconds())

	// A second handle on the node's database (SQLite in WAL mode is shared
	// between processes): to check what the console stored, and to store
	// alerts as another detection process would.
	// The node's own writes (the hunt's alerts, the text indexes) can hold
	// the file's write lock for seconds in a -race build on a loaded CI
	// machine: this second writer waits as long as another detection
	// process would be configured to.
	db, err := sqlitestore.Open(ctx, filepath.Join(d.dataDir, "shieldwall.db"), sqlitestore.WithBusyTimeout(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if corpora == "" {
		putAlert(t, ctx, db, "e2e-seed", "high", "Seeded alert for the end-to-end test")
	}

	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1440, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer bcancel()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	bl := &browserLog{}
	if err := chromedp.Listen(bctx, bl.event); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, log.Enable, cdp.Empty{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, runtime.Enable, cdp.Empty{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch})
		return err
	}), chromedp.EmulateViewport(1440, 900)); err != nil {
		t.Fatalf("set up Chromium: %v", err)
	}

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v\nnode stderr (tail):\n%s", step, err, tail(d.stderr.String(), 2000))
		}
	}
	text := func(sel string) string {
		t.Helper()
		return get(t, bctx, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
	}
	count := func(sel string) int {
		t.Helper()
		return len(get(t, bctx, "nodes "+sel, chromedp.Nodes(chromedp.CSSAll(sel))))
	}
	// check fails the test for anything the browser did wrong since the
	// last check, and counts the requests.
	requests := 0
	check := func(step string) {
		t.Helper()
		csp := get(t, bctx, step+": read CSP violations", chromedp.Evaluate[[]string](`window.__cspViolations || []`))
		reqs, problems := bl.take()
		requests += len(reqs)
		for _, v := range csp {
			problems = append(problems, "CSP violation: "+v)
		}
		for _, p := range problems {
			t.Errorf("%s: %s", step, p)
		}
	}
	// The README's screenshots, taken only when asked to rewrite them (a
	// full-page screenshot costs a second on a loaded machine). Charts and
	// graphs draw just after the page loads.
	updating := *updateShots || os.Getenv("SHIELDWALL_UPDATE_SCREENSHOTS") == "1"
	shots := map[string][]byte{}
	shot := func(name string) {
		t.Helper()
		if !updating {
			return
		}
		do("settle "+name, chromedp.Sleep(800*time.Millisecond))
		shots[name] = get(t, bctx, "screenshot "+name, chromedp.FullScreenshot(100))
	}
	// poll waits for a JavaScript condition, asking again when a
	// navigation cuts the poll short.
	poll := func(step, expr string) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); ; {
			v, err := chromedp.Run(bctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second)))
			if err == nil && v {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s is not true: %v", step, expr, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	heading := func(want string) {
		t.Helper()
		if h := text("main h1"); !strings.Contains(h, want) {
			t.Errorf("page heading %q, want it to contain %q", h, want)
		}
	}

	// Sign in: an unauthenticated visit is sent to the login page.
	do("login page", chromedp.Navigate(d.base+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name="name"]`)))
	// The watchers work: a style element the page did not ship is refused
	// by the CSP, and check must see it.
	get(t, bctx, "inject a style", chromedp.Evaluate[string](`(function () { var s = document.createElement("style"); s.textContent = "body { color: red }"; document.head.appendChild(s); return "ok"; })()`))
	get(t, bctx, "wait for the violation", chromedp.Poll[bool](`window.__cspViolations.length > 0`))
	if _, problems := bl.take(); !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, "Content Security Policy") }) {
		t.Errorf("an injected style element was refused, but the browser log does not say so: %q", problems)
	}
	get(t, bctx, "clear", chromedp.Evaluate[int](`window.__cspViolations.length = 0`))
	shot("login")
	do("sign in",
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), d.user),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), d.password),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`header nav`)))
	if who := text(`header .who`); !strings.Contains(who, d.user) || !strings.Contains(who, "admin") {
		t.Errorf("signed in as %q, want %s (admin)", who, d.user)
	}
	check("sign in")

	// Overview: the federation graph (the demo node, its four peers and
	// their links) and the alerts chart are drawn, and the event stream is
	// open.
	d.waitAlliance(t, ctx)
	do("overview", chromedp.Navigate(d.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#fedgraph canvas`)),
		chromedp.WaitVisible(chromedp.CSS(`#alertchart canvas`)),
		chromedp.WaitVisible(chromedp.CSS(`#live.on`)))
	heading("Common operational picture")
	graph := get(t, bctx, "federation graph", chromedp.Evaluate[[]string](
		`JSON.parse(document.getElementById("fedgraph").getAttribute("data-graph")).map(e => (e.data.source ? "edge " : "node ") + e.data.label)`))
	for _, want := range []string{"node cert-fr", "node alliance-hub", "node cert-de", "node partner-cert", "node cert-pl"} {
		if !slices.Contains(graph, want) {
			t.Errorf("the federation graph lacks %q: %q", want, graph)
		}
	}
	if !slices.ContainsFunc(graph, func(e string) bool { return strings.HasPrefix(e, "edge cut · ") }) {
		t.Errorf("the federation graph shows no cut link: %q", graph)
	}
	shot("overview")
	check("overview")

	// Alerts, filtered and sorted server-side, then all.
	do("alerts filtered", chromedp.Navigate(d.base+"/alerts?sort=level&verdict=untriaged"),
		chromedp.WaitVisible(chromedp.CSS(`#alerts-table tbody tr td a`)))
	if n := count(`#alerts-table tbody tr td a[href^="/alerts/"]`); n == 0 {
		t.Fatal("no untriaged alert listed")
	}
	check("alerts filtered")
	do("alerts", chromedp.Navigate(d.base+"/alerts"), chromedp.WaitVisible(chromedp.CSS(`#alerts-table tbody tr td a`)))
	heading("Alerts")
	shot("alerts")
	check("alerts")

	// Alert detail, and triage it (the form posts with htmx and swaps the panel).
	first := chromedp.CSS(`#alerts-table tbody tr td a[href^="/alerts/"]`)
	href := get(t, bctx, "first alert link", chromedp.AttributeValue(first, "href"))
	if !href.Exists {
		t.Fatal("the first alert row has no link")
	}
	alertID, _ := url.PathUnescape(strings.TrimPrefix(href.Value, "/alerts/"))
	do("alert detail", chromedp.Click(first), chromedp.WaitVisible(chromedp.CSS(`#triage form`)))
	if strings.TrimSpace(text(`main h1`)) == "" {
		t.Error("the alert page has an empty heading")
	}
	note := "e2e: confirmed by the end-to-end test at " + time.Now().UTC().Format(time.RFC3339)
	do("triage",
		chromedp.SetValue(chromedp.CSS(`#triage select[name="verdict"]`), store.VerdictTruePositive),
		chromedp.SetValue(chromedp.CSS(`#triage select[name="assignee"]`), d.user),
		chromedp.SendKeys(chromedp.CSS(`#triage textarea[name="note"]`), note),
		chromedp.Click(chromedp.CSS(`#triage button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#triage .msg.notice`)))
	if s := text(`#triage .msg.notice`); !strings.Contains(s, "Triage saved") {
		t.Errorf("after triage the panel says %q", s)
	}
	shot("alert")
	check("triage")
	ta, err := db.Alert(ctx, alertID)
	if err != nil {
		t.Fatalf("the triaged alert %s: %v", alertID, err)
	}
	if ta.Triage.Verdict != store.VerdictTruePositive || ta.Triage.Note != note || ta.Triage.Assignee != d.user || ta.Triage.By != d.user {
		t.Errorf("stored triage %+v, want verdict %s, note %q, assignee and by %s", ta.Triage, store.VerdictTruePositive, note, d.user)
	}

	// Live update: an alert stored by another process appears on the
	// alerts page without a reload.
	do("alerts for live", chromedp.Navigate(d.base+"/alerts"), chromedp.WaitVisible(chromedp.CSS(`#live.on`)))
	get(t, bctx, "mark page", chromedp.Evaluate[string](`window.__e2eMarker = "same page"`))
	liveTitle := fmt.Sprintf("Live alert from the end-to-end test %d", time.Now().UnixNano())
	putAlert(t, ctx, db, "e2e-live", "critical", liveTitle)
	do("live alert", chromedp.WaitVisible(chromedp.CSS(`#alerts-table tbody tr.fresh`)), chromedp.WaitVisible(chromedp.CSS(`#ticker a`)))
	if s := text(`#ticker`); !strings.Contains(s, liveTitle) {
		t.Errorf("the ticker says %q, want the live alert %q", s, liveTitle)
	}
	if m := get(t, bctx, "read mark", chromedp.Evaluate[string](`window.__e2eMarker || ""`)); m != "same page" {
		t.Error("the page was reloaded for the live alert")
	}
	check("live alert")

	// Intelligence search by type and text, and an object page with its
	// relationship graph.
	do("intel search", chromedp.Navigate(d.base+"/intel?type=intrusion-set&q=APT"),
		chromedp.WaitVisible(chromedp.CSS(`#intel-results tbody tr td a`)))
	heading("Intelligence")
	if n := count(`#intel-results tbody tr td a`); n == 0 {
		t.Fatal("no intrusion-set matches APT in the demo data")
	}
	shot("intel")
	check("intel search")
	do("object page", chromedp.Click(chromedp.CSS(`#intel-results tbody tr td a`)),
		chromedp.WaitVisible(chromedp.CSS(`#relgraph canvas`)))
	heading("intrusion-set")
	shot("object")
	check("object page")

	// ATT&CK heatmap: the demo's hunt loaded the Windows Sigma rules.
	do("attack", chromedp.Navigate(d.base+"/attack"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	heading("ATT&CK")
	if corpora != "" {
		do("attack cells", chromedp.WaitVisible(chromedp.CSS(`.heat a.cell`)))
		if n := count(`.heat a.cell`); n < 10 {
			t.Errorf("the ATT&CK heatmap has %d techniques, want the loaded rules' many", n)
		}
	}
	shot("attack")
	check("attack")

	// Sharing: the policy's decisions on what the demo's nodes made, with
	// their reasons: sent, and withheld by TLP, REL TO and sharing group.
	do("sharing", chromedp.Navigate(d.base+"/sharing"), chromedp.WaitVisible(chromedp.CSS(`#decisions tbody tr`)))
	heading("Sharing")
	rules := get(t, bctx, "decision rules", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#decisions tbody tr")].map(r => r.cells[2].textContent.trim() + " " + r.cells[4].textContent.trim())`))
	for _, want := range []string{"allow allow", "deny tlp", "deny rel-to", "deny sharing-group"} {
		if !slices.Contains(rules, want) {
			t.Errorf("the sharing decisions lack %q: %q", want, rules)
		}
	}
	if s := text(`#decisions`); !strings.Contains(s, "TLP:RED") {
		t.Errorf("no decision gives TLP:RED as its reason: %.500q", s)
	}
	shot("sharing")
	check("sharing")

	// Peers: health, bytes and the backlog by priority of the cut link.
	do("peers", chromedp.Navigate(d.base+"/peers"), chromedp.WaitVisible(chromedp.CSS(`#backlog-table`)), chromedp.WaitVisible(chromedp.CSS(`#fedgraph canvas`)))
	heading("Peers")
	if s := text(`#peers-table tr[data-peer="cert-pl"] [data-field="link"]`); !strings.EqualFold(s, "cut") {
		t.Errorf("cert-pl's link is %q on the Peers page, want cut", s)
	}
	if s := text(`#backlog-table tr[data-peer="cert-pl"] [data-field="backlog_total"]`); s == "0" || s == "" {
		t.Errorf("cert-pl's backlog is %q, want what waits for it", s)
	}
	if s := text(`#peers-table tr[data-peer="alliance-hub"] [data-field="bytes_out"]`); s == "0 B" || s == "" {
		t.Errorf("bytes out to alliance-hub: %q", s)
	}
	shot("peers")
	check("peers")

	// Keyboard: g then a letter opens a page (g s: Sharing).
	do("keyboard", chromedp.KeyEvent("g"), chromedp.KeyEvent("s"))
	poll("keyboard", `location.pathname === "/sharing" && document.readyState === "complete"`)
	heading("Sharing")
	check("keyboard")

	// Create an indicator marked TLP:AMBER, then revoke it; check both
	// over TAXII.
	indName := fmt.Sprintf("Phishing C2 server 198.51.100.77 (e2e %d)", time.Now().Unix())
	const pattern = "[ipv4-addr:value = '198.51.100.77']"
	do("new indicator form", chromedp.Navigate(d.base+"/intel/indicator"), chromedp.WaitVisible(chromedp.CSS(`#indicator-form`)),
		chromedp.SendKeys(chromedp.CSS(`#indicator-form input[name="name"]`), indName),
		chromedp.SendKeys(chromedp.CSS(`#indicator-form textarea[name="pattern"]`), pattern),
		chromedp.SetValue(chromedp.CSS(`#indicator-form select[name="tlp"]`), "amber"),
		chromedp.SendKeys(chromedp.CSS(`#indicator-form textarea[name="description"]`), "Made in headless Chromium."))
	do("create indicator", chromedp.Click(chromedp.CSS(`#indicator-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#revoke`)))
	if s := text(`main`); !strings.Contains(s, "Indicator created") || !strings.Contains(s, indName) {
		t.Errorf("after creating, the object page does not say so: %.300q", s)
	}
	do("indicator graph", chromedp.WaitVisible(chromedp.CSS(`#relgraph canvas`)))
	shot("indicator")
	check("create indicator")
	lu, err := url.Parse(get(t, bctx, "location", chromedp.Location()))
	if err != nil {
		t.Fatal(err)
	}
	indID, coll := lu.Query().Get("id"), lu.Query().Get("coll")
	if !strings.HasPrefix(indID, "indicator--") || coll != d.collections["default"] {
		t.Fatalf("created indicator %q in collection %q, want an indicator in the default collection %s", indID, coll, d.collections["default"])
	}
	amber, _ := stix.TLPByName("amber")
	obj := d.taxiiObject(t, coll, indID)
	refs, _ := obj["object_marking_refs"].([]any)
	if obj["name"] != indName || obj["pattern"] != pattern || !slices.Contains(refs, any(amber.ID)) || obj["revoked"] == true {
		t.Errorf("over TAXII the new indicator is %v, want name %q, the pattern, marking %s and not revoked", obj, indName, amber.ID)
	}
	// The object page after creating holds a notice already ("Indicator
	// created"), so wait for the revoked page's own notice, not any notice:
	// reading the old one while the new page loads fails with "No node with
	// given id found".
	do("revoke", chromedp.Click(chromedp.CSS(`#revoke`)))
	// The poll is cut short while the POST navigates; ask again until the
	// new page answers.
	var revoked bool
	for deadline := time.Now().Add(time.Minute); ; {
		v, err := chromedp.Run(bctx, chromedp.Poll[bool](
			`[...document.querySelectorAll('main .msg.notice')].some(e => e.textContent.includes('Indicator revoked'))`,
			chromedp.WithPollingTimeout(10*time.Second)))
		if err == nil {
			revoked = v
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("wait for the revoked notice: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !revoked {
		t.Errorf("after revoking, the page says: %q", text(`main`))
	}
	check("revoke")
	obj = d.taxiiObject(t, coll, indID)
	if obj["revoked"] != true || obj["name"] != indName {
		t.Errorf("over TAXII the revoked indicator is %v, want revoked: true", obj)
	}

	do("import page", chromedp.Navigate(d.base+"/intel/import"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	shot("import")
	check("import page")
	// The admins' Users page lists the demo's user; everyone's account
	// page offers a password change.
	do("users page", chromedp.Navigate(d.base+"/users"), chromedp.WaitVisible(chromedp.CSS(`#users-table`)))
	if n := count(`#users-table tr[data-user="` + d.user + `"]`); n != 1 {
		t.Errorf("the Users page lists the demo's user %d times, want once", n)
	}
	shot("users")
	check("users page")
	do("account page", chromedp.Click(chromedp.CSS(`header .who a`)), chromedp.WaitVisible(chromedp.CSS(`#password-form`)))
	heading("Your account")
	shot("account")
	check("account page")

	if requests < 20 {
		t.Errorf("the browser made only %d requests: the network log is not being read", requests)
	}
	if updating {
		dir := filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range shots {
			if err := os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("wrote %d screenshots to %s", len(shots), dir)
	}
	t.Logf("%d browser requests, all to 127.0.0.1; the whole test took %.1fs", requests, time.Since(start).Seconds())
}

// get runs one browser action that returns a value.
func get[T any](t *testing.T, ctx context.Context, step string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	return v
}

func putAlert(t *testing.T, ctx context.Context, db *sqlitestore.DB, rule, level, title string) {
	t.Helper()
	a := &detect.Alert{Engine: "sigma", RuleID: rule, RuleTitle: title, Level: level, Source: "e2e-test",
		Time: time.Now().UTC(), Tags: []string{"attack.execution", "attack.t1059.001"},
		Matches: []detect.Match{{Field: "CommandLine", Value: "powershell -enc ..."}}}
	a.ID = detect.AlertID(a)
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.PutAlerts(ctx, []store.AlertRecord{{ID: a.ID, Time: a.Time, Engine: a.Engine, RuleID: a.RuleID, Level: a.Level, Source: a.Source, JSON: b}})
	if err != nil || n != 1 {
		t.Fatalf("store an alert: %d stored, %v", n, err)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func TestLocalURL(t *testing.T) {
	for u, want := range map[string]bool{
		"http://127.0.0.1:9440/alerts": true, "http://localhost/x": true, "data:image/png;base64,AA": true, "blob:http://127.0.0.1/1": true,
		"https://cdn.example.com/x.js": false, "http://127.0.0.2/": false, "http://192.0.2.1/": false, "ws://evil.example/": false, "chrome-extension://x/y": false,
	} {
		if got := local(u); got != want {
			t.Errorf("local(%q) = %v, want %v", u, got, want)
		}
	}
}
