// Package taxii holds the TAXII 2.1 wire format shared by Shieldwall's
// server (taxiiserver) and client (taxiiclient): the resources as JSON
// types, the media types, the timestamp formats and the query filters
// (ParseFilter and EncodeFilter). It does no I/O.
package taxii

import (
	"encoding/json"
	"strings"
	"time"
)

// Media types of TAXII 2.1 and STIX 2.1 content.
const (
	// MediaType is the media type of every TAXII 2.1 resource.
	MediaType = "application/taxii+json;version=2.1"
	// STIXMediaType is the media type of STIX 2.1 objects.
	STIXMediaType = "application/stix+json;version=2.1"
)

// STIXMediaTypeFor returns the STIX media type of the given spec_version
// ("2.1" gives STIXMediaType).
func STIXMediaTypeFor(specVersion string) string {
	return "application/stix+json;version=" + specVersion
}

// Discovery is the server discovery resource (GET /taxii2/).
type Discovery struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Default     string   `json:"default,omitempty"`
	APIRoots    []string `json:"api_roots,omitempty"`
}

// APIRoot describes one API root (GET {api-root}/).
type APIRoot struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
}

// Collection describes one collection as a given caller sees it.
type Collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types,omitempty"`
}

// Collections is the list of collections a caller may see.
type Collections struct {
	Collections []Collection `json:"collections,omitempty"`
}

// Envelope carries STIX objects (GET and POST of objects). Objects are kept
// as raw JSON so that neither side re-encodes them.
type Envelope struct {
	More    bool              `json:"more,omitempty"`
	Next    string            `json:"next,omitempty"`
	Objects []json.RawMessage `json:"objects,omitempty"`
}

// ManifestRecord describes one version of one object.
type ManifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type,omitempty"`
}

// Manifest lists object versions without their content. Next is a
// Shieldwall extension (TAXII 2.1 defines it only on the envelope): it
// continues the listing with the next query parameter.
type Manifest struct {
	More    bool             `json:"more,omitempty"`
	Next    string           `json:"next,omitempty"`
	Objects []ManifestRecord `json:"objects,omitempty"`
}

// Versions lists the versions of one object. Next is a Shieldwall
// extension, as on Manifest.
type Versions struct {
	More     bool     `json:"more,omitempty"`
	Next     string   `json:"next,omitempty"`
	Versions []string `json:"versions,omitempty"`
}

// Status values.
const (
	StatusPending  = "pending"
	StatusComplete = "complete"
)

// Messages of a status detail of a success. MessageHeldElsewhere marks,
// in the answer to a POST, an object the receiving node already held from
// another source than the sender (see taxiiserver.Options.Held): a
// federating sender stops relaying that creator's objects to it over this
// link (package federation).
const (
	MessageAlreadyPresent = "already present"
	MessageHeldElsewhere  = "held from elsewhere"
)

// StatusDetail names one object of a status resource.
type StatusDetail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// Status reports the outcome of one POST of objects.
type Status struct {
	ID               string         `json:"id"`
	Status           string         `json:"status"`
	RequestTimestamp string         `json:"request_timestamp,omitempty"`
	TotalCount       int            `json:"total_count"`
	SuccessCount     int            `json:"success_count"`
	Successes        []StatusDetail `json:"successes,omitempty"`
	FailureCount     int            `json:"failure_count"`
	Failures         []StatusDetail `json:"failures,omitempty"`
	PendingCount     int            `json:"pending_count"`
	Pendings         []StatusDetail `json:"pendings,omitempty"`
}

// Error is the TAXII error message. It is also a Go error, so that a client
// can return it as is.
type Error struct {
	Title           string            `json:"title"`
	Description     string            `json:"description,omitempty"`
	ErrorID         string            `json:"error_id,omitempty"`
	ErrorCode       string            `json:"error_code,omitempty"`
	HTTPStatus      string            `json:"http_status,omitempty"`
	ExternalDetails string            `json:"external_details,omitempty"`
	Details         map[string]string `json:"details,omitempty"`
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("taxii: ")
	if e.HTTPStatus != "" {
		b.WriteString(e.HTTPStatus)
		b.WriteString(" ")
	}
	b.WriteString(e.Title)
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	return b.String()
}

// DateAddedFormat renders date_added: UTC, microsecond precision, "Z", as
// TAXII 2.1 requires of that property.
const DateAddedFormat = "2006-01-02T15:04:05.000000Z"

// FormatDateAdded renders t as a TAXII date_added timestamp.
func FormatDateAdded(t time.Time) string {
	return t.UTC().Format(DateAddedFormat)
}

// FormatVersion renders an object version exactly as stored: UTC with at
// least millisecond precision (as STIX timestamps have) and as many more
// digits as needed not to lose any, so that the result can be sent back in
// match[version] and select that very version.
func FormatVersion(t time.Time) string {
	t = t.UTC()
	switch ns := t.Nanosecond(); {
	case ns%1e6 == 0:
		return t.Format("2006-01-02T15:04:05.000Z")
	case ns%1e3 == 0:
		return t.Format("2006-01-02T15:04:05.000000Z")
	default:
		return t.Format("2006-01-02T15:04:05.000000000Z")
	}
}
