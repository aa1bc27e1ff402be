/* kalix_accounts--1.0--1.1.sql */

\echo Use "ALTER EXTENSION kalix_accounts UPDATE TO '1.1'" to load this file. \quit

-- Release 1.1: the write path in C, the companion extension kalix_npi, and
-- the security fixes of the 1.1 review.  Each change below names what it
-- replaces; after it the installation equals a fresh 1.1 install
-- (test/upgrade.sh compares them object by object).

------------------------------------------------------------------------------
-- Isolation of application tables, in C (src/isolation.c, src/lint.c)
------------------------------------------------------------------------------

-- enable_isolation and disable_isolation check the table's owner themselves;
-- the helper was callable by PUBLIC.  (Its C symbol stays, for 1.0 databases
-- that have not run this update.)
DROP FUNCTION kalix.check_table_owner(regclass);

CREATE FUNCTION kalix.write_account() RETURNS uuid
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_write_account';
COMMENT ON FUNCTION kalix.write_account() IS 'the current account, for the write check of isolated tables; raises "no current account" when none';

CREATE OR REPLACE FUNCTION kalix.enable_isolation(tbl regclass, account_column name DEFAULT 'account_id', inherited boolean DEFAULT false)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_enable_isolation';

CREATE OR REPLACE FUNCTION kalix.disable_isolation(tbl regclass)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_disable_isolation';

CREATE OR REPLACE FUNCTION kalix.forget_dropped_tables() RETURNS event_trigger
LANGUAGE C SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_forget_dropped_tables';

CREATE FUNCTION kalix.isolate_new_partitions() RETURNS event_trigger
LANGUAGE C SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_isolate_new_partitions';
COMMENT ON FUNCTION kalix.isolate_new_partitions() IS 'event trigger: isolates new and attached partitions of isolated tables';
CREATE EVENT TRIGGER kalix_isolate_new_partitions ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION kalix.isolate_new_partitions();

CREATE FUNCTION kalix.guard_isolation_ddl() RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'kalix_guard_isolation_ddl';
COMMENT ON FUNCTION kalix.guard_isolation_ddl() IS 'event trigger: refuses policy and row-level security changes on isolated tables outside kalix.enable_isolation and kalix.disable_isolation';
CREATE EVENT TRIGGER kalix_guard_isolation_ddl ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'CREATE POLICY', 'ALTER POLICY', 'DROP POLICY')
    EXECUTE FUNCTION kalix.guard_isolation_ddl();

CREATE OR REPLACE FUNCTION kalix.lint()
RETURNS TABLE (object text, problem text)
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_lint';
COMMENT ON FUNCTION kalix.lint() IS 'lists what weakens account isolation: RLS off or not forced, altered kalix policies, constraints without the account column, TRUNCATE/REFERENCES/TRIGGER grants, rules, unisolated partitions, views without security_invoker, SECURITY DEFINER functions without a pinned search_path or owned by a superuser, foreign objects in schema kalix';

-- Every table 1.0 isolated gets 1.1's policies from the C definitions: its
-- kalix_permit then depends on the extension (so dropping the extension
-- fails closed), and its partitions are isolated with it.  Tables are taken
-- top-down; disable_isolation keeps the owner's own policies.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT t.tbl, t.account_column, t.inherited
        FROM kalix.isolated_tables t JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.tbl
        WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_partition_ancestors(t.tbl) a
                          JOIN kalix.isolated_tables p ON p.tbl OPERATOR(pg_catalog.=) a.relid
                          WHERE a.relid OPERATOR(pg_catalog.<>) t.tbl)
        ORDER BY t.tbl::pg_catalog.oid
    LOOP
        PERFORM kalix.disable_isolation(r.tbl);
        PERFORM kalix.enable_isolation(r.tbl, r.account_column, r.inherited);
    END LOOP;
END
$$;
