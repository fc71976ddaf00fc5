package taxiiserver

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/taxii"
)

// getObjects answers GET {collection}/objects/ with an envelope.
func (s *Server) getObjects(w http.ResponseWriter, r *http.Request, caller store.Token) error {
	c, err := s.collectionFor(r, caller, needRead)
	if err != nil {
		return err
	}
	f, err := taxii.ParseFilter(r.URL.Query())
	if err != nil {
		return err
	}
	p, err := s.query(r, c, f)
	if err != nil {
		return err
	}
	s.writeEnvelope(w, p)
	return nil
}

// getObject answers GET {collection}/objects/{object}/: the envelope of one
// object's versions (the latest by default).
func (s *Server) getObject(w http.ResponseWriter, r *http.Request, caller store.Token) error {
	c, err := s.collectionFor(r, caller, needRead)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := taxii.RejectParams(q, taxii.ParamMatchID, taxii.ParamMatchType); err != nil {
		return err
	}
	f, err := taxii.ParseFilter(q)
	if err != nil {
		return err
	}
	f.IDs = []string{r.PathValue("object")}
	p, err := s.query(r, c, f)
	if err != nil {
		return err
	}
	if err := notFoundIfEmpty(p, f, "no such object, or no version matches"); err != nil {
		return err
	}
	s.writeEnvelope(w, p)
	return nil
}

// versions answers GET {collection}/objects/{object}/versions/.
func (s *Server) versions(w http.ResponseWriter, r *http.Request, caller store.Token) error {
	c, err := s.collectionFor(r, caller, needRead)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := taxii.OnlyParams(q, taxii.ParamAddedAfter, taxii.ParamLimit, taxii.ParamNext, taxii.ParamMatchSpecVersion); err != nil {
		return err
	}
	f, err := taxii.ParseFilter(q)
	if err != nil {
		return err
	}
	f.IDs = []string{r.PathValue("object")}
	f.Versions = store.VersionMatch{All: true}
	p, err := s.query(r, c, f)
	if err != nil {
		return err
	}
	if err := notFoundIfEmpty(p, f, "no such object"); err != nil {
		return err
	}
	// Pages follow date_added; within one, versions are listed in
	// ascending order as TAXII asks (an older version may have come later).
	times := make([]time.Time, len(p.Records))
	for i, rec := range p.Records {
		times[i] = rec.Version
	}
	slices.SortFunc(times, time.Time.Compare)
	out := taxii.Versions{More: p.More, Next: p.Next, Versions: make([]string, len(times))}
	for i, v := range times {
		out.Versions[i] = taxii.FormatVersion(v)
	}
	setDateAddedHeaders(w.Header(), p.Records)
	return s.writeJSON(w, http.StatusOK, out)
}

// manifest answers GET {collection}/manifest/.
func (s *Server) manifest(w http.ResponseWriter, r *http.Request, caller store.Token) error {
	c, err := s.collectionFor(r, caller, needRead)
	if err != nil {
		return err
	}
	f, err := taxii.ParseFilter(r.URL.Query())
	if err != nil {
		return err
	}
	p, err := s.query(r, c, f)
	if err != nil {
		return err
	}
	out := taxii.Manifest{More: p.More, Next: p.Next}
	if len(p.Records) > 0 {
		out.Objects = make([]taxii.ManifestRecord, len(p.Records))
	}
	for i, rec := range p.Records {
		out.Objects[i] = taxii.ManifestRecord{
			ID:        rec.Object.ID,
			DateAdded: taxii.FormatDateAdded(rec.DateAdded),
			Version:   taxii.FormatVersion(rec.Version),
			MediaType: taxii.STIXMediaTypeFor(rec.Object.SpecVersion),
		}
	}
	setDateAddedHeaders(w.Header(), p.Records)
	return s.writeJSON(w, http.StatusOK, out)
}

// deleteObject answers DELETE {collection}/objects/{object}/, removing the
// versions match[version] and match[spec_version] select (every version
// without them).
func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request, caller store.Token) error {
	c, err := s.collectionFor(r, caller, needWrite)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := taxii.OnlyParams(q, taxii.ParamMatchVersion, taxii.ParamMatchSpecVersion); err != nil {
		return err
	}
	f, err := taxii.ParseFilter(q)
	if err != nil {
		return err
	}
	id := r.PathValue("object")
	vm := f.Versions
	if len(f.SpecVersions) > 0 {
		// The store deletes by version only: find the versions that have
		// the wanted spec_version first.
		if vm, err = s.versionsWithSpec(r, c, id, f); err != nil {
			return err
		}
		if len(vm.Times) == 0 {
			return errNotFound("no version of this object matches")
		}
	}
	n, err := s.opts.Objects.Delete(r.Context(), c.ID, id, vm)
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("no such object")
	}
	if err != nil {
		return fmt.Errorf("deleting %s from %s: %w", id, c.ID, err)
	}
	if n == 0 {
		return errNotFound("no version of this object matches")
	}
	setTAXIIHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	return nil
}

// versionsWithSpec lists, as a VersionMatch of times, the versions of one
// object that f's match[version] and match[spec_version] select.
func (s *Server) versionsWithSpec(r *http.Request, c store.Collection, id string, f store.Filter) (store.VersionMatch, error) {
	qf := store.Filter{IDs: []string{id}, SpecVersions: f.SpecVersions, Versions: f.Versions, Limit: s.opts.MaxPageSize}
	if isZeroVersions(qf.Versions) {
		qf.Versions.All = true // DELETE without match[version] means every version
	}
	var vm store.VersionMatch
	for {
		p, err := s.opts.Objects.Query(r.Context(), c.ID, qf)
		if err != nil {
			return store.VersionMatch{}, fmt.Errorf("listing versions of %s in %s: %w", id, c.ID, err)
		}
		for _, rec := range p.Records {
			vm.Times = append(vm.Times, rec.Version)
		}
		if !p.More {
			return vm, nil
		}
		qf.Next = p.Next
	}
}

func isZeroVersions(vm store.VersionMatch) bool {
	return !vm.All && !vm.First && !vm.Last && len(vm.Times) == 0
}

// query runs f on collection c, capping the page size.
func (s *Server) query(r *http.Request, c store.Collection, f store.Filter) (store.Page, error) {
	if f.Limit <= 0 || f.Limit > s.opts.MaxPageSize {
		f.Limit = s.opts.MaxPageSize
	}
	p, err := s.opts.Objects.Query(r.Context(), c.ID, f)
	if err != nil {
		return store.Page{}, fmt.Errorf("querying %s: %w", c.ID, err)
	}
	return p, nil
}

// notFoundIfEmpty turns an empty page into a 404, unless the client was
// paging (added_after or next): then the end of the listing is no error.
func notFoundIfEmpty(p store.Page, f store.Filter, desc string) error {
	if len(p.Records) == 0 && f.AddedAfter.IsZero() && f.Next == "" {
		return errNotFound(desc)
	}
	return nil
}

// setDateAddedHeaders sets X-TAXII-Date-Added-First and -Last from the
// records of a page (none when it is empty).
func setDateAddedHeaders(h http.Header, recs []store.Record) {
	if len(recs) == 0 {
		return
	}
	h.Set("X-TAXII-Date-Added-First", taxii.FormatDateAdded(recs[0].DateAdded))
	h.Set("X-TAXII-Date-Added-Last", taxii.FormatDateAdded(recs[len(recs)-1].DateAdded))
}

var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

// writeEnvelope streams a page as an envelope, copying each object's stored
// JSON as is: {"more":...,"next":...,"objects":[...]}. It sets
// Content-Length, so the client knows the size up front. next is whatever
// the store gave: it may be set on the last page too, so that a client that
// has read everything can come back with it for what is added later.
func (s *Server) writeEnvelope(w http.ResponseWriter, p store.Page) {
	head := make([]byte, 0, 64+len(p.Next))
	head = append(head, `{"more":`...)
	head = strconv.AppendBool(head, p.More)
	if p.Next != "" {
		next, _ := json.Marshal(p.Next) // a string always marshals
		head = append(head, `,"next":`...)
		head = append(head, next...)
	}
	size := len(head) + len("}\n")
	if len(p.Records) > 0 {
		size += len(`,"objects":[]`) + len(p.Records) - 1
		for _, rec := range p.Records {
			size += len(rec.Object.Raw)
		}
	}
	h := w.Header()
	setTAXIIHeaders(h)
	setDateAddedHeaders(h, p.Records)
	h.Set("Content-Length", strconv.Itoa(size))
	w.WriteHeader(http.StatusOK)

	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(w)
	defer func() {
		bw.Reset(nil)
		writerPool.Put(bw)
	}()
	bw.Write(head)
	if len(p.Records) > 0 {
		bw.WriteString(`,"objects":[`)
		for i, rec := range p.Records {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.Write(rec.Object.Raw)
		}
		bw.WriteByte(']')
	}
	bw.WriteString("}\n")
	if err := bw.Flush(); err != nil {
		s.log.Debug("writing envelope", "err", err) // the client went away
	}
}
