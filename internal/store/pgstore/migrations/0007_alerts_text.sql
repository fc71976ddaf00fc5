-- 0007: the console's alert text search (QueryAlerts with Text) reads a
-- pg_trgm GIN index instead of every alert's JSON. alert_search_text is the
-- text it matches, the same as before: the rule id, the source and the
-- alert's JSON (rule title, tags, matched fields and values, the event),
-- one per line. It must stay identical to the expression in console.go.
-- JSON that is not valid UTF-8 (convert_from refuses it) is matched in
-- PostgreSQL's escape form, so that one bad alert cannot make a write fail.
CREATE FUNCTION alert_search_text(rule_id text, source text, j bytea) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
	RETURN rule_id || E'\n' || source || E'\n' || convert_from(j, 'UTF8');
EXCEPTION WHEN character_not_in_repertoire OR untranslatable_character THEN
	RETURN rule_id || E'\n' || source || E'\n' || encode(j, 'escape');
END
$$;

-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension, so a
-- user with CREATE on the database may install it. It goes into public, not
-- this store's schema, so that dropping one schema (tests use one each)
-- cannot drop it from under the others. Where it cannot be installed, the
-- migration still succeeds without the index: the search then reads every
-- alert, and Open logs that (see textIndexSQL in db.go).
DO $$
BEGIN
	CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'shieldwall: cannot create extension pg_trgm (%): the alert text search will scan every alert', SQLERRM;
END
$$;

DO $$
DECLARE
	ext name;
BEGIN
	SELECT n.nspname INTO ext FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
	IF ext IS NOT NULL THEN
		EXECUTE format('CREATE INDEX alerts_text_trgm ON alerts USING gin (alert_search_text(rule_id, source, json) %I.gin_trgm_ops)', ext);
	END IF;
END
$$;
