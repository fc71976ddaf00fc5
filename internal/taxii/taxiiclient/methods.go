package taxiiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/taxii"
)

// Query is the filtering and paging of a request: added_after, limit,
// next and match[id|type|version|spec_version], encoded with
// taxii.EncodeFilter exactly as the server's taxii.ParseFilter reads them.
type Query = store.Filter

// Headers of the date_added range of a page.
const (
	HeaderDateAddedFirst = "X-TAXII-Date-Added-First"
	HeaderDateAddedLast  = "X-TAXII-Date-Added-Last"
)

// Added is the date_added range of a page, from the X-TAXII-Date-Added-*
// headers; a time is zero when its header is absent or malformed.
type Added struct {
	First, Last time.Time
}

// Page is one envelope of objects with its date_added range.
type Page struct {
	taxii.Envelope
	Added
}

// ManifestPage is one page of a manifest with its date_added range.
type ManifestPage struct {
	taxii.Manifest
	Added
}

// VersionsPage is one page of an object's versions with its date_added
// range.
type VersionsPage struct {
	taxii.Versions
	Added
}

// Discovery returns the server's discovery resource.
func (c *Client) Discovery(ctx context.Context) (taxii.Discovery, error) {
	var d taxii.Discovery
	_, err := c.getJSON(ctx, c.discovery, &d)
	return d, err
}

// APIRoot returns the API root's description.
func (c *Client) APIRoot(ctx context.Context) (taxii.APIRoot, error) {
	var r taxii.APIRoot
	_, err := c.getJSON(ctx, c.root, &r)
	return r, err
}

// Collections lists the collections the caller may read or write.
func (c *Client) Collections(ctx context.Context) ([]taxii.Collection, error) {
	u, err := c.url(nil, "collections")
	if err != nil {
		return nil, err
	}
	var cs taxii.Collections
	if _, err := c.getJSON(ctx, u, &cs); err != nil {
		return nil, err
	}
	return cs.Collections, nil
}

// Collection describes one collection (by id, or alias on servers that
// take one).
func (c *Client) Collection(ctx context.Context, coll string) (taxii.Collection, error) {
	var out taxii.Collection
	u, err := c.url(nil, "collections", coll)
	if err != nil {
		return out, err
	}
	_, err = c.getJSON(ctx, u, &out)
	return out, err
}

// Objects returns one page of a collection's objects matching q.
func (c *Client) Objects(ctx context.Context, coll string, q Query) (Page, error) {
	u, err := c.url(taxii.EncodeFilter(q), "collections", coll, "objects")
	if err != nil {
		return Page{}, err
	}
	var p Page
	h, err := c.getJSON(ctx, u, &p.Envelope)
	p.Added = parseAdded(h)
	return p, err
}

// Pages walks every page of a collection's objects matching q, from
// q.Next or q.AddedAfter on. After each page with more to come it asks for
// the next with the server's next or, when the server gives none, with
// added_after set to the page's X-TAXII-Date-Added-Last. An error ends the
// walk after being yielded; so does a server that gives no way to go on or
// makes no progress.
func (c *Client) Pages(ctx context.Context, coll string, q Query) iter.Seq2[Page, error] {
	return func(yield func(Page, error) bool) {
		for {
			p, err := c.Objects(ctx, coll, q)
			if err != nil {
				yield(Page{}, err)
				return
			}
			if !yield(p, nil) || !p.More {
				return
			}
			switch {
			case p.Next != "":
				if p.Next == q.Next {
					yield(Page{}, fmt.Errorf("taxiiclient: paging %s: the server gave the same next %q again", coll, p.Next))
					return
				}
				q.Next = p.Next
			case !p.Last.IsZero() && p.Last.After(q.AddedAfter):
				q.Next, q.AddedAfter = "", p.Last
			default:
				yield(Page{}, fmt.Errorf("taxiiclient: paging %s: more objects, but neither next nor a later %s", coll, HeaderDateAddedLast))
				return
			}
		}
	}
}

// Object returns the versions of one object that q selects (the latest by
// default; q may set AddedAfter, Limit, Next, Versions and SpecVersions).
func (c *Client) Object(ctx context.Context, coll, id string, q Query) (Page, error) {
	u, err := c.url(taxii.EncodeFilter(q), "collections", coll, "objects", id)
	if err != nil {
		return Page{}, err
	}
	var p Page
	h, err := c.getJSON(ctx, u, &p.Envelope)
	p.Added = parseAdded(h)
	return p, err
}

// Versions lists the versions of one object (q may set AddedAfter, Limit,
// Next and SpecVersions).
func (c *Client) Versions(ctx context.Context, coll, id string, q Query) (VersionsPage, error) {
	u, err := c.url(taxii.EncodeFilter(q), "collections", coll, "objects", id, "versions")
	if err != nil {
		return VersionsPage{}, err
	}
	var p VersionsPage
	h, err := c.getJSON(ctx, u, &p.Versions)
	p.Added = parseAdded(h)
	return p, err
}

// Manifest returns one page of a collection's manifest.
func (c *Client) Manifest(ctx context.Context, coll string, q Query) (ManifestPage, error) {
	u, err := c.url(taxii.EncodeFilter(q), "collections", coll, "manifest")
	if err != nil {
		return ManifestPage{}, err
	}
	var p ManifestPage
	h, err := c.getJSON(ctx, u, &p.Manifest)
	p.Added = parseAdded(h)
	return p, err
}

// Add posts objects (raw STIX JSON) to a collection in one envelope and
// returns the status the server answers with. The request is retried like
// a GET: TAXII adds are idempotent on id and version. Objects the server
// refuses are failures of the status, not an error.
func (c *Client) Add(ctx context.Context, coll string, objects []json.RawMessage) (taxii.Status, error) {
	if len(objects) == 0 {
		return taxii.Status{}, errors.New("taxiiclient: Add: no objects")
	}
	u, err := c.url(nil, "collections", coll, "objects")
	if err != nil {
		return taxii.Status{}, err
	}
	body, err := json.Marshal(taxii.Envelope{Objects: objects})
	if err != nil {
		return taxii.Status{}, fmt.Errorf("taxiiclient: Add: encoding envelope: %w", err)
	}
	rep, err := c.call(ctx, http.MethodPost, u, body, http.StatusAccepted)
	if err != nil {
		return taxii.Status{}, err
	}
	var st taxii.Status
	if err := decode(rep, u, &st); err != nil {
		return taxii.Status{}, err
	}
	return st, nil
}

// Status returns the status resource of an earlier Add.
func (c *Client) Status(ctx context.Context, id string) (taxii.Status, error) {
	var st taxii.Status
	u, err := c.url(nil, "status", id)
	if err != nil {
		return st, err
	}
	_, err = c.getJSON(ctx, u, &st)
	return st, err
}

// Delete removes the versions of an object that q.Versions and
// q.SpecVersions select (every version when both are empty).
func (c *Client) Delete(ctx context.Context, coll, id string, q Query) error {
	f := Query{Versions: q.Versions, SpecVersions: q.SpecVersions}
	u, err := c.url(taxii.EncodeFilter(f), "collections", coll, "objects", id)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, http.MethodDelete, u, nil, http.StatusOK)
	return err
}

// getJSON GETs u, expecting 200, decodes the body into v and returns the
// response headers.
func (c *Client) getJSON(ctx context.Context, u *url.URL, v any) (http.Header, error) {
	rep, err := c.call(ctx, http.MethodGet, u, nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	return rep.header, decode(rep, u, v)
}

func decode(rep reply, u *url.URL, v any) error {
	if err := json.Unmarshal(rep.body, v); err != nil {
		return fmt.Errorf("taxiiclient: decoding %s: %w", u.Redacted(), err)
	}
	return nil
}

// url returns the API root's URL of the given path segments (with a
// trailing "/", as TAXII wants) and query. A segment that is empty, a dot
// segment or holds '/', '?' or '#' is refused rather than let it reach
// another resource.
func (c *Client) url(q url.Values, segs ...string) (*url.URL, error) {
	for _, s := range segs {
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/?#") {
			return nil, fmt.Errorf("taxiiclient: bad path segment %q", s)
		}
	}
	u := *c.root
	u.Path = c.root.Path + strings.Join(segs, "/") + "/"
	u.RawPath = ""
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return &u, nil
}

// parseAdded reads the X-TAXII-Date-Added-* headers.
func parseAdded(h http.Header) Added {
	return Added{First: headerTime(h, HeaderDateAddedFirst), Last: headerTime(h, HeaderDateAddedLast)}
}

func headerTime(h http.Header, name string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, h.Get(name))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
