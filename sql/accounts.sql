-- accounts: create_account and my_accounts.
-- The account whose id appears in refusals gets a fixed id (a2000000-...).
\set SHOW_CONTEXT never

-- The roles are the fixture's (sql/fixture.sql).
SELECT kalix.create_login('alice@accounts.test', 'Alice', 'fixture_alice') AS alice \gset
SELECT kalix.create_login('bob@accounts.test', 'Bob', 'fixture_bob') AS bob \gset
SELECT kalix.create_login('carol@accounts.test', 'Carol', 'fixture_carol') AS carol \gset
SELECT kalix.create_login('dave@accounts.test', 'Dave', 'fixture_dave') AS dave \gset

-- Fixture: Alice owns Sunrise, Bob is a member and Carol an admin there.
INSERT INTO kalix.accounts (id, name) VALUES ('a2000000-0000-0000-0000-000000000001', 'Accounts Sunrise');
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('a2000000-0000-0000-0000-000000000001', :'alice', 'owner'),
    ('a2000000-0000-0000-0000-000000000001', :'bob', 'member'),
    ('a2000000-0000-0000-0000-000000000001', :'carol', 'admin');

------------------------------------------------------------------------------
-- A plain account: the caller becomes its owner; the name is trimmed
------------------------------------------------------------------------------

SET ROLE fixture_dave;
SELECT kalix.create_account(E'  \tDave''s Diets \n') AS diets \gset
SELECT name, parent_id, created_by = :'dave' AS by_dave, archived_at, settings, branding
FROM kalix.accounts WHERE id = :'diets';
SELECT login_id = :'dave' AS is_dave, role FROM kalix.memberships WHERE account_id = :'diets';
-- It does not switch the session to the new account.
SELECT kalix.current_account() IS NULL AS none;
SELECT name, role, parent_id, is_current FROM kalix.my_accounts();
RESET ROLE;

------------------------------------------------------------------------------
-- Bad names
------------------------------------------------------------------------------

SET ROLE fixture_dave;
SELECT kalix.create_account(NULL);
SELECT kalix.create_account('');
SELECT kalix.create_account(E' \t\n ');
SELECT kalix.create_account(repeat('x', 201));
SELECT kalix.create_account(' ' || repeat('é', 201) || ' ');
-- 200 characters (after trimming) are fine.
SELECT kalix.create_account(' ' || repeat('y', 200) || ' ') AS long_name \gset
SELECT length(name) FROM kalix.accounts WHERE id = :'long_name';
SELECT count(*) FROM kalix.my_accounts();
RESET ROLE;
-- A superuser's own writes meet the same rule in the table's CHECK, which
-- calls it (kalix.account_name_ok): trimmed, 1 to 200 characters.
\set VERBOSITY terse
INSERT INTO kalix.accounts (name) VALUES (' Padded');
INSERT INTO kalix.accounts (name) VALUES (E'Vertical tab\x0B');
INSERT INTO kalix.accounts (name) VALUES ('');
INSERT INTO kalix.accounts (name) VALUES (repeat('é', 201));
UPDATE kalix.accounts SET name = name || E'\n' WHERE id = :'long_name';
\set VERBOSITY default
SELECT kalix.account_name_ok(repeat('é', 200)) AS two_hundred, kalix.account_name_ok('a b') AS inner_blank,
       kalix.account_name_ok(E'\ta') AS leading_tab, kalix.account_name_ok(NULL) AS null_name;

------------------------------------------------------------------------------
-- No login, no current account, not an admin
------------------------------------------------------------------------------

SELECT kalix.create_account('Nobody''s');
SET ROLE fixture_alice;
SELECT kalix.create_account('Child of nothing', child => true);
SELECT kalix.create_account('Copy of nothing', copy_users => true);
RESET ROLE;
SET ROLE fixture_bob;
SELECT kalix.switch_account('a2000000-0000-0000-0000-000000000001') IS NOT NULL AS switched;
SELECT kalix.create_account('Bob''s child', child => true);
SELECT kalix.create_account('Bob''s copy', copy_users => true);
SELECT kalix.create_account('Bob''s child copy', true, true);
-- A plain account needs no role anywhere.
SELECT kalix.create_account('Bob''s own') IS NOT NULL AS created;
SELECT name, role, is_current FROM kalix.my_accounts();
RESET kalix.current_account;
RESET ROLE;

------------------------------------------------------------------------------
-- child => true: the parent is the current account
------------------------------------------------------------------------------

SET ROLE fixture_alice;
SELECT kalix.switch_account('a2000000-0000-0000-0000-000000000001') IS NOT NULL AS switched;
SELECT kalix.create_account('Sunrise Downtown', child => true) AS downtown \gset
SELECT name, parent_id FROM kalix.accounts WHERE id = :'downtown';
-- Without copy_users only the creator is a member.
SELECT l.email, m.role FROM kalix.memberships m JOIN kalix.logins l ON l.id = m.login_id
WHERE m.account_id = :'downtown' ORDER BY l.email;

------------------------------------------------------------------------------
-- copy_users => true: memberships copied, roles kept
------------------------------------------------------------------------------

SELECT kalix.create_account('Sunrise Uptown', copy_users => true) AS uptown \gset
SELECT name, parent_id FROM kalix.accounts WHERE id = :'uptown';
SELECT l.email, m.role FROM kalix.memberships m JOIN kalix.logins l ON l.id = m.login_id
WHERE m.account_id = :'uptown' ORDER BY l.email;
-- Both at once.
SELECT kalix.create_account('Sunrise Pediatrics', child => true, copy_users => true) AS pediatrics \gset
SELECT name, parent_id FROM kalix.accounts WHERE id = :'pediatrics';
SELECT l.email, m.role FROM kalix.memberships m JOIN kalix.logins l ON l.id = m.login_id
WHERE m.account_id = :'pediatrics' ORDER BY l.email;
-- The session stayed in Sunrise.
SELECT kalix.current_account();
RESET ROLE;

-- An admin may do it too.
SET ROLE fixture_carol;
SELECT kalix.switch_account('a2000000-0000-0000-0000-000000000001') IS NOT NULL AS switched;
SELECT kalix.create_account('Carol''s branch', true, true) AS branch \gset
SELECT l.email, m.role FROM kalix.memberships m JOIN kalix.logins l ON l.id = m.login_id
WHERE m.account_id = :'branch' ORDER BY l.email;
RESET kalix.current_account;
RESET ROLE;

------------------------------------------------------------------------------
-- One atomic step: a failure while copying leaves nothing behind
------------------------------------------------------------------------------

CREATE FUNCTION accounts_refuse_bob() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.login_id = (SELECT id FROM kalix.logins WHERE email = 'bob@accounts.test') THEN
        RAISE EXCEPTION 'no more memberships for bob';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER accounts_refuse_bob BEFORE INSERT ON kalix.memberships
    FOR EACH ROW EXECUTE FUNCTION accounts_refuse_bob();
SET ROLE fixture_alice;
SELECT kalix.switch_account('a2000000-0000-0000-0000-000000000001') IS NOT NULL AS switched;
SELECT kalix.create_account('Sunrise Atomic', true, true);
RESET kalix.current_account;
RESET ROLE;
DROP TRIGGER accounts_refuse_bob ON kalix.memberships;
DROP FUNCTION accounts_refuse_bob();
SELECT count(*) FROM kalix.accounts WHERE name = 'Sunrise Atomic';
SELECT count(*) FROM kalix.audit_log WHERE detail->>'name' = 'Sunrise Atomic';

------------------------------------------------------------------------------
-- my_accounts: unarchived accounts by name, the current one flagged
------------------------------------------------------------------------------

UPDATE kalix.accounts SET archived_at = now() WHERE id = :'uptown';
SET ROLE fixture_alice;
SELECT name, role, parent_id = 'a2000000-0000-0000-0000-000000000001' AS child_of_sunrise, is_current
FROM kalix.my_accounts();
SELECT kalix.switch_account(:'downtown') IS NOT NULL AS switched;
SELECT name, is_current FROM kalix.my_accounts();
RESET kalix.current_account;
RESET ROLE;
SET ROLE fixture_bob;
SELECT name, role, is_current FROM kalix.my_accounts();
RESET ROLE;

------------------------------------------------------------------------------
-- Audit: one row per account created, by whom, with what
------------------------------------------------------------------------------

SELECT left(a.name, 20) AS name, l.email AS by_login,
       log.detail->>'name' = a.name AS names_it,
       (log.detail->>'parent_id')::uuid IS NOT DISTINCT FROM a.parent_id AS parent_matches,
       log.detail->>'copied_from' IS NOT NULL AS copied, log.detail->'copied_users' AS copied_users
FROM kalix.audit_log log
JOIN kalix.accounts a ON a.id = log.account_id
JOIN kalix.logins l ON l.id = log.login_id
WHERE log.action = 'create_account' AND l.email LIKE '%@accounts.test'
ORDER BY log.id;
-- An admin reads the audit trail of its account; a member does not.
SET ROLE fixture_alice;
SELECT count(*) FROM kalix.audit_log WHERE account_id = :'pediatrics';
RESET ROLE;
SET ROLE fixture_bob;
SELECT count(*) FROM kalix.audit_log WHERE account_id = :'pediatrics';
RESET ROLE;

------------------------------------------------------------------------------
-- Clean up
------------------------------------------------------------------------------

CREATE TEMP TABLE accounts_logins AS
    SELECT id FROM kalix.logins WHERE email LIKE '%@accounts.test';
CREATE TEMP TABLE accounts_accounts AS
    SELECT DISTINCT account_id AS id FROM kalix.memberships WHERE login_id IN (SELECT id FROM accounts_logins);
DELETE FROM kalix.audit_log WHERE login_id IN (SELECT id FROM accounts_logins)
    OR account_id IN (SELECT id FROM accounts_accounts)
    OR detail->>'login_id' IN (SELECT id::text FROM accounts_logins);
DELETE FROM kalix.memberships WHERE account_id IN (SELECT id FROM accounts_accounts);
DELETE FROM kalix.accounts WHERE id IN (SELECT id FROM accounts_accounts);
DELETE FROM kalix.logins WHERE id IN (SELECT id FROM accounts_logins);
