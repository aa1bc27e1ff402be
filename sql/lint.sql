-- kalix.lint(): every weakness of isolation it knows is reported with a
-- problem text, and a clean database reports nothing.

-- A clean database, and one with a properly isolated table, report nothing.
SELECT * FROM kalix.lint();
CREATE TABLE lint_notes (id int, account_id uuid NOT NULL, body text, PRIMARY KEY (account_id, id));
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
ALTER POLICY kalix_update ON lint_notes TO pg_monitor;
SELECT * FROM kalix.lint();
ALTER POLICY kalix_select ON lint_notes USING (account_id = kalix.current_account());
ALTER POLICY kalix_insert ON lint_notes WITH CHECK (account_id = kalix.write_account());
ALTER POLICY kalix_update ON lint_notes TO PUBLIC;
SELECT * FROM kalix.lint();
DROP POLICY kalix_delete ON lint_notes;
CREATE POLICY kalix_delete ON lint_notes AS PERMISSIVE FOR ALL USING (account_id = kalix.current_account());
SELECT * FROM kalix.lint();
DROP POLICY kalix_delete ON lint_notes;
SELECT * FROM kalix.lint();
CREATE POLICY kalix_delete ON lint_notes AS RESTRICTIVE FOR DELETE USING (account_id = kalix.current_account());
SELECT * FROM kalix.lint();

-- Partitions are isolated with their parent, also those created later
-- (isolation_attacks.sql shows the attack).  A child table (INHERITS) and a
-- partition whose isolation a superuser removed are read past the parent's
-- policies: lint reports them.
CREATE TABLE lint_visits (id int, account_id uuid NOT NULL) PARTITION BY RANGE (id);
CREATE INDEX ON lint_visits (account_id);
SELECT kalix.enable_isolation('lint_visits');
CREATE TABLE lint_visits_1 PARTITION OF lint_visits FOR VALUES FROM (0) TO (100);
CREATE TABLE lint_visits_2 PARTITION OF lint_visits FOR VALUES FROM (100) TO (200) PARTITION BY RANGE (id);
CREATE TABLE lint_visits_2a PARTITION OF lint_visits_2 FOR VALUES FROM (100) TO (150);
SELECT tbl, account_column, inherited FROM kalix.isolated_tables WHERE tbl::text LIKE 'lint_visits%' ORDER BY 1;
SELECT * FROM kalix.lint();
CREATE TABLE lint_notes_archive () INHERITS (lint_notes);
ALTER TABLE lint_visits_2a DISABLE ROW LEVEL SECURITY;
DROP POLICY kalix_select ON lint_visits_2a;
DELETE FROM kalix.isolated_tables WHERE tbl = 'lint_visits_2a'::regclass;
SELECT * FROM kalix.lint();
-- The next ALTER TABLE or CREATE TABLE isolates such a partition again.
CREATE TABLE lint_unrelated (id int);
DROP TABLE lint_unrelated;
SELECT tbl FROM kalix.isolated_tables WHERE tbl = 'lint_visits_2a'::regclass;
SELECT * FROM kalix.lint();
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

-- SECURITY DEFINER functions in any schema need a pinned search_path (these
-- belong to a role without superuser or BYPASSRLS: see below for those).
CREATE SCHEMA lint_app;
-- The roles are the fixture's (sql/fixture.sql): fixture_owner defines these
-- functions, fixture_alice is the tenant, fixture_mallory an outsider and
-- fixture_carol an ordinary role that runs lint.
GRANT USAGE, CREATE ON SCHEMA lint_app TO fixture_owner;
GRANT SELECT ON lint_notes TO fixture_owner;
SET ROLE fixture_owner;
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
RESET ROLE;
SELECT * FROM kalix.lint();
ALTER FUNCTION lint_app.count_notes() SET search_path = public, pg_temp;
ALTER FUNCTION lint_app.count_notes(uuid) SET search_path = pg_catalog, pg_temp;
SELECT * FROM kalix.lint();

------------------------------------------------------------------------------
-- What the 1.1 security review saw passing lint silently (items 1, 8 and 9):
-- each attack as it was run, then what lint reports about it.
------------------------------------------------------------------------------

\set SHOW_CONTEXT never
SELECT kalix.create_login('tenant@lint.test', 'Tenant', 'fixture_alice') AS tenant_login \gset
INSERT INTO kalix.accounts (id, name) VALUES
    ('ac000000-0000-0000-0000-00000000000a', 'Lint Tenant'),
    ('ac000000-0000-0000-0000-00000000000b', 'Lint Other');
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('ac000000-0000-0000-0000-00000000000a', :'tenant_login', 'owner');
INSERT INTO lint_notes VALUES
    (1, 'ac000000-0000-0000-0000-00000000000a', 'mine'),
    (2, 'ac000000-0000-0000-0000-00000000000b', 'theirs');
GRANT SELECT, INSERT, UPDATE, DELETE ON lint_notes TO fixture_alice;

-- Item 9: TRUNCATE granted to a tenant wipes every account (row-level
-- security does not govern TRUNCATE); REFERENCES and TRIGGER leak too.
GRANT TRUNCATE, REFERENCES, TRIGGER ON lint_notes TO fixture_alice;
BEGIN;
SET LOCAL ROLE fixture_alice;
SELECT kalix.switch_account('ac000000-0000-0000-0000-00000000000a', true) IS NOT NULL AS switched;
SELECT count(*) AS rows_the_tenant_sees FROM lint_notes;
TRUNCATE lint_notes;
RESET ROLE;
SELECT count(*) AS rows_left_in_every_account FROM lint_notes;
ROLLBACK;
SELECT * FROM kalix.lint();
REVOKE TRUNCATE, REFERENCES, TRIGGER ON lint_notes FROM fixture_alice;

-- Item 9: a superuser-owned SECURITY DEFINER function over an isolated table
-- (its search_path pinned, so only the owner is wrong) counts every account.
-- A superuser of its own: no role of the fixture is one.
CREATE ROLE lint_superuser SUPERUSER;
CREATE FUNCTION public.lint_count_notes() RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'SELECT count(*) FROM public.lint_notes';
ALTER FUNCTION public.lint_count_notes() OWNER TO lint_superuser;
SET ROLE fixture_alice;
SELECT kalix.switch_account('ac000000-0000-0000-0000-00000000000a') IS NOT NULL AS switched;
SELECT (SELECT count(*) FROM lint_notes) AS own_rows, public.lint_count_notes() AS through_the_function;
RESET kalix.current_account;
RESET ROLE;
SELECT * FROM kalix.lint();
-- A BYPASSRLS owner is the same.
ALTER ROLE lint_superuser NOSUPERUSER BYPASSRLS;
SELECT * FROM kalix.lint();
DROP FUNCTION public.lint_count_notes();
DROP ROLE lint_superuser;

-- Item 9: a rule copies every account's new rows into a world-readable table.
CREATE TABLE lint_copies (account_id uuid, body text);
GRANT SELECT ON lint_copies TO PUBLIC;
CREATE RULE lint_copy AS ON INSERT TO lint_notes
    DO ALSO INSERT INTO lint_copies VALUES (NEW.account_id, NEW.body);
SET ROLE fixture_alice;
SELECT kalix.switch_account('ac000000-0000-0000-0000-00000000000a') IS NOT NULL AS switched;
INSERT INTO lint_notes VALUES (3, 'ac000000-0000-0000-0000-00000000000a', 'private note');
RESET kalix.current_account;
RESET ROLE;
SET ROLE fixture_mallory;
SELECT body AS read_by_a_role_with_no_account FROM lint_copies;
RESET ROLE;
SELECT * FROM kalix.lint();
DROP RULE lint_copy ON lint_notes;
DROP TABLE lint_copies;

-- Item 8: a UNIQUE constraint without the account column tells whether
-- another account has a value (the error, or ON CONFLICT DO NOTHING's
-- INSERT 0 0); a single-column foreign key references another account's
-- row, which that account then cannot delete.  enable_isolation warns.
ALTER TABLE lint_notes ADD COLUMN mrn text, ADD CONSTRAINT lint_notes_mrn_key UNIQUE (mrn);
UPDATE lint_notes SET mrn = 'MRN-2' WHERE id = 2;
CREATE TABLE lint_invoices (id int PRIMARY KEY, account_id uuid NOT NULL);
CREATE INDEX ON lint_invoices (account_id);
SELECT kalix.enable_isolation('lint_invoices');
INSERT INTO lint_invoices VALUES (20, 'ac000000-0000-0000-0000-00000000000b');
ALTER TABLE lint_notes ADD COLUMN invoice_id int REFERENCES lint_invoices (id);
GRANT SELECT, INSERT, UPDATE, DELETE ON lint_invoices TO fixture_alice;
SET ROLE fixture_alice;
SELECT kalix.switch_account('ac000000-0000-0000-0000-00000000000a') IS NOT NULL AS switched;
INSERT INTO lint_notes (id, account_id, mrn) VALUES (4, 'ac000000-0000-0000-0000-00000000000a', 'MRN-2');
WITH inserted AS (
    INSERT INTO lint_notes (id, account_id, mrn) VALUES (4, 'ac000000-0000-0000-0000-00000000000a', 'MRN-2')
    ON CONFLICT DO NOTHING RETURNING 1)
SELECT count(*) AS inserted_with_on_conflict_do_nothing FROM inserted;
SELECT count(*) AS invoices_the_tenant_sees FROM lint_invoices;
INSERT INTO lint_notes (id, account_id, invoice_id) VALUES (5, 'ac000000-0000-0000-0000-00000000000a', 20);
RESET kalix.current_account;
RESET ROLE;
-- ... and account B can no longer delete its own invoice.
BEGIN;
SET LOCAL kalix.current_login = :'tenant_login';
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('ac000000-0000-0000-0000-00000000000b', :'tenant_login', 'owner');
SET LOCAL ROLE fixture_alice;
SELECT kalix.switch_account('ac000000-0000-0000-0000-00000000000b', true) IS NOT NULL AS switched_to_b;
DELETE FROM lint_invoices WHERE id = 20;
ROLLBACK;
SELECT * FROM kalix.lint();
DELETE FROM lint_notes WHERE id >= 3;
ALTER TABLE lint_notes DROP COLUMN invoice_id, DROP COLUMN mrn;
DROP TABLE lint_invoices;

-- Item 1: objects planted in schema kalix, and CREATE on it for anyone else.
SET ROLE fixture_alice;
CREATE FUNCTION kalix.require_argument(value text, argument text) RETURNS void
    LANGUAGE sql AS 'SELECT NULL';
RESET ROLE;
GRANT CREATE ON SCHEMA kalix TO fixture_alice;
CREATE FUNCTION kalix.require_argument(value text, argument text) RETURNS void
    LANGUAGE sql AS 'SELECT NULL';
SELECT * FROM kalix.lint();
DROP FUNCTION kalix.require_argument(text, text);
REVOKE CREATE ON SCHEMA kalix FROM fixture_alice;
DELETE FROM lint_notes;
REVOKE ALL ON lint_notes FROM fixture_alice;
SELECT * FROM kalix.lint();

-- Every weakness at once, as an ordinary role sees it: lint needs no privileges.
ALTER TABLE lint_notes NO FORCE ROW LEVEL SECURITY;
ALTER VIEW lint_notes_view RESET (security_invoker);
CREATE FUNCTION lint_app.unpinned() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';
SET ROLE fixture_carol;
SELECT * FROM kalix.lint();
RESET ROLE;

-- Clean again once everything is fixed or dropped.
ALTER TABLE lint_notes FORCE ROW LEVEL SECURITY;
DROP SCHEMA lint_app CASCADE;
DROP VIEW lint_notes_view3, lint_notes_view2, lint_notes_view, lint_visits_view, lint_unrelated_view;
SELECT * FROM kalix.lint();
DROP TABLE lint_notes, lint_visits;
DELETE FROM kalix.memberships WHERE login_id = :'tenant_login';
DELETE FROM kalix.accounts WHERE id::text LIKE 'ac000000-%';
DELETE FROM kalix.audit_log WHERE login_id = :'tenant_login' OR detail->>'login_id' = :'tenant_login'
    OR detail->>'table' LIKE 'public.lint\_%';
DELETE FROM kalix.logins WHERE id = :'tenant_login';
SELECT * FROM kalix.lint();
SELECT count(*) AS registered_left FROM kalix.isolated_tables;
