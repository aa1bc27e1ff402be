-- attacks_identity: attacks on who the caller is and which account it works
-- in (issue 13), run as the attacker ran them, one block per attack, each
-- named in its heading.  A protection removed shows up as a diff.
\set SHOW_CONTEXT never

CREATE ROLE attid_web LOGIN;
CREATE ROLE attid_nurse LOGIN;
CREATE ROLE attid_mallory LOGIN;
-- Where the server asks for passwords (pg_virtualenv), the role this file
-- reconnects as gets the password of the session's own connection.
\getenv pgpassword PGPASSWORD
\if :{?pgpassword}
ALTER ROLE attid_mallory PASSWORD :'pgpassword';
\endif
SELECT kalix.create_login('web@attid.test', 'Web', 'attid_web') AS web \gset
SELECT kalix.create_login('nurse@attid.test', 'Nurse', 'attid_nurse') AS nurse \gset
SELECT kalix.create_login('mallory@attid.test', 'Mallory', 'attid_mallory') AS mallory \gset
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

ALTER ROLE attid_nurse RENAME TO attid_nurse_old;
ALTER ROLE attid_mallory RENAME TO attid_nurse;
SET ROLE attid_nurse;
SELECT kalix.current_login() = :'mallory' AS is_mallory;
SET kalix.current_account = 'a7000000-0000-0000-0000-000000000001';
SELECT count(*) AS rows FROM attid_notes;
RESET kalix.current_account;
RESET ROLE;
SET ROLE attid_nurse_old;
SELECT kalix.current_login() = :'nurse' AS is_nurse;
RESET ROLE;
SELECT email, db_role FROM kalix.logins WHERE id IN (:'nurse', :'mallory') ORDER BY email;
ALTER ROLE attid_nurse RENAME TO attid_mallory;
ALTER ROLE attid_nurse_old RENAME TO attid_nurse;

------------------------------------------------------------------------------
-- Attack: a WITH HOLD cursor under kalix.account_scope = 'transaction'
-- (issue 13 item 5): DECLARE ... WITH HOLD, COMMIT, then FETCH ALL in the
-- next transaction, which has no account.  Refused when declared.
------------------------------------------------------------------------------

SET kalix.account_scope = 'transaction';
SET ROLE attid_nurse;
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
SET ROLE attid_nurse;
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

SET ROLE attid_nurse;
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
-- Clean up
------------------------------------------------------------------------------

RESET kalix.current_account;
DROP TABLE attid_notes;
DELETE FROM kalix.audit_log WHERE detail->>'table' = 'attid_notes'
    OR login_id IN (SELECT id FROM kalix.logins WHERE email LIKE '%@attid.test')
    OR detail->>'login_id' IN (SELECT id::text FROM kalix.logins WHERE email LIKE '%@attid.test');
DELETE FROM kalix.memberships WHERE account_id::text LIKE 'a7000000-%';
DELETE FROM kalix.accounts WHERE id::text LIKE 'a7000000-%';
DELETE FROM kalix.logins WHERE email LIKE '%@attid.test';
DROP ROLE attid_web, attid_nurse, attid_mallory;
