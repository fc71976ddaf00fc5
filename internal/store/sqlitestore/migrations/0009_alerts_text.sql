-- 0009: the console's alert text search (QueryAlerts with Text) reads this
-- trigram index instead of every alert's JSON. It holds what the search
-- matched before: the rule id, the source and the alert's JSON text (rule
-- title, tags, matched fields and values, the event), one column each, so a
-- phrase never spans two of them. It is contentless (it keeps the trigrams,
-- not a copy of the text; rowid is alerts.seq). PutAlerts indexes the alerts
-- it adds in its transaction, with one INSERT ... SELECT after them
-- (alertTextSQL in alerts.go): not in a trigger, because FTS5 writes its
-- pending terms out at every statement savepoint of a transaction, which
-- made each alert a segment of its own to merge (195 alerts/s). The INSERT
-- below fills it for the alerts stored before this migration; the
-- triggers keep it right if an alert is ever deleted or rewritten (no code
-- does either today).
CREATE VIRTUAL TABLE alerts_text USING fts5 (rule_id, source, body,
	content = '', contentless_delete = 1, tokenize = 'trigram');
INSERT INTO alerts_text (rowid, rule_id, source, body) SELECT seq, rule_id, source, CAST(json AS TEXT) FROM alerts;
CREATE TRIGGER alerts_text_delete AFTER DELETE ON alerts BEGIN
	DELETE FROM alerts_text WHERE rowid = old.seq;
END;
CREATE TRIGGER alerts_text_update AFTER UPDATE OF seq, rule_id, source, json ON alerts BEGIN
	DELETE FROM alerts_text WHERE rowid = old.seq;
	INSERT INTO alerts_text (rowid, rule_id, source, body) VALUES (new.seq, new.rule_id, new.source, CAST(new.json AS TEXT));
END;
