package e2e

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/shieldwall/shieldwall/internal/demo"
	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/hunt"
	"github.com/shieldwall/shieldwall/internal/ingest"
	"github.com/shieldwall/shieldwall/internal/node"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/web"
)

var update = flag.Bool("update", false, "rewrite docs/screenshots from this run")

const chromium = "/usr/bin/chromium"

// seedAlerts hunts a few folders of the real attack samples with the
// Windows Sigma rules and stores the alerts, as the demo does.
func seedAlerts(t *testing.T, n *node.Node, corpora string) int {
	t.Helper()
	d, err := node.BuildDetection(node.DetectionOptions{SigmaDirs: []string{filepath.Join(corpora, "sigma", "rules", "windows")}})
	if err != nil {
		t.Fatal(err)
	}
	n.SetDetection(d)
	var paths []string
	for _, dir := range []string{"Execution", "Credential Access", "Lateral Movement", "Persistence"} {
		paths = append(paths, filepath.Join(corpora, "evtx-attack-samples", dir))
	}
	as := n.Store.(store.Alerts)
	var batch []store.AlertRecord
	_, err = hunt.Run(t.Context(), hunt.Options{
		Paths: paths,
		Open: func(p string) (hunt.Source, error) {
			src, err := ingest.OpenFile(p, ingest.Options{})
			if err != nil {
				return nil, fmt.Errorf("%w: %v", hunt.ErrUnsupported, err)
			}
			return src, nil
		},
		NewEngine: d.NewEngine,
		Alert: func(a *detect.Alert) error {
			a.ID = detect.AlertID(a)
			rec, err := node.AlertRecord(a)
			if err != nil {
				return err
			}
			batch = append(batch, rec)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	k, err := as.PutAlerts(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestConsoleInChromium signs in, opens every page, triages an alert,
// creates and revokes an indicator, and checks that no request leaves the
// node and no script error (a CSP violation included) happens. With
// -update it rewrites the screenshots in docs/screenshots.
func TestConsoleInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("%s not found: install Debian's chromium package (apt-get install chromium) to run the browser test", chromium)
	}
	corpora, err := filepath.Abs("../../../../shared/corpora")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(corpora); err != nil {
		t.Skipf("the shared corpora are not at %s", corpora)
	}
	ctx := t.Context()
	n, err := node.Open(ctx, node.Options{DataDir: t.TempDir(), Name: "alliance-hq", Organisation: "Alliance CDC"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := demo.Seed(ctx, n, corpora, io.Discard); err != nil {
		t.Fatal(err)
	}
	if k := seedAlerts(t, n, corpora); k < 10 {
		t.Fatalf("hunting the samples stored %d alerts, want at least 10", k)
	}
	const user, password = "analyst1", "e2e password long enough"
	if err := web.CreateUser(ctx, n.Store.(store.Users), user, store.RoleAnalyst, password); err != nil {
		t.Fatal(err)
	}
	h, err := n.Handler(node.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h) // listens on 127.0.0.1
	defer ts.Close()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1600, 1000),
	}
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()

	var mu sync.Mutex
	var requests, problems []string
	if err := chromedp.Listen(bctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Request != nil {
			mu.Lock()
			requests = append(requests, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for m, err := range chromedp.Console(bctx) {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
				mu.Lock()
				problems = append(problems, m.String()+" ("+m.URL+")")
				mu.Unlock()
			}
		}
	}()
	shots := map[string][]byte{}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			b, err := chromedp.FullScreenshot(100)(ctx, tg)
			shots[name] = b
			return err
		})
	}
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, time.Minute)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	get := func(step string, a chromedp.Action[string]) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, time.Minute)
		defer cancel()
		v, err := chromedp.Run(sctx, a)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return v
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	settle := chromedp.Sleep(700 * time.Millisecond) // charts and graphs draw after load

	// The first action starts the browser: no timeout on it (see chromedp.Run).
	if err := chromedp.Do(bctx, chromedp.Navigate(ts.URL+"/")); err != nil {
		t.Fatal(err)
	}
	run("sign in",
		chromedp.WaitVisible(css(`input[name="name"]`)),
		shot("login"),
		chromedp.SendKeys(css(`input[name="name"]`), user),
		chromedp.SendKeys(css(`input[name="password"]`), password),
		chromedp.Submit(css(`input[name="password"]`)),
		chromedp.WaitVisible(css(`#alertchart canvas`)),
		chromedp.WaitVisible(css(`#fedgraph canvas`)),
		settle, shot("overview"))

	run("alerts", chromedp.Navigate(ts.URL+"/alerts?sort=level"), chromedp.WaitVisible(css(`#alerts-table`)), shot("alerts"))
	firstAlert := get("first alert", func(ctx context.Context, tg *chromedp.Target) (string, error) {
		r, err := chromedp.AttributeValue(css(`#alerts-table tbody tr td a`), "href")(ctx, tg)
		return r.Value, err
	})
	if firstAlert == "" {
		t.Fatal("the alerts page lists no alert")
	}
	run("triage",
		chromedp.Navigate(ts.URL+firstAlert),
		chromedp.WaitVisible(css(`#triage select[name="verdict"]`)),
		chromedp.SetValue(css(`#triage select[name="verdict"]`), store.VerdictTruePositive),
		chromedp.SetValue(css(`#triage select[name="assignee"]`), user),
		chromedp.SendKeys(css(`#triage textarea[name="note"]`), "confirmed in the browser test"),
		chromedp.Click(css(`#triage button[type="submit"]`)),
		chromedp.WaitVisible(css(`#triage .msg.notice`)),
		shot("alert"))
	id := strings.TrimPrefix(firstAlert, "/alerts/")
	ta, err := n.Store.(store.Triages).Alert(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if ta.Triage.Verdict != store.VerdictTruePositive || ta.Triage.Assignee != user || ta.Triage.Note != "confirmed in the browser test" {
		t.Errorf("triage stored from the browser = %+v", ta.Triage)
	}

	run("create indicator",
		chromedp.Navigate(ts.URL+"/intel/indicator"),
		chromedp.WaitVisible(css(`#indicator-form`)),
		chromedp.SendKeys(css(`#indicator-form input[name="name"]`), "C2 of the browser test"),
		chromedp.SendKeys(css(`#indicator-form textarea[name="pattern"]`), "[ipv4-addr:value = '203.0.113.77']"),
		chromedp.SetValue(css(`#indicator-form select[name="tlp"]`), "green"),
		chromedp.Submit(css(`#indicator-form input[name="name"]`)),
		chromedp.WaitVisible(css(`#relgraph canvas`)),
		settle, shot("indicator"))
	if notice := get("notice", chromedp.Text(css(`.msg.notice`))); !strings.Contains(notice, "Indicator created") {
		t.Errorf("after creating an indicator the notice is %q", notice)
	}
	// A revoked indicator has no revoke button: wait for the new page.
	run("revoke indicator", chromedp.Click(css(`#revoke`)), chromedp.WaitNotPresent(css(`#revoke`)), chromedp.WaitVisible(css(`.msg.notice`)))
	if notice := get("notice", chromedp.Text(css(`.msg.notice`))); !strings.Contains(notice, "revoked") {
		t.Errorf("after revoking the notice is %q", notice)
	}
	def, err := n.Store.Collection(ctx, node.DefaultCollectionAlias)
	if err != nil {
		t.Fatal(err)
	}
	page, err := n.Store.Query(ctx, def.ID, store.Filter{Types: []string{"indicator"}, Versions: store.VersionMatch{All: true}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	versions, revoked := 0, false
	for _, r := range page.Records {
		if strings.Contains(string(r.Object.Raw), "C2 of the browser test") {
			versions++
			revoked = revoked || r.Object.Revoked
		}
	}
	if versions != 2 || !revoked {
		t.Errorf("the browser's indicator has %d versions (revoked: %v), want 2 with a revoked one", versions, revoked)
	}

	run("intel", chromedp.Navigate(ts.URL+"/intel?type=indicator"), chromedp.WaitVisible(css(`#intel-results`)), shot("intel"))
	run("attack", chromedp.Navigate(ts.URL+"/attack"), chromedp.WaitVisible(css(`.heat`)), shot("attack"))
	cells := get("attack cells", func(ctx context.Context, tg *chromedp.Target) (string, error) {
		n, err := chromedp.Evaluate[int](`document.querySelectorAll('.heat .cell').length`)(ctx, tg)
		return fmt.Sprint(n), err
	})
	if cells == "0" {
		t.Error("the ATT&CK heatmap has no technique")
	}
	run("sharing", chromedp.Navigate(ts.URL+"/sharing"), chromedp.WaitVisible(css(`main h1`)), shot("sharing"))
	run("peers", chromedp.Navigate(ts.URL+"/peers"), chromedp.WaitVisible(css(`main h1`)), shot("peers"))
	run("live", chromedp.Navigate(ts.URL+"/alerts"), chromedp.WaitVisible(css(`#live.on`)))
	run("keyboard", chromedp.KeyEvent("g"), chromedp.KeyEvent("t"), chromedp.WaitVisible(css(`.heat`)))

	mu.Lock()
	defer mu.Unlock()
	for _, u := range requests {
		if !strings.HasPrefix(u, ts.URL+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
			t.Errorf("a request left the node: %s", u)
		}
	}
	if len(requests) < 20 {
		t.Errorf("only %d requests were seen; is the network listener working?", len(requests))
	}
	for _, p := range problems {
		t.Errorf("browser reported %s", p)
	}
	if *update || os.Getenv("SHIELDWALL_UPDATE_SCREENSHOTS") == "1" {
		dir := filepath.Join("..", "..", "..", "docs", "screenshots")
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
}
