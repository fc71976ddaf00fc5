-- 0006: the console's object search and the references index (as SQLite's
-- 0007 and 0008).
--
-- object_text holds store.SearchText of every version, in two parts (name:
-- name, aliases, value, pattern, external ids; body: the description), as
-- the SQL functions below compute it from raw; Put fills it in the same
-- transaction and a search joins objects on is_latest, so only latest
-- versions are found. The search is ILIKE '%word%' on each word, served by
-- pg_trgm GIN indexes (substring search needs trigrams: a tsvector finds
-- words and prefixes, not the "ofac" of "Sofacy" or part of a domain).
-- When pg_trgm cannot be created (it is a trusted extension from
-- PostgreSQL 13, but a server may lack contrib), the migration warns and
-- makes no GIN index: searches stay correct but read the whole table.

CREATE FUNCTION shieldwall_search_name(raw bytea) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT concat_ws(E'\n',
		nullif(btrim(j->>'name'), ''),
		(SELECT string_agg(nullif(btrim(a), ''), E'\n') FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(j->'aliases') = 'array' THEN j->'aliases' ELSE '[]' END) a),
		(SELECT string_agg(nullif(btrim(a), ''), E'\n') FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(j->'x_mitre_aliases') = 'array' THEN j->'x_mitre_aliases' ELSE '[]' END) a),
		nullif(btrim(j->>'value'), ''),
		nullif(btrim(j->>'pattern'), ''),
		(SELECT string_agg(nullif(btrim(e->>'external_id'), ''), E'\n') FROM jsonb_array_elements(CASE WHEN jsonb_typeof(j->'external_references') = 'array' THEN j->'external_references' ELSE '[]' END) e))
	FROM (SELECT convert_from(raw, 'UTF8')::jsonb AS j) s
$$;

CREATE FUNCTION shieldwall_search_body(raw bytea) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT coalesce(btrim(convert_from(raw, 'UTF8')::jsonb->>'description'), '')
$$;

-- shieldwall_refs is store.RefsOf.
CREATE FUNCTION shieldwall_refs(typ text, raw bytea) RETURNS SETOF text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT DISTINCT r FROM (SELECT convert_from(raw, 'UTF8')::jsonb AS j) s, LATERAL (
		SELECT j->>'source_ref' WHERE typ = 'relationship'
		UNION ALL SELECT j->>'target_ref' WHERE typ = 'relationship'
		UNION ALL SELECT j->>'sighting_of_ref' WHERE typ = 'sighting'
		UNION ALL SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(j->'where_sighted_refs') = 'array' THEN j->'where_sighted_refs' ELSE '[]' END) WHERE typ = 'sighting'
		UNION ALL SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(j->'observed_data_refs') = 'array' THEN j->'observed_data_refs' ELSE '[]' END) WHERE typ = 'sighting'
	) x(r) WHERE r IS NOT NULL AND r <> ''
$$;

CREATE TABLE object_text (
	coll       BIGINT NOT NULL,
	date_added BIGINT NOT NULL,
	name       TEXT NOT NULL,
	body       TEXT NOT NULL,
	PRIMARY KEY (coll, date_added)
);

CREATE TABLE object_refs (
	coll       BIGINT NOT NULL,
	ref        TEXT COLLATE "C" NOT NULL,
	date_added BIGINT NOT NULL,
	PRIMARY KEY (coll, ref, date_added)
);

INSERT INTO object_text (coll, date_added, name, body)
	SELECT coll, date_added, shieldwall_search_name(raw), shieldwall_search_body(raw) FROM objects;
INSERT INTO object_refs (coll, ref, date_added)
	SELECT o.coll, r, o.date_added FROM objects o, shieldwall_refs(o.type, o.raw) r
	WHERE o.type IN ('relationship', 'sighting')
	ON CONFLICT DO NOTHING;

DO $$
DECLARE
	ns text;
BEGIN
	BEGIN
		CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
	EXCEPTION WHEN OTHERS THEN
		RAISE WARNING 'shieldwall: pg_trgm is not available (%): the object search reads the whole object_text table', SQLERRM;
	END;
	SELECT n.nspname INTO ns FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
	IF ns IS NOT NULL THEN
		EXECUTE format('CREATE INDEX object_text_name ON object_text USING gin (name %I.gin_trgm_ops)', ns);
		EXECUTE format('CREATE INDEX object_text_all ON object_text USING gin ((name || E''\n'' || body) %I.gin_trgm_ops)', ns);
	END IF;
END
$$;
