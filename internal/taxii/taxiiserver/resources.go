package taxiiserver

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/shieldwall/shieldwall/internal/auth"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/taxii"
)

// discovery answers GET /taxii2/.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	root := s.baseURL(r) + APIRootPath
	return s.writeJSON(w, http.StatusOK, taxii.Discovery{
		Title:       s.opts.Title,
		Description: s.opts.Description,
		Contact:     s.opts.Contact,
		Default:     root,
		APIRoots:    []string{root},
	})
}

// apiRoot answers GET /taxii2/root/.
func (s *Server) apiRoot(w http.ResponseWriter, _ *http.Request, _ store.Token) error {
	return s.writeJSON(w, http.StatusOK, taxii.APIRoot{
		Title:            s.opts.Title,
		Description:      s.opts.Description,
		Versions:         []string{taxii.MediaType},
		MaxContentLength: s.opts.MaxContentLength,
	})
}

// status answers GET /taxii2/root/status/{status}/. A status id is a random
// UUID known only to whoever made the POST (and whom they tell), so any
// authenticated caller holding it may read it.
func (s *Server) status(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	st, err := s.opts.Statuses.Status(r.Context(), r.PathValue("status"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("no such status")
	}
	if err != nil {
		return fmt.Errorf("reading status: %w", err)
	}
	return s.writeJSON(w, http.StatusOK, statusResource(st))
}

// statusResource renders a stored status.
func statusResource(st store.Status) taxii.Status {
	details := func(items []store.StatusItem) []taxii.StatusDetail {
		if len(items) == 0 {
			return nil
		}
		out := make([]taxii.StatusDetail, len(items))
		for i, it := range items {
			out[i] = taxii.StatusDetail{ID: it.ID, Version: it.Version, Message: it.Message}
		}
		return out
	}
	return taxii.Status{
		ID:               st.ID,
		Status:           st.Status,
		RequestTimestamp: taxii.FormatDateAdded(st.RequestTimestamp),
		TotalCount:       st.TotalCount,
		SuccessCount:     len(st.Successes),
		Successes:        details(st.Successes),
		FailureCount:     len(st.Failures),
		Failures:         details(st.Failures),
		PendingCount:     len(st.Pendings),
		Pendings:         details(st.Pendings),
	}
}

// collections answers GET /taxii2/root/collections/ with the collections
// the caller may read or write.
func (s *Server) collections(w http.ResponseWriter, r *http.Request, caller store.Token) error {
	cs, err := s.opts.Collections.Collections(r.Context())
	if err != nil {
		return fmt.Errorf("listing collections: %w", err)
	}
	var out taxii.Collections
	for _, c := range cs {
		rights, err := auth.RightsOn(r.Context(), caller, c.ID, s.opts.Grants)
		if err != nil {
			return err
		}
		if !rights.None() {
			out.Collections = append(out.Collections, collectionResource(c, rights))
		}
	}
	return s.writeJSON(w, http.StatusOK, out)
}

// collection answers GET /taxii2/root/collections/{collection}/.
func (s *Server) collection(w http.ResponseWriter, r *http.Request, caller store.Token) error {
	c, rights, err := s.openCollection(r, caller)
	if err != nil {
		return err
	}
	return s.writeJSON(w, http.StatusOK, collectionResource(c, rights))
}

func collectionResource(c store.Collection, rights auth.Rights) taxii.Collection {
	mt := c.MediaTypes
	if len(mt) == 0 {
		mt = []string{taxii.STIXMediaType}
	}
	return taxii.Collection{
		ID:          c.ID,
		Title:       c.Title,
		Description: c.Description,
		Alias:       c.Alias,
		CanRead:     rights.Read,
		CanWrite:    rights.Write,
		MediaTypes:  mt,
	}
}

// access is what an endpoint needs to do with a collection.
type access int

const (
	needRead access = iota
	needWrite
)

// openCollection resolves the {collection} path value (id or alias) and the
// caller's rights on it. A collection the caller can neither read nor write
// is reported as not found, so that its existence does not leak.
func (s *Server) openCollection(r *http.Request, caller store.Token) (store.Collection, auth.Rights, error) {
	c, err := s.opts.Collections.Collection(r.Context(), r.PathValue("collection"))
	if errors.Is(err, store.ErrNotFound) {
		return store.Collection{}, auth.Rights{}, errNotFound("no such collection")
	}
	if err != nil {
		return store.Collection{}, auth.Rights{}, fmt.Errorf("finding collection: %w", err)
	}
	rights, err := auth.RightsOn(r.Context(), caller, c.ID, s.opts.Grants)
	if err != nil {
		return store.Collection{}, auth.Rights{}, err
	}
	if rights.None() {
		return store.Collection{}, auth.Rights{}, errNotFound("no such collection")
	}
	return c, rights, nil
}

// collectionFor opens the collection and checks the caller may do need.
func (s *Server) collectionFor(r *http.Request, caller store.Token, need access) (store.Collection, error) {
	c, rights, err := s.openCollection(r, caller)
	if err != nil {
		return store.Collection{}, err
	}
	switch {
	case need == needRead && !rights.Read:
		return store.Collection{}, errForbidden("no read access to this collection")
	case need == needWrite && !rights.Write:
		return store.Collection{}, errForbidden("no write access to this collection")
	}
	return c, nil
}
