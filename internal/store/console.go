package store

import (
	"context"
	"time"
	"unicode/utf8"
)

// RoleViewer is the console's read-only role: what RoleReader is for tokens.
// Console users are admin, analyst or viewer.
const RoleViewer Role = "viewer"

// User is an account of the web console.
type User struct {
	Name string // unique login name
	Role Role   // RoleAdmin, RoleAnalyst or RoleViewer
	// PasswordHash is the encoded password hash (argon2id in PHC form, made
	// by package web); the store keeps it opaque.
	PasswordHash string
	Created      time.Time
}

// Session is a signed-in console session. The session id itself is only in
// the user's cookie; the store keeps its SHA-256.
type Session struct {
	IDHash  []byte
	User    string
	CSRF    string // the token every state-changing form of this session carries
	Created time.Time
	Expires time.Time
}

// Users keeps console accounts and their sessions. It is a separate
// capability: callers probe a Backend for it.
type Users interface {
	// CreateUser stores u (Created defaults to now). ErrConflict when the
	// name is taken; ErrInvalid when the name or hash is empty.
	CreateUser(ctx context.Context, u User) error
	// User returns one by name. ErrNotFound when there is none.
	User(ctx context.Context, name string) (User, error)
	// Users lists every user, by name.
	Users(ctx context.Context) ([]User, error)
	// CreateSession stores s. ErrInvalid when IDHash or User is empty;
	// ErrNotFound when the user does not exist.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with this id hash, expired or not (the
	// caller checks Expires). ErrNotFound when there is none.
	Session(ctx context.Context, idHash []byte) (Session, error)
	// DeleteSession removes a session; removing one that does not exist is
	// not an error.
	DeleteSession(ctx context.Context, idHash []byte) error
}

// UserAdmin changes console accounts (an optional capability of a
// backend that keeps Users).
type UserAdmin interface {
	// SetPassword replaces a user's password hash and ends every session
	// of the user. ErrNotFound when there is no such user; ErrInvalid when
	// the hash is empty.
	SetPassword(ctx context.Context, name, hash string) error
}

// Verdicts of a triaged alert.
const (
	VerdictTruePositive  = "true_positive"
	VerdictFalsePositive = "false_positive"
)

// Triage is the analysts' state of one alert.
type Triage struct {
	AlertID  string
	Assignee string // user name, "" when unassigned
	Verdict  string // "", VerdictTruePositive or VerdictFalsePositive
	Note     string
	By       string // who triaged last
	Time     time.Time
}

// AlertQuery selects alerts with their triage. Empty fields match everything.
type AlertQuery struct {
	Level, RuleID, Engine string
	// Verdict is VerdictTruePositive, VerdictFalsePositive, or "untriaged"
	// for alerts without a verdict.
	Verdict string
	// Text matches a case-insensitive substring of the rule id, source or
	// alert JSON (which holds the rule title, the matched fields and values
	// and the event); LIKE wildcards in it are literal. A text index serves
	// it from MinIndexedText characters on; a shorter Text is matched only
	// against the newest ShortTextAlerts alerts (TextBounded says when).
	Text string
	// Sort is "" (newest first), "oldest", or "level" (most severe first,
	// then newest).
	Sort string
	// After and Before page by key (keyset paging): when After is set, only
	// the alerts that come after it in Sort order, when Before is set only
	// those that come before it (still returned in Sort order: the Limit
	// alerts just before the cursor). At most one of them may be set.
	After, Before *AlertCursor
	Limit         int // 0 means 50; at most 1,000
}

// Text search bounds: see AlertQuery.Text.
const (
	MinIndexedText  = 3
	ShortTextAlerts = 10_000
)

// TextBounded reports whether q's Text is too short for the text index, so
// that only the newest ShortTextAlerts alerts are searched.
func (q AlertQuery) TextBounded() bool {
	return q.Text != "" && utf8.RuneCountInString(q.Text) < MinIndexedText
}

// AlertCursor is a place in one sort order of QueryAlerts: the sort key
// (the level's rank, for Sort "level") and Seq of an alert, which is unique.
type AlertCursor struct {
	Rank int // LevelRank of the alert's level; used by Sort "level" only
	Seq  int64
}

// CursorOf returns the cursor of alert a.
func CursorOf(a AlertRecord) AlertCursor {
	return AlertCursor{Rank: LevelRank(a.Level), Seq: a.Seq}
}

// TriagedAlert is an alert with its triage state (zero when never triaged).
type TriagedAlert struct {
	AlertRecord
	Triage Triage
}

// AlertBucket counts alerts of one level in one time bucket.
type AlertBucket struct {
	Start time.Time
	Level string
	Count int
}

// Triages keeps the analysts' verdicts on alerts (kept for learning later)
// and answers the console's alert queries. It is a separate capability:
// callers probe a Backend for it.
type Triages interface {
	// SetTriage stores the triage of each alert in one transaction, replacing
	// what was there (Time defaults to now). ErrNotFound when an alert does
	// not exist and ErrInvalid for an unknown verdict: then nothing is stored.
	SetTriage(ctx context.Context, ts []Triage) error
	// QueryAlerts returns the alerts q selects, in q.Sort order.
	// ErrInvalid for an unknown sort or verdict, or both After and Before.
	QueryAlerts(ctx context.Context, q AlertQuery) ([]TriagedAlert, error)
	// Alert returns one alert by id. ErrNotFound when there is none.
	Alert(ctx context.Context, id string) (TriagedAlert, error)
	// AlertHistogram counts the alerts with a time in [from, from+n*step)
	// per bucket of step and level; empty buckets are left out.
	AlertHistogram(ctx context.Context, from time.Time, step time.Duration, n int) ([]AlertBucket, error)
}

// DecisionLog lists the federation's decision log by peer, newest first.
type DecisionLog interface {
	// RecentDecisions returns up to limit decisions about peer ("" for all
	// peers) with Seq < before (0: from the newest), newest first.
	RecentDecisions(ctx context.Context, peer string, before int64, limit int) ([]FedDecision, error)
}

// LevelRank orders alert levels, most severe highest; unknown levels are 0.
func LevelRank(level string) int {
	switch level {
	case "critical":
		return 5
	case "high":
		return 4
	case "medium":
		return 3
	case "low":
		return 2
	case "informational":
		return 1
	}
	return 0
}
