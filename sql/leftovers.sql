--
-- leftovers: runs last.  Every file before it removes whatever it created
-- beyond the shared fixture (sql/fixture.sql), so what is listed here is
-- the fixture and nothing else; a file that leaks changes this output and
-- fails.  Then the fixture goes, and the database is as CREATE EXTENSION
-- left it.
--

-- Roles: the fixture's, and no other (the bootstrap superuser, whatever its
-- name, and the predefined pg_* roles aside).
SELECT rolname, rolcanlogin, rolsuper, rolcreaterole, rolinherit, rolpassword IS NOT NULL AS has_password
FROM pg_authid
WHERE oid <> 10 AND rolname !~ '^pg_'
ORDER BY rolname;
-- No role is a member of another (the predefined roles' own memberships
-- aside), predefined ones included.
SELECT m.roleid::regrole AS granted, m.member::regrole AS member
FROM pg_auth_members m
WHERE m.member::regrole::text !~ '^pg_'
ORDER BY 1, 2;
-- Nothing is owned by the fixture's roles or granted to them, in this
-- database or cluster-wide, and no default privileges were set.
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS object, d.deptype,
       d.refobjid::regrole AS role
FROM pg_shdepend d
WHERE d.refclassid = 'pg_authid'::regclass AND d.refobjid::regrole::text LIKE 'fixture\_%'
ORDER BY 1, 3;
SELECT defaclrole::regrole, defaclnamespace::regnamespace, defaclobjtype FROM pg_default_acl;
-- Settings of roles (pg_regress makes the database's own), and SET
-- privileges on parameters.
SELECT setrole::regrole AS role, setconfig FROM pg_db_role_setting
WHERE setrole <> 0
ORDER BY 1;
SELECT parname, paracl FROM pg_parameter_acl ORDER BY parname;
-- Databases: none but this one and those initdb makes.
SELECT datname FROM pg_database
WHERE datname NOT IN ('template0', 'template1', 'postgres') AND datname <> current_database()
ORDER BY datname;
-- Extensions.
SELECT extname, extversion FROM pg_extension ORDER BY extname;

-- The fixture's logins, accounts and memberships, and nothing else.
SELECT email, display_name, db_role FROM kalix.logins ORDER BY email;
SELECT a.name, p.name AS parent, l.email AS created_by, a.archived_at IS NOT NULL AS archived,
       a.settings, a.branding
FROM kalix.accounts a
LEFT JOIN kalix.accounts p ON p.id = a.parent_id
LEFT JOIN kalix.logins l ON l.id = a.created_by
ORDER BY a.name;
SELECT a.name AS account, l.email, m.role
FROM kalix.memberships m
JOIN kalix.accounts a ON a.id = m.account_id
JOIN kalix.logins l ON l.id = m.login_id
ORDER BY a.name, l.email;
SELECT count(*) AS account_npis FROM kalix.account_npis;
SELECT count(*) AS invitations FROM kalix.invitations;
SELECT count(*) AS invitation_tokens FROM kalix.invitation_tokens;
-- Audit rows: the fixture writes none, so none are left.
SELECT action, account_id, login_id, detail FROM kalix.audit_log ORDER BY id;

-- Isolated tables, and policies, tables, views, functions, types and
-- schemas outside the extension.
SELECT tbl, account_column, inherited FROM kalix.isolated_tables ORDER BY tbl::text;
SELECT schemaname, tablename, policyname FROM pg_policies
WHERE schemaname <> 'kalix'
ORDER BY 1, 2, 3;
SELECT n.nspname FROM pg_namespace n
WHERE n.nspname NOT IN ('public', 'information_schema', 'kalix')
  AND n.nspname !~ '^pg_'
ORDER BY 1;
SELECT c.oid::regclass AS relation, c.relkind
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace
ORDER BY 1;
SELECT p.oid::regprocedure AS function
FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace
  AND NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1;
SELECT t.oid::regtype AS type
FROM pg_type t
WHERE t.typnamespace = 'public'::regnamespace AND t.typrelid = 0 AND t.typelem = 0
  AND NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY 1;

-- The fixture goes.
DELETE FROM kalix.memberships WHERE account_id = '0f100000-0000-4000-8000-000000000001';
DELETE FROM kalix.accounts WHERE id = '0f100000-0000-4000-8000-000000000001';
DELETE FROM kalix.logins WHERE id = '0f000000-0000-4000-8000-000000000001';
DROP ROLE fixture_alice, fixture_bob, fixture_carol, fixture_dave, fixture_mallory, fixture_owner,
    fixture_nobody, fixture_app;
SELECT count(*) AS roles_left FROM pg_roles WHERE oid <> 10 AND rolname !~ '^pg_';
SELECT count(*) AS parameter_privileges_left FROM pg_parameter_acl;
SELECT (SELECT count(*) FROM kalix.logins) AS logins_left,
       (SELECT count(*) FROM kalix.accounts) AS accounts_left,
       (SELECT count(*) FROM kalix.memberships) AS memberships_left;
