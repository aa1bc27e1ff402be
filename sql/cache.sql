--
-- The bound of the backend cache (kalix.cache_size): after touching more
-- accounts than fit, the cache holds no more than the bound, an evicted entry
-- is read again from the table when next used while a recently used one is
-- still cached, and questions about accounts that do not exist keep no more
-- than a small, fixed number of entries.  To tell a cached entry from one
-- read again, the superuser deletes memberships with
-- session_replication_role = replica, which sends no invalidation.
--
CREATE ROLE cache_reader;
INSERT INTO kalix.logins (id, email, db_role)
    VALUES ('c0000000-0000-4000-8000-000000000001', 'reader@cache.test', 'cache_reader');
-- 15,000 accounts, the reader a member of each (too many to preload: asked pair by pair)
INSERT INTO kalix.accounts (id, name)
SELECT ('c1000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'Cache ' || g
FROM generate_series(1, 15000) g;
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT id, 'c0000000-0000-4000-8000-000000000001', 'member' FROM kalix.accounts WHERE name LIKE 'Cache %';
-- The cache's contexts and its hash tables' (named after the table, or
-- "dynahash" with the table's name as ident, depending on the version): by
-- name, since pg_backend_memory_contexts has no parent column on 18.
CREATE FUNCTION pg_temp.cache_bytes() RETURNS bigint LANGUAGE sql
    AS $$ SELECT coalesce(sum(total_bytes), 0)::bigint FROM pg_backend_memory_contexts
          WHERE name = 'kalix_accounts cache' OR name LIKE 'kalix %' OR (name = 'dynahash' AND ident LIKE 'kalix %') $$;
CREATE FUNCTION pg_temp.touch(first integer, last integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR g IN first..last LOOP
        PERFORM kalix.switch_account(('c1000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid);
    END LOOP;
END
$$;

-- Only a superuser sets the bound; 16MB unless set.
SHOW kalix.cache_size;
SET ROLE cache_reader;
SET kalix.cache_size = '1MB';
RESET ROLE;

-- Within the default bound, every account touched stays: more than 1.5 MB.
SET ROLE cache_reader;
SELECT pg_temp.touch(1, 15000);
RESET ROLE;
SELECT pg_temp.cache_bytes() > 1.5 * 1024 * 1024 AS all_cached;

-- With a bound of 1 MB the same touches keep the cache within it.
SET kalix.cache_size = '1MB';
SET session_replication_role = replica;
DELETE FROM kalix.memberships WHERE account_id = 'c1000000-0000-4000-8000-000000000001';
RESET session_replication_role;
SET ROLE cache_reader;
SELECT pg_temp.touch(2, 15000);
RESET ROLE;
SELECT pg_temp.cache_bytes() <= 1.25 * 1024 * 1024 AS within_bound;

-- The account used last is still cached (its membership, deleted behind the
-- cache's back, still counts); the first one was evicted and is read again.
SET session_replication_role = replica;
DELETE FROM kalix.memberships WHERE account_id = 'c1000000-0000-4000-8000-000000015000';
RESET session_replication_role;
SET ROLE cache_reader;
SELECT kalix.switch_account('c1000000-0000-4000-8000-000000015000');
SELECT kalix.switch_account('c1000000-0000-4000-8000-000000000001');
RESET ROLE;

-- Logins whose memberships are preloaded survive turns of the generations:
-- one with three memberships (a sorted array, which stays behind when its
-- entry moves to the current generation) and one with a single membership
-- (kept inside the entry), each used after every touch of the reader, so
-- that their entries move back at every turn and the prior generation they
-- left is freed at the next.
INSERT INTO kalix.logins (id, email) VALUES
    ('c5000000-0000-4000-8000-000000000001', 'three@cache.test'),
    ('c5000000-0000-4000-8000-000000000002', 'one@cache.test');
INSERT INTO kalix.accounts (id, name)
SELECT ('c6000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'Moved ' || g
FROM generate_series(1, 4) g;
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('c6000000-0000-4000-8000-000000000001', 'c5000000-0000-4000-8000-000000000001', 'member'),
    ('c6000000-0000-4000-8000-000000000002', 'c5000000-0000-4000-8000-000000000001', 'admin'),
    ('c6000000-0000-4000-8000-000000000003', 'c5000000-0000-4000-8000-000000000001', 'owner'),
    ('c6000000-0000-4000-8000-000000000004', 'c5000000-0000-4000-8000-000000000002', 'owner');
SET kalix.cache_size = '1MB';
CREATE FUNCTION pg_temp.role_in(login text, account text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('kalix.current_login', login, false);
    PERFORM kalix.switch_account(account::uuid);
    RETURN kalix.current_account_role()::text;
EXCEPTION WHEN insufficient_privilege THEN
    RETURN 'none';
END
$$;
SELECT count(*) AS wrong_answers
FROM generate_series(1, 15000) g
WHERE pg_temp.role_in('c0000000-0000-4000-8000-000000000001',
                      'c1000000-0000-4000-8000-' || lpad(g::text, 12, '0'))
          IS DISTINCT FROM (CASE WHEN g IN (1, 15000) THEN 'none' ELSE 'member' END)
   OR pg_temp.role_in('c5000000-0000-4000-8000-000000000001',
                      'c6000000-0000-4000-8000-00000000000' || (g % 4 + 1))
          IS DISTINCT FROM (ARRAY['member', 'admin', 'owner', 'none'])[g % 4 + 1]
   OR pg_temp.role_in('c5000000-0000-4000-8000-000000000002',
                      'c6000000-0000-4000-8000-00000000000' || (g % 4 + 1))
          IS DISTINCT FROM (CASE WHEN g % 4 = 3 THEN 'owner' ELSE 'none' END);
SELECT count(*) AS generations FROM pg_backend_memory_contexts WHERE name = 'kalix_accounts cache';
RESET kalix.current_login;
RESET kalix.current_account;

-- 20,000 questions about accounts that do not exist keep at most 1,024 entries.
SET kalix.cache_size = '64MB';
SELECT pg_temp.cache_bytes() AS before \gset
SET ROLE cache_reader;
DO $$
BEGIN
    FOR g IN 1..20000 LOOP
        BEGIN
            PERFORM kalix.switch_account(('c2000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid);
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;
        END;
    END LOOP;
END
$$;
RESET ROLE;
SELECT pg_temp.cache_bytes() - :before < 512 * 1024 AS missing_bounded;

-- lineage_distance(), called once per row, keeps the lineage it used last
-- while the cache's generation holds; a turn of the generations (the bound)
-- may free it, so a turn voids what it kept.  The superuser moves the
-- reader's account to another parent silently (no invalidation): the kept
-- lineage, like the cache, still names the old parent, until touching 14,998
-- other accounts within 1 MB has turned the generations, the account has
-- been evicted and read again, and its next lineage names the new parent.
INSERT INTO kalix.accounts (id, name) VALUES
    ('c7000000-0000-4000-8000-000000000001', 'Kept old parent'),
    ('c7000000-0000-4000-8000-000000000002', 'Kept new parent');
INSERT INTO kalix.accounts (id, name, parent_id) VALUES
    ('c7000000-0000-4000-8000-000000000003', 'Kept child', 'c7000000-0000-4000-8000-000000000001');
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('c7000000-0000-4000-8000-000000000003', 'c0000000-0000-4000-8000-000000000001', 'member');
SET kalix.cache_size = '1MB';
SET ROLE cache_reader;
SELECT kalix.switch_account('c7000000-0000-4000-8000-000000000003') IS NOT NULL AS switched;
SELECT kalix.lineage_distance('c7000000-0000-4000-8000-000000000001') AS old_parent,
       kalix.lineage_distance('c7000000-0000-4000-8000-000000000002') AS new_parent;
RESET ROLE;
SET session_replication_role = replica;
UPDATE kalix.accounts SET parent_id = 'c7000000-0000-4000-8000-000000000002'
WHERE id = 'c7000000-0000-4000-8000-000000000003';
RESET session_replication_role;
SET ROLE cache_reader;
SELECT kalix.lineage_distance('c7000000-0000-4000-8000-000000000001') AS old_parent,
       kalix.lineage_distance('c7000000-0000-4000-8000-000000000002') AS new_parent;
SELECT pg_temp.touch(2, 14999);
SELECT kalix.switch_account('c7000000-0000-4000-8000-000000000003') IS NOT NULL AS switched;
SELECT kalix.lineage_distance('c7000000-0000-4000-8000-000000000001') AS old_parent,
       kalix.lineage_distance('c7000000-0000-4000-8000-000000000002') AS new_parent;
RESET ROLE;
RESET kalix.current_account;
SET kalix.cache_size = '64MB';

-- Memory per touched account (issue 14: at most 12 MiB after touching
-- 100,000 accounts, i.e. 125.8 bytes each): a fresh backend, unbounded, sets
-- each of 20,000 owner logins and switches to its account, in trees of 10 as
-- bench/size.sh does.  The whole cache, fixed overhead included, stays under
-- 125 bytes per account (119 on PostgreSQL 15; 368 with the dynahash tables
-- of before): at this size the tables' slot arrays cost more per record
-- than at 100,000, so the bound holds there too.
INSERT INTO kalix.logins (id, email)
SELECT ('c4000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'owner' || g || '@cache.test'
FROM generate_series(1, 20000) g;
INSERT INTO kalix.accounts (id, name, parent_id)
SELECT ('c3000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'Touched ' || g,
       CASE WHEN g % 10 <> 1 THEN ('c3000000-0000-4000-8000-' || lpad((g - 1)::text, 12, '0'))::uuid END
FROM generate_series(1, 20000) g ORDER BY g;
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT ('c3000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid,
       ('c4000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'owner'
FROM generate_series(1, 20000) g;
\c -
SET kalix.cache_size = '64GB';
DO $$
BEGIN
    FOR g IN 1..20000 LOOP
        PERFORM set_config('kalix.current_login', 'c4000000-0000-4000-8000-' || lpad(g::text, 12, '0'), false);
        PERFORM kalix.switch_account(('c3000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid);
    END LOOP;
END
$$;
SELECT coalesce(sum(total_bytes), 0) / 20000 < 125 AS compact
FROM pg_backend_memory_contexts
WHERE name = 'kalix_accounts cache' OR name LIKE 'kalix %' OR (name = 'dynahash' AND ident LIKE 'kalix %');
RESET kalix.current_login;
RESET kalix.current_account;

--
-- Clean up
--
RESET kalix.cache_size;
DELETE FROM kalix.memberships WHERE login_id = 'c0000000-0000-4000-8000-000000000001';
DELETE FROM kalix.accounts WHERE id::text LIKE 'c1000000-%';
DELETE FROM kalix.memberships WHERE login_id::text LIKE 'c4000000-%' OR login_id::text LIKE 'c5000000-%';
DELETE FROM kalix.accounts WHERE id::text LIKE 'c3000000-%' OR id::text LIKE 'c6000000-%';
DELETE FROM kalix.accounts WHERE parent_id::text LIKE 'c7000000-%';
DELETE FROM kalix.accounts WHERE id::text LIKE 'c7000000-%';
DELETE FROM kalix.logins WHERE id = 'c0000000-0000-4000-8000-000000000001'
    OR id::text LIKE 'c4000000-%' OR id::text LIKE 'c5000000-%';
DROP ROLE cache_reader;
