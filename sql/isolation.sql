-- isolation: enable_isolation, disable_isolation and what they enforce.
\set SHOW_CONTEXT never

-- The roles are the fixture's (sql/fixture.sql).
SELECT kalix.create_login('owner@isolation.test', 'Owner', 'fixture_owner') AS owner_login \gset
SELECT kalix.create_login('bob@isolation.test', 'Bob', 'fixture_bob') AS bob_login \gset
INSERT INTO kalix.accounts (id, name) VALUES
    ('a3000000-0000-0000-0000-000000000001', 'Isolation Sunrise'),
    ('a3000000-0000-0000-0000-000000000002', 'Isolation Downtown');
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('a3000000-0000-0000-0000-000000000001', :'owner_login', 'owner'),
    ('a3000000-0000-0000-0000-000000000002', :'bob_login', 'owner');

CREATE TABLE isolation_notes (
    id         int NOT NULL,
    account_id uuid NOT NULL,
    body       text
);
CREATE INDEX isolation_notes_account_idx ON isolation_notes (account_id, id);
CREATE TABLE isolation_bare (account_id uuid, body text);
CREATE TABLE isolation_texty (account_id text, body text);
CREATE VIEW isolation_view AS SELECT * FROM isolation_bare;
ALTER TABLE isolation_notes OWNER TO fixture_owner;
ALTER TABLE isolation_bare OWNER TO fixture_owner;
ALTER TABLE isolation_texty OWNER TO fixture_owner;
ALTER VIEW isolation_view OWNER TO fixture_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON isolation_notes TO fixture_bob;

------------------------------------------------------------------------------
-- Refusals
------------------------------------------------------------------------------

-- Only the table's owner, and that is checked before anything else: the
-- other arguments, even NULL ones, reveal nothing about others' tables
-- (review item 12: enable_isolation(NULL) skipped the owner check).
SET ROLE fixture_bob;
SELECT kalix.enable_isolation('isolation_notes');
SELECT kalix.enable_isolation('isolation_notes', NULL, NULL);
SELECT kalix.enable_isolation(NULL);
SELECT kalix.disable_isolation(NULL);
RESET ROLE;
SET ROLE fixture_owner;
SELECT kalix.enable_isolation('isolation_notes', NULL);
SELECT kalix.enable_isolation('isolation_notes', 'account_id', NULL);
-- The owner check is no longer a function anyone can call (review item 12).
SELECT count(*) FROM pg_proc WHERE proname = 'check_table_owner';
-- The column must exist and be a uuid.
SELECT kalix.enable_isolation('isolation_notes', 'tenant_id');
SELECT kalix.enable_isolation('isolation_texty');
-- Tables only.
SELECT kalix.enable_isolation('isolation_view');
-- Nothing was registered by the refused calls.
SELECT count(*) FROM kalix.isolated_tables;

------------------------------------------------------------------------------
-- Enabling
------------------------------------------------------------------------------

SELECT kalix.enable_isolation('isolation_notes');
-- No index leads with the account column: a warning with a hint.
SELECT kalix.enable_isolation('isolation_bare');
SELECT tbl, account_column, inherited FROM kalix.isolated_tables ORDER BY tbl::text;
SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
WHERE relname IN ('isolation_notes', 'isolation_bare') ORDER BY relname;
SELECT policyname, permissive, cmd, qual, with_check FROM pg_policies
WHERE tablename = 'isolation_notes' ORDER BY policyname;
-- Twice is an error.
SELECT kalix.enable_isolation('isolation_notes');
RESET ROLE;
SELECT action, detail FROM kalix.audit_log
WHERE action IN ('enable_isolation', 'disable_isolation') ORDER BY id;

------------------------------------------------------------------------------
-- Fail closed: no current account, no rows and no writes
------------------------------------------------------------------------------

-- Rows of both accounts, written past RLS by the superuser.
INSERT INTO isolation_notes
SELECT g, CASE WHEN g % 2 = 0 THEN 'a3000000-0000-0000-0000-000000000001'::uuid
                              ELSE 'a3000000-0000-0000-0000-000000000002'::uuid END,
       'note ' || g
FROM generate_series(1, 2000) g;
ANALYZE isolation_notes;
-- The owner is subject to the policies too (FORCE ROW LEVEL SECURITY).
SET ROLE fixture_owner;
SELECT count(*) FROM isolation_notes;
-- An INSERT with no account names the cause (the usual mistake); an INSERT
-- of no rows, an UPDATE or a DELETE simply finds nothing.
INSERT INTO isolation_notes VALUES (5001, 'a3000000-0000-0000-0000-000000000001', 'no account');
INSERT INTO isolation_notes SELECT * FROM isolation_notes;
UPDATE isolation_notes SET body = 'changed';
DELETE FROM isolation_notes;
-- With an account: exactly its rows.
SELECT kalix.switch_account('a3000000-0000-0000-0000-000000000001') IS NOT NULL AS switched;
SELECT count(*), min(id), max(id), bool_and(id % 2 = 0) AS all_even FROM isolation_notes;
INSERT INTO isolation_notes VALUES (5001, 'a3000000-0000-0000-0000-000000000001', 'mine');
INSERT INTO isolation_notes VALUES (5003, 'a3000000-0000-0000-0000-000000000002', 'theirs');
SELECT count(*) FROM isolation_notes;
RESET kalix.current_account;
SELECT count(*) FROM isolation_notes;
RESET ROLE;
SET ROLE fixture_bob;
SELECT count(*) FROM isolation_notes;
SELECT kalix.switch_account('a3000000-0000-0000-0000-000000000002') IS NOT NULL AS switched;
SELECT count(*), bool_and(id % 2 = 1) AS all_odd FROM isolation_notes;
RESET kalix.current_account;
RESET ROLE;

------------------------------------------------------------------------------
-- The account condition is an index condition, also in a generic plan
------------------------------------------------------------------------------

SET ROLE fixture_bob;
SELECT kalix.switch_account('a3000000-0000-0000-0000-000000000002') IS NOT NULL AS switched;
PREPARE isolation_by_id(int) AS SELECT * FROM isolation_notes WHERE id = $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE isolation_by_id(7);
EXECUTE isolation_by_id(7);
EXECUTE isolation_by_id(8);
RESET plan_cache_mode;
DEALLOCATE isolation_by_id;
RESET kalix.current_account;
RESET ROLE;

------------------------------------------------------------------------------
-- Disabling
------------------------------------------------------------------------------

SET ROLE fixture_bob;
SELECT kalix.disable_isolation('isolation_notes');
RESET ROLE;
SET ROLE fixture_owner;
SELECT kalix.disable_isolation('isolation_texty');
SELECT kalix.disable_isolation('isolation_notes');
SELECT tbl FROM kalix.isolated_tables ORDER BY tbl::text;
SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'isolation_notes';
SELECT count(*) FROM pg_policies WHERE tablename = 'isolation_notes';
-- Without the policies the owner sees every row again.
SELECT count(*) FROM isolation_notes;
-- It can be isolated again.
SELECT kalix.enable_isolation('isolation_notes');
SELECT count(*) FROM isolation_notes;
SELECT kalix.disable_isolation('isolation_notes');
-- Own policies (made while the table is not isolated: isolation_attacks.sql
-- shows that they are refused while it is) keep row-level security on after
-- disabling.
CREATE POLICY isolation_own ON isolation_notes FOR SELECT USING (id < 10);
SELECT kalix.enable_isolation('isolation_notes');
SELECT kalix.disable_isolation('isolation_notes');
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'isolation_notes';
SELECT policyname FROM pg_policies WHERE tablename = 'isolation_notes';
DROP POLICY isolation_own ON isolation_notes;
RESET ROLE;
SELECT action, detail FROM kalix.audit_log
WHERE action IN ('enable_isolation', 'disable_isolation') ORDER BY id;

-- A dropped table leaves the registry.
DROP TABLE isolation_bare CASCADE;
SELECT count(*) FROM kalix.isolated_tables;

------------------------------------------------------------------------------
-- Clean up
------------------------------------------------------------------------------

DROP TABLE isolation_notes, isolation_texty;
DELETE FROM kalix.audit_log WHERE detail->>'table' LIKE 'public.isolation\_%'
    OR login_id IN (:'owner_login', :'bob_login')
    OR detail->>'login_id' IN (:'owner_login', :'bob_login');
DELETE FROM kalix.memberships WHERE account_id::text LIKE 'a3000000-%';
DELETE FROM kalix.accounts WHERE id::text LIKE 'a3000000-%';
DELETE FROM kalix.logins WHERE id IN (:'owner_login', :'bob_login');
