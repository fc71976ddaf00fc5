-- 0002: alerts raised by this node's detection, stored once per alert id.
CREATE TABLE alerts (
	seq     INTEGER PRIMARY KEY,
	id      TEXT NOT NULL UNIQUE,
	time    INTEGER NOT NULL,       -- Unix nanoseconds of the event
	engine  TEXT NOT NULL,
	rule_id TEXT NOT NULL,
	level   TEXT NOT NULL,
	source  TEXT NOT NULL,
	json    BLOB NOT NULL
) STRICT;
CREATE INDEX alerts_level ON alerts (level);
CREATE INDEX alerts_rule ON alerts (rule_id);
