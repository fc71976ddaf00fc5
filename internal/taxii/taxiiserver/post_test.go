package taxiiserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/taxii"
)

func TestPostMixed(t *testing.T) {
	f := newFixture(t)
	noPattern := strings.Replace(indicator(11, 1), `"pattern":"[ipv4-addr:value = '10.0.0.11']",`, "", 1)
	if noPattern == indicator(11, 1) {
		t.Fatal("test object did not change")
	}
	badID := `{"type":"malware","spec_version":"2.1","id":"malware--not-a-uuid","created":"2025-01-01T00:00:00.000Z",` +
		`"modified":"2025-01-01T00:00:00.000Z","name":"x","is_family":true}`
	body := `{"more":false,"objects":[` + strings.Join([]string{
		indicator(10, 1), noPattern, malware(10, 2), `42`, badID, indicator(10, 1), `{"type":"indicator"}`,
	}, ",") + `]}`

	var st taxii.Status
	f.ok(req{method: http.MethodPost, path: objectsPath("shared"), body: body}, http.StatusAccepted, &st)
	if st.Status != taxii.StatusComplete || st.TotalCount != 7 || st.SuccessCount != 3 || st.FailureCount != 4 || st.PendingCount != 0 {
		t.Fatalf("status counts = %+v, want complete 7 = 3 + 4 + 0", st)
	}
	wantSuccess := []taxii.StatusDetail{
		{ID: indID(10), Version: stamp(1)},
		{ID: malID(10), Version: stamp(2)},
		{ID: indID(10), Version: stamp(1), Message: "already present"},
	}
	if st.Successes != nil {
		t.Errorf("the answer lists successes %+v; want only their count (GET status/{id} lists them)", st.Successes)
	}
	wantFailure := []struct{ id, reason string }{
		{indID(11), "pattern"},
		{"", "JSON"},
		{"malware--not-a-uuid", "UUID"},
		{"", "id"},
	}
	for i, w := range wantFailure {
		if i >= len(st.Failures) {
			break
		}
		got := st.Failures[i]
		if got.ID != w.id || !strings.Contains(got.Message, w.reason) {
			t.Errorf("failure %d = %+v, want id %q and a message about %q", i, got, w.id, w.reason)
		}
	}
	if !dateAddedRE.MatchString(st.RequestTimestamp) {
		t.Errorf("request_timestamp %q is not RFC 3339 with microseconds", st.RequestTimestamp)
	}

	// The status can be read back, by anyone authenticated, with the
	// successes.
	var again taxii.Status
	f.ok(req{path: "/taxii2/root/status/" + st.ID + "/", token: tokRita}, http.StatusOK, &again)
	if diff := cmp.Diff(wantSuccess, again.Successes); diff != "" {
		t.Errorf("successes mismatch (-want +got):\n%s", diff)
	}
	again.Successes = nil
	if diff := cmp.Diff(st, again); diff != "" {
		t.Errorf("GET status mismatch (-posted +read):\n%s", diff)
	}

	// Only the valid objects were stored.
	f.ok(req{path: objectPath(collShared, indID(10))}, http.StatusOK, nil)
	f.ok(req{path: objectPath(collShared, malID(10))}, http.StatusOK, nil)
	for _, id := range []string{indID(11), "malware--not-a-uuid"} {
		checkError(t, "GET refused object "+id, f.do(req{path: objectPath(collShared, id)}), http.StatusNotFound)
	}

	// Posting again is idempotent: every object already present.
	var st2 taxii.Status
	f.ok(req{method: http.MethodPost, path: objectsPath(collShared), body: envelope(indicator(10, 1), malware(10, 2))}, http.StatusAccepted, &st2)
	if st2.SuccessCount != 2 || st2.ID == st.ID {
		t.Errorf("re-POST status = %+v", st2)
	}
	f.ok(req{path: "/taxii2/root/status/" + st2.ID + "/", token: tokRita}, http.StatusOK, &st2)
	if len(st2.Successes) != 2 {
		t.Errorf("re-POST status lists %d successes, want 2", len(st2.Successes))
	}
	for _, s := range st2.Successes {
		if s.Message != "already present" {
			t.Errorf("re-POST success %+v, want already present", s)
		}
	}
	var m taxii.Manifest
	f.ok(req{path: collPath(collShared) + "manifest/?match[version]=all"}, http.StatusOK, &m)
	if len(m.Objects) != 2 {
		t.Errorf("after re-POST the collection has %d records, want 2: %+v", len(m.Objects), m.Objects)
	}
}

func TestPostBadBodies(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxContentLength = 4096 })
	valid := indicator(20, 1)
	tests := []struct {
		name    string
		body    string
		chunked bool
		status  int
	}{
		{"not JSON", "hello", false, http.StatusBadRequest},
		{"truncated", `{"objects":[` + valid + `,{"type":`, false, http.StatusBadRequest},
		{"unterminated array", `{"objects":[` + valid, false, http.StatusBadRequest},
		{"array", `[` + valid + `]`, false, http.StatusBadRequest},
		{"objects not an array", `{"objects":{}}`, false, http.StatusBadRequest},
		{"objects null", `{"objects":null}`, false, http.StatusBadRequest},
		{"no objects", `{}`, false, http.StatusBadRequest},
		{"empty objects", `{"objects":[]}`, false, http.StatusBadRequest},
		{"objects twice", `{"objects":[` + valid + `],"objects":[]}`, false, http.StatusBadRequest},
		{"trailing data", envelope(valid) + ` {}`, false, http.StatusBadRequest},
		{"too large", envelope(strings.Repeat(valid+",", 30) + valid), false, http.StatusRequestEntityTooLarge},
		{"too large, chunked", envelope(strings.Repeat(valid+",", 30) + valid), true, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hr, err := http.NewRequest(http.MethodPost, f.ts.URL+objectsPath(collShared), nil)
			if err != nil {
				t.Fatal(err)
			}
			hr.Body = io.NopCloser(strings.NewReader(tt.body))
			hr.ContentLength = int64(len(tt.body))
			if tt.chunked {
				hr.ContentLength = -1 // unknown: sent chunked, only MaxBytesReader stops it
			}
			hr.Header.Set("Content-Type", taxii.MediaType)
			hr.Header.Set("Authorization", "Bearer "+f.secrets[tokAdmin])
			resp, err := f.ts.Client().Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			checkError(t, "POST "+tt.name, response{status: resp.StatusCode, header: resp.Header, body: b}, tt.status)
			// Nothing was stored, and the server still serves.
			checkError(t, "GET "+indID(20)+" after "+tt.name, f.do(req{path: objectPath(collShared, indID(20))}), http.StatusNotFound)
		})
	}
	f.post(collShared, valid)
	if strings.Contains(f.logs.String(), "level=ERROR") {
		t.Errorf("client errors were logged as internal errors:\n%s", f.logs)
	}
}

// failingObjects makes every Query and Put fail, to check that internal
// errors become bare 500s and are logged, not sent.
type failingObjects struct{ store.Objects }

var errDisk = errors.New("disk failure at /var/lib/shieldwall/secret-path")

func (failingObjects) Query(context.Context, string, store.Filter) (store.Page, error) {
	return store.Page{}, errDisk
}

func (failingObjects) Put(context.Context, string, []stix.Object) ([]store.PutResult, error) {
	return nil, errDisk
}

func TestInternalErrors(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Objects = failingObjects{o.Objects} })
	for _, r := range []req{
		{path: objectsPath(collShared)},
		{path: collPath(collShared) + "manifest/"},
		{method: http.MethodPost, path: objectsPath(collShared), body: envelope(indicator(1, 1))},
	} {
		resp := f.do(r)
		e := checkError(t, r.method+" "+r.path+" with failing store", resp, http.StatusInternalServerError)
		if strings.Contains(string(resp.body), "secret-path") || e.Description != "" {
			t.Errorf("500 body leaks internals: %s", resp.body)
		}
	}
	if !strings.Contains(f.logs.String(), "secret-path") {
		t.Errorf("internal error not logged; log:\n%s", f.logs)
	}
	f.ok(req{path: "/taxii2/root/"}, http.StatusOK, nil)
}

func TestStatusOfUnknownAndCollectionFilters(t *testing.T) {
	f := newFixture(t)
	checkError(t, "unknown status", f.do(req{path: "/taxii2/root/status/" + uuidN(5) + "/"}), http.StatusNotFound)
	for _, q := range []string{"added_after=yesterday", "limit=0", "limit=x", "next=&limit=1", "match[id]=,", "match[type]=A",
		"match[version]=latest", "match[spec_version]=two", "match[foo]=1", "next=not-a-cursor"} {
		for _, p := range []string{objectsPath(collShared), collPath(collShared) + "manifest/"} {
			checkError(t, "GET "+p+"?"+q, f.do(req{path: p + "?" + q}), http.StatusBadRequest)
		}
	}
	var env envelopeOut
	f.ok(req{path: objectsPath(collShared)}, http.StatusOK, &env)
	if diff := cmp.Diff(envelopeOut{}, env, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("empty collection envelope mismatch:\n%s", diff)
	}
}

// TestPostHeldElsewhere: with Options.Held, the answer to a POST lists the
// objects the node already held from another source (and only those), and
// the stored status keeps every success.
func TestPostHeldElsewhere(t *testing.T) {
	var asked []string
	f := newFixture(t, func(o *Options) {
		o.Held = func(_ context.Context, coll string, objs []stix.Object) ([]bool, error) {
			asked = append(asked, coll)
			out := make([]bool, len(objs))
			for i, o := range objs {
				out[i] = o.ID == indID(21)
			}
			return out, nil
		}
	})
	var st taxii.Status
	f.ok(req{method: http.MethodPost, path: objectsPath("shared"), body: envelope(indicator(20, 1), indicator(21, 1))}, http.StatusAccepted, &st)
	want := []taxii.StatusDetail{{ID: indID(21), Version: stamp(1), Message: taxii.MessageHeldElsewhere}}
	if diff := cmp.Diff(want, st.Successes); diff != "" || st.SuccessCount != 2 {
		t.Errorf("answer successes (count %d) mismatch (-want +got):\n%s", st.SuccessCount, diff)
	}
	if len(asked) != 1 || asked[0] != collShared {
		t.Errorf("Held asked for collections %v, want [%s]", asked, collShared)
	}
	var full taxii.Status
	f.ok(req{path: "/taxii2/root/status/" + st.ID + "/", token: tokRita}, http.StatusOK, &full)
	wantFull := []taxii.StatusDetail{{ID: indID(20), Version: stamp(1)}, want[0]}
	if diff := cmp.Diff(wantFull, full.Successes); diff != "" {
		t.Errorf("stored successes mismatch (-want +got):\n%s", diff)
	}
}

func TestPostHeldFails(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Held = func(context.Context, string, []stix.Object) ([]bool, error) { return nil, errors.New("store down") }
	})
	checkError(t, "POST with a failing Held", f.do(req{method: http.MethodPost, path: objectsPath("shared"), body: envelope(indicator(22, 1))}), http.StatusInternalServerError)
}
