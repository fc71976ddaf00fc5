-- 0004: federation state: cursors, origins of received versions, opened
-- sealed bundles and the decision log. Times in Unix nanoseconds (0 when
-- unknown), as in the SQLite store.
CREATE TABLE fed_cursors (
	peer       TEXT NOT NULL,
	collection TEXT NOT NULL,
	direction  TEXT NOT NULL,
	value      TEXT NOT NULL,
	PRIMARY KEY (peer, collection, direction)
);

CREATE TABLE fed_origins (
	seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	object_id TEXT NOT NULL,
	version   BIGINT NOT NULL,
	peer      TEXT NOT NULL,
	UNIQUE (object_id, version, peer)
);

CREATE TABLE fed_bundles (
	id     TEXT PRIMARY KEY,
	peer   TEXT NOT NULL,
	opened BIGINT NOT NULL
);

CREATE TABLE fed_decisions (
	seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	object_id TEXT NOT NULL,
	version   BIGINT NOT NULL,
	peer      TEXT NOT NULL,
	action    TEXT NOT NULL,
	rule      TEXT NOT NULL,
	reason    TEXT NOT NULL,
	time      BIGINT NOT NULL
);
CREATE INDEX fed_decisions_object ON fed_decisions (object_id, peer, seq);
CREATE INDEX fed_decisions_peer ON fed_decisions (peer, seq);
