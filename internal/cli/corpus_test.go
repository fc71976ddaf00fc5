package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/shieldwall/shieldwall/internal/node"
	"github.com/shieldwall/shieldwall/internal/stix"
)

const corpora = "../../../shared/corpora"

func needCorpora(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(corpora); err != nil {
		t.Skipf("shared corpora not found at %s (run from a checkout next to shared/): %v", corpora, err)
	}
}

// run runs the CLI and returns stdout; it fails the test on a non-zero exit.
func run(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Run(context.Background(), args, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("shieldwall %s: exit %d\nstderr:\n%s", strings.Join(args, " "), code, tail(errb.String(), 4000))
	}
	return out.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// serveNode serves the node of data directory dir over loopback HTTP until
// the test ends.
func serveNode(t *testing.T, dir string) *httptest.Server {
	t.Helper()
	n, err := node.Open(t.Context(), node.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	h, err := n.Handler(node.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// taxiiClient reads a node's TAXII API with a token.
type taxiiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c *taxiiClient) get(path string, q url.Values) (*http.Response, []byte) {
	c.t.Helper()
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		c.t.Fatal(err)
	}
	return resp, buf.Bytes()
}

// allObjects pages through every version of every object of a collection.
func (c *taxiiClient) allObjects(collection string) []json.RawMessage {
	c.t.Helper()
	var out []json.RawMessage
	q := url.Values{"match[version]": {"all"}, "limit": {"5000"}}
	for {
		resp, body := c.get("/taxii2/root/collections/"+collection+"/objects/", q)
		if resp.StatusCode != 200 {
			c.t.Fatalf("GET objects: %d %s", resp.StatusCode, tail(string(body), 500))
		}
		var env struct {
			More    bool              `json:"more"`
			Next    string            `json:"next"`
			Objects []json.RawMessage `json:"objects"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			c.t.Fatalf("envelope: %v", err)
		}
		out = append(out, env.Objects...)
		if !env.More {
			return out
		}
		q.Set("next", env.Next)
	}
}

// versionKey identifies one version of one object.
func versionKey(raw []byte) string {
	var h struct{ ID, Modified, Created string }
	_ = json.Unmarshal(raw, &h)
	return h.ID + "|" + h.Modified + "|" + h.Created
}

// readBundle returns the objects of a bundle file (or the one object of a
// file that holds one) as raw JSON.
func readBundle(t *testing.T, path string) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if bundle.Type != "bundle" && bundle.Objects == nil {
		return []json.RawMessage{b} // a file holding one object
	}
	return bundle.Objects
}

// schemas compiles the OASIS STIX 2.1 JSON schemas, one per object type.
type schemas struct {
	byType map[string]*jsonschema.Schema
	core   *jsonschema.Schema
}

func loadSchemas(t *testing.T) *schemas {
	t.Helper()
	root := filepath.Join(corpora, "stix/oasis-json-schemas/schemas")
	c := jsonschema.NewCompiler()
	ids := map[string]string{} // type → $id
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, doc); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		ids[strings.TrimSuffix(filepath.Base(p), ".json")] = id
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &schemas{byType: map[string]*jsonschema.Schema{}}
	for typ, id := range ids {
		sch, err := c.Compile(id)
		if err != nil {
			t.Fatalf("compile %s: %v", id, err)
		}
		s.byType[typ] = sch
	}
	s.core = s.byType["core"]
	return s
}

// validate checks one object against the schema of its type (core for
// custom types).
func (s *schemas) validate(raw []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	typ, _ := v.(map[string]any)["type"].(string)
	sch, ok := s.byType[typ]
	if !ok || typ == "core" || typ == "bundle" {
		sch = s.core
	}
	return sch.Validate(v)
}

// TestCorpusRoundTrip imports every STIX file of the shared corpora with
// `shieldwall intel import`, reads everything back through TAXII, and checks
// that each object equals what went in (as a JSON value) and that the OASIS
// JSON schemas accept what the server returns.
func TestCorpusRoundTrip(t *testing.T) {
	needCorpora(t)
	files, _ := filepath.Glob(filepath.Join(corpora, "stix/oasis-examples/*.json"))
	for _, g := range []string{"stix/oasis-json-schemas/examples/*.json", "stix/oasis-json-schemas/examples/*/*.json"} {
		m, _ := filepath.Glob(filepath.Join(corpora, g))
		files = append(files, m...)
	}
	files = append(files, filepath.Join(corpora, "stix/attack/mobile-attack-17.1.json"))
	if !testing.Short() {
		files = append(files, filepath.Join(corpora, "stix/attack/enterprise-attack-2.1-rebuilt.json"))
	}
	dir := t.TempDir()
	token := strings.TrimSpace(run(t, "token", "create", "--data", dir, "--name", "root", "--role", "admin"))
	sch := loadSchemas(t)

	for _, f := range files {
		alias := filepath.Base(filepath.Dir(f)) + "-" + strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(alias, func(t *testing.T) {
			run(t, "collection", "create", "--data", dir, "--title", alias, "--alias", alias)
			run(t, "intel", "import", "--data", dir, "--collection", alias, "--format", "stix", f)

			srv := serveNode(t, dir)
			c := &taxiiClient{t: t, base: srv.URL, token: token}

			want := map[string]json.RawMessage{}
			for _, o := range readBundle(t, f) {
				want[versionKey(o)] = o
			}
			got := map[string]json.RawMessage{}
			for _, o := range c.allObjects(alias) {
				got[versionKey(o)] = o
			}
			if len(got) != len(want) {
				t.Errorf("served %d object versions, imported %d", len(got), len(want))
			}
			bad := 0
			keys := make([]string, 0, len(want))
			for k := range want {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				g, ok := got[k]
				if !ok {
					t.Errorf("%s: not served", k)
					continue
				}
				var wv, gv any
				_ = json.Unmarshal(want[k], &wv)
				_ = json.Unmarshal(g, &gv)
				if d := cmp.Diff(wv, gv); d != "" {
					bad++
					if bad < 5 {
						t.Errorf("%s changed (-in +out):\n%s", k, d)
					}
				}
				if err := sch.validate(g); err != nil {
					bad++
					if bad < 5 {
						t.Errorf("%s: OASIS schema refuses what the server returns: %v", k, err)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d problems in %s", bad, f)
			}
		})
	}
}

// TestMISPEventsImport imports every real MISP event of the corpora and
// checks that nothing is rejected and the schemas accept every object served.
func TestMISPEventsImport(t *testing.T) {
	needCorpora(t)
	files, _ := filepath.Glob(filepath.Join(corpora, "misp/events/*.json"))
	if len(files) == 0 {
		t.Skip("no MISP events in the corpora")
	}
	dir := t.TempDir()
	token := strings.TrimSpace(run(t, "token", "create", "--data", dir, "--name", "root", "--role", "admin"))
	out := run(t, append([]string{"intel", "import", "--data", dir, "--format", "misp"}, files...)...)
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var rep struct {
			Source   string
			Read     int
			Stored   int
			Rejected int
		}
		if err := dec.Decode(&rep); err != nil {
			t.Fatal(err)
		}
		if rep.Read == 0 || rep.Rejected != 0 {
			t.Errorf("%s: read %d, rejected %d", rep.Source, rep.Read, rep.Rejected)
		}
	}
	srv := serveNode(t, dir)
	c := &taxiiClient{t: t, base: srv.URL, token: token}
	sch := loadSchemas(t)
	objs := c.allObjects(node.DefaultCollectionAlias)
	if len(objs) == 0 {
		t.Fatal("no objects served after importing MISP events")
	}
	types := map[string]int{}
	for _, o := range objs {
		obj, _, err := stix.Decode(o)
		if err != nil {
			t.Errorf("served object does not validate: %v", err)
			continue
		}
		types[obj.Type]++
		if err := sch.validate(o); err != nil {
			t.Errorf("%s: OASIS schema refuses it: %v", obj.ID, err)
		}
	}
	for _, typ := range []string{"report", "indicator", "identity"} {
		if types[typ] == 0 {
			t.Errorf("no %s among the served objects (types: %v)", typ, types)
		}
	}
}
