-- install: CREATE EXTENSION into a pre-created schema kalix, and DROP
-- EXTENSION / DROP SCHEMA CASCADE failing closed.  Each case runs in a
-- database of its own, made here and dropped at the end.
\set SHOW_CONTEXT never
SELECT current_database() AS regress_db \gset
-- The roles are the fixture's (sql/fixture.sql): fixture_carol owns the
-- databases made here, fixture_owner an application table, fixture_alice is
-- the tenant.

------------------------------------------------------------------------------
-- Review item 1 (CVE-2022-2625 class): the database owner, not a superuser,
-- pre-creates schema kalix with a planted overload of a function the
-- extension calls; a superuser then runs CREATE EXTENSION.  It must refuse.
------------------------------------------------------------------------------

CREATE DATABASE install_planted OWNER fixture_carol;
\c install_planted
SET ROLE fixture_carol;
CREATE SCHEMA kalix;
CREATE FUNCTION kalix.require_argument(value text, argument text) RETURNS void LANGUAGE plpgsql AS $f$ BEGIN IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN EXECUTE 'ALTER ROLE fixture_carol SUPERUSER'; END IF; END $f$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA kalix TO PUBLIC;
RESET ROLE;
SET client_min_messages = warning;
CREATE EXTENSION kalix_accounts CASCADE;
RESET client_min_messages;
SELECT count(*) AS installed FROM pg_extension WHERE extname = 'kalix_accounts';
SELECT rolsuper AS dbowner_is_superuser FROM pg_roles WHERE rolname = 'fixture_carol';

-- Emptied, the schema is still the database owner's: refused.
DROP FUNCTION kalix.require_argument(text, text);
SET client_min_messages = warning;
CREATE EXTENSION kalix_accounts CASCADE;
RESET client_min_messages;

-- Given to the superuser, but with CREATE left to the database owner: refused.
ALTER SCHEMA kalix OWNER TO CURRENT_USER;
GRANT CREATE ON SCHEMA kalix TO fixture_carol;
SET client_min_messages = warning;
CREATE EXTENSION kalix_accounts CASCADE;
RESET client_min_messages;
SELECT count(*) AS installed FROM pg_extension WHERE extname = 'kalix_accounts';

-- The superuser's, CREATE for nobody else, but holding an object with the
-- exact name of one of the extension's: refused as not empty.
REVOKE CREATE ON SCHEMA kalix FROM fixture_carol;
CREATE FUNCTION kalix.current_account() RETURNS uuid LANGUAGE sql AS 'SELECT NULL::uuid';
SET client_min_messages = warning;
CREATE EXTENSION kalix_accounts CASCADE;
RESET client_min_messages;
DROP FUNCTION kalix.current_account();

-- Empty, the superuser's, CREATE for nobody else: accepted, and lint is clean.
SET client_min_messages = warning;
CREATE EXTENSION kalix_accounts CASCADE;
RESET client_min_messages;
SELECT count(*) AS installed FROM pg_extension WHERE extname = 'kalix_accounts';
SELECT * FROM kalix.lint();
-- What the database owner could still do afterwards, lint reports.
GRANT CREATE ON SCHEMA kalix TO fixture_carol;
SET ROLE fixture_carol;
CREATE FUNCTION kalix.require_argument(value text, argument text) RETURNS void LANGUAGE sql AS 'SELECT NULL';
RESET ROLE;
SELECT * FROM kalix.lint();

------------------------------------------------------------------------------
-- Review item 2: DROP EXTENSION kalix_accounts CASCADE dropped the
-- restrictive kalix policies but left kalix_permit USING (true): the table
-- stayed forced with one all-true policy and a tenant read every account.
-- DROP SCHEMA kalix CASCADE did the same.  Now every kalix policy goes with
-- the extension, and the table, still enabled and forced, shows no rows.
------------------------------------------------------------------------------

-- Sets up an isolated table with a row in each of two accounts, and shows
-- what the tenant (a member of account A) and the table's owner see.
\set setup 'SET client_min_messages = warning; CREATE EXTENSION kalix_accounts CASCADE; RESET client_min_messages; CREATE TABLE notes (id int, account_id uuid NOT NULL, body text, PRIMARY KEY (account_id, id)); INSERT INTO notes VALUES (1, \'ae000000-0000-0000-0000-00000000000a\', \'a secret\'), (2, \'ae000000-0000-0000-0000-00000000000b\', \'b secret\'); ALTER TABLE notes OWNER TO fixture_owner; GRANT SELECT ON notes TO fixture_alice; SET ROLE fixture_owner; SELECT kalix.enable_isolation(\'notes\'); RESET ROLE; SELECT kalix.create_login(\'tenant@install.test\', NULL, \'fixture_alice\') AS tenant \\gset'
\set accounts 'INSERT INTO kalix.accounts (id, name) VALUES (\'ae000000-0000-0000-0000-00000000000a\', \'Install A\'), (\'ae000000-0000-0000-0000-00000000000b\', \'Install B\'); INSERT INTO kalix.memberships (account_id, login_id, role) VALUES (\'ae000000-0000-0000-0000-00000000000a\', :\'tenant\', \'owner\');'
\set seen 'SET ROLE fixture_alice; SELECT id, body FROM notes ORDER BY id; RESET ROLE; SET ROLE fixture_owner; SELECT id, body FROM notes ORDER BY id; RESET ROLE;'

CREATE DATABASE install_drop_extension;
\c install_drop_extension
:setup
:accounts
SET ROLE fixture_alice;
SET kalix.current_account = 'ae000000-0000-0000-0000-00000000000a';
SELECT id, body FROM notes ORDER BY id;
RESET ROLE;
-- (The cascade's NOTICE lists the five kalix policies, in an order that
-- depends on the catalog; the count below shows them gone.)
SET client_min_messages = warning;
DROP EXTENSION kalix_accounts CASCADE;
RESET client_min_messages;
SELECT relrowsecurity, relforcerowsecurity,
       (SELECT count(*) FROM pg_policy WHERE polrelid = 'notes'::regclass) AS policies
FROM pg_class WHERE oid = 'notes'::regclass;
-- The tenant (its account still set) and the owner: nothing.
:seen

CREATE DATABASE install_drop_schema;
\c install_drop_schema
:setup
:accounts
SET client_min_messages = warning;
DROP SCHEMA kalix CASCADE;
RESET client_min_messages;
SELECT relrowsecurity, relforcerowsecurity,
       (SELECT count(*) FROM pg_policy WHERE polrelid = 'notes'::regclass) AS policies
FROM pg_class WHERE oid = 'notes'::regclass;
:seen

------------------------------------------------------------------------------
-- Clean up
------------------------------------------------------------------------------

\c :regress_db
DROP DATABASE install_planted;
DROP DATABASE install_drop_extension;
DROP DATABASE install_drop_schema;
