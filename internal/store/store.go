// Package store declares what Shieldwall keeps and how it is asked for:
// collections of STIX objects with every version and a strictly increasing
// date_added, TAXII status resources, and access tokens. Backends live in
// sub-packages (sqlitestore, later pgstore) and all pass storetest.Run.
//
// The interfaces are small and defined by what consumers need; a consumer
// that needs only reads asks for Reader, not for the whole backend.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// Errors every backend returns (wrapped) so that callers can tell outcomes
// apart with errors.Is.
var (
	// ErrNotFound: the collection, object, status or token does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the thing being created exists already.
	ErrConflict = errors.New("already exists")
	// ErrInvalid: the request itself is malformed (a bad cursor, say).
	ErrInvalid = errors.New("invalid request")
)

// Collection is a TAXII collection as the store keeps it. Rights are not
// here: they depend on who asks, see Grant.
type Collection struct {
	ID          string // a UUID, as TAXII requires
	Alias       string // optional, unique when set
	Title       string
	Description string
	MediaTypes  []string
	Created     time.Time
}

// Record is one stored version of one object.
type Record struct {
	Object stix.Object
	// DateAdded is when this node stored this version. It is unique across the
	// whole store and strictly increasing in commit order, at microsecond
	// precision, so it doubles as a pagination key.
	DateAdded time.Time
	// Version is Object.Version(), or DateAdded for objects without one.
	Version time.Time
}

// VersionMatch selects which versions of each object a query returns; the
// zero value means the latest version only (TAXII's default).
type VersionMatch struct {
	All   bool
	First bool
	Last  bool
	// Times selects the versions with exactly these version timestamps.
	Times []time.Time
}

// Filter is a TAXII query: match[...] parameters, added_after and paging.
// Empty lists match everything.
type Filter struct {
	AddedAfter   time.Time // exclusive; zero means from the start
	IDs          []string
	Types        []string
	SpecVersions []string // empty means the newest spec_version of each version
	Versions     VersionMatch
	// Limit caps the records returned; 0 means the backend's maximum.
	Limit int
	// Next continues a previous query; it is the opaque Page.Next returned by
	// it and is valid only with the same filter.
	Next string
}

// Page is one page of a query, in date_added order.
type Page struct {
	Records []Record
	// More says whether records beyond this page match; Next then continues.
	// Next may be set when More is false: a poller can come back with it
	// later for what is added after this page.
	More bool
	Next string
}

// PutResult tells what happened to one object of a Put.
type PutResult struct {
	// Added is false when the collection already held this id and version;
	// the call is then a no-op for this object (idempotent on id and version).
	Added     bool
	DateAdded time.Time
}

// Objects stores and reads STIX objects in collections.
type Objects interface {
	// Put stores objects (already validated) in a collection in one
	// transaction and returns one result per object, in order. An object
	// without created or modified has a single version: putting its id again
	// is a no-op. It fails with ErrNotFound if the collection does not exist,
	// ErrInvalid for an object without id, type or JSON; then nothing is
	// stored.
	Put(ctx context.Context, collectionID string, objs []stix.Object) ([]PutResult, error)
	// Query returns a page of the collection's records matching f, ordered by
	// date_added. ErrNotFound: no such collection. ErrInvalid: bad f.Next.
	Query(ctx context.Context, collectionID string, f Filter) (Page, error)
	// Delete removes the versions of one object that versions selects and
	// reports how many records went. Unlike in queries, the zero VersionMatch
	// here means every version, as TAXII's DELETE without match[version].
	// ErrNotFound: no such collection, or nothing of that object in it; an
	// object that exists but has no matching version gives 0 and no error.
	Delete(ctx context.Context, collectionID, objectID string, versions VersionMatch) (int, error)
}

// Collections manages TAXII collections.
type Collections interface {
	// Collections lists every collection, ordered by creation.
	Collections(ctx context.Context) ([]Collection, error)
	// Collection finds one by id or alias. ErrNotFound when none matches.
	Collection(ctx context.Context, idOrAlias string) (Collection, error)
	// CreateCollection stores c, filling ID and Created when empty.
	// ErrConflict when the id or alias is taken; ErrInvalid when the id is
	// not a UUID.
	CreateCollection(ctx context.Context, c Collection) (Collection, error)
}

// StatusItem is one object named in a status resource.
type StatusItem struct {
	ID      string `json:"id"`
	Version string `json:"version,omitempty"`
	Message string `json:"message,omitempty"`
}

// Status is a TAXII status resource: the outcome of one POST to a
// collection's objects.
type Status struct {
	ID               string
	Status           string // "pending" or "complete"
	RequestTimestamp time.Time
	TotalCount       int
	Successes        []StatusItem
	Failures         []StatusItem
	Pendings         []StatusItem
}

// Statuses keeps status resources.
type Statuses interface {
	PutStatus(ctx context.Context, s Status) error
	// Status returns one by id. ErrNotFound when unknown.
	Status(ctx context.Context, id string) (Status, error)
}

// Role is what a token may do in general; Grants narrow it per collection.
type Role string

const (
	RoleAdmin   Role = "admin"   // everything, every collection
	RoleAnalyst Role = "analyst" // read and write where granted
	RoleReader  Role = "reader"  // read where granted
)

// Token is an access credential. Only a hash of its secret is kept.
type Token struct {
	ID      string
	Name    string // unique; the HTTP Basic user name
	Role    Role
	Hash    []byte // SHA-256 of the secret
	Created time.Time
}

// Grant gives a principal rights on one collection. Principal is a token
// name, or "role:analyst" / "role:reader" for everyone with that role.
type Grant struct {
	CollectionID string
	Principal    string
	Read         bool
	Write        bool
}

// Tokens keeps access tokens and per-collection grants.
type Tokens interface {
	// CreateToken stores t. ErrConflict when the name is taken.
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash finds the token whose secret hashes to h. ErrNotFound when none.
	TokenByHash(ctx context.Context, h []byte) (Token, error)
	// SetGrant creates or replaces the grant for (collection, principal).
	SetGrant(ctx context.Context, g Grant) error
	// Grants lists the grants on a collection.
	Grants(ctx context.Context, collectionID string) ([]Grant, error)
}

// Backend is everything a node keeps, as one backend provides it.
type Backend interface {
	Objects
	Collections
	Statuses
	Tokens
	Close() error
}

// AlertRecord is one stored alert. The alert itself is the detection
// engines' JSON (detect.Alert); the store keeps the columns that consoles
// and APIs filter on beside it.
type AlertRecord struct {
	ID     string // detect.AlertID: the same alert is stored once
	Seq    int64  // storage order, assigned by the store; the paging key
	Time   time.Time
	Engine string
	RuleID string
	Level  string
	Source string
	JSON   []byte
}

// AlertFilter selects alerts, newest first. Empty fields match everything.
type AlertFilter struct {
	Level  string
	RuleID string
	Engine string
	// Before pages backwards: only alerts with Seq < Before (0: from the newest).
	Before int64
	Limit  int // 0 means 100
}

// Alerts keeps the alerts a node's detection raised. It is a separate
// capability: callers probe a Backend for it.
type Alerts interface {
	// PutAlerts stores alerts in one transaction; an alert whose ID is
	// stored already is skipped. It returns how many were new.
	PutAlerts(ctx context.Context, alerts []AlertRecord) (int, error)
	// Alerts returns matching alerts, newest first.
	Alerts(ctx context.Context, f AlertFilter) ([]AlertRecord, error)
}
