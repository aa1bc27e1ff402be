-- attacks_identity: attacks on who the caller is and which account it works
-- in (issue 13), run as the attacker ran them, one block per attack, each
-- named in its heading.  A protection removed shows up as a diff.
\set SHOW_CONTEXT never

-- fixture_carol is the nurse and fixture_mallory the attacker (the
-- fixture's roles, sql/fixture.sql); the web role is this file's own, since
-- the first attack drops it and creates it again.
CREATE ROLE attid_web LOGIN;
-- Where the server asks for passwords (pg_virtualenv), the role this file
-- reconnects as gets the password of the session's own connection.
\getenv pgpassword PGPASSWORD
\if :{?pgpassword}
ALTER ROLE fixture_mallory PASSWORD :'pgpassword';
\endif
SELECT kalix.create_login('web@attid.test', 'Web', 'attid_web') AS web \gset
SELECT kalix.create_login('nurse@attid.test', 'Nurse', 'fixture_carol') AS nurse \gset
SELECT kalix.create_login('mallory@attid.test', 'Mallory', 'fixture_mallory') AS mallory \gset
INSERT INTO kalix.accounts (id, name) VALUES
    ('a7000000-0000-0000-0000-000000000001', 'Attid Sunrise'),
    ('a7000000-0000-0000-0000-000000000002', 'Attid Mallory''s'),
    ('a7000000-0000-0000-0000-000000000003', 'Attid Eastside');
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('a7000000-0000-0000-0000-000000000001', :'web', 'owner'),
    ('a7000000-0000-0000-0000-000000000001', :'nurse', 'member'),
    ('a7000000-0000-0000-0000-000000000003', :'nurse', 'member'),
    ('a7000000-0000-0000-0000-000000000002', :'mallory', 'owner');
CREATE TABLE attid_notes (id serial PRIMARY KEY, account_id uuid NOT NULL, body text);
CREATE INDEX ON attid_notes (account_id);
INSERT INTO attid_notes (account_id, body) VALUES
    ('a7000000-0000-0000-0000-000000000001', 'sunrise secret'),
    ('a7000000-0000-0000-0000-000000000002', 'mallory note'),
    ('a7000000-0000-0000-0000-000000000003', 'eastside note');
SELECT kalix.enable_isolation('attid_notes');
GRANT SELECT ON attid_notes TO PUBLIC;
SELECT current_user AS superuser, current_database() AS db \gset

------------------------------------------------------------------------------
-- Attack: DROP ROLE of a login's role, then CREATE ROLE of the same name
-- (issue 13 item 10).  The login is bound to the role's OID.
------------------------------------------------------------------------------

SET ROLE attid_web;
SELECT kalix.current_login() = :'web' AS is_web;
RESET ROLE;
DROP ROLE attid_web;
CREATE ROLE attid_web LOGIN;
SET ROLE attid_web;
SELECT kalix.current_login() IS NULL AS not_web;
SELECT count(*) AS accounts FROM kalix.my_accounts();
SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001';
SELECT count(*) AS rows FROM attid_notes;
RESET kalix.current_account;
RESET ROLE;
-- The login's binding names the dropped role, not the new one.
SELECT db_role::oid <> 'attid_web'::regrole::oid AS not_the_new_role
FROM kalix.logins WHERE id = :'web';
-- The new role is nobody's login yet, so it may get one of its own.
SELECT kalix.create_login('web2@attid.test', NULL, 'attid_web') IS NOT NULL AS created;

------------------------------------------------------------------------------
-- Attack: rename a login's role away and give its name to another role
-- (issue 13 item 10).  The renamed role stays the login; the other is not.
------------------------------------------------------------------------------

ALTER ROLE fixture_carol RENAME TO attid_nurse_old;
ALTER ROLE fixture_mallory RENAME TO fixture_carol;
SET ROLE fixture_carol;
SELECT kalix.current_login() = :'mallory' AS is_mallory;
SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001';
SELECT count(*) AS rows FROM attid_notes;
RESET kalix.current_account;
RESET ROLE;
SET ROLE attid_nurse_old;
SELECT kalix.current_login() = :'nurse' AS is_nurse;
RESET ROLE;
SELECT email, db_role FROM kalix.logins WHERE id IN (:'nurse', :'mallory') ORDER BY email;
ALTER ROLE fixture_carol RENAME TO fixture_mallory;
ALTER ROLE attid_nurse_old RENAME TO fixture_carol;

------------------------------------------------------------------------------
-- Attack: a WITH HOLD cursor under kalix.account_scope = 'transaction'
-- (issue 13 item 5): DECLARE ... WITH HOLD, COMMIT, then FETCH ALL in the
-- next transaction, which has no account.  Refused when declared.
------------------------------------------------------------------------------

SET kalix.account_scope = 'transaction';
SET ROLE fixture_carol;
BEGIN;
SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001';
DECLARE held CURSOR WITH HOLD FOR SELECT body FROM attid_notes;
COMMIT;
FETCH ALL FROM held;
-- Also when the query hides the table in a subquery, or declares outside a block.
BEGIN;
SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001';
DECLARE held CURSOR WITH HOLD FOR SELECT * FROM (SELECT body FROM attid_notes) s;
ROLLBACK;
DECLARE held CURSOR WITH HOLD FOR SELECT body FROM attid_notes;
-- A cursor without HOLD serves its own transaction.
BEGIN;
SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001';
DECLARE own CURSOR FOR SELECT body FROM attid_notes;
FETCH ALL FROM own;
COMMIT;
-- A held cursor over a table without row-level security is allowed.
DECLARE plain CURSOR WITH HOLD FOR SELECT 1 AS one FROM pg_catalog.pg_class LIMIT 1;
FETCH ALL FROM plain;
CLOSE plain;
RESET ROLE;
-- Under session scope the account outlives the transaction anyway: allowed.
RESET kalix.account_scope;
SET ROLE fixture_carol;
SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001';
DECLARE session_held CURSOR WITH HOLD FOR SELECT body FROM attid_notes;
FETCH ALL FROM session_held;
CLOSE session_held;
RESET kalix.current_account;
RESET ROLE;

------------------------------------------------------------------------------
-- Attack: SET LOCAL outside a transaction block under session scope (issue
-- 13 item 12).  PostgreSQL only warns, the value ends with the statement, and
-- the next statement ran under the account chosen before.  Refused.
------------------------------------------------------------------------------

SET ROLE fixture_carol;
SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001';
SET LOCAL kalix.current_account = 'a7000000-0000-0000-0000-000000000003';
SET LOCAL kalix.current_account TO DEFAULT;
SELECT kalix.current_account() = 'a7000000-0000-0000-0000-000000000001' AS still_sunrise;
-- Inside a transaction block SET LOCAL works as always.
BEGIN;
SET LOCAL kalix.current_account = 'a7000000-0000-0000-0000-000000000003';
SELECT body FROM attid_notes;
COMMIT;
SELECT body FROM attid_notes;
RESET kalix.current_account;
RESET ROLE;

------------------------------------------------------------------------------
-- Attack: a function with SET kalix.current_account in its definition,
-- created by a non-member of that account.  Its SET is checked when it runs.
------------------------------------------------------------------------------

-- Created by the non-member herself: refused when the SET clause is checked.
GRANT CREATE ON SCHEMA public TO fixture_mallory;
SET ROLE fixture_mallory;
CREATE FUNCTION attid_peek() RETURNS SETOF text LANGUAGE sql
    SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001'
    AS 'SELECT body FROM public.attid_notes';
RESET ROLE;
REVOKE CREATE ON SCHEMA public FROM fixture_mallory;
-- Created where nothing checks it (a superuser without a login), as invoker
-- and as definer: the SET clause is checked again whenever it runs.
CREATE FUNCTION attid_peek() RETURNS SETOF text LANGUAGE sql
    SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001'
    AS 'SELECT body FROM public.attid_notes';
CREATE FUNCTION attid_peek_definer() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER
    SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001'
    AS 'SELECT body FROM public.attid_notes';
ALTER FUNCTION attid_peek_definer() OWNER TO fixture_carol;
SET ROLE fixture_mallory;
SELECT * FROM attid_peek();
SELECT * FROM attid_peek_definer();
SELECT kalix.current_account() IS NULL AS none;
RESET ROLE;
-- A member of the account gets only what she may see anyway.
SET ROLE fixture_carol;
SELECT * FROM attid_peek();
SELECT kalix.current_account() IS NULL AS none_after;
RESET ROLE;
DROP FUNCTION attid_peek(), attid_peek_definer();

------------------------------------------------------------------------------
-- Attack: an error inside a function with a SET clause; the account before
-- the call is restored.
------------------------------------------------------------------------------

CREATE FUNCTION attid_fail() RETURNS int LANGUAGE plpgsql
    SET kalix.current_account = 'a7000000-0000-0000-0000-000000000003'
    AS $$ BEGIN RAISE EXCEPTION 'failing in %', kalix.current_account(); END $$;
GRANT EXECUTE ON FUNCTION attid_fail() TO fixture_carol;
SET ROLE fixture_carol;
SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001';
SELECT attid_fail();
SELECT kalix.current_account() = 'a7000000-0000-0000-0000-000000000001' AS restored;
-- Also when the error is caught inside the transaction.
DO $$
BEGIN
    PERFORM attid_fail();
EXCEPTION WHEN raise_exception THEN
    RAISE NOTICE 'caught: %', SQLERRM;
END
$$;
SELECT kalix.current_account() = 'a7000000-0000-0000-0000-000000000001' AS restored_after_catch;
SELECT body FROM attid_notes;
RESET kalix.current_account;
RESET ROLE;
DROP FUNCTION attid_fail();

------------------------------------------------------------------------------
-- Attack: a 1 MB value, and set_config(..., NULL).
------------------------------------------------------------------------------

SET ROLE fixture_carol;
DO $$
BEGIN
    PERFORM set_config('kalix.current_account', repeat('a', 1024 * 1024), false);
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE NOTICE 'refused (%): %...', SQLSTATE, left(SQLERRM, 60);
END
$$;
SELECT set_config('kalix.current_account', 'a7000000-0000-0000-0000-000000000001', false) IS NOT NULL AS set;
SELECT set_config('kalix.current_account', NULL, false) AS after_null;
SELECT kalix.current_account() IS NULL AS none, count(*) AS rows FROM attid_notes;
RESET ROLE;

------------------------------------------------------------------------------
-- Attack: SET ROLE in the middle of a transaction that chose an account.
------------------------------------------------------------------------------

BEGIN;
SET ROLE fixture_carol;
SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001';
SELECT body FROM attid_notes;
SET ROLE fixture_mallory;
SELECT kalix.current_login() = :'mallory' AS is_mallory;
SELECT body FROM attid_notes;
ROLLBACK;

------------------------------------------------------------------------------
-- Attack: RESET ALL and DISCARD ALL leave no account and no login behind.
------------------------------------------------------------------------------

SET kalix.current_login = :'nurse';
SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001';
SELECT kalix.current_account_role();
RESET ALL;
SELECT kalix.current_login() IS NULL AS no_login, kalix.current_account() IS NULL AS no_account;
SET kalix.current_login = :'nurse';
SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001';
DISCARD ALL;
SELECT kalix.current_login() IS NULL AS no_login, kalix.current_account() IS NULL AS no_account;

------------------------------------------------------------------------------
-- Attack: nothing that reads the identity may be IMMUTABLE (a constant
-- folded into a cached plan would outlive a switch).  Every function of the
-- extension that reads the settings, the cache or the hierarchy is listed
-- here if it is IMMUTABLE: none is.  (kalix.account_name_ok, the CHECK of
-- kalix.accounts.name, is IMMUTABLE and reads nothing but its argument.)
------------------------------------------------------------------------------

SELECT p.oid::regprocedure AS immutable_identity_reader
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'kalix_accounts'
WHERE p.provolatile = 'i'
  AND (p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
       AND p.prosrc !~ 'npi' AND p.prosrc <> 'kalix_account_name_ok'
       OR p.prosrc ~ '(current_account|current_login|lineage|member_role|billing_account|my_accounts|current_setting|kalix\.)');
-- The identity functions themselves are STABLE.
SELECT p.proname, p.provolatile
FROM pg_proc p
WHERE p.pronamespace = 'kalix'::regnamespace
  AND p.proname IN ('current_login', 'current_account', 'current_account_role', 'member_role', 'lineage')
ORDER BY 1;

------------------------------------------------------------------------------
-- Attack: ALTER DATABASE ... SET kalix.current_account to an account the
-- connecting login is not a member of.  Applied at connection start, it is
-- checked when used: refused, and no rows.
------------------------------------------------------------------------------

ALTER DATABASE :"db" SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001';
\c - fixture_mallory
SHOW kalix.current_account;
SELECT kalix.current_account();
SELECT body FROM attid_notes;
\c - :superuser
ALTER DATABASE :"db" RESET kalix.current_account;

------------------------------------------------------------------------------
-- Attack: PGOPTIONS naming the account (the same, from the client).
------------------------------------------------------------------------------

\set mallory_options 'user=fixture_mallory options=-ckalix.current_account=a7000000-0000-0000-0000-000000000001'
\set superuser_options 'options='''' user=' :superuser
\c -reuse-previous=on :mallory_options
SHOW kalix.current_account;
SELECT kalix.current_account();
SELECT body FROM attid_notes;
\c -reuse-previous=on :superuser_options

------------------------------------------------------------------------------
-- Attack: PGOPTIONS of kalix.current_login by an ordinary role (to become
-- another login before the library loads).  Discarded when it loads.
------------------------------------------------------------------------------

\set mallory_options 'user=fixture_mallory options=-ckalix.current_login=' :nurse
\c -reuse-previous=on :mallory_options
SELECT kalix.current_login() = :'mallory' AS still_mallory;
SHOW kalix.current_login;
\c -reuse-previous=on :superuser_options

------------------------------------------------------------------------------
-- Attack: a typo'd kalix.* placeholder set before the library loads
-- (kalix.curent_account) is removed when it loads, so it can never be taken
-- for a setting of the extension.  (A fresh backend: the library is not
-- loaded in it yet.)
------------------------------------------------------------------------------

SET kalix.curent_account = 'a7000000-0000-0000-0000-000000000001';
SELECT kalix.current_account() IS NULL AS none;
SHOW kalix.curent_account;
SET kalix.curent_account = 'a7000000-0000-0000-0000-000000000001';

------------------------------------------------------------------------------
-- Clean up
------------------------------------------------------------------------------

RESET kalix.current_account;
DROP TABLE attid_notes;
DELETE FROM kalix.audit_log WHERE detail->>'table' = 'public.attid_notes'
    OR login_id IN (SELECT id FROM kalix.logins WHERE email LIKE '%@attid.test')
    OR detail->>'login_id' IN (SELECT id::text FROM kalix.logins WHERE email LIKE '%@attid.test');
DELETE FROM kalix.memberships WHERE account_id::text LIKE 'a7000000-%';
DELETE FROM kalix.accounts WHERE id::text LIKE 'a7000000-%';
DELETE FROM kalix.logins WHERE email LIKE '%@attid.test';
DROP ROLE attid_web;
ALTER ROLE fixture_mallory PASSWORD NULL;
