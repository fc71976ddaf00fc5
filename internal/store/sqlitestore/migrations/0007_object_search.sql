-- 0007: the console's object search and the references index.
--
-- object_text is a contentless FTS5 index of store.SearchText, with the
-- trigram tokenizer (case-insensitive substrings of 3+ characters). Its
-- rowid is the date_added of the version indexed; every version is indexed
-- and searches join objects on is_latest = 1, so whatever Put and Delete do
-- to the flags, only latest versions are found. It is filled after the
-- transactions that store objects, by the store's background indexer (and
-- by a search itself when fewer than indexSyncMax objects wait), in
-- date_added order: object_text_state.upto is the highest date_added
-- indexed. A deleted version's entry stays (date_added is never reused, so
-- it joins no row).
CREATE VIRTUAL TABLE object_text USING fts5(text, content='', contentless_delete=1, tokenize='trigram');

CREATE TABLE object_text_state (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	upto INTEGER NOT NULL
) STRICT;
-- 0: the indexer backfills every stored version, in the background.
INSERT INTO object_text_state (id, upto) VALUES (1, 0);

-- object_refs lists, for each version of a relationship or sighting, the
-- ids it references (store.RefsOf): Put fills it in the same transaction.
-- Referencing reads it by (coll, ref) and joins objects on is_latest = 1.
CREATE TABLE object_refs (
	coll       INTEGER NOT NULL,
	ref        TEXT NOT NULL,
	date_added INTEGER NOT NULL,
	PRIMARY KEY (coll, ref, date_added)
) STRICT, WITHOUT ROWID;

-- Backfill, by the same rules as store.RefsOf (raw is JSON text in a BLOB,
-- which the JSON functions would take for JSONB: hence the CAST).
INSERT OR IGNORE INTO object_refs (coll, ref, date_added)
SELECT coll, ref, date_added FROM (
	SELECT o.coll, json_extract(CAST(o.raw AS TEXT), '$.source_ref') AS ref, o.date_added
		FROM objects o WHERE o.coll IN (SELECT pk FROM collections) AND o.type = 'relationship'
	UNION ALL
	SELECT o.coll, json_extract(CAST(o.raw AS TEXT), '$.target_ref'), o.date_added
		FROM objects o WHERE o.coll IN (SELECT pk FROM collections) AND o.type = 'relationship'
	UNION ALL
	SELECT o.coll, json_extract(CAST(o.raw AS TEXT), '$.sighting_of_ref'), o.date_added
		FROM objects o WHERE o.coll IN (SELECT pk FROM collections) AND o.type = 'sighting'
	UNION ALL
	SELECT o.coll, j.value, o.date_added
		FROM objects o, json_each(CAST(o.raw AS TEXT), '$.where_sighted_refs') j WHERE o.coll IN (SELECT pk FROM collections) AND o.type = 'sighting'
	UNION ALL
	SELECT o.coll, j.value, o.date_added
		FROM objects o, json_each(CAST(o.raw AS TEXT), '$.observed_data_refs') j WHERE o.coll IN (SELECT pk FROM collections) AND o.type = 'sighting'
) WHERE typeof(ref) = 'text' AND ref <> '';
