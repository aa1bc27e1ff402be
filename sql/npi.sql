--
-- NPIs with kalix_accounts: the npi type of kalix_npi (sql/kalix_npi.sql
-- tests the type itself) in application tables and in kalix.account_npis.
--
-- kalix_npi was installed in public, like contrib/isn or citext, and the
-- search_path is the default one: no schema kalix on it.
SHOW search_path;
SELECT e.extname, e.extnamespace::regnamespace AS schema, e.extrelocatable,
       ARRAY(SELECT r.extname FROM pg_depend d JOIN pg_extension r ON r.oid = d.refobjid
             WHERE d.classid = 'pg_extension'::regclass AND d.objid = e.oid
               AND d.refclassid = 'pg_extension'::regclass) AS requires
FROM pg_extension e WHERE e.extname LIKE 'kalix%' ORDER BY 1;
-- kalix.account_npis holds kalix_npi's type; kalix_accounts has no type of its own left.
SELECT atttypid::regtype AS account_npis_npi, atttypid = 'public.npi'::regtype AS is_public_npi
FROM pg_attribute WHERE attrelid = 'kalix.account_npis'::regclass AND attname = 'npi';
SELECT to_regtype('kalix.npi') AS old_type,
       (SELECT count(*) FROM pg_operator WHERE oprnamespace = 'kalix'::regnamespace) AS kalix_operators,
       (SELECT count(*) FROM pg_opclass WHERE opcnamespace = 'kalix'::regnamespace) AS kalix_opclasses;
SELECT oid::regprocedure AS npi_function FROM pg_proc
WHERE pronamespace = 'kalix'::regnamespace
  AND ('public.npi'::regtype = ANY (proargtypes) OR prorettype = 'public.npi'::regtype)
ORDER BY 1::text;

--
-- An application table in schema public: every operation works with no
-- OPERATOR(...) spelling and no schema on the path.
--
CREATE TABLE public.app_providers (npi npi PRIMARY KEY, name text NOT NULL);
CREATE TABLE public.app_claims (id int PRIMARY KEY, npi npi NOT NULL, amount numeric NOT NULL);
CREATE INDEX app_claims_npi ON public.app_claims (npi);
INSERT INTO app_providers VALUES ('1234567893', 'Dr. Ada'), ('1245319599', 'Dr. Ben'),
                                 ('0000000006', 'Lab'), ('9999999995', 'Pharmacy');
INSERT INTO app_claims
SELECT g, (ARRAY['1234567893', '1245319599', '9999999995', '0000000006'])[g % 4 + 1]::npi, g
FROM generate_series(1, 400) AS g;
ANALYZE app_providers, app_claims;

-- = with an unknown literal, and with a typed one.
SELECT name FROM app_providers WHERE npi = '1234567893';
SELECT name FROM app_providers WHERE npi = '1234567893'::npi;
SELECT name FROM app_providers WHERE npi = 1234567893::npi;
-- <>, <, BETWEEN, IN, = ANY, IS DISTINCT FROM.
SELECT name FROM app_providers WHERE npi <> '1234567893' ORDER BY npi;
SELECT name FROM app_providers WHERE npi < '1234567893' ORDER BY npi;
SELECT name FROM app_providers WHERE npi BETWEEN '1000000004' AND '1999999992' ORDER BY npi;
SELECT name FROM app_providers WHERE npi IN ('1245319599', '9999999995') ORDER BY npi;
SELECT name FROM app_providers WHERE npi = ANY ('{0000000006, 808401234567893}') ORDER BY npi;
SELECT name FROM app_providers WHERE npi = ANY (ARRAY['1245319599'::npi]) ORDER BY npi;
SELECT name FROM app_providers WHERE npi IS DISTINCT FROM '1234567893' ORDER BY npi;
SELECT name FROM app_providers WHERE npi IS NOT DISTINCT FROM '1234567893';
-- Joins on NPI, ON and USING.
SELECT p.name, count(*), sum(c.amount) FROM app_claims c JOIN app_providers p ON p.npi = c.npi
GROUP BY p.name ORDER BY p.name;
SELECT name, count(*) FROM app_claims JOIN app_providers USING (npi) GROUP BY name ORDER BY name;
-- min/max, ORDER BY, GROUP BY, DISTINCT.
SELECT min(npi), max(npi), count(DISTINCT npi) FROM app_claims;
SELECT npi, count(*) FROM app_claims GROUP BY npi ORDER BY npi DESC;
-- ON CONFLICT on the primary key; the 15-digit form is the same NPI.
INSERT INTO app_providers VALUES ('808401234567893', 'Dr. Ada Lovelace')
ON CONFLICT (npi) DO UPDATE SET name = excluded.name;
SELECT npi, name FROM app_providers WHERE npi = '1234567893';
-- A prepared statement with a text parameter, as JDBC setString sends it.
PREPARE provider_by_npi(text) AS SELECT name FROM app_providers WHERE npi = $1::npi;
EXECUTE provider_by_npi('1245319599');
EXECUTE provider_by_npi(' 808401245319599 ');
EXECUTE provider_by_npi('1245319590');
DEALLOCATE provider_by_npi;
PREPARE claims_by_npi(npi) AS SELECT count(*) FROM app_claims WHERE npi = $1;
EXECUTE claims_by_npi('9999999995');
DEALLOCATE claims_by_npi;
-- A SQL function created with kalix on the path, called without it.
SET search_path = kalix, public;
CREATE FUNCTION public.app_claim_total(p npi) RETURNS numeric
LANGUAGE sql STABLE AS 'SELECT sum(amount) FROM public.app_claims WHERE npi = p';
RESET search_path;
SHOW search_path;
SELECT app_claim_total('1234567893');
-- The planner uses the indexes: index scans for =, ranges, IN, = ANY and ORDER BY.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT name FROM app_providers WHERE npi = '1234567893';
EXPLAIN (COSTS OFF) SELECT name FROM app_providers WHERE npi BETWEEN '1000000004' AND '1999999992';
EXPLAIN (COSTS OFF) SELECT name FROM app_providers WHERE npi IN ('1245319599', '9999999995');
EXPLAIN (COSTS OFF) SELECT count(*) FROM app_claims WHERE npi = ANY ('{0000000006, 1234567893}');
EXPLAIN (COSTS OFF) SELECT npi FROM app_claims ORDER BY npi DESC LIMIT 1;
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP FUNCTION app_claim_total(npi);
DROP TABLE app_claims, app_providers;

--
-- The NPIs of an account: kalix.account_npis, add_npi, remove_npi, primary_npi.
--
-- The roles are the fixture's (sql/fixture.sql).
SELECT kalix.create_login('owner@npi.example', 'Owner', 'fixture_alice') AS owner_login \gset
SELECT kalix.create_login('admin@npi.example', 'Admin', 'fixture_bob') AS admin_login \gset
SELECT kalix.create_login('member@npi.example', 'Member', 'fixture_carol') AS member_login \gset
SELECT kalix.create_login('outsider@npi.example', 'Outsider', 'fixture_mallory') AS outsider_login \gset
-- Set-up only: accounts with fixed ids (they appear in error messages) and
-- memberships are written directly by the superuser.
\set clinic 'c1c1c1c1-0000-4000-8000-000000000001'
\set lab '1ab1ab00-0000-4000-8000-000000000002'
INSERT INTO kalix.accounts (id, name, created_by)
VALUES (:'clinic', 'NPI Clinic', :'owner_login'), (:'lab', 'NPI Lab', :'owner_login');
INSERT INTO kalix.memberships (account_id, login_id, role)
VALUES (:'clinic', :'owner_login', 'owner'), (:'lab', :'owner_login', 'owner'),
       (:'clinic', :'admin_login', 'admin'), (:'clinic', :'member_login', 'member');
\set SHOW_CONTEXT never

-- An admin registers NPIs; the first primary one becomes the primary NPI.
SET ROLE fixture_bob;
SELECT kalix.add_npi(:'clinic', '1234567893', 'Group NPI', true);
SELECT kalix.add_npi(:'clinic', '1245319599', '  Dr. Ben  ');
SELECT kalix.primary_npi(:'clinic');
-- Making another NPI primary moves the flag.
SELECT kalix.add_npi(:'clinic', '808401000000004', NULL, is_primary => true);
SELECT npi, label, is_primary FROM kalix.account_npis ORDER BY npi;
SELECT kalix.primary_npi(:'clinic');
-- The default account is the current one; without one, there is no answer.
SELECT kalix.primary_npi();
SELECT kalix.switch_account(:'clinic') IS NOT NULL AS switched;
SELECT kalix.primary_npi();
RESET kalix.current_account;
-- Adding an NPI twice is a unique violation that says how to change it.
SELECT kalix.add_npi(:'clinic', '1245319599', 'again');
SELECT kalix.add_npi(:'clinic', '1245319599', 'again', true);
SELECT kalix.primary_npi(:'clinic');        -- unchanged by the refused call
-- Invalid NPIs never reach the functions; NULLs are refused.
SELECT kalix.add_npi(:'clinic', '1245319590');
SELECT kalix.add_npi(:'clinic', NULL);
-- Admins only: an admin of one account is nobody in another.
SELECT kalix.add_npi(:'lab', '1234567893');
-- The tables are written only through the functions.
INSERT INTO kalix.account_npis VALUES (:'clinic', '1999999992', 'sneaky', false);
UPDATE kalix.account_npis SET is_primary = true;
DELETE FROM kalix.account_npis;
RESET ROLE;

-- A member reads the account's NPIs but cannot change them.
SET ROLE fixture_carol;
SELECT npi, label, is_primary FROM kalix.account_npis ORDER BY npi;
SELECT kalix.primary_npi(:'clinic');
SELECT kalix.add_npi(:'clinic', '1999999992');
SELECT kalix.remove_npi(:'clinic', '1234567893');
RESET ROLE;

-- An outsider sees nothing and learns nothing.
SET ROLE fixture_mallory;
SELECT count(*) FROM kalix.account_npis;
SELECT kalix.primary_npi(:'clinic');
SELECT kalix.add_npi(:'clinic', '1999999992');
SELECT kalix.remove_npi(:'clinic', '1234567893');
RESET ROLE;

-- The same NPI may serve several accounts, each with its own primary.
SET ROLE fixture_alice;
SELECT kalix.add_npi(:'lab', '1234567893', 'Group NPI', true);
SELECT kalix.primary_npi(:'lab') AS lab_primary, kalix.primary_npi(:'clinic') AS clinic_primary;
SELECT account_id = :'lab' AS in_lab, npi, is_primary FROM kalix.account_npis
WHERE npi = '1234567893' ORDER BY 1;
-- Removing: the primary NPI leaves the account without one.
SELECT kalix.remove_npi(:'clinic', '1000000004');
SELECT kalix.primary_npi(:'clinic') IS NULL AS no_primary;
SELECT kalix.remove_npi(:'clinic', '1000000004');
SELECT kalix.remove_npi(:'clinic', '1245319599');
SELECT npi, label, is_primary FROM kalix.account_npis WHERE account_id = :'clinic' ORDER BY npi;
RESET ROLE;

-- The partial unique index backs the one-primary rule even for direct writes.
INSERT INTO kalix.account_npis VALUES (:'lab', '1245319599', NULL, true);

-- Archived accounts are refused (their NPIs stay readable).
UPDATE kalix.accounts SET archived_at = now() WHERE id = :'lab';
SET ROLE fixture_alice;
SELECT kalix.add_npi(:'lab', '1245319599');
SELECT kalix.remove_npi(:'lab', '1234567893');
SELECT kalix.primary_npi(:'lab');
RESET ROLE;

-- Each change wrote one audit row.
SELECT a.action,
       CASE a.account_id WHEN :'clinic' THEN 'clinic' WHEN :'lab' THEN 'lab' END AS account,
       CASE a.login_id WHEN :'owner_login' THEN 'owner' WHEN :'admin_login' THEN 'admin' END AS login,
       a.detail
FROM kalix.audit_log a
WHERE a.action LIKE '%npi' AND a.account_id IN (:'clinic', :'lab')
ORDER BY a.id;

-- The table is dumped with the extension's data.
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS t(oid) JOIN pg_class c ON c.oid = t.oid
WHERE e.extname = 'kalix_accounts' AND c.relname = 'account_npis';

-- Clean up.
DELETE FROM kalix.audit_log WHERE account_id IN (:'clinic', :'lab')
    OR login_id IN (:'owner_login', :'admin_login', :'member_login', :'outsider_login')
    OR detail->>'login_id' IN (:'owner_login', :'admin_login', :'member_login', :'outsider_login');
DELETE FROM kalix.account_npis WHERE account_id IN (:'clinic', :'lab');
DELETE FROM kalix.memberships WHERE account_id IN (:'clinic', :'lab');
DELETE FROM kalix.accounts WHERE id IN (:'clinic', :'lab');
DELETE FROM kalix.logins WHERE id IN (:'owner_login', :'admin_login', :'member_login', :'outsider_login');

--
-- kalix_npi in a schema of the user's choice still serves kalix_accounts,
-- also after it moves to another schema.
--
SELECT current_database() AS regress_db \gset
CREATE DATABASE kalix_npi_schema;
\c kalix_npi_schema
CREATE SCHEMA clinical;
CREATE EXTENSION kalix_npi SCHEMA clinical;
CREATE EXTENSION kalix_accounts;
SELECT extname, extnamespace::regnamespace AS schema FROM pg_extension
WHERE extname LIKE 'kalix%' ORDER BY 1;
SELECT atttypid::regtype AS account_npis_npi
FROM pg_attribute WHERE attrelid = 'kalix.account_npis'::regclass AND attname = 'npi';
SELECT pg_get_function_identity_arguments('kalix.add_npi'::regproc) AS add_npi,
       pg_get_function_result('kalix.primary_npi'::regproc) AS primary_npi;
SELECT kalix.create_login('chooser@npi.example') AS chooser \gset
SELECT set_config('kalix.current_login', :'chooser', false) IS NOT NULL AS login_set;
SELECT kalix.create_account('Chosen Schema Clinic') AS chosen \gset
SELECT kalix.add_npi(:'chosen', '1234567893', 'Group', is_primary => true);
SELECT kalix.add_npi(:'chosen', '1245319599');
SELECT kalix.primary_npi(:'chosen');
SELECT kalix.remove_npi(:'chosen', '1245319599');
SELECT npi, is_primary FROM kalix.account_npis ORDER BY npi;
-- Moving kalix_npi keeps everything working: columns and signatures hold the type by OID.
CREATE SCHEMA moved;
ALTER EXTENSION kalix_npi SET SCHEMA moved;
SELECT atttypid::regtype AS account_npis_npi
FROM pg_attribute WHERE attrelid = 'kalix.account_npis'::regclass AND attname = 'npi';
SELECT kalix.add_npi(:'chosen', '808401245319599', 'moved', is_primary => true);
SELECT kalix.primary_npi(:'chosen');
SELECT kalix.remove_npi(:'chosen', '1234567893');
SELECT npi::text, label, is_primary FROM kalix.account_npis ORDER BY npi;
-- kalix_accounts depends on it: kalix_npi cannot be dropped alone.
DROP EXTENSION kalix_npi;
\c :regress_db
DROP DATABASE kalix_npi_schema;
