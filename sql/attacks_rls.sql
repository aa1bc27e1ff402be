-- attacks_rls: attacks of a hostile SQL caller on isolated tables that held
-- in the 1.0 review (issue 13), each reproduced as it was run.  Every block
-- names what it attacks; the outcome asserted is the real one: the caller's
-- own rows only, no foreign values in a NOTICE, or the exact error.
\set SHOW_CONTEXT never
\set acc_a 'a7000000-0000-4000-8000-00000000000a'
\set acc_b 'a7000000-0000-4000-8000-00000000000b'
\set acc_m 'a7000000-0000-4000-8000-00000000000c'
\set acc_p 'a7000000-0000-4000-8000-000000000001'
\set acc_c 'a7000000-0000-4000-8000-000000000002'
\set acc_s 'a7000000-0000-4000-8000-000000000003'

-- The roles are the fixture's (sql/fixture.sql).
-- fixture_owner: owns the application tables, member of nothing
-- fixture_alice: owner of A, member of B
-- fixture_bob: owner of B
-- fixture_mallory: owner of M
-- fixture_carol: owner of Parent and of its child Sibling
-- fixture_dave: member of Child (under Parent) only
SELECT kalix.create_login('owner@atk.test', 'Owner', 'fixture_owner') AS owner_login \gset
SELECT kalix.create_login('alice@atk.test', 'Alice', 'fixture_alice') AS alice \gset
SELECT kalix.create_login('bob@atk.test', 'Bob', 'fixture_bob') AS bob \gset
SELECT kalix.create_login('mallory@atk.test', 'Mallory', 'fixture_mallory') AS mallory \gset
SELECT kalix.create_login('carol@atk.test', 'Carol', 'fixture_carol') AS carol \gset
SELECT kalix.create_login('dave@atk.test', 'Dave', 'fixture_dave') AS dave \gset
INSERT INTO kalix.accounts (id, name) VALUES
    (:'acc_a', 'Atk A'), (:'acc_b', 'Atk B'), (:'acc_m', 'Atk M'), (:'acc_p', 'Atk Parent');
INSERT INTO kalix.accounts (id, name, parent_id) VALUES
    (:'acc_c', 'Atk Child', :'acc_p'), (:'acc_s', 'Atk Sibling', :'acc_p');
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    (:'acc_a', :'alice', 'owner'),
    (:'acc_b', :'bob', 'owner'),
    (:'acc_b', :'alice', 'member'),
    (:'acc_m', :'mallory', 'owner'),
    (:'acc_p', :'carol', 'owner'),
    (:'acc_s', :'carol', 'owner'),
    (:'acc_c', :'dave', 'member');

-- A private table: two rows in A, two in B, one in M.
-- Keys include the account column, so that they are no cross-account oracle.
CREATE TABLE atk_notes (
    id         int NOT NULL,
    account_id uuid NOT NULL,
    body       text NOT NULL,
    PRIMARY KEY (account_id, id)
);
INSERT INTO atk_notes VALUES
    (1, :'acc_a', 'a1'), (2, :'acc_a', 'a2'),
    (3, :'acc_b', 'b1'), (4, :'acc_b', 'b2'),
    (5, :'acc_m', 'm1');
-- An inherited table: Parent's rows are shared with Child, never Sibling's;
-- enough rows for parallel plans.
CREATE TABLE atk_shared (
    id         int NOT NULL,
    account_id uuid NOT NULL,
    body       text NOT NULL,
    PRIMARY KEY (account_id, id)
);
INSERT INTO atk_shared
SELECT g, CASE WHEN g <= 3000 THEN :'acc_p'::uuid
               WHEN g <= 5000 THEN :'acc_c'::uuid
               ELSE :'acc_s'::uuid END,
       CASE WHEN g <= 3000 THEN 'parent' WHEN g <= 5000 THEN 'child' ELSE 'sibling' END
FROM generate_series(1, 6000) g;
-- A table without isolation, readable by every role.
CREATE TABLE atk_plain (k int, label text);
INSERT INTO atk_plain VALUES (1, 'p1'), (2, 'p2');
ALTER TABLE atk_notes OWNER TO fixture_owner;
ALTER TABLE atk_shared OWNER TO fixture_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON atk_notes, atk_shared TO PUBLIC;
GRANT SELECT ON atk_plain TO PUBLIC;
-- The attackers may create objects of their own.
GRANT CREATE ON SCHEMA public TO fixture_owner, fixture_alice, fixture_bob, fixture_mallory, fixture_carol, fixture_dave;
SET ROLE fixture_owner;
SELECT kalix.enable_isolation('atk_notes');
SELECT kalix.enable_isolation('atk_shared', inherited => true);
CREATE STATISTICS atk_notes_stats (ndistinct, dependencies, mcv) ON account_id, body FROM atk_notes;
-- A security_invoker view of the table owner, readable by everyone.
CREATE VIEW atk_invoker WITH (security_invoker) AS SELECT * FROM atk_notes;
GRANT SELECT ON atk_invoker TO PUBLIC;
RESET ROLE;
ANALYZE atk_notes, atk_shared, atk_plain;

-- Whether a query's plan has a node of the given name (plan shapes differ
-- between versions; the presence of a node does not).
CREATE FUNCTION atk_plan_has(query text, node text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        IF line LIKE '%' || node || '%' THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;
-- How many parallel workers ran a query (NULL: the plan had no Gather).
CREATE FUNCTION atk_workers_launched(query text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || query INTO plan;
    RETURN (regexp_match(plan::text, '"Workers Launched": ([0-9]+)'))[1]::int;
END
$$;

------------------------------------------------------------------------------
-- An inlined SQL set-returning function reads only the caller's account
------------------------------------------------------------------------------

SET ROLE fixture_mallory;
CREATE FUNCTION atk_srf_all() RETURNS SETOF atk_notes LANGUAGE sql STABLE
    AS $$ SELECT * FROM atk_notes $$;
CREATE FUNCTION atk_srf_of(account uuid) RETURNS SETOF atk_notes LANGUAGE sql STABLE
    AS $$ SELECT * FROM atk_notes WHERE account_id = account $$;
-- Inlined: the plan scans the table, no Function Scan is left.
SELECT atk_plan_has('SELECT * FROM atk_srf_all()', 'Function Scan') AS not_inlined;
SELECT count(*) FROM atk_srf_all();
SELECT kalix.switch_account(:'acc_m') IS NOT NULL AS in_m;
SELECT string_agg(body, ',' ORDER BY id) FROM atk_srf_all();
SELECT count(*) FROM atk_srf_of(:'acc_a');
SELECT count(*) FROM atk_srf_of(:'acc_b');
SELECT string_agg(body, ',' ORDER BY id) FROM atk_srf_of(:'acc_m');
RESET kalix.current_account;

------------------------------------------------------------------------------
-- CTEs: materialized, inlined, recursive and data-modifying
------------------------------------------------------------------------------

SELECT kalix.switch_account(:'acc_m') IS NOT NULL AS in_m;
WITH x AS MATERIALIZED (SELECT * FROM atk_notes) SELECT string_agg(body, ',' ORDER BY id) FROM x;
WITH x AS NOT MATERIALIZED (SELECT * FROM atk_notes)
SELECT count(*) FROM x WHERE account_id IN (:'acc_a', :'acc_b');
WITH RECURSIVE walk(id, body) AS (
    SELECT id, body FROM atk_notes WHERE id = 1
    UNION ALL
    SELECT n.id, n.body FROM atk_notes n JOIN walk w ON n.id = w.id + 1
) SELECT count(*) FROM walk;
WITH u AS (UPDATE atk_notes SET body = 'defaced' WHERE id IN (1, 3) RETURNING id)
SELECT count(*) AS updated FROM u;
WITH d AS (DELETE FROM atk_notes WHERE account_id IN (:'acc_a', :'acc_b') RETURNING id)
SELECT count(*) AS deleted FROM d;
RESET kalix.current_account;

------------------------------------------------------------------------------
-- Subqueries: scalar, EXISTS, IN, LATERAL, in FROM, and in an UPDATE
------------------------------------------------------------------------------

SELECT kalix.switch_account(:'acc_m') IS NOT NULL AS in_m;
SELECT (SELECT body FROM atk_notes WHERE id = 1) AS scalar_a1,
       EXISTS (SELECT 1 FROM atk_notes WHERE id = 3) AS b1_exists,
       3 IN (SELECT id FROM atk_notes) AS in_list,
       (SELECT count(*) FROM (SELECT * FROM atk_notes OFFSET 0) s) AS in_from;
SELECT p.k, l.body FROM atk_plain p
    LEFT JOIN LATERAL (SELECT body FROM atk_notes n WHERE n.id = p.k) l ON true ORDER BY p.k;
BEGIN;
UPDATE atk_notes SET body = coalesce((SELECT body FROM atk_notes WHERE id = 1), 'nothing')
WHERE id = 5 RETURNING id, body;
ROLLBACK;
RESET kalix.current_account;
RESET ROLE;

------------------------------------------------------------------------------
-- A security_invoker view, the owner's and the attacker's own
------------------------------------------------------------------------------

SET ROLE fixture_mallory;
CREATE VIEW atk_mallory_view WITH (security_invoker) AS SELECT * FROM atk_notes;
SELECT count(*) FROM atk_invoker;
SELECT count(*) FROM atk_mallory_view;
SELECT kalix.switch_account(:'acc_m') IS NOT NULL AS in_m;
SELECT string_agg(body, ',' ORDER BY id) FROM atk_invoker;
SELECT string_agg(body, ',' ORDER BY id) FROM atk_mallory_view;
SELECT count(*) FROM atk_invoker WHERE account_id <> :'acc_m';
RESET kalix.current_account;
DROP VIEW atk_mallory_view;
RESET ROLE;
SET ROLE fixture_bob;
SELECT kalix.switch_account(:'acc_b') IS NOT NULL AS in_b;
SELECT string_agg(body, ',' ORDER BY id) FROM atk_invoker;
RESET kalix.current_account;
RESET ROLE;

------------------------------------------------------------------------------
-- SET ROLE with prepared statements: a statement prepared by Alice in A,
-- executed after SET ROLE to Mallory, custom and generic plans
------------------------------------------------------------------------------

SET ROLE fixture_alice;
SELECT kalix.switch_account(:'acc_a') IS NOT NULL AS in_a;
PREPARE atk_all AS SELECT string_agg(body, ',' ORDER BY id) FROM atk_notes;
PREPARE atk_one(int) AS SELECT body FROM atk_notes WHERE id = $1;
EXECUTE atk_all;
EXECUTE atk_one(1);
RESET ROLE;
SET ROLE fixture_mallory;
-- The setting still names A, of which Mallory is not a member.
EXECUTE atk_all;
EXECUTE atk_one(1);
RESET kalix.current_account;
EXECUTE atk_all;
EXECUTE atk_one(1);
SELECT kalix.switch_account(:'acc_m') IS NOT NULL AS in_m;
EXECUTE atk_all;
EXECUTE atk_one(1);
EXECUTE atk_one(5);
RESET ROLE;
-- Back to Alice with Mallory's account still set.
SET ROLE fixture_alice;
EXECUTE atk_all;
RESET kalix.current_account;
-- Generic plans made under Alice in A, executed by Mallory.
SET plan_cache_mode = force_generic_plan;
SELECT kalix.switch_account(:'acc_a') IS NOT NULL AS in_a;
PREPARE atk_generic(int) AS SELECT string_agg(body, ',' ORDER BY id) FROM atk_notes WHERE id >= $1;
EXECUTE atk_generic(0);
RESET kalix.current_account;
RESET ROLE;
SET ROLE fixture_mallory;
EXECUTE atk_generic(0);
SELECT kalix.switch_account(:'acc_m') IS NOT NULL AS in_m;
EXECUTE atk_generic(0);
EXECUTE atk_generic(0);
RESET kalix.current_account;
RESET ROLE;
RESET plan_cache_mode;
DEALLOCATE ALL;

------------------------------------------------------------------------------
-- Parallel workers under session scope, with inherited rows: workers see
-- exactly the leader's lineage
------------------------------------------------------------------------------

SET ROLE fixture_dave;
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
SHOW kalix.account_scope;
-- No account: nothing, also in the workers.
SELECT atk_workers_launched('SELECT count(*) FROM atk_shared') > 0 AS workers_ran;
SELECT count(*) FROM atk_shared;
-- Child: its own rows and Parent's, never Sibling's.
SELECT kalix.switch_account(:'acc_c') IS NOT NULL AS in_child;
SELECT atk_workers_launched('SELECT count(*) FROM atk_shared') > 0 AS workers_ran;
SELECT body, count(*) FROM atk_shared GROUP BY body ORDER BY body;
SELECT count(*) FROM atk_shared WHERE account_id = :'acc_s';
SELECT count(*) FROM atk_shared WHERE body = 'sibling' OR account_id NOT IN (:'acc_p', :'acc_c');
-- Sibling is not Dave's to switch to.
SELECT kalix.switch_account(:'acc_s');
RESET kalix.current_account;
SELECT count(*) FROM atk_shared;
RESET ROLE;
SET ROLE fixture_mallory;
SELECT kalix.switch_account(:'acc_m') IS NOT NULL AS in_m;
SELECT count(*) FROM atk_shared;
RESET kalix.current_account;
RESET ROLE;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                  THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'off', false) AS parallel_forced;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
RESET enable_indexscan;
RESET enable_indexonlyscan;
RESET enable_bitmapscan;

------------------------------------------------------------------------------
-- A leaky function (RAISE NOTICE of its argument, tiny COST) in a JOIN,
-- with TABLESAMPLE, in UNION ALL and on whole-row references: it sees the
-- rows of the caller's account only
------------------------------------------------------------------------------

SET ROLE fixture_bob;
CREATE FUNCTION atk_leak(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    RAISE NOTICE 'leaked %', $1;
    RETURN true;
END
$$;
CREATE FUNCTION atk_leak_row(atk_notes) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    RAISE NOTICE 'leaked row %', $1;
    RETURN true;
END
$$;
SELECT kalix.switch_account(:'acc_b') IS NOT NULL AS in_b;
-- JOIN: in the join condition, alone and with the other side (one row of
-- atk_plain, so that the calls do not depend on the join's plan).
SELECT n.id, p.label FROM atk_notes n JOIN atk_plain p ON p.k = 1 AND atk_leak(n.body) ORDER BY n.id;
SELECT n.id FROM atk_notes n JOIN atk_plain p ON p.k = 1 AND atk_leak(n.body || '/' || p.label) ORDER BY n.id;
-- TABLESAMPLE of the whole table.
SELECT id FROM atk_notes TABLESAMPLE BERNOULLI (100) REPEATABLE (1) WHERE atk_leak(body) ORDER BY id;
SELECT id FROM atk_notes TABLESAMPLE SYSTEM (100) REPEATABLE (1) WHERE atk_leak(body) ORDER BY id;
-- UNION ALL: the condition pushed into each branch.
SELECT u.id FROM (SELECT id, body FROM atk_notes UNION ALL SELECT k, label FROM atk_plain) u
WHERE atk_leak(u.body) ORDER BY u.id;
-- Whole-row references: in WHERE, in the target list, in a join.
SELECT n.id FROM atk_notes n WHERE atk_leak_row(n) ORDER BY n.id;
SELECT n.id FROM atk_notes n WHERE atk_leak(n::text) ORDER BY n.id;
SELECT count(*) FROM atk_notes n JOIN atk_plain p ON atk_leak_row(n) AND p.k = 1;
-- Without an account it is called on nothing.
RESET kalix.current_account;
SELECT count(*) FROM atk_notes n JOIN atk_plain p ON atk_leak(n.body);
SELECT count(*) FROM atk_notes TABLESAMPLE BERNOULLI (100) WHERE atk_leak(body);
SELECT count(*) FROM atk_notes n WHERE atk_leak_row(n);
RESET ROLE;

------------------------------------------------------------------------------
-- A leaky operator with restrict = scalarltsel: the planner never runs it on
-- the statistics of an isolated table; pg_stats shows a tenant nothing
------------------------------------------------------------------------------

SET ROLE fixture_bob;
CREATE FUNCTION atk_leak_lt(text, text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    RAISE NOTICE 'compared % < %', $1, $2;
    RETURN $1 < $2;
END
$$;
CREATE OPERATOR <<< (LEFTARG = text, RIGHTARG = text, FUNCTION = atk_leak_lt, RESTRICT = scalarltsel);
-- The same operator counting its calls, to see what planning alone runs.
CREATE SEQUENCE atk_calls;
CREATE FUNCTION atk_count_lt(text, text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    PERFORM nextval('atk_calls');
    RETURN $1 < $2;
END
$$;
CREATE OPERATOR <<? (LEFTARG = text, RIGHTARG = text, FUNCTION = atk_count_lt, RESTRICT = scalarltsel);
-- On a table without row-level security planning runs it on the histogram
-- (so the attack is real) ...
SELECT setval('atk_calls', 1, false) AS reset;
SELECT atk_plan_has('SELECT * FROM atk_plain WHERE label <<? ''p5''', 'atk_plain') AS planned;
SELECT nextval('atk_calls') > 1 AS planner_ran_it;
-- ... on the isolated table never, with or without an account.
SELECT setval('atk_calls', 1, false) AS reset;
SELECT atk_plan_has('SELECT * FROM atk_notes WHERE body <<? ''zz''', 'atk_notes') AS planned;
SELECT kalix.switch_account(:'acc_b') IS NOT NULL AS in_b;
SELECT atk_plan_has('SELECT * FROM atk_notes WHERE body <<? ''zz''', 'atk_notes') AS planned;
SELECT nextval('atk_calls') - 1 AS planner_calls;
-- At run time it sees the account's rows only.
SELECT kalix.switch_account(:'acc_b') IS NOT NULL AS in_b;
SELECT id FROM atk_notes WHERE body <<< 'zz' ORDER BY id;
SELECT count(*) FROM atk_notes n JOIN atk_plain p ON p.k = 1 AND n.body <<< p.label;
RESET kalix.current_account;
SELECT count(*) FROM atk_notes WHERE body <<< 'zz';
-- pg_stats and pg_stats_ext: nothing of the isolated table, with or without
-- an account (the statistics cover every account).
SELECT count(*) FROM pg_stats WHERE tablename = 'atk_notes';
SELECT count(*) FROM pg_stats_ext WHERE tablename = 'atk_notes';
SELECT kalix.switch_account(:'acc_b') IS NOT NULL AS in_b;
SELECT count(*) FROM pg_stats WHERE tablename IN ('atk_notes', 'atk_shared');
SELECT count(*) FROM pg_stats_ext WHERE tablename = 'atk_notes';
SELECT attname FROM pg_stats WHERE tablename = 'atk_plain' ORDER BY attname;
RESET kalix.current_account;
RESET ROLE;
-- Not even the table's owner (FORCE ROW LEVEL SECURITY); the superuser does.
SET ROLE fixture_owner;
SELECT count(*) FROM pg_stats WHERE tablename = 'atk_notes';
RESET ROLE;
SELECT count(*) > 0 AS stats_exist FROM pg_stats WHERE tablename = 'atk_notes';
SELECT count(*) > 0 AS ext_stats_exist FROM pg_stats_ext WHERE tablename = 'atk_notes';

------------------------------------------------------------------------------
-- MERGE in every branch across accounts
------------------------------------------------------------------------------

SET ROLE fixture_alice;
SELECT kalix.switch_account(:'acc_a') IS NOT NULL AS in_a;
-- WHEN MATCHED THEN UPDATE on B's and M's rows: they do not match.
MERGE INTO atk_notes t USING (VALUES (3), (4), (5)) s(id) ON t.id = s.id
WHEN MATCHED THEN UPDATE SET body = 'merged';
-- WHEN MATCHED THEN DELETE on them: nothing.
MERGE INTO atk_notes t USING (VALUES (3), (4), (5)) s(id) ON t.id = s.id
WHEN MATCHED THEN DELETE;
-- WHEN NOT MATCHED THEN INSERT into B (Alice is a member there) and M.
MERGE INTO atk_notes t USING (VALUES (30)) s(id) ON t.id = s.id
WHEN NOT MATCHED THEN INSERT VALUES (s.id, :'acc_b', 'into b');
MERGE INTO atk_notes t USING (VALUES (30)) s(id) ON t.id = s.id
WHEN NOT MATCHED THEN INSERT VALUES (s.id, :'acc_m', 'into m');
-- WHEN MATCHED THEN UPDATE moving A's own row to B.
MERGE INTO atk_notes t USING (VALUES (1)) s(id) ON t.id = s.id
WHEN MATCHED THEN UPDATE SET account_id = :'acc_b';
-- All three branches at once: only A's own rows are changed, B's 3 and 4
-- do not match.
BEGIN;
MERGE INTO atk_notes t USING (VALUES (1), (2), (3), (4), (31)) s(id) ON t.id = s.id
WHEN MATCHED AND t.id = 1 THEN UPDATE SET body = 'a1 merged'
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED AND s.id = 31 THEN INSERT VALUES (s.id, :'acc_a', 'a31');
RESET ROLE;
SELECT id, body FROM atk_notes ORDER BY id;
ROLLBACK;
SET ROLE fixture_alice;
-- Without an account even the insert branch is refused.
RESET kalix.current_account;
MERGE INTO atk_notes t USING (VALUES (30)) s(id) ON t.id = s.id
WHEN NOT MATCHED THEN INSERT VALUES (s.id, :'acc_a', 'no account');
RESET ROLE;
-- Dave in Child sees Parent's shared rows, but MERGE may neither update nor
-- delete them.
SET ROLE fixture_dave;
SELECT kalix.switch_account(:'acc_c') IS NOT NULL AS in_child;
MERGE INTO atk_shared t USING (VALUES (1)) s(id) ON t.id = s.id
WHEN MATCHED THEN UPDATE SET body = 'merged';
MERGE INTO atk_shared t USING (VALUES (1)) s(id) ON t.id = s.id
WHEN MATCHED THEN DELETE;
MERGE INTO atk_shared t USING (VALUES (5001)) s(id) ON t.id = s.id
WHEN MATCHED THEN UPDATE SET body = 'merged';
RESET kalix.current_account;
RESET ROLE;
SELECT id, account_id, body FROM atk_notes ORDER BY id;
SELECT id, body FROM atk_shared WHERE id IN (1, 5001) ORDER BY id;

------------------------------------------------------------------------------
-- COPY TO exports only the account's rows; COPY FROM is refused
------------------------------------------------------------------------------

SET ROLE fixture_bob;
COPY atk_notes TO STDOUT;
SELECT kalix.switch_account(:'acc_b') IS NOT NULL AS in_b;
COPY atk_notes TO STDOUT;
COPY atk_notes (id, body) TO STDOUT;
COPY (SELECT * FROM atk_notes WHERE account_id <> :'acc_b') TO STDOUT;
COPY atk_shared TO STDOUT;
-- Another account's row, and even one of B's own.
-- (The program ignores the pipe psql closes when the server refuses.)
\copy atk_notes FROM PROGRAM 'trap "" PIPE; printf "40\\ta7000000-0000-4000-8000-00000000000a\\tinto a\\n" 2>/dev/null; true'
\copy atk_notes FROM PROGRAM 'trap "" PIPE; printf "41\\ta7000000-0000-4000-8000-00000000000b\\tinto b\\n" 2>/dev/null; true'
RESET kalix.current_account;
RESET ROLE;
SELECT count(*) FROM atk_notes WHERE id IN (40, 41);

------------------------------------------------------------------------------
-- SCROLL cursors and WHERE CURRENT OF
------------------------------------------------------------------------------

SET ROLE fixture_alice;
BEGIN;
SELECT kalix.switch_account(:'acc_a', true) IS NOT NULL AS in_a;
DECLARE atk_scroll SCROLL CURSOR FOR SELECT id, body FROM atk_notes;
FETCH ALL FROM atk_scroll;
FETCH BACKWARD ALL FROM atk_scroll;
FETCH ABSOLUTE 3 FROM atk_scroll;
FETCH LAST FROM atk_scroll;
FETCH RELATIVE 1 FROM atk_scroll;
FETCH ABSOLUTE -3 FROM atk_scroll;
FETCH FIRST FROM atk_scroll;
-- Positioned on A's row 1, switched to B: neither UPDATE nor DELETE WHERE
-- CURRENT OF touches it.
SELECT kalix.switch_account(:'acc_b', true) IS NOT NULL AS in_b;
UPDATE atk_notes SET body = 'defaced' WHERE CURRENT OF atk_scroll RETURNING id;
DELETE FROM atk_notes WHERE CURRENT OF atk_scroll RETURNING id;
-- A cursor of B's rows moved past its end is on no row.
DECLARE atk_cur CURSOR FOR SELECT id, body FROM atk_notes;
FETCH ALL FROM atk_cur;
UPDATE atk_notes SET body = 'defaced' WHERE CURRENT OF atk_cur;
COMMIT;
RESET ROLE;
SET ROLE fixture_mallory;
BEGIN;
SELECT kalix.switch_account(:'acc_m', true) IS NOT NULL AS in_m;
DECLARE atk_scroll SCROLL CURSOR FOR SELECT id, body FROM atk_notes;
FETCH ABSOLUTE 1 FROM atk_scroll;
FETCH ABSOLUTE 2 FROM atk_scroll;
FETCH ABSOLUTE -1 FROM atk_scroll;
COMMIT;
-- A FOR UPDATE cursor over foreign ids finds no row to stand on.
BEGIN;
SELECT kalix.switch_account(:'acc_m', true) IS NOT NULL AS in_m;
DECLARE atk_cur CURSOR FOR SELECT id FROM atk_notes WHERE id IN (1, 3) FOR UPDATE;
FETCH NEXT FROM atk_cur;
DELETE FROM atk_notes WHERE CURRENT OF atk_cur;
COMMIT;
RESET ROLE;
SELECT id, body FROM atk_notes ORDER BY id;

------------------------------------------------------------------------------
-- SET row_security = off as a tenant and as the owner: an error, not every row
------------------------------------------------------------------------------

SET ROLE fixture_bob;
SELECT kalix.switch_account(:'acc_b') IS NOT NULL AS in_b;
SET row_security = off;
SELECT count(*) FROM atk_notes;
SELECT count(*) FROM atk_invoker;
COPY atk_notes TO STDOUT;
UPDATE atk_notes SET body = body;
RESET row_security;
RESET kalix.current_account;
RESET ROLE;
SET ROLE fixture_owner;
SET row_security = off;
SELECT count(*) FROM atk_notes;
SELECT count(*) FROM atk_shared;
RESET row_security;
RESET ROLE;

------------------------------------------------------------------------------
-- TRUNCATE and policy DDL by a tenant
------------------------------------------------------------------------------

-- The name of one of the table's kalix policies, whatever it is.
SELECT min(polname) AS atk_policy FROM pg_policy WHERE polrelid = 'atk_notes'::regclass \gset
SET ROLE fixture_bob;
SELECT kalix.switch_account(:'acc_b') IS NOT NULL AS in_b;
TRUNCATE atk_notes;
TRUNCATE atk_shared;
TRUNCATE atk_notes, atk_plain CASCADE;
ALTER POLICY :"atk_policy" ON atk_notes USING (true);
ALTER POLICY :"atk_policy" ON atk_notes TO fixture_owner;
DROP POLICY :"atk_policy" ON atk_notes;
CREATE POLICY atk_open ON atk_notes AS PERMISSIVE USING (true);
CREATE POLICY atk_open ON atk_notes AS RESTRICTIVE FOR SELECT TO fixture_bob USING (true);
ALTER TABLE atk_notes DISABLE ROW LEVEL SECURITY;
ALTER TABLE atk_notes NO FORCE ROW LEVEL SECURITY;
ALTER TABLE atk_notes OWNER TO fixture_bob;
RESET kalix.current_account;
RESET ROLE;
SELECT count(*) FROM atk_notes;
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'atk_notes'::regclass;
SELECT count(*) FROM pg_policy WHERE polrelid = 'atk_notes'::regclass AND polname = 'atk_open';

------------------------------------------------------------------------------
-- CREATE in schema kalix by a non-superuser
------------------------------------------------------------------------------

-- Nobody but the schema's owner holds CREATE on it.
SELECT a.grantee::regrole
FROM pg_namespace n, aclexplode(n.nspacl) a
WHERE n.nspname = 'kalix' AND a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner;
SELECT has_schema_privilege('fixture_mallory', 'kalix', 'CREATE') AS tenant_can_create,
       has_schema_privilege('fixture_owner', 'kalix', 'CREATE') AS owner_can_create;
SET ROLE fixture_mallory;
CREATE TABLE kalix.memberships_shadow (account_id uuid, login_id uuid);
CREATE FUNCTION kalix.current_account(integer) RETURNS uuid LANGUAGE sql
    AS $$ SELECT 'a7000000-0000-4000-8000-00000000000a'::uuid $$;
CREATE FUNCTION kalix.require_argument(value text, argument text) RETURNS void LANGUAGE sql AS $$ $$;
CREATE VIEW kalix.atk_view AS SELECT 1 AS one;
CREATE OPERATOR kalix.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = pg_catalog.uuid_ne);
CREATE TYPE kalix.atk_type AS (a int);
CREATE FUNCTION atk_moved() RETURNS uuid LANGUAGE sql AS $$ SELECT NULL::uuid $$;
ALTER FUNCTION atk_moved() SET SCHEMA kalix;
DROP FUNCTION atk_moved();
RESET ROLE;
SET ROLE fixture_owner;
CREATE TABLE kalix.atk_owned (id int);
RESET ROLE;
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'kalix' AND (c.relname LIKE '%atk%' OR c.relname = 'memberships_shadow');

------------------------------------------------------------------------------
-- DDL on the extension's objects by non-owners
------------------------------------------------------------------------------

SELECT min(polname) AS atk_kalix_policy FROM pg_policy WHERE polrelid = 'kalix.memberships'::regclass \gset
SET ROLE fixture_mallory;
-- Tables and their policies.
ALTER TABLE kalix.memberships DISABLE ROW LEVEL SECURITY;
ALTER TABLE kalix.memberships ADD COLUMN atk text;
ALTER TABLE kalix.logins RENAME TO logins_old;
ALTER TABLE kalix.memberships OWNER TO fixture_mallory;
ALTER POLICY :"atk_kalix_policy" ON kalix.memberships USING (true);
DROP POLICY :"atk_kalix_policy" ON kalix.memberships;
CREATE POLICY atk_all ON kalix.memberships USING (true);
CREATE RULE atk_rule AS ON INSERT TO kalix.memberships DO ALSO NOTHING;
CREATE TRIGGER atk_trigger BEFORE INSERT ON kalix.memberships
    FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
COMMENT ON TABLE kalix.memberships IS 'mine';
DROP TABLE kalix.audit_log;
TRUNCATE kalix.audit_log;
-- Writing the tables directly, and granting oneself the right to.
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES (:'acc_a', :'mallory', 'owner');
UPDATE kalix.memberships SET role = 'owner' WHERE login_id = :'mallory';
DELETE FROM kalix.audit_log;
GRANT INSERT ON kalix.memberships TO fixture_mallory;
-- Functions, the type, the schema, the extension.
ALTER FUNCTION kalix.current_account() SECURITY DEFINER;
ALTER FUNCTION kalix.current_account() OWNER TO fixture_mallory;
ALTER FUNCTION kalix.switch_account(uuid, boolean) RENAME TO switch_account_old;
CREATE OR REPLACE FUNCTION kalix.current_account() RETURNS uuid LANGUAGE sql
    AS $$ SELECT 'a7000000-0000-4000-8000-00000000000a'::uuid $$;
DROP FUNCTION kalix.switch_account(uuid, boolean);
ALTER TYPE kalix.account_role ADD VALUE 'root';
ALTER TYPE kalix.account_role RENAME VALUE 'member' TO 'owner2';
DROP TYPE kalix.account_role CASCADE;
ALTER SCHEMA kalix RENAME TO kalix_old;
DROP SCHEMA kalix CASCADE;
ALTER EXTENSION kalix_accounts DROP TABLE kalix.memberships;
DROP EXTENSION kalix_accounts CASCADE;
-- The library's C symbols behind a function of one's own.
CREATE FUNCTION atk_current_account() RETURNS uuid LANGUAGE c
    AS 'kalix_accounts', 'kalix_current_account';
RESET ROLE;
-- The table owner of the application tables is no owner of kalix's.
SET ROLE fixture_owner;
ALTER TABLE kalix.isolated_tables DISABLE ROW LEVEL SECURITY;
DELETE FROM kalix.isolated_tables;
DROP FUNCTION kalix.current_account();
RESET ROLE;
-- Everything is where it was.
SELECT count(*) FROM kalix.memberships WHERE login_id = :'mallory';
SELECT relname, relrowsecurity FROM pg_class
WHERE oid IN ('kalix.memberships'::regclass, 'kalix.isolated_tables'::regclass) ORDER BY relname;
SELECT count(*) FROM kalix.isolated_tables WHERE tbl::text LIKE 'atk\_%';
SELECT count(*) FROM pg_proc WHERE proname = 'atk_current_account';

------------------------------------------------------------------------------
-- A child account's member locks Parent's inherited rows FOR UPDATE / FOR
-- SHARE and updates them: it may read them, never lock or change them
------------------------------------------------------------------------------

SET ROLE fixture_dave;
SELECT kalix.switch_account(:'acc_c') IS NOT NULL AS in_child;
-- Both rows are visible to a plain read.
SELECT id, body FROM atk_shared WHERE id IN (1, 3001) ORDER BY id;
BEGIN;
SELECT id, body FROM atk_shared WHERE id IN (1, 3001) ORDER BY id FOR UPDATE;
SELECT id FROM atk_shared WHERE id IN (2, 3002) ORDER BY id FOR NO KEY UPDATE;
SELECT id FROM atk_shared WHERE id IN (3, 3003) ORDER BY id FOR SHARE;
SELECT id FROM atk_shared WHERE id IN (4, 3004) ORDER BY id FOR KEY SHARE;
SELECT count(*) FROM (SELECT id FROM atk_shared WHERE account_id = :'acc_p' FOR UPDATE) s;
-- Only Child's rows carry this transaction's lock.
RESET ROLE;
SELECT id, xmax::text <> '0' AS locked FROM atk_shared WHERE id IN (1, 2, 3, 4, 3001, 3002, 3003, 3004) ORDER BY id;
SET ROLE fixture_dave;
-- Updating and deleting Parent's rows, also through a join, touches only
-- Child's row 3001 among them.
UPDATE atk_shared SET body = 'changed' WHERE id IN (1, 3001) RETURNING id;
UPDATE atk_shared t SET body = 'changed' FROM (SELECT id FROM atk_shared WHERE account_id = :'acc_p' LIMIT 5) s
WHERE t.id = s.id RETURNING t.id;
DELETE FROM atk_shared WHERE id IN (1, 3001) RETURNING id;
ROLLBACK;
RESET kalix.current_account;
RESET ROLE;
SELECT body, count(*) FROM atk_shared GROUP BY body ORDER BY body;

------------------------------------------------------------------------------
-- Clean up
------------------------------------------------------------------------------

DROP OPERATOR <<< (text, text);
DROP OPERATOR <<? (text, text);
DROP FUNCTION atk_leak(text), atk_leak_row(atk_notes), atk_leak_lt(text, text), atk_count_lt(text, text),
    atk_srf_all(), atk_srf_of(uuid), atk_plan_has(text, text), atk_workers_launched(text);
DROP VIEW atk_invoker;
DROP SEQUENCE atk_calls;
DROP TABLE atk_notes, atk_shared, atk_plain;
REVOKE CREATE ON SCHEMA public FROM fixture_owner, fixture_alice, fixture_bob, fixture_mallory, fixture_carol, fixture_dave;
CREATE TEMP TABLE atk_logins AS SELECT id FROM kalix.logins WHERE email LIKE '%@atk.test';
DELETE FROM kalix.audit_log WHERE detail->>'table' LIKE 'public.atk\_%'
    OR login_id IN (SELECT id FROM atk_logins)
    OR account_id::text LIKE 'a7000000-%'
    OR detail->>'login_id' IN (SELECT id::text FROM atk_logins);
DELETE FROM kalix.memberships WHERE account_id::text LIKE 'a7000000-%';
DELETE FROM kalix.accounts WHERE parent_id::text LIKE 'a7000000-%';
DELETE FROM kalix.accounts WHERE id::text LIKE 'a7000000-%';
DELETE FROM kalix.logins WHERE id IN (SELECT id FROM atk_logins);
DROP TABLE atk_logins;
