package taxiiserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/taxii"
)

// httpError is a failure with the HTTP status and the words to tell the
// client. title and desc are shown; err, the cause, is only logged.
type httpError struct {
	status int
	title  string
	desc   string
	allow  string // for 405
	err    error
}

func (e *httpError) Error() string {
	msg := strconv.Itoa(e.status) + " " + e.title
	if e.desc != "" {
		msg += ": " + e.desc
	}
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *httpError) Unwrap() error { return e.err }

func errNotFound(desc string) error {
	return &httpError{status: http.StatusNotFound, title: "Not found", desc: desc}
}

func errBadRequest(desc string, cause error) error {
	return &httpError{status: http.StatusBadRequest, title: "Bad request", desc: desc, err: cause}
}

func errForbidden(desc string) error {
	return &httpError{status: http.StatusForbidden, title: "Forbidden", desc: desc}
}

// writeError translates err into a TAXII error response; this is the one
// place where errors become HTTP statuses. Internal errors are logged and
// answered with a bare 500.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		he *httpError
		fe *taxii.FilterError
		me *http.MaxBytesError
	)
	switch {
	case errors.As(err, &he):
	case errors.As(err, &fe):
		he = &httpError{status: http.StatusBadRequest, title: "Bad filter", desc: fe.Error()}
	case errors.As(err, &me):
		he = errTooLarge(me.Limit)
	case errors.Is(err, store.ErrNotFound):
		he = &httpError{status: http.StatusNotFound, title: "Not found"}
	case errors.Is(err, store.ErrInvalid):
		// The only invalid thing a client can send the store is a cursor.
		he = &httpError{status: http.StatusBadRequest, title: "Bad request", desc: "invalid next or filter"}
	default:
		he = &httpError{status: http.StatusInternalServerError, title: "Internal error"}
	}
	if he.status >= 500 {
		s.log.ErrorContext(r.Context(), "taxii request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h := w.Header()
	setTAXIIHeaders(h)
	switch he.status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Basic realm="shieldwall", Bearer`)
	case http.StatusMethodNotAllowed:
		h.Set("Allow", he.allow)
	}
	body, _ := json.Marshal(taxii.Error{
		Title:       he.title,
		Description: he.desc,
		HTTPStatus:  strconv.Itoa(he.status),
	})
	w.WriteHeader(he.status)
	w.Write(append(body, '\n'))
}

func errTooLarge(limit int64) *httpError {
	return &httpError{status: http.StatusRequestEntityTooLarge, title: "Request too large",
		desc: "the body exceeds max_content_length (" + strconv.FormatInt(limit, 10) + " bytes)"}
}

// writeJSON sends v as a TAXII resource with the given status.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	setTAXIIHeaders(w.Header())
	w.WriteHeader(status)
	_, err = w.Write(append(body, '\n'))
	if err != nil {
		// The client went away; nothing more can be sent.
		s.log.Debug("writing response", "err", err)
	}
	return nil
}

// setTAXIIHeaders sets the headers of every TAXII response. Responses
// depend on who asks, so no shared cache may keep them.
func setTAXIIHeaders(h http.Header) {
	h.Set("Content-Type", taxii.MediaType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}
