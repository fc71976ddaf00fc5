-- 0003: web console users and sessions, alert triage (current state and
-- history), and the indexes the console's queries need. Times in Unix
-- nanoseconds.
CREATE TABLE users (
	name          TEXT PRIMARY KEY,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created       BIGINT NOT NULL
);

CREATE TABLE sessions (
	id_hash BYTEA PRIMARY KEY,
	username TEXT NOT NULL REFERENCES users (name),
	csrf    TEXT NOT NULL,
	created BIGINT NOT NULL,
	expires BIGINT NOT NULL
);

CREATE TABLE alert_triage (
	alert_id TEXT PRIMARY KEY REFERENCES alerts (id),
	assignee TEXT NOT NULL,
	verdict  TEXT NOT NULL,
	note     TEXT NOT NULL,
	by_user  TEXT NOT NULL,
	time     BIGINT NOT NULL
);
CREATE INDEX alert_triage_verdict ON alert_triage (verdict);

CREATE TABLE alert_triage_log (
	seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	alert_id TEXT NOT NULL,
	assignee TEXT NOT NULL,
	verdict  TEXT NOT NULL,
	note     TEXT NOT NULL,
	by_user  TEXT NOT NULL,
	time     BIGINT NOT NULL
);

CREATE INDEX alerts_time ON alerts (time);
CREATE INDEX alerts_engine ON alerts (engine, seq);
