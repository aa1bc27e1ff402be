-- identity: logins, the current login, the current account and switching.
-- Accounts used in refusals get fixed ids so that error texts are stable.
\set SHOW_CONTEXT never

-- The roles are the fixture's (sql/fixture.sql); fixture_app, the
-- application's role, is granted here what it needs step by step.

------------------------------------------------------------------------------
-- create_login
------------------------------------------------------------------------------

-- EXECUTE is not granted to PUBLIC: the application's role gets it.
SELECT has_function_privilege('public', 'kalix.create_login(text, text, name)', 'EXECUTE') AS public_may_create;
SET ROLE fixture_nobody;
SELECT kalix.create_login('nobody@identity.test');
RESET ROLE;
GRANT EXECUTE ON FUNCTION kalix.create_login(text, text, name) TO fixture_app;

-- Happy path, as the application role; the email is trimmed.
SET ROLE fixture_app;
SELECT kalix.create_login('  Alice@Identity.test ', 'Alice', 'fixture_alice') AS alice \gset
SELECT kalix.create_login('bob@identity.test', 'Bob', 'fixture_bob') AS bob \gset
SELECT kalix.create_login('carol@identity.test') AS carol \gset
RESET ROLE;
SELECT email, display_name, db_role FROM kalix.logins
WHERE id IN (:'alice', :'bob', :'carol') ORDER BY email;
SELECT action, detail->>'email' AS email, detail->>'db_role' AS db_role,
       (detail->>'login_id')::uuid = :'alice' AS names_login
FROM kalix.audit_log WHERE action = 'create_login' AND detail->>'email' = 'Alice@Identity.test';

-- Emails are unique regardless of case.
SELECT kalix.create_login('ALICE@identity.TEST');
-- Bad emails.
SELECT kalix.create_login('alice.identity.test');
SELECT kalix.create_login('a@b@identity.test');
SELECT kalix.create_login('al ice@identity.test');
SELECT kalix.create_login('@identity.test');
SELECT kalix.create_login('   ');
SELECT kalix.create_login(NULL);
-- White space around an email is trimmed, tabs and newlines included.
SELECT kalix.create_login(E'\t erin@identity.test\n') AS erin \gset
SELECT email FROM kalix.logins WHERE id = :'erin';
-- Unknown database role, and a role that already has a login.
SELECT kalix.create_login('dave@identity.test', 'Dave', 'identity_no_such_role');
SELECT kalix.create_login('dave@identity.test', 'Dave', 'fixture_alice');
-- Nothing was created by the refused calls.
SELECT count(*) FROM kalix.logins WHERE email ILIKE 'dave@%' OR email ILIKE '%@b@%';

------------------------------------------------------------------------------
-- current_login
------------------------------------------------------------------------------

-- A superuser without a login of its own has none.
SELECT kalix.current_login() IS NULL AS no_login;
-- Through db_role.
SET ROLE fixture_alice;
SELECT kalix.current_login() = :'alice' AS is_alice;
RESET ROLE;
-- Through kalix.current_login, as a superuser.
SET kalix.current_login = :'bob';
SELECT kalix.current_login() = :'bob' AS is_bob;
RESET kalix.current_login;
SELECT kalix.current_login() IS NULL AS no_login;
-- Through kalix.current_login, as a role granted SET on it.
GRANT SET ON PARAMETER kalix.current_login TO fixture_app;
SET ROLE fixture_app;
SET kalix.current_login = :'carol';
SELECT kalix.current_login() = :'carol' AS is_carol;
SELECT set_config('kalix.current_login', :'bob', false) IS NOT NULL AS set;
SELECT kalix.current_login() = :'bob' AS is_bob;
RESET kalix.current_login;
RESET ROLE;
-- An ordinary role may not choose a login.
SET ROLE fixture_alice;
SET kalix.current_login = :'bob';
SELECT kalix.current_login() = :'alice' AS still_alice;
RESET ROLE;
-- Unknown login, and not a UUID.
SET kalix.current_login = '00000000-0000-0000-0000-0000000000aa';
SET kalix.current_login = 'bob';
SELECT kalix.current_login() IS NULL AS no_login;

------------------------------------------------------------------------------
-- Fixture: accounts with fixed ids (create_account is tested in accounts.sql)
------------------------------------------------------------------------------

INSERT INTO kalix.accounts (id, name) VALUES
    ('a1000000-0000-0000-0000-000000000001', 'Identity Sunrise'),
    ('a1000000-0000-0000-0000-000000000002', 'Identity Downtown'),
    ('a1000000-0000-0000-0000-000000000003', 'Identity Bob''s'),
    ('a1000000-0000-0000-0000-000000000004', 'Identity Closed');
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('a1000000-0000-0000-0000-000000000001', :'alice', 'owner'),
    ('a1000000-0000-0000-0000-000000000002', :'alice', 'member'),
    ('a1000000-0000-0000-0000-000000000004', :'alice', 'admin'),
    ('a1000000-0000-0000-0000-000000000003', :'bob', 'owner'),
    ('a1000000-0000-0000-0000-000000000002', :'bob', 'admin');
UPDATE kalix.accounts SET archived_at = now() WHERE id = 'a1000000-0000-0000-0000-000000000004';

------------------------------------------------------------------------------
-- SET kalix.current_account
------------------------------------------------------------------------------

SET ROLE fixture_alice;
-- Only a UUID or '' is accepted.
SET kalix.current_account = 'sunrise';
SET kalix.current_account = 'a1000000-0000-0000-0000-00000000000';
SET kalix.current_account = 'a1000000-0000-0000-0000-0000000000011';
SELECT set_config('kalix.current_account', 'not a uuid', false);
SHOW kalix.current_account;
-- Other spellings of a UUID are stored in canonical form.
SET kalix.current_account = '{A1000000-0000-0000-0000-000000000001}';
SHOW kalix.current_account;
SELECT kalix.current_account() = 'a1000000-0000-0000-0000-000000000001' AS is_sunrise;
SELECT kalix.current_account_role();
-- '' means no account.
SET kalix.current_account = '';
SHOW kalix.current_account;
SELECT kalix.current_account() IS NULL AS none, kalix.current_account_role() IS NULL AS no_role;
-- An account the login may not use is refused when SET, and the value is kept.
SET kalix.current_account = 'a1000000-0000-0000-0000-000000000002';
SET kalix.current_account = 'a1000000-0000-0000-0000-000000000003';
SET kalix.current_account = 'a1000000-0000-0000-0000-000000000004';
SET kalix.current_account = 'a1000000-0000-0000-0000-0000000000ff';
SELECT set_config('kalix.current_account', 'a1000000-0000-0000-0000-000000000003', false);
SHOW kalix.current_account;
SELECT kalix.current_account_role();
RESET ROLE;

-- Without a login, an account can be named but not used.
SET kalix.current_account = 'a1000000-0000-0000-0000-000000000001';
SELECT kalix.current_account();
RESET kalix.current_account;

------------------------------------------------------------------------------
-- switch_account, current_account, current_account_role, my_accounts
------------------------------------------------------------------------------

SET ROLE fixture_alice;
SELECT kalix.switch_account('a1000000-0000-0000-0000-000000000001');
SELECT kalix.current_account(), kalix.current_account_role();
SELECT kalix.switch_account('a1000000-0000-0000-0000-000000000002');
SELECT kalix.current_account(), kalix.current_account_role();
SELECT name, role, parent_id, is_current FROM kalix.my_accounts();
-- Refusals leave the current account as it was.
SELECT kalix.switch_account('a1000000-0000-0000-0000-000000000003');
SELECT kalix.switch_account('a1000000-0000-0000-0000-000000000004');
SELECT kalix.switch_account('a1000000-0000-0000-0000-0000000000ff');
SELECT kalix.switch_account(NULL);
SELECT kalix.current_account();
-- is_local: for the transaction only.
BEGIN;
SELECT kalix.switch_account('a1000000-0000-0000-0000-000000000001', true);
SELECT kalix.current_account();
COMMIT;
SELECT kalix.current_account();
RESET kalix.current_account;
RESET ROLE;

-- No login: nothing to switch to, and no accounts.
SELECT kalix.switch_account('a1000000-0000-0000-0000-000000000001');
SELECT count(*) FROM kalix.my_accounts();

-- Bob's view: his own accounts only.
SET ROLE fixture_bob;
SELECT name, role, is_current FROM kalix.my_accounts();
SELECT kalix.current_account() IS NULL AS none;
RESET ROLE;

-- An account archived while in use: current_account() refuses it.
SET ROLE fixture_alice;
SELECT kalix.switch_account('a1000000-0000-0000-0000-000000000001');
RESET ROLE;
UPDATE kalix.accounts SET archived_at = now() WHERE id = 'a1000000-0000-0000-0000-000000000001';
SET ROLE fixture_alice;
SELECT kalix.current_account();
SELECT kalix.current_account_role();
SELECT name FROM kalix.my_accounts();
RESET kalix.current_account;
RESET ROLE;
UPDATE kalix.accounts SET archived_at = NULL WHERE id = 'a1000000-0000-0000-0000-000000000001';

-- A membership removed while in use: refused at the next statement.
SET ROLE fixture_bob;
SELECT kalix.switch_account('a1000000-0000-0000-0000-000000000002');
RESET ROLE;
DELETE FROM kalix.memberships
WHERE account_id = 'a1000000-0000-0000-0000-000000000002' AND login_id = :'bob';
SET ROLE fixture_bob;
SELECT kalix.current_account();
RESET kalix.current_account;
RESET ROLE;

------------------------------------------------------------------------------
-- kalix.account_scope = 'transaction'
------------------------------------------------------------------------------

SHOW kalix.account_scope;
SET kalix.account_scope = 'transaction';
SET ROLE fixture_alice;
-- An ordinary role cannot change the scope back.
SET kalix.account_scope = 'session';
-- A session-level SET in one transaction is gone in the next.
SET kalix.current_account = 'a1000000-0000-0000-0000-000000000001';
SHOW kalix.current_account;
SELECT kalix.current_account() IS NULL AS none;
BEGIN;
SET kalix.current_account = 'a1000000-0000-0000-0000-000000000001';
SHOW kalix.current_account;
SELECT kalix.current_account() = 'a1000000-0000-0000-0000-000000000001' AS chosen;
COMMIT;
SHOW kalix.current_account;
SELECT kalix.current_account() IS NULL AS none;
SELECT name, is_current FROM kalix.my_accounts();
-- SET LOCAL and switch_account work inside a transaction.
BEGIN;
SET LOCAL kalix.current_account = 'a1000000-0000-0000-0000-000000000002';
SELECT kalix.current_account_role();
SELECT kalix.switch_account('a1000000-0000-0000-0000-000000000001', true);
SELECT kalix.current_account_role();
COMMIT;
SELECT kalix.current_account() IS NULL AS none;
BEGIN;
SELECT kalix.switch_account('a1000000-0000-0000-0000-000000000002');
SELECT kalix.current_account_role();
COMMIT;
SELECT kalix.current_account() IS NULL AS none, kalix.current_account_role() IS NULL AS no_role;
RESET ROLE;
RESET kalix.account_scope;
RESET kalix.current_account;

------------------------------------------------------------------------------
-- Other settings
------------------------------------------------------------------------------

SHOW kalix.max_depth;
SET kalix.max_depth = 0;
SET kalix.max_depth = 1001;
SET kalix.max_depth = 1000;
SHOW kalix.max_depth;
RESET kalix.max_depth;
SET ROLE fixture_alice;
SET kalix.max_depth = 4;
RESET ROLE;
SET kalix.account_scope = 'statement';
-- The kalix prefix is reserved.
SET kalix.no_such_setting = 'x';

------------------------------------------------------------------------------
-- Clean up
------------------------------------------------------------------------------

DELETE FROM kalix.memberships WHERE account_id::text LIKE 'a1000000-%';
DELETE FROM kalix.accounts WHERE id::text LIKE 'a1000000-%';
DELETE FROM kalix.audit_log WHERE login_id IN (:'alice', :'bob', :'carol', :'erin')
    OR detail->>'login_id' IN (:'alice', :'bob', :'carol', :'erin');
DELETE FROM kalix.logins WHERE id IN (:'alice', :'bob', :'carol', :'erin');
REVOKE SET ON PARAMETER kalix.current_login FROM fixture_app;
REVOKE EXECUTE ON FUNCTION kalix.create_login(text, text, name) FROM fixture_app;
