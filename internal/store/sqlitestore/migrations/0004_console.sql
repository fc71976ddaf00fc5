-- 0004: web console users and sessions, alert triage (current state and
-- history), and the indexes the console's queries need. Times in Unix
-- nanoseconds.
CREATE TABLE users (
	name          TEXT PRIMARY KEY,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created       INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
	id_hash BLOB PRIMARY KEY,
	user    TEXT NOT NULL REFERENCES users (name),
	csrf    TEXT NOT NULL,
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL
) STRICT;

CREATE TABLE alert_triage (
	alert_id TEXT PRIMARY KEY REFERENCES alerts (id),
	assignee TEXT NOT NULL,
	verdict  TEXT NOT NULL,
	note     TEXT NOT NULL,
	by_user  TEXT NOT NULL,
	time     INTEGER NOT NULL
) STRICT;
CREATE INDEX alert_triage_verdict ON alert_triage (verdict);

CREATE TABLE alert_triage_log (
	seq      INTEGER PRIMARY KEY,
	alert_id TEXT NOT NULL,
	assignee TEXT NOT NULL,
	verdict  TEXT NOT NULL,
	note     TEXT NOT NULL,
	by_user  TEXT NOT NULL,
	time     INTEGER NOT NULL
) STRICT;

CREATE INDEX alerts_time ON alerts (time);
CREATE INDEX alerts_engine ON alerts (engine);
CREATE INDEX fed_decisions_peer ON fed_decisions (peer, seq);
