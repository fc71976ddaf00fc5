package taxiiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/taxii"
)

// maxMessageLen bounds the failure message kept for one object.
const maxMessageLen = 1024

// postObjects answers POST {collection}/objects/: it reads the envelope
// object by object, validates each, stores the valid ones in one Put and
// answers 202 with a (complete) status resource, which it also stores. The
// answer has every count, the failures and the pendings, but of the list
// of successes (optional in TAXII 2.1) only those this node already held
// from another source (Options.Held; message taxii.MessageHeldElsewhere):
// an id and a version for every object stored would go back over what may
// be a slow link to a sender that needs only the failures and what it
// should stop relaying. GET status/{id} gives the whole resource.
func (s *Server) postObjects(w http.ResponseWriter, r *http.Request, caller store.Token) error {
	c, err := s.collectionFor(r, caller, needWrite)
	if err != nil {
		return err
	}
	if ct := r.Header.Get("Content-Type"); !isTAXIIContentType(ct) {
		return &httpError{status: http.StatusUnsupportedMediaType, title: "Unsupported media type",
			desc: fmt.Sprintf("Content-Type %q is not %s", ct, taxii.MediaType)}
	}
	limit := s.opts.MaxContentLength
	if r.ContentLength > limit {
		return errTooLarge(limit)
	}
	requested := s.opts.Now()
	in, err := readEnvelope(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return err
	}
	if in.total == 0 {
		return errBadRequest("the envelope has no objects", nil)
	}

	st := store.Status{
		ID:               uuid.NewString(),
		Status:           taxii.StatusComplete,
		RequestTimestamp: requested,
		TotalCount:       in.total,
		Failures:         in.failures,
	}
	if len(in.objects) > 0 {
		// Held is asked before the objects are stored: of two senders
		// posting the same object at once, at most one is told it was
		// held (the other's copy), never both.
		var held []bool
		if s.opts.Held != nil {
			if held, err = s.opts.Held(r.Context(), c.ID, in.objects); err != nil {
				return fmt.Errorf("looking up %d objects posted to %s: %w", len(in.objects), c.ID, err)
			}
		}
		results, err := s.opts.Objects.Put(r.Context(), c.ID, in.objects)
		if err != nil {
			return fmt.Errorf("storing %d objects in %s: %w", len(in.objects), c.ID, err)
		}
		if len(results) != len(in.objects) {
			return fmt.Errorf("storing in %s: %d results for %d objects", c.ID, len(results), len(in.objects))
		}
		st.Successes = make([]store.StatusItem, len(in.objects))
		for i, o := range in.objects {
			v := o.Version()
			if v.IsZero() {
				v = results[i].DateAdded
			}
			item := store.StatusItem{ID: o.ID, Version: taxii.FormatVersion(v)}
			switch {
			case i < len(held) && held[i]:
				item.Message = taxii.MessageHeldElsewhere
			case !results[i].Added:
				item.Message = taxii.MessageAlreadyPresent
			}
			st.Successes[i] = item
		}
	}
	if err := s.opts.Statuses.PutStatus(r.Context(), st); err != nil {
		return fmt.Errorf("storing status %s: %w", st.ID, err)
	}
	res := statusResource(st)
	res.Successes = heldElsewhere(st.Successes, in.objects)
	return s.writeJSON(w, http.StatusAccepted, res)
}

// heldElsewhere picks the successes the answer to a POST lists: of those
// held from another source, the first of each creator (created_by_ref;
// every one without). A relaying sender keeps one tree per creator and
// needs no more; the stored status has them all.
func heldElsewhere(items []store.StatusItem, objs []stix.Object) []taxii.StatusDetail {
	var out []taxii.StatusDetail
	seen := map[string]bool{}
	for i, it := range items {
		if it.Message != taxii.MessageHeldElsewhere {
			continue
		}
		if by := createdBy(objs[i].Raw); by != "" {
			if seen[by] {
				continue
			}
			seen[by] = true
		}
		out = append(out, taxii.StatusDetail{ID: it.ID, Version: it.Version, Message: it.Message})
	}
	return out
}

func createdBy(raw []byte) string {
	var m struct {
		CreatedBy string `json:"created_by_ref"`
	}
	_ = json.Unmarshal(raw, &m)
	return m.CreatedBy
}

// envelopeIn is what readEnvelope found.
type envelopeIn struct {
	total    int
	objects  []stix.Object      // valid, in order
	failures []store.StatusItem // invalid, with reasons
}

// readEnvelope reads {"objects":[...]} element by element with the same
// streaming reader as bundle imports, validating each object with
// stix.Decode; an invalid object becomes a failure, while a body that is
// not a JSON envelope at all is a 400 (413 past the size limit). Members
// other than "objects" (more, next) are skipped.
func readEnvelope(body io.Reader) (envelopeIn, error) {
	var in envelopeIn
	br := stix.NewBundleReader(body)
	for {
		raw, err := br.Next()
		if errors.Is(err, io.EOF) {
			return in, nil
		}
		var ee *stix.ElementError
		if errors.As(err, &ee) {
			in.total++
			in.failures = append(in.failures, failure(ee.Err))
			continue
		}
		if err != nil {
			return in, bodyError(err)
		}
		in.total++
		obj, _, err := stix.Decode(raw)
		if err != nil {
			in.failures = append(in.failures, failure(err))
			continue
		}
		in.objects = append(in.objects, obj)
	}
}

// bodyError turns an error reading the body into a 413 when the size limit
// was hit, else a 400 telling what is wrong with the JSON.
func bodyError(err error) error {
	var me *http.MaxBytesError
	if errors.As(err, &me) {
		return errTooLarge(me.Limit)
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return errBadRequest("the body is not a JSON envelope: "+err.Error(), err)
}

// failure describes an object stix.Decode refused.
func failure(err error) store.StatusItem {
	item := store.StatusItem{Message: err.Error()}
	var ie *stix.InvalidError
	if errors.As(err, &ie) {
		item.ID = ie.ID
	}
	if len(item.Message) > maxMessageLen {
		item.Message = strings.ToValidUTF8(item.Message[:maxMessageLen-3], "") + "..."
	}
	return item
}
