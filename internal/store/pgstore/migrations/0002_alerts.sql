-- 0002: alerts raised by detection, stored once per alert id.
CREATE TABLE alerts (
	seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id      TEXT NOT NULL UNIQUE,
	time    BIGINT NOT NULL,        -- Unix nanoseconds of the event, 0 if unknown
	engine  TEXT NOT NULL,
	rule_id TEXT NOT NULL,
	level   TEXT NOT NULL,
	source  TEXT NOT NULL,
	json    BYTEA NOT NULL
);
CREATE INDEX alerts_level ON alerts (level, seq);
CREATE INDEX alerts_rule ON alerts (rule_id, seq);
