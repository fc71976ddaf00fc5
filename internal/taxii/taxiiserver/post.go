package taxiiserver

import (
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
// answer has every count, the failures and the pendings, but not the list
// of successes (optional in TAXII 2.1): an id and a version for every
// object stored, sent back over what may be a slow link for a sender that
// needs only the failures. GET status/{id} gives the whole resource.
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
			if !results[i].Added {
				item.Message = "already present"
			}
			st.Successes[i] = item
		}
	}
	if err := s.opts.Statuses.PutStatus(r.Context(), st); err != nil {
		return fmt.Errorf("storing status %s: %w", st.ID, err)
	}
	res := statusResource(st)
	res.Successes = nil
	return s.writeJSON(w, http.StatusAccepted, res)
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
