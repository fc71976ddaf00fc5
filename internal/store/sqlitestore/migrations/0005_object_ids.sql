-- 0005: the id index leaves the objects table for object_ids, a table of its
-- own keyed by (coll, h, date_added), h being the top 32 bits of idh
-- (idh >> 32, as idKey computes it).
--
-- STIX ids are random, so an index of objects by id took one random insert
-- per new object, made together with the row, each on an index page of its
-- own. Put now inserts a transaction's keys into object_ids after its rows,
-- sorted, so that each page of the index is visited once per transaction in
-- one ordered sweep; and a key is 17 bytes instead of 30. Lookups join on
-- date_added (the rowid) and check the id itself, so a collision of h costs a
-- row read, nothing more. objects.idh is still written but no longer indexed.
CREATE TABLE object_ids (
	coll       INTEGER NOT NULL,
	h          INTEGER NOT NULL,
	date_added INTEGER NOT NULL,
	PRIMARY KEY (coll, h, date_added)
) STRICT, WITHOUT ROWID;

INSERT INTO object_ids (coll, h, date_added)
	SELECT coll, idh >> 32, date_added FROM objects ORDER BY 1, 2, 3;

DROP INDEX objects_version;
