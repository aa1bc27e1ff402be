-- act_as: kalix.act_as(login, account), a trusted application connection's
-- identity for one transaction (SPEC §4, issue 14): its semantics, and the
-- attacks on it, each run as the attacker ran it.
\set SHOW_CONTEXT never

CREATE ROLE actas_app;
CREATE ROLE actas_plain;
GRANT SET ON PARAMETER kalix.current_login TO actas_app;
SELECT kalix.create_login('nurse@actas.test', 'Nurse') AS nurse \gset
SELECT kalix.create_login('web@actas.test', 'Web') AS web \gset
INSERT INTO kalix.accounts (id, name) VALUES
    ('a8000000-0000-0000-0000-00000000000a', 'Actas A'),
    ('a8000000-0000-0000-0000-00000000000b', 'Actas B'),
    ('a8000000-0000-0000-0000-00000000000c', 'Actas C');
INSERT INTO kalix.accounts (id, name, archived_at) VALUES
    ('a8000000-0000-0000-0000-00000000000d', 'Actas D', now());
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('a8000000-0000-0000-0000-00000000000a', :'nurse', 'member'),
    ('a8000000-0000-0000-0000-00000000000c', :'nurse', 'member'),
    ('a8000000-0000-0000-0000-00000000000d', :'nurse', 'member'),
    ('a8000000-0000-0000-0000-00000000000a', :'web', 'owner');
CREATE TABLE actas_notes (id int PRIMARY KEY, account_id uuid NOT NULL, body text);
CREATE INDEX ON actas_notes (account_id);
INSERT INTO actas_notes VALUES
    (1, 'a8000000-0000-0000-0000-00000000000a', 'a note'),
    (2, 'a8000000-0000-0000-0000-00000000000b', 'b note'),
    (3, 'a8000000-0000-0000-0000-00000000000c', 'c note');
SELECT kalix.enable_isolation('actas_notes');
GRANT SELECT ON actas_notes TO PUBLIC;
\set a '''a8000000-0000-0000-0000-00000000000a'''
\set b '''a8000000-0000-0000-0000-00000000000b'''
\set c '''a8000000-0000-0000-0000-00000000000c'''
\set d '''a8000000-0000-0000-0000-00000000000d'''

------------------------------------------------------------------------------
-- The identity of one transaction
------------------------------------------------------------------------------

SET ROLE actas_app;
-- Outside a transaction block the identity would end with the statement.
SELECT kalix.act_as(:'nurse', :a);
SELECT kalix.current_login() IS NULL AS no_login;
BEGIN;
SELECT kalix.act_as(:'nurse', :a) = :a AS returns_account;
SELECT kalix.current_login() = :'nurse' AS login,
       kalix.current_account() = :a AS account,
       kalix.current_account_role() AS role;
SELECT current_setting('kalix.current_login') = :'nurse' AS login_setting,
       current_setting('kalix.current_account') = :a AS account_setting;
SHOW kalix.current_account;
SELECT body FROM actas_notes ORDER BY id;
COMMIT;
-- Transaction scope, whatever kalix.account_scope says ('session' here).
SHOW kalix.account_scope;
SELECT kalix.current_login() IS NULL AS no_login, kalix.current_account() IS NULL AS no_account;
SHOW kalix.current_login;
SHOW kalix.current_account;
SELECT count(*) AS rows FROM actas_notes;
-- No account: the login only.
BEGIN;
SELECT kalix.act_as(:'nurse') IS NULL AS returns_null;
SELECT kalix.current_login() = :'nurse' AS login, kalix.current_account() IS NULL AS no_account;
SHOW kalix.current_account;
SELECT count(*) AS rows FROM actas_notes;
COMMIT;
-- The account is checked: not a member, archived, no such account.
BEGIN;
SELECT kalix.act_as(:'nurse', :b);
ROLLBACK;
BEGIN;
SELECT kalix.act_as(:'nurse', :d);
ROLLBACK;
BEGIN;
SELECT kalix.act_as(:'nurse', 'a8000000-0000-0000-0000-0000000000ff');
ROLLBACK;
-- An unknown login, and no login, are refused.
BEGIN;
SELECT kalix.act_as('a8000000-0000-0000-0000-0000000000ee', :a);
ROLLBACK;
BEGIN;
SELECT kalix.act_as(NULL, :a);
ROLLBACK;
-- A second call replaces the identity.
BEGIN;
SELECT kalix.act_as(:'nurse', :a) IS NOT NULL AS nurse_in_a;
SELECT kalix.act_as(:'web', :a) IS NOT NULL AS web_in_a;
SELECT kalix.current_login() = :'web' AS web, kalix.current_account_role() AS role;
SELECT kalix.act_as(:'nurse', :c) IS NOT NULL AS nurse_in_c;
SELECT kalix.current_login() = :'nurse' AS nurse, kalix.current_account_role() AS role;
SELECT body FROM actas_notes ORDER BY id;
COMMIT;
-- A later SET in the transaction overrides its half; RESET too.
BEGIN;
SELECT kalix.act_as(:'nurse', :a) IS NOT NULL AS nurse_in_a;
SET LOCAL kalix.current_account = :c;
SELECT kalix.current_login() = :'nurse' AS nurse, kalix.current_account() = :c AS in_c;
SELECT body FROM actas_notes ORDER BY id;
RESET kalix.current_account;
SELECT kalix.current_login() = :'nurse' AS nurse, kalix.current_account() IS NULL AS no_account;
SHOW kalix.current_account;
SELECT count(*) AS rows FROM actas_notes;
SELECT set_config('kalix.current_login', :'web', true) = :'web' AS web_set;
SELECT kalix.current_login() = :'web' AS web;
COMMIT;
SHOW kalix.current_login;
-- When the transaction ends, the settings are what they were before it.
SET kalix.current_login = :'web';
SET kalix.current_account = :a;
BEGIN;
SELECT kalix.act_as(:'nurse', :c) IS NOT NULL AS nurse_in_c;
SELECT current_setting('kalix.current_login') = :'nurse' AS nurse,
       current_setting('kalix.current_account') = :c AS in_c;
SELECT body FROM actas_notes ORDER BY id;
COMMIT;
SELECT current_setting('kalix.current_login') = :'web' AS web,
       current_setting('kalix.current_account') = :a AS in_a,
       kalix.current_account_role() AS role;
BEGIN;
SELECT kalix.act_as(:'nurse', :c) IS NOT NULL AS nurse_in_c;
ROLLBACK;
SELECT kalix.current_login() = :'web' AS web, kalix.current_account() = :a AS in_a;
RESET kalix.current_login;
RESET kalix.current_account;

------------------------------------------------------------------------------
-- Savepoints: ROLLBACK TO SAVEPOINT restores what was before
------------------------------------------------------------------------------

BEGIN;
SELECT kalix.act_as(:'nurse', :a) IS NOT NULL AS nurse_in_a;
SAVEPOINT s1;
SELECT kalix.act_as(:'web', :a) IS NOT NULL AS web_in_a;
ROLLBACK TO SAVEPOINT s1;
SELECT kalix.current_login() = :'nurse' AS nurse, kalix.current_account() = :a AS in_a;
SAVEPOINT s2;
SET LOCAL kalix.current_account = :c;
SELECT kalix.current_account() = :c AS in_c;
ROLLBACK TO SAVEPOINT s2;
SELECT kalix.current_account() = :a AS in_a;
SHOW kalix.current_account;
SAVEPOINT s3;
RESET kalix.current_account;
SELECT kalix.current_account() IS NULL AS no_account;
ROLLBACK TO SAVEPOINT s3;
SELECT kalix.current_account() = :a AS in_a;
SAVEPOINT s4;
SELECT kalix.act_as(:'nurse', :c) IS NOT NULL AS nurse_in_c;
RELEASE SAVEPOINT s4;
SELECT kalix.current_account() = :c AS released_keeps_c;
SAVEPOINT s5;
SELECT kalix.act_as(:'nurse', :b);
ROLLBACK TO SAVEPOINT s5;
SELECT kalix.current_account() = :c AS still_c;
SELECT body FROM actas_notes ORDER BY id;
COMMIT;
-- Chosen only inside a savepoint that rolls back: nothing.
BEGIN;
SAVEPOINT s1;
SELECT kalix.act_as(:'nurse', :a) IS NOT NULL AS nurse_in_a;
ROLLBACK TO SAVEPOINT s1;
SELECT kalix.current_login() IS NULL AS no_login;
SHOW kalix.current_login;
SELECT count(*) AS rows FROM actas_notes;
COMMIT;
-- A PL/pgSQL exception block is a subtransaction too.
SET actas.nurse = :'nurse';
BEGIN;
DO $$
BEGIN
    PERFORM kalix.act_as(current_setting('actas.nurse')::uuid,
                         'a8000000-0000-0000-0000-00000000000a');
    RAISE division_by_zero;
EXCEPTION WHEN division_by_zero THEN
    NULL;
END $$;
SELECT kalix.current_login() IS NULL AS no_login;
COMMIT;

------------------------------------------------------------------------------
-- Attack: act_as, then ROLLBACK (or an error), then a read in the next
-- transaction of the pooled connection
------------------------------------------------------------------------------

BEGIN;
SELECT kalix.act_as(:'nurse', :a) IS NOT NULL AS nurse_in_a;
SELECT body FROM actas_notes ORDER BY id;
ROLLBACK;
BEGIN;
SELECT kalix.current_login() IS NULL AS no_login;
SELECT count(*) AS rows FROM actas_notes;
COMMIT;
BEGIN;
SELECT kalix.act_as(:'nurse', :a) IS NOT NULL AS nurse_in_a;
SELECT 1 / 0;
ROLLBACK;
SELECT count(*) AS rows FROM actas_notes;
SHOW kalix.current_login;
-- Two statements in one query string are one implicit transaction.
SELECT kalix.act_as(:'nurse', :a) IS NOT NULL AS nurse_in_a\; SELECT body FROM actas_notes ORDER BY id;
SELECT count(*) AS rows FROM actas_notes;
RESET ROLE;

------------------------------------------------------------------------------
-- Attack: a role without SET on kalix.current_login
------------------------------------------------------------------------------

SET ROLE actas_plain;
BEGIN;
SELECT kalix.act_as(:'nurse', :a);
ROLLBACK;
RESET ROLE;
-- The superuser may.
BEGIN;
SELECT kalix.act_as(:'nurse', :a) IS NOT NULL AS nurse_in_a;
COMMIT;
-- A privilege found once is not kept past its revocation: by REVOKE, in
-- another transaction and in the same one, and by losing the membership
-- of the role that holds it.
SET ROLE actas_app;
BEGIN;
SELECT kalix.act_as(:'nurse', :a) IS NOT NULL AS allowed;
COMMIT;
RESET ROLE;
REVOKE SET ON PARAMETER kalix.current_login FROM actas_app;
SET ROLE actas_app;
BEGIN;
SELECT kalix.act_as(:'nurse', :a);
ROLLBACK;
RESET ROLE;
GRANT SET ON PARAMETER kalix.current_login TO actas_app;
BEGIN;
SET LOCAL ROLE actas_app;
SELECT kalix.act_as(:'nurse', :a) IS NOT NULL AS allowed;
RESET ROLE;
REVOKE SET ON PARAMETER kalix.current_login FROM actas_app;
SET LOCAL ROLE actas_app;
SELECT kalix.act_as(:'nurse', :a);
ROLLBACK;
CREATE ROLE actas_group;
GRANT SET ON PARAMETER kalix.current_login TO actas_group;
GRANT actas_group TO actas_plain;
SET ROLE actas_plain;
BEGIN;
SELECT kalix.act_as(:'nurse', :a) IS NOT NULL AS allowed_through_group;
COMMIT;
RESET ROLE;
REVOKE actas_group FROM actas_plain;
SET ROLE actas_plain;
BEGIN;
SELECT kalix.act_as(:'nurse', :a);
ROLLBACK;
RESET ROLE;
REVOKE SET ON PARAMETER kalix.current_login FROM actas_group;
DROP ROLE actas_group;

------------------------------------------------------------------------------
-- Attack: through a SECURITY DEFINER function.  The privilege is the
-- current role's, as SET checks it: a function owned by a role without it
-- gives its callers no such right, whoever calls it.
------------------------------------------------------------------------------

CREATE FUNCTION actas_plain_definer(login uuid) RETURNS uuid
    LANGUAGE sql SECURITY DEFINER
    AS $$ SELECT kalix.act_as(login, 'a8000000-0000-0000-0000-00000000000a') $$;
ALTER FUNCTION actas_plain_definer(uuid) OWNER TO actas_plain;
SET ROLE actas_app;
BEGIN;
SELECT actas_plain_definer(:'nurse');
ROLLBACK;
RESET ROLE;
BEGIN;
SELECT actas_plain_definer(:'nurse');
ROLLBACK;
DROP FUNCTION actas_plain_definer(uuid);

------------------------------------------------------------------------------
-- Attack: a prepared statement's cached plan across two act_as calls with
-- different accounts, in one transaction and in two
------------------------------------------------------------------------------

SET ROLE actas_app;
SET plan_cache_mode = force_generic_plan;
PREPARE actas_q AS SELECT body FROM actas_notes ORDER BY id;
BEGIN;
SELECT kalix.act_as(:'nurse', :a) IS NOT NULL AS nurse_in_a;
EXECUTE actas_q;
SELECT kalix.act_as(:'nurse', :c) IS NOT NULL AS nurse_in_c;
EXECUTE actas_q;
COMMIT;
BEGIN;
SELECT kalix.act_as(:'web', :a) IS NOT NULL AS web_in_a;
EXECUTE actas_q;
COMMIT;
EXECUTE actas_q;
PREPARE actas_as(uuid, uuid) AS SELECT kalix.act_as($1, $2);
BEGIN;
EXECUTE actas_as(:'nurse', :c);
EXECUTE actas_q;
COMMIT;
BEGIN;
EXECUTE actas_as(:'nurse', :b);
ROLLBACK;
DEALLOCATE actas_q;
DEALLOCATE actas_as;
RESET plan_cache_mode;
RESET ROLE;

------------------------------------------------------------------------------
-- Attack: a parallel seq scan of an isolated table under act_as returns the
-- account's rows only, in the workers too, and nothing after the transaction
------------------------------------------------------------------------------

INSERT INTO actas_notes
SELECT g, CASE g % 3 WHEN 0 THEN 'a8000000-0000-0000-0000-00000000000a'::uuid
                     WHEN 1 THEN 'a8000000-0000-0000-0000-00000000000b'::uuid
                     ELSE 'a8000000-0000-0000-0000-00000000000c'::uuid END, 'bulk'
FROM generate_series(1000, 30999) g;
ANALYZE actas_notes;
SET ROLE actas_app;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
-- force_parallel_mode was renamed debug_parallel_query in PostgreSQL 16.
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                  THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'on', false) AS parallel_forced;
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM actas_notes;
BEGIN;
SELECT kalix.act_as(:'nurse', :a) IS NOT NULL AS nurse_in_a;
SELECT count(*) AS a_rows FROM actas_notes;
SELECT count(*) AS not_a FROM actas_notes WHERE account_id <> :a;
SHOW kalix.current_account;
SAVEPOINT s1;
SELECT kalix.act_as(:'nurse', :c) IS NOT NULL AS nurse_in_c;
SELECT count(*) AS c_rows FROM actas_notes;
ROLLBACK TO SAVEPOINT s1;
SELECT count(*) AS a_rows FROM actas_notes;
SELECT kalix.act_as(:'nurse') IS NULL AS no_account;
SELECT count(*) AS rows FROM actas_notes;
COMMIT;
SELECT count(*) AS rows FROM actas_notes;
SHOW kalix.current_login;
SHOW kalix.current_account;
BEGIN;
SELECT kalix.act_as(:'nurse', :c) IS NOT NULL AS nurse_in_c;
SELECT count(*) AS c_rows FROM actas_notes;
ROLLBACK;
SELECT count(*) AS rows FROM actas_notes;
RESET ALL;
RESET ROLE;
DROP TABLE actas_notes;

--
-- Clean up: what this file made, and its audit rows.
--
REVOKE SET ON PARAMETER kalix.current_login FROM actas_app;
DROP ROLE actas_app;
DROP ROLE actas_plain;
DELETE FROM kalix.audit_log WHERE account_id::text LIKE 'a8000000-%'
    OR login_id IN (:'nurse', :'web') OR detail->>'login_id' IN (:'nurse', :'web')
    OR detail->>'table' = 'public.actas_notes';
DELETE FROM kalix.memberships WHERE account_id::text LIKE 'a8000000-%';
DELETE FROM kalix.accounts WHERE id::text LIKE 'a8000000-%';
DELETE FROM kalix.logins WHERE id IN (:'nurse', :'web');
