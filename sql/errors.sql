-- errors: the error catalogue of kalix_accounts (src/errors.c), every
-- condition raised once, with its SQLSTATE, message, detail and hint.
-- Each call runs in its own subtransaction, rolled back, as the login named
-- in its row; the fixtures are inserted directly, with fixed ids.
SET client_min_messages = warning;
\set SHOW_CONTEXT never

-- The roles are the fixture's (sql/fixture.sql).
INSERT INTO kalix.logins (id, email, db_role) VALUES
    ('e0000000-0000-4000-8000-0000000000a1', 'errors-owner@example.com', 'fixture_alice'),
    ('e0000000-0000-4000-8000-0000000000a2', 'errors-admin@example.com', NULL),
    ('e0000000-0000-4000-8000-0000000000a3', 'errors-member@example.com', NULL);
-- Clinic (owner, admin, member); Archive (archived); Payer > Branch, where the
-- admin administers Branch and Side but is only a member of Payer.
INSERT INTO kalix.accounts (id, name, parent_id, created_by, archived_at) VALUES
    ('e0000000-0000-4000-8000-000000000001', 'Errors Clinic', NULL, 'e0000000-0000-4000-8000-0000000000a1', NULL),
    ('e0000000-0000-4000-8000-000000000002', 'Errors Archive', NULL, 'e0000000-0000-4000-8000-0000000000a1', now()),
    ('e0000000-0000-4000-8000-000000000003', 'Errors Payer', NULL, 'e0000000-0000-4000-8000-0000000000a1', NULL),
    ('e0000000-0000-4000-8000-000000000004', 'Errors Branch', 'e0000000-0000-4000-8000-000000000003', 'e0000000-0000-4000-8000-0000000000a1', NULL),
    ('e0000000-0000-4000-8000-000000000005', 'Errors Side', NULL, 'e0000000-0000-4000-8000-0000000000a1', NULL);
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT a.id, 'e0000000-0000-4000-8000-0000000000a1', 'owner' FROM kalix.accounts a WHERE a.id::text LIKE 'e0000000-%';
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('e0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-0000000000a2', 'admin'),
    ('e0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-0000000000a3', 'member'),
    ('e0000000-0000-4000-8000-000000000003', 'e0000000-0000-4000-8000-0000000000a2', 'member'),
    ('e0000000-0000-4000-8000-000000000004', 'e0000000-0000-4000-8000-0000000000a2', 'admin'),
    ('e0000000-0000-4000-8000-000000000005', 'e0000000-0000-4000-8000-0000000000a2', 'admin');
INSERT INTO kalix.account_npis (account_id, npi, is_primary) VALUES
    ('e0000000-0000-4000-8000-000000000001', '1234567893', true);

-- Runs a call as a login (NULL: none) with an account current (NULL: none)
-- and kalix.max_depth, and reports what it raised.
CREATE FUNCTION pg_temp.raised(login uuid, account uuid, max_depth integer, call text,
                               OUT code text, OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('kalix.current_login', coalesce(login::text, ''), true);
    PERFORM set_config('kalix.current_account', coalesce(account::text, ''), true);
    PERFORM set_config('kalix.max_depth', max_depth::text, true);
    EXECUTE call;
    code := 'none';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;

\set owner  '''e0000000-0000-4000-8000-0000000000a1'''
\set admin  '''e0000000-0000-4000-8000-0000000000a2'''
\set member '''e0000000-0000-4000-8000-0000000000a3'''
\set clinic '''e0000000-0000-4000-8000-000000000001'''
\set payer  '''e0000000-0000-4000-8000-000000000003'''
\set branch '''e0000000-0000-4000-8000-000000000004'''

\pset format unaligned
\pset fieldsep ' | '
\pset footer off
BEGIN;
SELECT c.condition, r.code AS sqlstate, r.message, r.detail, r.hint
FROM (VALUES
    (1, 'null argument', NULL::uuid, NULL::uuid, 16,
        'SELECT kalix.add_member(NULL, NULL)'),
    (2, 'no current login', NULL, NULL, 16,
        'SELECT kalix.create_account(''x'')'),
    (3, 'not a member', :member, NULL, 16,
        'SELECT kalix.add_member(''e0000000-0000-4000-8000-000000000003'', ''e0000000-0000-4000-8000-0000000000a2'')'),
    (4, 'archived', :owner, NULL, 16,
        'SELECT kalix.add_member(''e0000000-0000-4000-8000-000000000002'', ''e0000000-0000-4000-8000-0000000000a2'')'),
    (5, 'role too low', :member, NULL, 16,
        format('SELECT kalix.add_member(%L, %L)', :clinic, :member)),
    (6, 'cannot grant', :admin, NULL, 16,
        format('SELECT kalix.set_member_role(%L, %L, ''owner'')', :clinic, :member)),
    (7, 'no such login', :owner, NULL, 16,
        format('SELECT kalix.add_member(%L, ''e0000000-0000-4000-8000-0000000000ff'')', :clinic)),
    (8, 'not a member of the account', :owner, NULL, 16,
        format('SELECT kalix.remove_member(''e0000000-0000-4000-8000-000000000005'', %L)', :member)),
    (9, 'already a member', :owner, NULL, 16,
        format('SELECT kalix.add_member(%L, %L)', :clinic, :member)),
    (10, 'owner''s role changed by an admin', :admin, NULL, 16,
        format('SELECT kalix.set_member_role(%L, %L, ''member'')', :clinic, :owner)),
    (11, 'owner removed by an admin', :admin, NULL, 16,
        format('SELECT kalix.remove_member(%L, %L)', :clinic, :owner)),
    (12, 'last owner', :owner, NULL, 16,
        format('SELECT kalix.remove_member(%L, %L)', :clinic, :owner)),
    (13, 'copy into itself', :owner, NULL, 16,
        format('SELECT kalix.copy_users(%L, %L)', :clinic, :clinic)),
    (14, 'empty name', :owner, NULL, 16,
        'SELECT kalix.create_account(E'' \t '')'),
    (15, 'name too long', :owner, NULL, 16,
        'SELECT kalix.create_account(repeat(''x'', 201))'),
    (16, 'not a JSON object', :owner, NULL, 16,
        format('SELECT kalix.update_account(%L, settings => ''[1]'')', :clinic)),
    (17, 'invalid email', :owner, NULL, 16,
        'SELECT kalix.create_login(''no at sign'')'),
    (18, 'no such role', :owner, NULL, 16,
        'SELECT kalix.create_login(''new@example.com'', db_role => ''errors_no_such_role'')'),
    (19, 'email taken', :owner, NULL, 16,
        'SELECT kalix.create_login(''Errors-Owner@Example.com'')'),
    (20, 'role taken', :owner, NULL, 16,
        'SELECT kalix.create_login(''new@example.com'', db_role => ''fixture_alice'')'),
    (21, 'no current account', :owner, NULL, 16,
        'SELECT kalix.create_account(''x'', child => true)'),
    (22, 'child or copy below admin', :member, :clinic::uuid, 16,
        'SELECT kalix.create_account(''x'', child => true)'),
    (23, 'archive below owner', :admin, NULL, 16,
        format('SELECT kalix.archive_account(%L)', :clinic)),
    (24, 'already archived', :owner, NULL, 16,
        'SELECT kalix.archive_account(''e0000000-0000-4000-8000-000000000002'')'),
    (25, 'unarchived children', :owner, NULL, 16,
        format('SELECT kalix.archive_account(%L)', :payer)),
    (26, 'own parent', :owner, NULL, 16,
        format('SELECT kalix.link_child(%L, %L)', :clinic, :clinic)),
    (27, 'link below admin', :member, NULL, 16,
        format('SELECT kalix.link_child(%L, %L)', :clinic, :payer)),
    (28, 'link without the payer', :admin, NULL, 16,
        format('SELECT kalix.link_child(''e0000000-0000-4000-8000-000000000005'', %L)', :branch)),
    (29, 'already has a parent', :owner, NULL, 16,
        format('SELECT kalix.link_child(%L, %L)', :branch, :clinic)),
    (30, 'cycle', :owner, NULL, 16,
        format('SELECT kalix.link_child(%L, %L)', :payer, :branch)),
    (31, 'link too deep', :owner, NULL, 2,
        format('SELECT kalix.link_child(%L, %L)', :clinic, :branch)),
    (32, 'child too deep', :owner, 'e0000000-0000-4000-8000-000000000004'::uuid, 2,
        'SELECT kalix.create_account(''x'', child => true)'),
    (33, 'unlink below admin', :member, NULL, 16,
        format('SELECT kalix.unlink_child(%L)', :branch)),
    (34, 'no parent', :owner, NULL, 16,
        format('SELECT kalix.unlink_child(%L)', :clinic)),
    (35, 'NPI registered twice', :owner, NULL, 16,
        format('SELECT kalix.add_npi(%L, ''1234567893'')', :clinic)),
    (36, 'NPI not registered', :owner, NULL, 16,
        format('SELECT kalix.remove_npi(%L, ''1245319599'')', :clinic))
) c (n, condition, login, account, max_depth, call),
LATERAL pg_temp.raised(c.login, c.account, c.max_depth, c.call) r
ORDER BY c.n;
ROLLBACK;

-- The two corruptions only direct writes can make: a cycle of parent links,
-- and a lineage longer than 1000 accounts.
BEGIN;
UPDATE kalix.accounts SET parent_id = 'e0000000-0000-4000-8000-000000000004' WHERE id = :payer;
SELECT 'parent cycle' AS condition, r.*
FROM pg_temp.raised(:owner, NULL, 16, format('SELECT kalix.lineage(%L)', :branch)) r;
ROLLBACK;
BEGIN;
INSERT INTO kalix.accounts (id, name, parent_id, created_by)
SELECT ('e1000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'Deep ' || i,
       CASE WHEN i > 1 THEN ('e1000000-0000-4000-8000-' || lpad((i - 1)::text, 12, '0'))::uuid END,
       :owner
FROM generate_series(1, 1001) i;
INSERT INTO kalix.memberships (account_id, login_id, role)
VALUES ('e1000000-0000-4000-8000-000000001001', :owner, 'owner');
SELECT 'lineage too long' AS condition, r.*
FROM pg_temp.raised(:owner, NULL, 16, 'SELECT kalix.lineage(''e1000000-0000-4000-8000-000000001001'')') r;
ROLLBACK;
\pset format aligned
\pset footer on

-- Nothing is left behind.
DELETE FROM kalix.account_npis WHERE account_id::text LIKE 'e0000000-%';
DELETE FROM kalix.audit_log WHERE account_id::text LIKE 'e0000000-%' OR login_id::text LIKE 'e0000000-%';
DELETE FROM kalix.memberships WHERE account_id::text LIKE 'e0000000-%';
UPDATE kalix.accounts SET parent_id = NULL WHERE id::text LIKE 'e0000000-%';
DELETE FROM kalix.accounts WHERE id::text LIKE 'e0000000-%';
DELETE FROM kalix.logins WHERE id::text LIKE 'e0000000-%';
