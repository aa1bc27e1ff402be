-- kalix.lint(): every weakness of isolation it knows is reported with a
-- problem text, and a clean database reports nothing.

-- A clean database, and one with a properly isolated table, report nothing.
SELECT * FROM kalix.lint();
CREATE TABLE lint_notes (id int PRIMARY KEY, account_id uuid NOT NULL, body text);
CREATE INDEX ON lint_notes (account_id);
SELECT kalix.enable_isolation('lint_notes');
SELECT * FROM kalix.lint();

-- Extra policies of the owner cannot widen access (the kalix ones are
-- restrictive), so they are not reported.
CREATE POLICY lint_owner_permissive ON lint_notes FOR SELECT USING (true);
CREATE POLICY lint_owner_restrictive ON lint_notes AS RESTRICTIVE FOR SELECT USING (id > 0);
SELECT * FROM kalix.lint();
DROP POLICY lint_owner_permissive ON lint_notes;
DROP POLICY lint_owner_restrictive ON lint_notes;

-- Row-level security disabled, then not forced.
ALTER TABLE lint_notes DISABLE ROW LEVEL SECURITY;
SELECT * FROM kalix.lint();
ALTER TABLE lint_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE lint_notes NO FORCE ROW LEVEL SECURITY;
SELECT * FROM kalix.lint();
ALTER TABLE lint_notes FORCE ROW LEVEL SECURITY;
SELECT * FROM kalix.lint();

-- Policies altered: expressions, roles, command and kind.
ALTER POLICY kalix_select ON lint_notes USING (true);
ALTER POLICY kalix_insert ON lint_notes WITH CHECK (account_id IS NOT NULL);
ALTER POLICY kalix_update ON lint_notes TO postgres;
SELECT * FROM kalix.lint();
ALTER POLICY kalix_select ON lint_notes USING (account_id = kalix.current_account());
ALTER POLICY kalix_insert ON lint_notes WITH CHECK (account_id = kalix.current_account());
ALTER POLICY kalix_update ON lint_notes TO PUBLIC;
SELECT * FROM kalix.lint();
DROP POLICY kalix_delete ON lint_notes;
CREATE POLICY kalix_delete ON lint_notes AS PERMISSIVE FOR ALL USING (account_id = kalix.current_account());
SELECT * FROM kalix.lint();
DROP POLICY kalix_delete ON lint_notes;
SELECT * FROM kalix.lint();
CREATE POLICY kalix_delete ON lint_notes AS RESTRICTIVE FOR DELETE USING (account_id = kalix.current_account());
SELECT * FROM kalix.lint();

-- A partition (and a child table) of an isolated table, read directly,
-- bypasses the parent's policies until it is isolated itself.
CREATE TABLE lint_visits (id int, account_id uuid NOT NULL) PARTITION BY RANGE (id);
CREATE INDEX ON lint_visits (account_id);
SELECT kalix.enable_isolation('lint_visits');
CREATE TABLE lint_visits_1 PARTITION OF lint_visits FOR VALUES FROM (0) TO (100);
CREATE TABLE lint_visits_2 PARTITION OF lint_visits FOR VALUES FROM (100) TO (200) PARTITION BY RANGE (id);
CREATE TABLE lint_visits_2a PARTITION OF lint_visits_2 FOR VALUES FROM (100) TO (150);
CREATE TABLE lint_notes_archive () INHERITS (lint_notes);
SELECT * FROM kalix.lint();
SELECT kalix.enable_isolation('lint_visits_1');
SELECT kalix.enable_isolation('lint_visits_2');
SELECT kalix.enable_isolation('lint_visits_2a');
DROP TABLE lint_notes_archive;
SELECT * FROM kalix.lint();

-- Views reading an isolated table, directly or through another view, need
-- security_invoker; a materialized view never isolates.
CREATE VIEW lint_notes_view AS SELECT * FROM lint_notes;
CREATE VIEW lint_notes_view2 WITH (security_invoker) AS SELECT id FROM lint_notes_view;
CREATE VIEW lint_notes_view3 AS SELECT count(*) FROM lint_notes_view2;
CREATE VIEW lint_visits_view WITH (security_invoker = on) AS SELECT * FROM lint_visits;
CREATE MATERIALIZED VIEW lint_visits_mat AS SELECT * FROM lint_visits;
CREATE VIEW lint_unrelated_view AS SELECT 1 AS one;
SELECT * FROM kalix.lint();
ALTER VIEW lint_notes_view SET (security_invoker = true);
ALTER VIEW lint_notes_view3 SET (security_invoker = yes);
DROP MATERIALIZED VIEW lint_visits_mat;
SELECT * FROM kalix.lint();

-- SECURITY DEFINER functions in any schema need a pinned search_path.
CREATE SCHEMA lint_app;
CREATE FUNCTION lint_app.count_notes() RETURNS bigint
    LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM lint_notes';
CREATE FUNCTION lint_app.count_notes(uuid) RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET work_mem = '4MB'
    AS 'SELECT count(*) FROM public.lint_notes WHERE account_id = $1';
CREATE FUNCTION lint_app.safe_count() RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'SELECT count(*) FROM public.lint_notes';
CREATE FUNCTION lint_app.invoker_count() RETURNS bigint
    LANGUAGE sql AS 'SELECT count(*) FROM lint_notes';
SELECT * FROM kalix.lint();
ALTER FUNCTION lint_app.count_notes() SET search_path = public, pg_temp;
ALTER FUNCTION lint_app.count_notes(uuid) SET search_path = pg_catalog, pg_temp;
SELECT * FROM kalix.lint();

-- Every weakness at once, as an ordinary role sees it: lint needs no privileges.
ALTER TABLE lint_notes NO FORCE ROW LEVEL SECURITY;
ALTER VIEW lint_notes_view RESET (security_invoker);
CREATE FUNCTION lint_app.unpinned() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';
CREATE ROLE lint_reader;
SET ROLE lint_reader;
SELECT * FROM kalix.lint();
RESET ROLE;

-- Clean again once everything is fixed or dropped.
ALTER TABLE lint_notes FORCE ROW LEVEL SECURITY;
DROP SCHEMA lint_app CASCADE;
DROP VIEW lint_notes_view3, lint_notes_view2, lint_notes_view, lint_visits_view, lint_unrelated_view;
SELECT * FROM kalix.lint();
DROP TABLE lint_notes, lint_visits;
DROP ROLE lint_reader;
SELECT * FROM kalix.lint();
SELECT count(*) AS registered_left FROM kalix.isolated_tables;
