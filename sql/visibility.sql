--
-- The policies of the extension's own tables: what a login sees, and that
-- each policy plans as an index condition on the caller's memberships (no
-- full scan, no subquery).
--
-- The roles are the fixture's (sql/fixture.sql).
INSERT INTO kalix.logins (id, email, db_role) VALUES
    ('e0000000-0000-4000-8000-000000000001', 'reader@visibility.test', 'fixture_alice'),
    ('e0000000-0000-4000-8000-000000000002', 'teammate@visibility.test', NULL),
    ('e0000000-0000-4000-8000-000000000003', 'stranger@visibility.test', NULL);
INSERT INTO kalix.logins (id, email)
SELECT ('e0000000-0000-4000-8000-1' || lpad(g::text, 11, '0'))::uuid, format('other%s@visibility.test', g)
FROM generate_series(1, 5000) g;
-- 5,000 other logins, and 5,000 accounts; the reader owns the first, is a member of the second, and
-- shares the first with a teammate.  A stranger owns all the others.
INSERT INTO kalix.accounts (id, name)
SELECT ('e1000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'Visibility ' || g
FROM generate_series(1, 5000) g;
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT id, 'e0000000-0000-4000-8000-000000000003', 'owner' FROM kalix.accounts WHERE name LIKE 'Visibility %';
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('e1000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000001', 'owner'),
    ('e1000000-0000-4000-8000-000000000002', 'e0000000-0000-4000-8000-000000000001', 'member'),
    ('e1000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000002', 'admin');
INSERT INTO kalix.account_npis (account_id, npi)
SELECT id, '1234567893' FROM kalix.accounts WHERE name LIKE 'Visibility %';
INSERT INTO kalix.audit_log (account_id, action)
SELECT id, 'visibility_test' FROM kalix.accounts WHERE name LIKE 'Visibility %';
ANALYZE kalix.accounts, kalix.memberships, kalix.logins, kalix.account_npis, kalix.audit_log;

-- Every policy of the extension's tables compares a key column with an
-- array; none holds a subquery.
SELECT polrelid::regclass::text AS "table", polname, pg_get_expr(polqual, polrelid) AS using
FROM pg_policy
WHERE polrelid::regclass::text IN ('kalix.accounts', 'kalix.memberships', 'kalix.logins',
                                   'kalix.account_npis', 'kalix.audit_log', 'kalix.isolated_tables')
ORDER BY 1, 2;

SET ROLE fixture_alice;

--
-- What the reader sees: its two accounts (the stranger's other 4,998 not),
-- every membership of those, itself, its teammate and the stranger who owns
-- them, their NPIs, and the audit trail only where it is an admin or owner.
--
SELECT kalix.member_accounts() AS member_accounts, kalix.admin_accounts() AS admin_accounts;
SELECT kalix.team_logins();
SELECT name FROM kalix.accounts ORDER BY name;
SELECT account_id, login_id, role FROM kalix.memberships ORDER BY account_id, login_id;
SELECT email FROM kalix.logins ORDER BY email;
SELECT account_id FROM kalix.account_npis ORDER BY account_id;
SELECT account_id, action FROM kalix.audit_log WHERE action = 'visibility_test';
SELECT account_id, name, depth, path FROM kalix.account_tree ORDER BY name;

--
-- Each policy is an index condition: the scan reads the caller's keys only.
--
EXPLAIN (COSTS OFF) SELECT * FROM kalix.accounts;
EXPLAIN (COSTS OFF) SELECT count(*) FROM kalix.memberships;
EXPLAIN (COSTS OFF) SELECT count(*) FROM kalix.logins;
EXPLAIN (COSTS OFF) SELECT * FROM kalix.account_npis;
EXPLAIN (COSTS OFF) SELECT * FROM kalix.audit_log;
EXPLAIN (COSTS OFF) SELECT account_id, name FROM kalix.account_tree;

-- A role that is no login sees nothing (fail closed).
SET ROLE fixture_nobody;
SELECT kalix.member_accounts(), kalix.admin_accounts(), kalix.team_logins();
SELECT (SELECT count(*) FROM kalix.accounts) AS accounts,
       (SELECT count(*) FROM kalix.memberships) AS memberships,
       (SELECT count(*) FROM kalix.logins) AS logins,
       (SELECT count(*) FROM kalix.account_npis) AS npis,
       (SELECT count(*) FROM kalix.audit_log) AS audit,
       (SELECT count(*) FROM kalix.account_tree) AS tree;

-- A membership revoked is out of the arrays at the next statement.
RESET ROLE;
DELETE FROM kalix.memberships
WHERE account_id = 'e1000000-0000-4000-8000-000000000002' AND login_id = 'e0000000-0000-4000-8000-000000000001';
SET ROLE fixture_alice;
SELECT kalix.member_accounts();
SELECT name FROM kalix.accounts ORDER BY name;

--
-- Clean up
--
RESET ROLE;
DELETE FROM kalix.audit_log WHERE action = 'visibility_test';
DELETE FROM kalix.account_npis WHERE account_id::text LIKE 'e1000000-%';
DELETE FROM kalix.memberships WHERE account_id::text LIKE 'e1000000-%';
DELETE FROM kalix.accounts WHERE id::text LIKE 'e1000000-%';
DELETE FROM kalix.logins WHERE id::text LIKE 'e0000000-%';
