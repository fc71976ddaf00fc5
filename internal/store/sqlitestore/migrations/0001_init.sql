-- 0001: collections, objects (every version), statuses, tokens and grants.
--
-- Times are INTEGER: date_added in Unix microseconds, every other timestamp
-- in Unix nanoseconds (NULL when absent).

CREATE TABLE collections (
	pk          INTEGER PRIMARY KEY,
	id          TEXT NOT NULL UNIQUE,
	alias       TEXT UNIQUE,            -- NULL when unset
	title       TEXT NOT NULL,
	description TEXT NOT NULL,
	media_types TEXT NOT NULL,          -- JSON array of strings
	created     INTEGER NOT NULL
) STRICT;

-- date_added_clock keeps the highest date_added ever assigned, so that a
-- value is never reused even after the newest records were deleted.
CREATE TABLE date_added_clock (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	last INTEGER NOT NULL
) STRICT;
INSERT INTO date_added_clock (id, last) VALUES (1, 0);

-- objects holds every stored version of every object. date_added (Unix
-- microseconds) is the rowid: unique across the database, strictly
-- increasing in commit order, and the keyset pagination key.
CREATE TABLE objects (
	date_added   INTEGER PRIMARY KEY,
	coll         INTEGER NOT NULL REFERENCES collections (pk),
	id           TEXT NOT NULL,
	-- idh is a 64-bit FNV-1a hash of id (idHash). The id index is keyed by
	-- it rather than by the 40-60 byte id: STIX ids are random, so every new
	-- object lands on its own index page, and a smaller index has fewer
	-- pages for a transaction to rewrite. Lookups check id as well.
	idh          INTEGER NOT NULL,
	type         TEXT NOT NULL,
	spec_version TEXT NOT NULL,
	-- version is modified, else created, else date_added (in nanoseconds).
	version      INTEGER NOT NULL,
	created      INTEGER,
	modified     INTEGER,
	revoked      INTEGER NOT NULL,
	-- is_latest / is_first mark the newest / oldest version of (coll, id);
	-- Put and Delete keep exactly one row of each object flagged.
	is_latest    INTEGER NOT NULL,
	is_first     INTEGER NOT NULL,
	raw          BLOB NOT NULL
) STRICT;

-- Idempotency key, id lookup and the versions of one object.
-- (coll, id, version) is unique; Put enforces it, as idh may collide.
CREATE INDEX objects_version ON objects (coll, idh, version);
-- Paging all versions: (coll, date_added) since the rowid ends every index.
CREATE INDEX objects_coll ON objects (coll);
-- Default paging (latest version of each object): a small partial index.
CREATE INDEX objects_latest ON objects (coll) WHERE is_latest = 1;
-- Type filter, ordered by date_added within one type.
CREATE INDEX objects_type ON objects (coll, type);

CREATE TABLE statuses (
	id                TEXT PRIMARY KEY,
	status            TEXT NOT NULL,
	request_timestamp INTEGER NOT NULL,
	total_count       INTEGER NOT NULL,
	successes         TEXT NOT NULL,    -- JSON arrays of store.StatusItem
	failures          TEXT NOT NULL,
	pendings          TEXT NOT NULL
) STRICT;

CREATE TABLE tokens (
	id      TEXT PRIMARY KEY,
	name    TEXT NOT NULL UNIQUE,
	role    TEXT NOT NULL,
	hash    BLOB NOT NULL,
	created INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX tokens_hash ON tokens (hash);

CREATE TABLE grants (
	collection_id TEXT NOT NULL REFERENCES collections (id),
	principal     TEXT NOT NULL,
	read          INTEGER NOT NULL,
	write         INTEGER NOT NULL,
	PRIMARY KEY (collection_id, principal)
) STRICT;
