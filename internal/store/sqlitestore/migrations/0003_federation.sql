-- 0003: federation state: cursors, origins of received versions, opened
-- sealed bundles and the decision log. Times in Unix nanoseconds.
CREATE TABLE fed_cursors (
	peer       TEXT NOT NULL,
	collection TEXT NOT NULL,
	direction  TEXT NOT NULL,
	value      TEXT NOT NULL,
	PRIMARY KEY (peer, collection, direction)
) STRICT;

CREATE TABLE fed_origins (
	seq       INTEGER PRIMARY KEY,
	object_id TEXT NOT NULL,
	version   INTEGER NOT NULL,
	peer      TEXT NOT NULL,
	UNIQUE (object_id, version, peer)
) STRICT;

CREATE TABLE fed_bundles (
	id     TEXT PRIMARY KEY,
	peer   TEXT NOT NULL,
	opened INTEGER NOT NULL
) STRICT;

CREATE TABLE fed_decisions (
	seq       INTEGER PRIMARY KEY,
	object_id TEXT NOT NULL,
	version   INTEGER NOT NULL,
	peer      TEXT NOT NULL,
	action    TEXT NOT NULL,
	rule      TEXT NOT NULL,
	reason    TEXT NOT NULL,
	time      INTEGER NOT NULL
) STRICT;
CREATE INDEX fed_decisions_object ON fed_decisions (object_id, peer);
