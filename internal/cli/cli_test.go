package cli

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// result is what one in-process run of the CLI did.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the CLI in-process, whatever its exit status.
func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(t.Context(), args, strings.NewReader(""), &out, &errb)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// mustRunCLI runs the CLI and fails the test unless it exits with want.
func mustRunCLI(t *testing.T, want int, args ...string) result {
	t.Helper()
	r := runCLI(t, args...)
	if r.code != want {
		t.Fatalf("shieldwall %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), r.code, want, tail(r.stdout, 2000), tail(r.stderr, 2000))
	}
	return r
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tokenRE is the whole stdout of `token create`: one secret, one newline.
var tokenRE = regexp.MustCompile(`^swt_[A-Za-z0-9_-]{43}\n$`)

func TestTokenCreate(t *testing.T) {
	dir := t.TempDir()
	mustRunCLI(t, 0, "collection", "create", "--data", dir, "--title", "Private", "--alias", "private")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string // substring of stderr when the command fails
	}{
		{"admin", []string{"--name", "root", "--role", "admin"}, 0, ""},
		{"analyst", []string{"--name", "ana", "--role", "analyst"}, 0, ""},
		{"reader by default", []string{"--name", "rita"}, 0, ""},
		{"with grants", []string{"--name", "bob", "--role", "analyst", "--grant", "private=rw", "--grant", "default=r"}, 0, ""},
		{"duplicate name", []string{"--name", "root", "--role", "reader"}, 1, `a token named "root" exists already`},
		{"duplicate name other role", []string{"--name", "ana", "--role", "admin"}, 1, "exists already"},
		{"bad role", []string{"--name", "eve", "--role", "superuser"}, 1, `unknown role "superuser"`},
		{"empty role", []string{"--name", "eve2", "--role", ""}, 1, "unknown role"},
		{"empty name", []string{"--name", "", "--role", "admin"}, 1, "name"},
		{"grant on unknown collection", []string{"--name", "gus", "--grant", "nope=r"}, 1, `collection "nope"`},
		{"grant without rights", []string{"--name", "gus", "--grant", "private"}, 2, "COLLECTION=r"},
		{"grant with bad rights", []string{"--name", "gus", "--grant", "private=x"}, 2, `rights "x"`},
		{"missing name", []string{"--role", "admin"}, 2, `"name"`},
		{"extra argument", []string{"--name", "gus", "extra"}, 2, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"token", "create", "--data", dir}, tt.args...)
			r := runCLI(t, args...)
			if r.code != tt.wantCode {
				t.Fatalf("shieldwall %s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), r.code, tt.wantCode, r.stderr)
			}
			if tt.wantCode == 0 {
				if !tokenRE.MatchString(r.stdout) {
					t.Errorf("token create stdout = %q, want only the token (swt_ and 43 base64url characters) and a newline", r.stdout)
				}
				return
			}
			if r.stdout != "" {
				t.Errorf("failed token create printed %q on stdout, want nothing", r.stdout)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tt.wantStderr)
			}
		})
	}
	// A refused --grant must not leave a token behind: "gus" is still free.
	r := mustRunCLI(t, 0, "token", "create", "--data", dir, "--name", "gus")
	if !tokenRE.MatchString(r.stdout) {
		t.Errorf("token create stdout = %q", r.stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bundle := writeFile(t, dir, "b.json", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[]}`)
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"bogus"}, 2},
		{[]string{"--bogus"}, 2},
		{[]string{"token", "bogus"}, 2},
		{[]string{"collection", "bogus"}, 2},
		{[]string{"intel", "bogus"}, 2},
		{[]string{"token", "create", "--data", dir, "--name", "x", "--bogus"}, 2},
		{[]string{"token", "create", "--name", "x"}, 2}, // --data required
		{[]string{"collection", "list", "--data", dir, "extra"}, 2},
		{[]string{"collection", "create", "--data", dir}, 2}, // --title required
		{[]string{"collection", "create", "--data", dir, "--title", " "}, 2},
		{[]string{"collection", "create", "--data", dir, "--title", "T", "--grant", "bob=maybe"}, 2},
		{[]string{"collection", "grant", "--data", dir, "--collection", "default", "--principal", "bob"}, 2},
		{[]string{"collection", "grant", "--data", dir, "--collection", "default", "--principal", "bob", "--rights", "all"}, 2},
		{[]string{"intel", "import", "--data", dir}, 2}, // no file
		{[]string{"intel", "import", "--data", dir, "--format", "xml", bundle}, 2},
		{[]string{"intel", "import", "--data", dir, "--tlp", "purple", bundle}, 2},
		{[]string{"intel", "export", "--data", dir, "extra"}, 2},
		{[]string{"node", "--data", dir, "--tls-cert", "cert.pem"}, 2},
		{[]string{"node", "--data", dir, "--max-content-length", "lots"}, 2},
		// Failures that are not usage errors.
		{[]string{"intel", "import", "--data", dir, "--collection", "nope", bundle}, 1},
		{[]string{"intel", "import", "--data", dir, filepath.Join(dir, "missing.json")}, 1},
		{[]string{"intel", "export", "--data", dir, "--collection", "nope"}, 1},
		{[]string{"collection", "grant", "--data", dir, "--collection", "nope", "--principal", "bob", "--rights", "r"}, 1},
		// Help and bare groups succeed.
		{[]string{}, 0},
		{[]string{"--help"}, 0},
		{[]string{"token"}, 0},
		{[]string{"intel", "import", "--help"}, 0},
	}
	for _, tt := range tests {
		r := runCLI(t, tt.args...)
		if r.code != tt.want {
			t.Errorf("shieldwall %s: exit %d, want %d\nstderr: %s", strings.Join(tt.args, " "), r.code, tt.want, r.stderr)
		}
	}
}

// listedCollection is one line of `collection list`.
type listedCollection struct {
	ID     string `json:"id"`
	Alias  string `json:"alias"`
	Title  string `json:"title"`
	Desc   string `json:"description"`
	Grants []struct {
		Principal   string
		Read, Write bool
	} `json:"grants"`
}

func listCollections(t *testing.T, dir string) map[string]listedCollection {
	t.Helper()
	out := mustRunCLI(t, 0, "collection", "list", "--data", dir).stdout
	got := map[string]listedCollection{}
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var c listedCollection
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("collection list: %v\n%s", err, out)
		}
		got[c.Alias] = c
	}
	return got
}

// grantsOf renders a collection's grants as "principal=rw" strings, sorted.
func grantsOf(c listedCollection) []string {
	var out []string
	for _, g := range c.Grants {
		r := ""
		if g.Read {
			r += "r"
		}
		if g.Write {
			r += "w"
		}
		out = append(out, g.Principal+"="+r)
	}
	slices.Sort(out)
	return out
}

func TestCollectionRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cs := listCollections(t, dir)
	if len(cs) != 1 {
		t.Fatalf("a new data directory lists %d collections, want only default: %v", len(cs), cs)
	}
	if diff := cmp.Diff([]string{"role:analyst=rw", "role:reader=r"}, grantsOf(cs["default"])); diff != "" {
		t.Errorf("default collection grants (-want +got):\n%s", diff)
	}

	r := mustRunCLI(t, 0, "collection", "create", "--data", dir, "--title", "Partners", "--alias", "partners",
		"--description", "Shared with partners", "--grant", "bob=rw", "--grant", "role:reader=r")
	id := strings.TrimSpace(r.stdout)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$`).MatchString(r.stdout) {
		t.Errorf("collection create stdout = %q, want only a UUID", r.stdout)
	}
	mustRunCLI(t, 0, "collection", "create", "--data", dir, "--title", "Admins only")
	if r := runCLI(t, "collection", "create", "--data", dir, "--title", "Again", "--alias", "partners"); r.code != 1 {
		t.Errorf("collection create with a taken alias: exit %d, want 1", r.code)
	}

	cs = listCollections(t, dir)
	if len(cs) != 3 {
		t.Errorf("collection list has %d collections, want 3: %v", len(cs), cs)
	}
	p := cs["partners"]
	if p.ID != id || p.Title != "Partners" || p.Desc != "Shared with partners" {
		t.Errorf("listed partners = %+v, want id %s, title and description as created", p, id)
	}
	if diff := cmp.Diff([]string{"bob=rw", "role:reader=r"}, grantsOf(p)); diff != "" {
		t.Errorf("partners grants after create (-want +got):\n%s", diff)
	}
	if g := grantsOf(cs[""]); len(g) != 0 {
		t.Errorf("collection created without --grant has grants %v, want none", g)
	}

	// grant replaces a principal's rights, by alias or by id.
	mustRunCLI(t, 0, "collection", "grant", "--data", dir, "--collection", "partners", "--principal", "bob", "--rights", "r")
	mustRunCLI(t, 0, "collection", "grant", "--data", dir, "--collection", id, "--principal", "role:analyst", "--rights", "rw")
	mustRunCLI(t, 0, "collection", "grant", "--data", dir, "--collection", "partners", "--principal", "role:reader", "--rights", "none")
	want := []string{"bob=r", "role:analyst=rw", "role:reader="}
	if diff := cmp.Diff(want, grantsOf(listCollections(t, dir)["partners"])); diff != "" {
		t.Errorf("partners grants after grant (-want +got):\n%s", diff)
	}
}

// TestGrantsOverTAXII checks that the grants the CLI sets are the rights
// the TAXII server enforces.
func TestGrantsOverTAXII(t *testing.T) {
	dir := t.TempDir()
	mustRunCLI(t, 0, "collection", "create", "--data", dir, "--title", "Partners", "--alias", "partners")
	bob := strings.TrimSpace(mustRunCLI(t, 0, "token", "create", "--data", dir, "--name", "bob", "--role", "analyst", "--grant", "partners=r").stdout)
	ana := strings.TrimSpace(mustRunCLI(t, 0, "token", "create", "--data", dir, "--name", "ana", "--role", "analyst").stdout)

	srv := serveNode(t, dir)
	post := func(token, coll string) int {
		t.Helper()
		body := `{"objects":[` + testIndicator + `]}`
		req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/taxii2/root/collections/"+coll+"/objects/", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	getStatus := func(token, coll string) int {
		t.Helper()
		c := &taxiiClient{t: t, base: srv.URL, token: token}
		resp, _ := c.get("/taxii2/root/collections/"+coll+"/objects/", nil)
		return resp.StatusCode
	}
	tests := []struct {
		who, token, coll string
		wantGet          int
		wantPost         int
	}{
		{"bob", bob, "partners", 200, 403},
		{"ana", ana, "partners", 404, 404}, // no grant: the collection is hidden
		{"bob", bob, "default", 200, 202},
		{"ana", ana, "default", 200, 202},
	}
	for _, tt := range tests {
		if got := getStatus(tt.token, tt.coll); got != tt.wantGet {
			t.Errorf("GET %s objects as %s = %d, want %d", tt.coll, tt.who, got, tt.wantGet)
		}
		if got := post(tt.token, tt.coll); got != tt.wantPost {
			t.Errorf("POST %s objects as %s = %d, want %d", tt.coll, tt.who, got, tt.wantPost)
		}
	}
	// Raising bob's grant with `collection grant` lets him write.
	mustRunCLI(t, 0, "collection", "grant", "--data", dir, "--collection", "partners", "--principal", "bob", "--rights", "rw")
	if got := post(bob, "partners"); got != 202 {
		t.Errorf("POST partners objects as bob after grant rw = %d, want 202", got)
	}
}

const testIndicator = `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created_by_ref":"identity--311b2d2d-f010-4473-83ec-1edf84858f4c","created":"2024-01-02T03:04:05.000Z","modified":"2024-01-02T03:04:05.000Z","name":"bad address","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2024-01-02T03:04:05Z"}`

// validObjects are the objects of stixBundle that validate; the bundle
// adds one invalid indicator (no pattern) as its fourth object.
var validObjects = []string{
	`{"type":"identity","spec_version":"2.1","id":"identity--311b2d2d-f010-4473-83ec-1edf84858f4c","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"CERT Example","identity_class":"organization"}`,
	testIndicator,
	`{"type":"malware","spec_version":"2.1","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Poison Ivy","is_family":true,"x_acme_score":7.5}`,
	`{"type":"relationship","spec_version":"2.1","id":"relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","relationship_type":"indicates","source_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","target_ref":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}`,
}

const invalidID = "indicator--c410e480-e42b-47d1-9476-85307c12bcbf"

var invalidIndicator = `{"type":"indicator","spec_version":"2.1","id":"` + invalidID + `","created":"2024-01-02T03:04:05.000Z","modified":"2024-01-02T03:04:05.000Z","name":"no pattern","pattern_type":"stix","valid_from":"2024-01-02T03:04:05Z"}`

func stixBundle(objs ...string) string {
	return `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + "\n" + strings.Join(objs, ",\n") + "\n]}\n"
}

// importReport is the JSON report `intel import` prints per file.
type importReport struct {
	Source     string `json:"source"`
	Format     string `json:"format"`
	Read       int    `json:"read"`
	Stored     int    `json:"stored"`
	Duplicates int    `json:"duplicates"`
	Rejected   int    `json:"rejected"`
	Upgraded   int    `json:"upgraded_from_2_0"`
	Rejections []struct {
		Index  int    `json:"index"`
		ID     string `json:"id"`
		Reason string `json:"reason"`
	} `json:"rejections"`
}

// reports decodes the JSON reports on stdout of `intel import`.
func reports(t *testing.T, stdout string) []importReport {
	t.Helper()
	var out []importReport
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	for dec.More() {
		var rep struct {
			importReport
			Warnings int `json:"warnings"`
			Elapsed  int `json:"elapsed_ns"`
		}
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("import report: %v\nstdout:\n%s", err, stdout)
		}
		out = append(out, rep.importReport)
	}
	return out
}

// importOne imports one file and returns its only report.
func importOne(t *testing.T, wantCode int, args ...string) (importReport, result) {
	t.Helper()
	r := mustRunCLI(t, wantCode, append([]string{"intel", "import"}, args...)...)
	reps := reports(t, r.stdout)
	if len(reps) != 1 {
		t.Fatalf("intel import %v printed %d reports, want 1:\n%s", args, len(reps), r.stdout)
	}
	return reps[0], r
}

// exported runs `intel export` and returns the bundle's objects by id, as
// JSON values.
func exported(t *testing.T, args ...string) map[string]any {
	t.Helper()
	r := mustRunCLI(t, 0, append([]string{"intel", "export"}, args...)...)
	return bundleObjects(t, r.stdout)
}

func bundleObjects(t *testing.T, doc string) map[string]any {
	t.Helper()
	var b struct {
		Type    string           `json:"type"`
		ID      string           `json:"id"`
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal([]byte(doc), &b); err != nil {
		t.Fatalf("exported bundle: %v\n%s", err, tail(doc, 1000))
	}
	if b.Type != "bundle" || !strings.HasPrefix(b.ID, "bundle--") {
		t.Errorf("exported document has type %q id %q, want a STIX bundle", b.Type, b.ID)
	}
	out := map[string]any{}
	for _, o := range b.Objects {
		id, _ := o["id"].(string)
		if _, dup := out[id]; dup {
			t.Errorf("exported bundle holds %s twice", id)
		}
		out[id] = o
	}
	return out
}

// asValues decodes JSON objects into values keyed by id.
func asValues(t *testing.T, objs ...string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, s := range objs {
		var v map[string]any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatalf("%v: %s", err, s)
		}
		out[v["id"].(string)] = v
	}
	return out
}

// TestImportExportSTIX imports a bundle with one invalid object, checks the
// report, stderr and exit status, re-imports it, and exports it back.
func TestImportExportSTIX(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	mustRunCLI(t, 0, "collection", "create", "--data", data, "--title", "STIX", "--alias", "stix")
	objs := append(slices.Clone(validObjects[:3]), invalidIndicator, validObjects[3])
	path := writeFile(t, dir, "bundle.json", stixBundle(objs...))

	rep, r := importOne(t, 1, "--data", data, "--collection", "stix", path)
	if rep.Source != path || rep.Format != "stix" || rep.Read != 5 || rep.Stored != 4 || rep.Duplicates != 0 || rep.Rejected != 1 {
		t.Errorf("report = %+v, want stix, read 5, stored 4, rejected 1", rep)
	}
	if len(rep.Rejections) != 1 || rep.Rejections[0].Index != 3 || rep.Rejections[0].ID != invalidID || !strings.Contains(rep.Rejections[0].Reason, "pattern") {
		t.Errorf("rejections = %+v, want object 3 %s refused for its missing pattern", rep.Rejections, invalidID)
	}
	if !strings.Contains(r.stderr, path+": object 3 "+invalidID+" rejected: ") || !strings.Contains(r.stderr, "pattern") {
		t.Errorf("stderr does not give the rejection and its reason:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "read 5, stored 4, already present 0, rejected 1") {
		t.Errorf("stderr has no summary:\n%s", r.stderr)
	}
	// --quiet drops the per-object lines but not the report.
	_, rq := importOne(t, 1, "--data", data, "--collection", "stix", "--quiet", path)
	if strings.Contains(rq.stderr, invalidID) {
		t.Errorf("--quiet still lists rejected objects:\n%s", rq.stderr)
	}

	// Re-importing stores nothing new.
	rep, r = importOne(t, 1, "--data", data, "--collection", "stix", path)
	if rep.Stored != 0 || rep.Duplicates != 4 || rep.Rejected != 1 {
		t.Errorf("re-import report = %+v, want stored 0, duplicates 4, rejected 1", rep)
	}
	if !strings.Contains(r.stderr, "already present 4") {
		t.Errorf("re-import stderr does not say 'already present 4':\n%s", r.stderr)
	}

	// The export holds exactly the valid objects, unchanged as JSON values.
	want := asValues(t, validObjects...)
	if diff := cmp.Diff(want, exported(t, "--data", data, "--collection", "stix")); diff != "" {
		t.Errorf("exported objects (-imported +exported):\n%s", diff)
	}
	// Nothing went to the default collection.
	if got := exported(t, "--data", data); len(got) != 0 {
		t.Errorf("default collection holds %d objects, want none", len(got))
	}

	// --type filters, and repeats.
	for _, types := range [][]string{{"indicator"}, {"malware", "relationship"}, {"campaign"}} {
		args := []string{"--data", data, "--collection", "stix"}
		wantT := map[string]any{}
		for _, typ := range types {
			args = append(args, "--type", typ)
			for id, v := range want {
				if strings.HasPrefix(id, typ+"--") {
					wantT[id] = v
				}
			}
		}
		if diff := cmp.Diff(wantT, exported(t, args...)); diff != "" {
			t.Errorf("export --type %v (-want +got):\n%s", types, diff)
		}
	}

	// --out writes the same bundle to a file and nothing to stdout.
	out := filepath.Join(dir, "export.json")
	r = mustRunCLI(t, 0, "intel", "export", "--data", data, "--collection", "stix", "--out", out)
	if r.stdout != "" {
		t.Errorf("export --out printed %q on stdout, want nothing", r.stdout)
	}
	if !strings.Contains(r.stderr, "exported 4 objects") {
		t.Errorf("export --out stderr = %q, want the count", r.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, bundleObjects(t, string(b))); diff != "" {
		t.Errorf("export --out file (-want +got):\n%s", diff)
	}

	// The exported bundle imports back as all duplicates.
	rep, _ = importOne(t, 0, "--data", data, "--collection", "stix", out)
	if rep.Read != 4 || rep.Duplicates != 4 || rep.Stored != 0 {
		t.Errorf("re-import of the export = %+v, want 4 duplicates", rep)
	}
}

// TestExportVersions stores two versions of one object and checks that
// export gives the latest unless --all-versions.
func TestExportVersions(t *testing.T) {
	dir := t.TempDir()
	v2 := strings.Replace(strings.Replace(testIndicator, `"modified":"2024-01-02T03:04:05.000Z"`, `"modified":"2024-03-04T05:06:07.000Z"`, 1),
		`"name":"bad address"`, `"name":"bad address, confirmed"`, 1)
	mustRunCLI(t, 0, "intel", "import", "--data", dir, writeFile(t, dir, "v2.json", stixBundle(v2)))
	mustRunCLI(t, 0, "intel", "import", "--data", dir, writeFile(t, dir, "v1.json", stixBundle(testIndicator)))

	if diff := cmp.Diff(asValues(t, v2), exported(t, "--data", dir)); diff != "" {
		t.Errorf("export of the latest version (-want +got):\n%s", diff)
	}
	r := mustRunCLI(t, 0, "intel", "export", "--data", dir, "--all-versions")
	var b struct{ Objects []json.RawMessage }
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range b.Objects {
		var h struct{ Modified string }
		_ = json.Unmarshal(o, &h)
		got = append(got, h.Modified)
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{"2024-01-02T03:04:05.000Z", "2024-03-04T05:06:07.000Z"}, got); diff != "" {
		t.Errorf("export --all-versions modified times (-want +got):\n%s", diff)
	}
}

// TestImportSTIX20 imports a STIX 2.0 bundle (no spec_version on objects)
// and checks that the objects are stored upgraded to 2.1.
func TestImportSTIX20(t *testing.T) {
	dir := t.TempDir()
	const bundle = `{"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982","spec_version":"2.0","objects":[
{"type":"indicator","id":"indicator--a932fcc6-e032-476c-826f-cb970a5a1ade","created":"2014-02-20T09:16:08.989Z","modified":"2014-02-20T09:16:08.989Z","name":"File hash for Poison Ivy variant","labels":["malicious-activity"],"pattern":"[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']","valid_from":"2014-02-20T09:00:00Z"},
{"type":"malware","id":"malware--fdd60b30-b67c-41e3-b0b9-f01faf20d111","created":"2014-02-20T09:16:08.989Z","modified":"2014-02-20T09:16:08.989Z","name":"Poison Ivy","labels":["remote-access-trojan"]},
{"type":"relationship","id":"relationship--29dcdf68-1b0c-4e16-94ed-bcc7a9572f69","created":"2014-02-20T09:16:08.989Z","modified":"2014-02-20T09:16:08.989Z","relationship_type":"indicates","source_ref":"indicator--a932fcc6-e032-476c-826f-cb970a5a1ade","target_ref":"malware--fdd60b30-b67c-41e3-b0b9-f01faf20d111"}
]}`
	path := writeFile(t, dir, "stix20.json", bundle)
	rep, _ := importOne(t, 0, "--data", dir, path)
	if rep.Format != "stix" || rep.Read != 3 || rep.Stored != 3 || rep.Rejected != 0 || rep.Upgraded != 3 {
		t.Errorf("report = %+v, want stix, 3 read, stored and upgraded", rep)
	}
	got := exported(t, "--data", dir)
	if len(got) != 3 {
		t.Fatalf("exported %d objects, want 3", len(got))
	}
	for id, v := range got {
		o := v.(map[string]any)
		if o["spec_version"] != "2.1" {
			t.Errorf("%s: spec_version %v, want 2.1", id, o["spec_version"])
		}
	}
	ind := got["indicator--a932fcc6-e032-476c-826f-cb970a5a1ade"].(map[string]any)
	if ind["pattern_type"] != "stix" {
		t.Errorf("upgraded indicator has pattern_type %v, want stix", ind["pattern_type"])
	}
	if mal := got["malware--fdd60b30-b67c-41e3-b0b9-f01faf20d111"].(map[string]any); mal["is_family"] == nil {
		t.Errorf("upgraded malware has no is_family (required in 2.1): %v", mal)
	}
	// The upgrade is deterministic: a second import is all duplicates.
	rep, _ = importOne(t, 0, "--data", dir, path)
	if rep.Stored != 0 || rep.Duplicates != 3 {
		t.Errorf("re-import of the 2.0 bundle = %+v, want 3 duplicates", rep)
	}
}

// patterns returns the patterns of the exported indicators, sorted.
func patterns(objs map[string]any) []string {
	var out []string
	for _, v := range objs {
		o := v.(map[string]any)
		if o["type"] == "indicator" {
			out = append(out, o["pattern"].(string))
		}
	}
	slices.Sort(out)
	return out
}

// TestImportLists imports an IOC list and CSV files, detected by extension
// and by content, and checks the indicators they become.
func TestImportLists(t *testing.T) {
	tests := []struct {
		name, file, content string
		args                []string
		wantFormat          string
		wantCode            int
		wantRejected        int
		wantPatterns        []string
	}{
		{
			name: "ioc list", file: "list.txt",
			content:    "# C2 addresses\n198.51.100.7\nevil[.]example.com\n\nhxxp://evil.example.com/x\n44d88612fea8a8f36de82e1278abb02f\n",
			wantFormat: "ioc",
			wantPatterns: []string{
				"[domain-name:value = 'evil.example.com']",
				"[file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f']",
				"[ipv4-addr:value = '198.51.100.7']",
				"[url:value = 'http://evil.example.com/x']",
			},
		},
		{
			name: "csv by extension", file: "iocs.csv",
			content:    "value\n198.51.100.7\nevil.example.com\n",
			wantFormat: "csv",
			wantPatterns: []string{
				"[domain-name:value = 'evil.example.com']",
				"[ipv4-addr:value = '198.51.100.7']",
			},
		},
		{
			name: "csv by content", file: "export.dat",
			content:    "indicator,type,description\n198.51.100.7,ip-dst,C2 server\nevil.example.com,domain,\n198.51.100.8,domain,wrong type\n",
			wantFormat: "csv", wantCode: 1, wantRejected: 1,
			wantPatterns: []string{
				"[domain-name:value = 'evil.example.com']",
				"[ipv4-addr:value = '198.51.100.7']",
			},
		},
		{
			name: "forced format", file: "data.json", args: []string{"--format", "ioc"},
			content:    "198.51.100.7\n",
			wantFormat: "ioc",
			wantPatterns: []string{
				"[ipv4-addr:value = '198.51.100.7']",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeFile(t, dir, tt.file, tt.content)
			args := append([]string{"--data", dir}, tt.args...)
			rep, r := importOne(t, tt.wantCode, append(args, path)...)
			if rep.Format != tt.wantFormat || rep.Rejected != tt.wantRejected || rep.Stored != rep.Read-tt.wantRejected {
				t.Errorf("report = %+v, want format %s, %d rejected, the rest stored", rep, tt.wantFormat, tt.wantRejected)
			}
			if tt.wantRejected > 0 && !strings.Contains(r.stderr, "rejected: line ") {
				t.Errorf("stderr does not name the rejected line:\n%s", r.stderr)
			}
			if strings.Contains(r.stderr, "  rejected") {
				t.Errorf("rejection line has an empty id slot:\n%s", r.stderr)
			}
			if diff := cmp.Diff(tt.wantPatterns, patterns(exported(t, "--data", dir))); diff != "" {
				t.Errorf("exported patterns (-want +got):\n%s", diff)
			}
		})
	}
}

// TestImportTLP checks that --tlp marks the indicators of an IOC list.
func TestImportTLP(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "list.txt", "198.51.100.7\n")
	importOne(t, 0, "--data", dir, "--tlp", "amber", path)
	got := exported(t, "--data", dir)
	// TLP 2.0 amber (OASIS STIX 2.1 extension for TLP 2.0).
	const amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	for id, v := range got {
		o := v.(map[string]any)
		if o["type"] != "indicator" {
			continue
		}
		refs, _ := o["object_marking_refs"].([]any)
		if !slices.Contains(refs, any(amber)) {
			t.Errorf("%s: object_marking_refs %v, want TLP:AMBER %s", id, refs, amber)
		}
	}
	if _, ok := got[amber]; !ok {
		t.Errorf("the TLP:AMBER marking definition was not stored with the indicators it marks")
	}
}

// mispEvent is a small MISP event: two IDS attributes and a comment, TLP:GREEN.
const mispEvent = `{"Event":{"uuid":"5b646415-7b48-40d5-86b4-c0070acd0835","info":"Phishing wave","date":"2024-01-02",
"timestamp":"1704164645","threat_level_id":"3","analysis":"2",
"Orgc":{"name":"CERT Example","uuid":"5a68c02d-959c-4c8a-a571-0dcac0a8060a"},
"Tag":[{"name":"tlp:green"}],
"Attribute":[
{"uuid":"5b6464ca-e73c-4707-9b8a-d0350acd0835","type":"domain","category":"Network activity","to_ids":true,"value":"evil.example.com","timestamp":"1704164645","comment":"C2"},
{"uuid":"5b6464ca-e73c-4707-9b8a-d0350acd0836","type":"ip-dst","category":"Network activity","to_ids":true,"value":"198.51.100.9","timestamp":"1704164645"}
]}}`

func TestImportMISP(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "event.json", mispEvent)
	rep, _ := importOne(t, 0, "--data", dir, path)
	if rep.Format != "misp" || rep.Rejected != 0 || rep.Stored == 0 || rep.Stored != rep.Read {
		t.Errorf("report = %+v, want misp, all stored", rep)
	}
	got := exported(t, "--data", dir)
	report, ok := got["report--5b646415-7b48-40d5-86b4-c0070acd0835"].(map[string]any)
	if !ok {
		t.Fatalf("no report with the event's uuid among %d exported objects", len(got))
	}
	if report["name"] != "Phishing wave" {
		t.Errorf("report name %v, want the event info", report["name"])
	}
	refs, _ := report["object_refs"].([]any)
	for _, id := range []string{"indicator--5b6464ca-e73c-4707-9b8a-d0350acd0835", "indicator--5b6464ca-e73c-4707-9b8a-d0350acd0836"} {
		if _, ok := got[id]; !ok {
			t.Errorf("%s (from a MISP attribute) not exported", id)
		}
		if !slices.Contains(refs, any(id)) {
			t.Errorf("report object_refs %v lack %s", refs, id)
		}
	}
	if diff := cmp.Diff([]string{
		"[domain-name:value = 'evil.example.com']",
		"[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.9']",
	}, patterns(got)); diff != "" {
		t.Errorf("patterns (-want +got):\n%s", diff)
	}
	rep, _ = importOne(t, 0, "--data", dir, path)
	if rep.Stored != 0 || rep.Duplicates != rep.Read {
		t.Errorf("re-import of the event = %+v, want all duplicates", rep)
	}
}

// TestImportMISPCorpus imports one real MISP event of the shared corpora
// alongside files of other formats in one command: one report per file.
func TestImportMISPCorpus(t *testing.T) {
	event := filepath.Join(corpora, "misp/events/tests_reportlab_testfiles_sighting_1.json")
	if _, err := os.Stat(event); err != nil {
		t.Skipf("MISP corpus event not found (run from a checkout next to shared/): %v", err)
	}
	dir := t.TempDir()
	list := writeFile(t, dir, "list.txt", "198.51.100.7\n")
	bundle := writeFile(t, dir, "b.json", stixBundle(validObjects...))
	r := mustRunCLI(t, 0, "intel", "import", "--data", dir, event, list, bundle)
	reps := reports(t, r.stdout)
	var got []string
	for _, rep := range reps {
		got = append(got, rep.Format)
		if rep.Read == 0 || rep.Rejected != 0 || rep.Stored != rep.Read {
			t.Errorf("%s: report %+v, want everything stored", rep.Source, rep)
		}
	}
	if diff := cmp.Diff([]string{"misp", "ioc", "stix"}, got); diff != "" {
		t.Errorf("formats of the reports, in file order (-want +got):\n%s", diff)
	}
}

// TestImportFailedFile checks that an unreadable file fails the command but
// not the other files.
func TestImportFailedFile(t *testing.T) {
	dir := t.TempDir()
	list := writeFile(t, dir, "list.txt", "198.51.100.7\n")
	missing := filepath.Join(dir, "missing.txt")
	r := mustRunCLI(t, 1, "intel", "import", "--data", dir, missing, list)
	reps := reports(t, r.stdout)
	if len(reps) != 2 || reps[1].Stored != 1 {
		t.Errorf("reports = %+v, want two, the second with one stored", reps)
	}
	if !strings.Contains(r.stderr, missing) || !strings.Contains(r.stderr, "1 of 2 files failed") {
		t.Errorf("stderr does not report the missing file:\n%s", r.stderr)
	}
}
