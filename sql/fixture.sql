--
-- fixture: runs first.  The database roles the regression files share, so
-- that no file creates (or has to drop) roles of its own: roles belong to
-- the whole cluster, and a file that left one behind would change every
-- later run.  A file binds the person roles to logins of its own, with the
-- fixed ids its error texts show, and deletes those logins when it ends;
-- sql/leftovers.sql, which runs last, proves that and drops what is made
-- here.
--
-- People: each may be bound to one login (kalix.logins.db_role) at a time.
CREATE ROLE fixture_alice LOGIN;
CREATE ROLE fixture_bob LOGIN;
CREATE ROLE fixture_carol LOGIN;
CREATE ROLE fixture_dave LOGIN;
CREATE ROLE fixture_mallory LOGIN;
-- The owner of application tables, bound to a login or not as a file needs.
CREATE ROLE fixture_owner LOGIN;
-- A role bound to no login: it acts for nobody.
CREATE ROLE fixture_nobody LOGIN;
-- The application's role.  It has no privilege here: a file grants it
-- what it needs (SET on kalix.current_login, EXECUTE on create_login) and
-- revokes that again.
CREATE ROLE fixture_app LOGIN;

-- One login and one account that no file changes: the last file checks
-- that they are still there as made here (a file that empties or rewrites
-- the tables wholesale would lose them).
INSERT INTO kalix.logins (id, email, display_name) VALUES
    ('0f000000-0000-4000-8000-000000000001', 'keeper@fixture.test', 'Kim Keeper');
INSERT INTO kalix.accounts (id, name, created_by) VALUES
    ('0f100000-0000-4000-8000-000000000001', 'Fixture Clinic', '0f000000-0000-4000-8000-000000000001');
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('0f100000-0000-4000-8000-000000000001', '0f000000-0000-4000-8000-000000000001', 'owner');

SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'fixture\_%' ORDER BY rolname;
