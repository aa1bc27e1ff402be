-- bench/schema.sql: the data set and the five designs compared by bench/run.sh.
-- psql variables: naccts, nlogins, per (appointments per account),
-- types (appointment types per account), step (membership stride), inherited (t/f).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET maintenance_work_mem = '256MB';
SET work_mem = '256MB';

CREATE EXTENSION kalix_accounts CASCADE;
CREATE SCHEMA bench;

-- Account and login numbers map to readable, deterministic ids, so that
-- pgbench (which only draws integers) can name them.
CREATE FUNCTION bench.account_id(n bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid $$;
CREATE FUNCTION bench.login_id(n bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT ('00000000-0000-4000-9000-' || lpad(n::text, 12, '0'))::uuid $$;

-- Trees of 1 to 19 accounts (10 on average): positions 0-15 form a chain,
-- 16-18 branch off it, so lineages are 1 to 16 accounts long.
CREATE TABLE bench.acct AS
WITH trees AS (
    SELECT t, 1 + t % 19 AS size FROM generate_series(0, :naccts) t
), numbered AS (
    SELECT t, p, row_number() OVER (ORDER BY t, p) AS n
    FROM trees, generate_series(0, size - 1) p
)
SELECT n, t AS tree, p AS pos,
       CASE WHEN p = 0 THEN NULL WHEN p <= 15 THEN n - 1 ELSE n - 4 END AS parent_n,
       CASE WHEN p <= 15 THEN p + 1 ELSE p - 2 END AS depth
FROM numbered WHERE n <= :naccts;
ALTER TABLE bench.acct ADD PRIMARY KEY (n);

-- Logins, accounts and memberships go straight into the extension's tables.
INSERT INTO kalix.logins (id, email, display_name)
SELECT bench.login_id(l), 'login' || l || '@bench.example', 'Login ' || l
FROM generate_series(1, :nlogins) l;

INSERT INTO kalix.accounts (id, name, parent_id)
SELECT bench.account_id(n), 'Account ' || n, bench.account_id(parent_n)
FROM bench.acct ORDER BY n;

-- Login l belongs to 1 + l % 5 accounts; login n owns account n, login
-- n + naccts is an admin there, so every account has members.
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT bench.account_id((l - 1 + k * :step) % :naccts + 1), bench.login_id(l),
       CASE WHEN k > 0 THEN 'member' WHEN l <= :naccts THEN 'owner' ELSE 'admin' END::kalix.account_role
FROM generate_series(1, :nlogins) l, generate_series(0, l % 5) k;

-- 100 logins without memberships: the churn writer adds and removes them.
INSERT INTO kalix.logins (id, email, display_name)
SELECT bench.login_id(l), 'login' || l || '@bench.example', 'Login ' || l
FROM generate_series(:nlogins + 1, :nlogins + 100) l;

-- Account 1 gets exactly 50 members: the source of create_account(copy_users).
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT bench.account_id(1), bench.login_id(l), 'member'
FROM generate_series(2, :nlogins) l
WHERE NOT EXISTS (SELECT 1 FROM kalix.memberships m
                  WHERE m.account_id = bench.account_id(1) AND m.login_id = bench.login_id(l))
LIMIT 50 - (SELECT count(*) FROM kalix.memberships WHERE account_id = bench.account_id(1));

-- The application's tables, loaded once in time order (accounts interleave
-- on disk as they would in production), then copied for every design.
CREATE SCHEMA d_limit;
CREATE SCHEMA d_kalix;
CREATE SCHEMA d_naive;
CREATE SCHEMA d_tuned;
CREATE SCHEMA d_app;

CREATE TABLE d_limit.appointments (
    id         bigint NOT NULL,
    account_id uuid NOT NULL,
    starts_at  timestamptz NOT NULL,
    patient_id bigint NOT NULL,
    type_id    bigint NOT NULL,
    status     text NOT NULL
);
INSERT INTO d_limit.appointments
SELECT (n - 1) * :per + k, bench.account_id(n),
       timestamptz '2024-01-01 08:00' + make_interval(days => (k - 1) / 8, hours => (k - 1) % 8),
       (n * 7919 + k) % 100000, (n - 1) * :types + 1 + k % :types,
       CASE WHEN k % 10 = 0 THEN 'cancelled' ELSE 'booked' END
FROM generate_series(1, :per) k, generate_series(1, :naccts) n
ORDER BY k, n;

-- Type names come from a pool of 20, so a lineage redefines names and the
-- nearest definition has to win.
CREATE TABLE d_limit.appointment_types (
    id         bigint NOT NULL,
    account_id uuid NOT NULL,
    name       text NOT NULL,
    minutes    integer NOT NULL
);
INSERT INTO d_limit.appointment_types
SELECT (n - 1) * :types + k + 1, bench.account_id(n),
       'type ' || lpad(((n + 3 * k) % 20)::text, 2, '0'), 15 * (1 + (n + k) % 6)
FROM generate_series(0, :types - 1) k, generate_series(1, :naccts) n
ORDER BY n, k;

CREATE TABLE d_kalix.appointments AS SELECT * FROM d_limit.appointments;
CREATE TABLE d_naive.appointments AS SELECT * FROM d_limit.appointments;
CREATE TABLE d_tuned.appointments AS SELECT * FROM d_limit.appointments;
CREATE TABLE d_app.appointments AS SELECT * FROM d_limit.appointments;
CREATE TABLE d_kalix.appointment_types AS SELECT * FROM d_limit.appointment_types;
CREATE TABLE d_naive.appointment_types AS SELECT * FROM d_limit.appointment_types;
CREATE TABLE d_tuned.appointment_types AS SELECT * FROM d_limit.appointment_types;
CREATE TABLE d_app.appointment_types AS SELECT * FROM d_limit.appointment_types;

-- The indexes an application would have, identical in every design.
SELECT format('ALTER TABLE %I.appointments ADD PRIMARY KEY (id)', s),
       format('CREATE INDEX ON %I.appointments (account_id, starts_at)', s),
       format('ALTER TABLE %I.appointment_types ADD PRIMARY KEY (id)', s),
       format('CREATE INDEX ON %I.appointment_types (account_id, name)', s)
FROM unnest(ARRAY['d_limit', 'd_kalix', 'd_naive', 'd_tuned', 'd_app']) s
\gexec

------------------------------------------------------------------------------
-- The SQL-only designs: their own accounts/memberships tables and helpers.
------------------------------------------------------------------------------
CREATE SCHEMA app;
CREATE TABLE app.accounts (id uuid PRIMARY KEY, parent_id uuid REFERENCES app.accounts (id));
INSERT INTO app.accounts SELECT id, parent_id FROM kalix.accounts ORDER BY id;
CREATE INDEX ON app.accounts (parent_id);
CREATE TABLE app.memberships (
    account_id uuid NOT NULL REFERENCES app.accounts (id),
    login_id   uuid NOT NULL,
    role       text NOT NULL,
    PRIMARY KEY (account_id, login_id)
);
INSERT INTO app.memberships SELECT account_id, login_id, role::text FROM kalix.memberships;
CREATE INDEX ON app.memberships (login_id);
REVOKE ALL ON app.accounts, app.memberships FROM PUBLIC;

CREATE FUNCTION app.current_login() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('app.current_login', true), '')::uuid $$;
CREATE FUNCTION app.current_account() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('app.current_account', true), '')::uuid $$;

-- Is the current login a member of this account?
CREATE FUNCTION app.is_member(acc uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM app.memberships m
                   WHERE m.account_id = acc AND m.login_id = app.current_login());
END
$$;

-- The current account and its ancestors, nearest first ('{}' for a non-member).
CREATE FUNCTION app.lineage() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    acc uuid := app.current_account();
BEGIN
    IF acc IS NULL OR NOT app.is_member(acc) THEN
        RETURN '{}';
    END IF;
    RETURN ARRAY(
        WITH RECURSIVE up (id, parent_id, depth) AS (
            SELECT a.id, a.parent_id, 0 FROM app.accounts a WHERE a.id = acc
            UNION ALL
            SELECT a.id, a.parent_id, up.depth + 1
            FROM app.accounts a JOIN up ON a.id = up.parent_id
        )
        SELECT up.id FROM up ORDER BY up.depth);
END
$$;

-- sql-naive: the helpers called as written, with the row's account.  Reads of
-- the inherited table see the lineage; writes stay in the current account.
ALTER TABLE d_naive.appointments ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_account ON d_naive.appointments
    USING (account_id = app.current_account() AND app.is_member(account_id));
ALTER TABLE d_naive.appointment_types ENABLE ROW LEVEL SECURITY;
CREATE POLICY lineage_read ON d_naive.appointment_types FOR SELECT
    USING (account_id = ANY (app.lineage()));
CREATE POLICY own_insert ON d_naive.appointment_types FOR INSERT
    WITH CHECK (account_id = app.current_account() AND app.is_member(account_id));
CREATE POLICY own_update ON d_naive.appointment_types FOR UPDATE
    USING (account_id = app.current_account() AND app.is_member(account_id));
CREATE POLICY own_delete ON d_naive.appointment_types FOR DELETE
    USING (account_id = app.current_account() AND app.is_member(account_id));

-- sql-tuned: the same helpers wrapped in (SELECT ...), run once per query.
ALTER TABLE d_tuned.appointments ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_account ON d_tuned.appointments
    USING (account_id = (SELECT app.current_account())
           AND (SELECT app.is_member(app.current_account())));
ALTER TABLE d_tuned.appointment_types ENABLE ROW LEVEL SECURITY;
CREATE POLICY lineage_read ON d_tuned.appointment_types FOR SELECT
    USING (account_id = ANY ((SELECT app.lineage())::uuid[]));
CREATE POLICY own_insert ON d_tuned.appointment_types FOR INSERT
    WITH CHECK (account_id = (SELECT app.current_account())
           AND (SELECT app.is_member(app.current_account())));
CREATE POLICY own_update ON d_tuned.appointment_types FOR UPDATE
    USING (account_id = (SELECT app.current_account())
           AND (SELECT app.is_member(app.current_account())));
CREATE POLICY own_delete ON d_tuned.appointment_types FOR DELETE
    USING (account_id = (SELECT app.current_account())
           AND (SELECT app.is_member(app.current_account())));

-- app-setting: the popular but insecure design.  The application sets
-- app.current_account (and app.lineage, the account and its ancestors) and
-- the policies trust it: no membership check, any role can name any account.
ALTER TABLE d_app.appointments ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_account ON d_app.appointments
    USING (account_id = nullif(current_setting('app.current_account', true), '')::uuid);
ALTER TABLE d_app.appointment_types ENABLE ROW LEVEL SECURITY;
CREATE POLICY lineage_read ON d_app.appointment_types FOR SELECT
    USING (account_id = ANY (nullif(current_setting('app.lineage', true), '')::uuid[]));

-- kalix: the extension's policies.
SELECT kalix.enable_isolation('d_kalix.appointments');
\if :inherited
SELECT kalix.enable_isolation('d_kalix.appointment_types', inherited => true);
\endif

-- The role the benchmark connects as: no superuser, no BYPASSRLS.
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_app') THEN
        CREATE ROLE bench_app LOGIN;
    END IF;
END $$;
GRANT SET ON PARAMETER kalix.current_login TO bench_app;
GRANT USAGE ON SCHEMA bench, app, d_limit, d_kalix, d_naive, d_tuned, d_app TO bench_app;
GRANT SELECT ON ALL TABLES IN SCHEMA d_limit, d_kalix, d_naive, d_tuned, d_app TO bench_app;

-- Invalidation probe: the same statement on kalix.memberships (its trigger
-- invalidates the cache) and on a look-alike table whose same trigger sends a
-- relcache invalidation the kalix cache ignores: the difference is the rebuild.
CREATE TABLE bench.lookalike (x int);
CREATE TRIGGER lookalike_invalidate AFTER UPDATE ON bench.lookalike
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.cache_invalidate();
CREATE FUNCTION bench.touch_memberships() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$ BEGIN UPDATE kalix.memberships SET role = role WHERE false; END $$;
CREATE FUNCTION bench.touch_lookalike() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$ BEGIN UPDATE bench.lookalike SET x = x WHERE false; END $$;

-- The churn workload's control writers: tables outside kalix.
CREATE TABLE bench.control (l bigint PRIMARY KEY, x bigint NOT NULL);
INSERT INTO bench.control SELECT l, 0 FROM generate_series(:nlogins + 1, :nlogins + 100) l;
CREATE TABLE bench.control_log (l bigint NOT NULL);

VACUUM (FREEZE, ANALYZE);
