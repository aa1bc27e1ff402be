-- attacks: what an attacker would try against isolation, and how it fails.
\set SHOW_CONTEXT never

-- The roles are the fixture's (sql/fixture.sql); the superuser is whoever
-- runs the suite.
SELECT current_user AS superuser \gset
-- Where the server asks for passwords (pg_virtualenv), the roles this file
-- reconnects as get the password of the session's own connection.
\getenv pgpassword PGPASSWORD
\if :{?pgpassword}
ALTER ROLE fixture_mallory PASSWORD :'pgpassword';
ALTER ROLE fixture_bob PASSWORD :'pgpassword';
\endif
SELECT kalix.create_login('owner@attacks.test', 'Owner', 'fixture_owner') AS owner_login \gset
SELECT kalix.create_login('alice@attacks.test', 'Alice', 'fixture_alice') AS alice \gset
SELECT kalix.create_login('bob@attacks.test', 'Bob', 'fixture_bob') AS bob \gset
SELECT kalix.create_login('mallory@attacks.test', 'Mallory', 'fixture_mallory') AS mallory \gset
-- Account A: Alice and the owner; account B: Bob and Alice; account M: Mallory.
INSERT INTO kalix.accounts (id, name) VALUES
    ('a4000000-0000-0000-0000-00000000000a', 'Attacks A'),
    ('a4000000-0000-0000-0000-00000000000b', 'Attacks B'),
    ('a4000000-0000-0000-0000-00000000000c', 'Attacks M');
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('a4000000-0000-0000-0000-00000000000a', :'alice', 'owner'),
    ('a4000000-0000-0000-0000-00000000000a', :'owner_login', 'admin'),
    ('a4000000-0000-0000-0000-00000000000b', :'bob', 'owner'),
    ('a4000000-0000-0000-0000-00000000000b', :'alice', 'member'),
    ('a4000000-0000-0000-0000-00000000000c', :'mallory', 'owner');

CREATE TABLE attacks_notes (
    id         int PRIMARY KEY,
    account_id uuid NOT NULL,
    body       text NOT NULL
);
CREATE INDEX attacks_notes_account_idx ON attacks_notes (account_id, id);
INSERT INTO attacks_notes VALUES
    (1, 'a4000000-0000-0000-0000-00000000000a', 'a1'),
    (2, 'a4000000-0000-0000-0000-00000000000a', 'a2'),
    (3, 'a4000000-0000-0000-0000-00000000000b', 'b1'),
    (4, 'a4000000-0000-0000-0000-00000000000b', 'b2'),
    (5, 'a4000000-0000-0000-0000-00000000000c', 'm1');
ALTER TABLE attacks_notes OWNER TO fixture_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON attacks_notes TO PUBLIC;
SET ROLE fixture_owner;
SELECT kalix.enable_isolation('attacks_notes');
RESET ROLE;
-- The attackers may create objects of their own.
GRANT CREATE ON SCHEMA public TO fixture_owner, fixture_alice, fixture_bob, fixture_mallory;

------------------------------------------------------------------------------
-- A prepared statement planned under A, executed after switching to B
------------------------------------------------------------------------------

SET ROLE fixture_alice;
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000a') IS NOT NULL AS in_a;
PREPARE attacks_all AS SELECT string_agg(body, ',' ORDER BY id) FROM attacks_notes;
PREPARE attacks_one(int) AS SELECT body FROM attacks_notes WHERE id = $1;
EXECUTE attacks_all;
EXECUTE attacks_one(1);
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000b') IS NOT NULL AS in_b;
EXECUTE attacks_all;
EXECUTE attacks_all;
EXECUTE attacks_all;
EXECUTE attacks_all;
EXECUTE attacks_all;
EXECUTE attacks_all;
EXECUTE attacks_all;
EXECUTE attacks_one(1);
EXECUTE attacks_one(1);
EXECUTE attacks_one(1);
EXECUTE attacks_one(1);
EXECUTE attacks_one(1);
EXECUTE attacks_one(1);
EXECUTE attacks_one(3);
-- The same with a generic plan made under A.
SET plan_cache_mode = force_generic_plan;
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000a') IS NOT NULL AS in_a;
PREPARE attacks_generic(int) AS SELECT string_agg(body, ',' ORDER BY id) FROM attacks_notes WHERE id >= $1;
EXECUTE attacks_generic(0);
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000b') IS NOT NULL AS in_b;
EXECUTE attacks_generic(0);
EXECUTE attacks_generic(0);
EXECUTE attacks_generic(0);
EXECUTE attacks_generic(0);
EXECUTE attacks_generic(0);
EXECUTE attacks_generic(0);
EXECUTE attacks_generic(0);
RESET kalix.current_account;
-- No account: nothing.
EXECUTE attacks_generic(0);
RESET plan_cache_mode;
DEALLOCATE ALL;

------------------------------------------------------------------------------
-- A plpgsql function whose plan was cached under A, called under B
------------------------------------------------------------------------------

CREATE FUNCTION attacks_bodies() RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    result text;
BEGIN
    SELECT string_agg(body, ',' ORDER BY id) INTO result FROM attacks_notes;
    RETURN result;
END
$$;
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000a') IS NOT NULL AS in_a;
SELECT attacks_bodies() FROM generate_series(1, 7);
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000b') IS NOT NULL AS in_b;
SELECT attacks_bodies();
SELECT attacks_bodies() FROM generate_series(1, 2);
RESET kalix.current_account;
SELECT attacks_bodies() IS NULL AS nothing;
RESET ROLE;

------------------------------------------------------------------------------
-- A leaky, very cheap function sees only the visible rows
------------------------------------------------------------------------------

SET ROLE fixture_bob;
CREATE FUNCTION attacks_leak(body text) RETURNS boolean
LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    RAISE NOTICE 'leaked %', body;
    RETURN true;
END
$$;
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000b') IS NOT NULL AS in_b;
SELECT id FROM attacks_notes WHERE attacks_leak(body) ORDER BY id;
SELECT id FROM attacks_notes WHERE attacks_leak(body) AND id = 1;
RESET kalix.current_account;
SELECT id FROM attacks_notes WHERE attacks_leak(body);
RESET ROLE;

------------------------------------------------------------------------------
-- Objects planted in public and pg_temp under kalix names capture nothing
------------------------------------------------------------------------------

SET ROLE fixture_mallory;
-- Functions that would make Mallory a member of everything, as Alice.
CREATE FUNCTION public.current_account() RETURNS uuid LANGUAGE sql
    AS $$ SELECT 'a4000000-0000-0000-0000-00000000000a'::uuid $$;
CREATE FUNCTION public.current_login() RETURNS uuid LANGUAGE sql
    AS $$ SELECT id FROM kalix.logins WHERE email = 'alice@attacks.test' $$;
CREATE FUNCTION public.member_role(account uuid) RETURNS kalix.account_role LANGUAGE sql
    AS $$ SELECT 'owner'::kalix.account_role $$;
CREATE FUNCTION pg_temp.current_account() RETURNS uuid LANGUAGE sql
    AS $$ SELECT 'a4000000-0000-0000-0000-00000000000a'::uuid $$;
CREATE FUNCTION pg_temp.member_role(account uuid) RETURNS kalix.account_role LANGUAGE sql
    AS $$ SELECT 'owner'::kalix.account_role $$;
-- An = on uuid that is always true.
CREATE FUNCTION public.attacks_always(uuid, uuid) RETURNS boolean LANGUAGE sql
    AS $$ SELECT true $$;
CREATE OPERATOR public.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = public.attacks_always);
CREATE OPERATOR pg_temp.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = public.attacks_always);
-- Tables that claim memberships and accounts.
CREATE TABLE public.memberships (account_id uuid, login_id uuid, role kalix.account_role);
CREATE TABLE public.accounts (id uuid, name text, parent_id uuid, archived_at timestamptz);
INSERT INTO public.memberships
    SELECT a, :'mallory', 'owner' FROM unnest(ARRAY['a4000000-0000-0000-0000-00000000000a',
                                                   'a4000000-0000-0000-0000-00000000000b']::uuid[]) a;
INSERT INTO public.accounts VALUES ('a4000000-0000-0000-0000-00000000000a', 'Attacks A', NULL, NULL);
CREATE TEMP TABLE memberships AS SELECT * FROM public.memberships;
CREATE TEMP TABLE accounts AS SELECT * FROM public.accounts;

SET search_path = public, pg_temp, pg_catalog;
SELECT kalix.current_login() = :'mallory' AS still_mallory;
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000a');
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000c') IS NOT NULL AS in_m;
SELECT kalix.current_account() = 'a4000000-0000-0000-0000-00000000000c' AS in_m,
       kalix.member_role('a4000000-0000-0000-0000-00000000000a') IS NULL AS not_in_a;
SELECT name, role FROM kalix.my_accounts();
SELECT kalix.create_account('Mallory''s child', child => true) IS NOT NULL AS created;
SELECT string_agg(body, ',' ORDER BY id) FROM attacks_notes;
SELECT count(*) FROM kalix.accounts;
SELECT count(*) FROM kalix.memberships;
INSERT INTO attacks_notes VALUES (100, 'a4000000-0000-0000-0000-00000000000a', 'planted');
SET search_path = pg_temp, public, pg_catalog;
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000b');
SELECT name, role FROM kalix.my_accounts();
SELECT kalix.create_account('Mallory''s copy', copy_users => true) IS NOT NULL AS created;
SELECT string_agg(body, ',' ORDER BY id) FROM attacks_notes;
SELECT count(*) FROM kalix.accounts;
UPDATE attacks_notes SET body = 'planted' WHERE id = 1;
RESET search_path;
-- Only Mallory's own rows were touched, only Mallory was copied.
SELECT a.name, m.role FROM kalix.memberships m JOIN kalix.accounts a ON a.id = m.account_id
ORDER BY a.name;
RESET kalix.current_account;
DROP TABLE pg_temp.memberships, pg_temp.accounts, public.memberships, public.accounts;
DROP OPERATOR pg_temp.= (uuid, uuid);
DROP OPERATOR public.= (uuid, uuid);
DROP FUNCTION public.attacks_always(uuid, uuid), public.current_account(), public.current_login(),
    public.member_role(uuid), pg_temp.current_account(), pg_temp.member_role(uuid);
RESET ROLE;
SELECT body FROM attacks_notes ORDER BY id;

------------------------------------------------------------------------------
-- An ordinary role choosing another login: by SET, by set_config, and
-- before the library is loaded in a fresh backend
------------------------------------------------------------------------------

SET ROLE fixture_mallory;
SET kalix.current_login = :'alice';
SELECT set_config('kalix.current_login', :'alice', false);
SELECT set_config('kalix.current_login', :'alice', true);
SELECT kalix.current_login() = :'mallory' AS still_mallory;
RESET ROLE;
\c - fixture_mallory
SET kalix.current_login = :'alice';
SELECT kalix.current_login() = :'mallory' AS still_mallory;
SELECT current_setting('kalix.current_login') = '' AS ignored;
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000a');
\c - fixture_mallory
SELECT set_config('kalix.current_login', :'alice', false) = :'alice' AS placeholder_set;
SELECT kalix.current_login() = :'mallory' AS still_mallory;
\c - fixture_mallory
BEGIN;
SET LOCAL kalix.current_login = :'alice';
SELECT name FROM kalix.my_accounts();
COMMIT;
\c - :superuser

------------------------------------------------------------------------------
-- The table's owner, not a superuser, under FORCE ROW LEVEL SECURITY
------------------------------------------------------------------------------

SET ROLE fixture_owner;
SELECT count(*) FROM attacks_notes;
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000a') IS NOT NULL AS in_a;
SELECT string_agg(body, ',' ORDER BY id) FROM attacks_notes;
-- Owning the table gives no way into an account the owner is not a member of.
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000b');
RESET kalix.current_account;
RESET ROLE;

------------------------------------------------------------------------------
-- Writes into another account
------------------------------------------------------------------------------

SET ROLE fixture_alice;
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000a') IS NOT NULL AS in_a;
-- Moving a row to another account (where Alice is a member, even).
UPDATE attacks_notes SET account_id = 'a4000000-0000-0000-0000-00000000000b' WHERE id = 1;
UPDATE attacks_notes SET account_id = 'a4000000-0000-0000-0000-00000000000c' WHERE id = 1;
-- Inserting with another account's id.
INSERT INTO attacks_notes VALUES (10, 'a4000000-0000-0000-0000-00000000000b', 'into b');
INSERT INTO attacks_notes VALUES (10, 'a4000000-0000-0000-0000-00000000000c', 'into m');
-- ... also through INSERT ... ON CONFLICT DO UPDATE on another account's row.
INSERT INTO attacks_notes VALUES (3, 'a4000000-0000-0000-0000-00000000000a', 'stolen')
    ON CONFLICT (id) DO UPDATE SET body = 'stolen';
-- Updating and deleting other accounts' rows touches nothing.
UPDATE attacks_notes SET body = 'defaced' WHERE id IN (3, 4, 5);
DELETE FROM attacks_notes WHERE id IN (3, 4, 5);
RESET kalix.current_account;
RESET ROLE;
SELECT id, account_id, body FROM attacks_notes ORDER BY id;

------------------------------------------------------------------------------
-- A view without security_invoker, and a SECURITY DEFINER function, owned by
-- the table's owner: rows are still those of the caller's account
------------------------------------------------------------------------------

SET ROLE fixture_owner;
CREATE VIEW attacks_view AS SELECT * FROM attacks_notes;
GRANT SELECT ON attacks_view TO PUBLIC;
CREATE FUNCTION attacks_definer() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT string_agg(body, ',' ORDER BY id) FROM public.attacks_notes $$;
RESET ROLE;
SET ROLE fixture_bob;
SELECT count(*) FROM attacks_view;
SELECT attacks_definer() IS NULL AS nothing;
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000b') IS NOT NULL AS in_b;
SELECT string_agg(body, ',' ORDER BY id) FROM attacks_view;
SELECT attacks_definer();
RESET kalix.current_account;
RESET ROLE;
SET ROLE fixture_mallory;
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000c') IS NOT NULL AS in_m;
SELECT string_agg(body, ',' ORDER BY id) FROM attacks_view;
SELECT attacks_definer();
RESET kalix.current_account;
RESET ROLE;

------------------------------------------------------------------------------
-- kalix.account_scope = 'transaction': a choice never outlives its
-- transaction, also in parallel plans
------------------------------------------------------------------------------

-- Enough rows for parallel scans, written past RLS by the superuser.
INSERT INTO attacks_notes
SELECT g, CASE WHEN g % 2 = 0 THEN 'a4000000-0000-0000-0000-00000000000a'::uuid
                              ELSE 'a4000000-0000-0000-0000-00000000000b'::uuid END, 'bulk'
FROM generate_series(1000, 20999) g;
ANALYZE attacks_notes;
ALTER ROLE fixture_bob SET kalix.account_scope = 'transaction';
ALTER ROLE fixture_bob SET kalix.current_account = 'a4000000-0000-0000-0000-00000000000b';
\c - fixture_bob
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
-- force_parallel_mode was renamed debug_parallel_query in PostgreSQL 16.
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                  THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'on', false) AS parallel_forced;
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM attacks_notes;
-- Chosen by ALTER ROLE ... SET: not chosen in this transaction.
SELECT count(*) FROM attacks_notes;
SELECT kalix.current_account() IS NULL AS none;
-- Chosen in a transaction that commits: its rows there, none after.
BEGIN;
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000b') IS NOT NULL AS in_b;
SELECT count(*) FROM attacks_notes;
COMMIT;
SELECT count(*) FROM attacks_notes;
-- ... or rolls back.
BEGIN;
SET kalix.current_account = 'a4000000-0000-0000-0000-00000000000b';
SELECT count(*) FROM attacks_notes;
ROLLBACK;
SELECT count(*) FROM attacks_notes;
-- ... or set by SET outside a transaction block.
SET kalix.current_account = 'a4000000-0000-0000-0000-00000000000b';
SELECT count(*) FROM attacks_notes;
BEGIN;
SELECT count(*) FROM attacks_notes;
SELECT kalix.current_account() IS NULL AS none;
COMMIT;
\c - :superuser
ALTER ROLE fixture_bob RESET ALL;
-- A trusted application role on a new connection, transaction scope: the
-- login and account set inside the first transaction, before the library is
-- loaded, count in that transaction and are gone after it.
ALTER ROLE fixture_bob SET kalix.account_scope = 'transaction';
GRANT SET ON PARAMETER kalix.current_login TO fixture_bob;
\c - fixture_bob
BEGIN;
SELECT set_config('kalix.current_login', :'alice', true) = :'alice' AS login_set;
SELECT kalix.switch_account('a4000000-0000-0000-0000-00000000000a', true) IS NOT NULL AS in_a;
SELECT kalix.current_login() = :'alice' AS acting_as_alice;
SELECT count(*) FILTER (WHERE account_id <> 'a4000000-0000-0000-0000-00000000000a') AS other_rows,
       count(*) > 0 AS sees_a
FROM attacks_notes;
COMMIT;
SELECT kalix.current_login() = :'bob' AS bob_again, kalix.current_account() IS NULL AS no_account;
\c - :superuser
REVOKE SET ON PARAMETER kalix.current_login FROM fixture_bob;
ALTER ROLE fixture_bob RESET ALL;

------------------------------------------------------------------------------
-- Clean up
------------------------------------------------------------------------------

DROP VIEW attacks_view;
DROP FUNCTION attacks_definer(), attacks_bodies(), attacks_leak(text);
DROP TABLE attacks_notes;
REVOKE CREATE ON SCHEMA public FROM fixture_owner, fixture_alice, fixture_bob, fixture_mallory;
CREATE TEMP TABLE attacks_logins AS SELECT id FROM kalix.logins WHERE email LIKE '%@attacks.test';
CREATE TEMP TABLE attacks_accounts AS
    SELECT DISTINCT account_id AS id FROM kalix.memberships WHERE login_id IN (SELECT id FROM attacks_logins);
DELETE FROM kalix.audit_log WHERE detail->>'table' = 'public.attacks_notes'
    OR login_id IN (SELECT id FROM attacks_logins)
    OR account_id IN (SELECT id FROM attacks_accounts)
    OR detail->>'login_id' IN (SELECT id::text FROM attacks_logins);
DELETE FROM kalix.memberships WHERE account_id IN (SELECT id FROM attacks_accounts);
DELETE FROM kalix.accounts WHERE id IN (SELECT id FROM attacks_accounts);
DELETE FROM kalix.logins WHERE id IN (SELECT id FROM attacks_logins);
-- The fixture's roles lose the passwords given above.
ALTER ROLE fixture_mallory PASSWORD NULL;
ALTER ROLE fixture_bob PASSWORD NULL;
