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

-- Within the default bound, every account touched stays: more than 2 MB.
SET ROLE cache_reader;
SELECT pg_temp.touch(1, 15000);
RESET ROLE;
SELECT pg_temp.cache_bytes() > 2 * 1024 * 1024 AS all_cached;

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

--
-- Clean up
--
RESET kalix.cache_size;
DELETE FROM kalix.memberships WHERE login_id = 'c0000000-0000-4000-8000-000000000001';
DELETE FROM kalix.accounts WHERE id::text LIKE 'c1000000-%';
DELETE FROM kalix.logins WHERE id = 'c0000000-0000-4000-8000-000000000001';
DROP ROLE cache_reader;
