/* kalix_accounts--1.1.sql */

\echo Use "CREATE EXTENSION kalix_accounts" to load this file. \quit

-- The control file fixes schema = kalix, and CREATE EXTENSION adopts a schema
-- of that name that already exists (CVE-2022-2625 class): whoever created it
-- could have planted objects there that calls inside the extension resolve
-- to, or could plant them later.  So the script first refuses a schema kalix
-- that is not empty, is not owned by the installing superuser, or lets
-- another role create in it (a schema CREATE EXTENSION just made passes).
-- Everything here is named in pg_catalog, so nothing in the schema can
-- capture it; it is a DO block, so it leaves no object behind.
DO $$
DECLARE
    nsp oid;
    owner oid;
    acl aclitem[];
    grantee oid;
BEGIN
    SELECT n.oid, n.nspowner, n.nspacl INTO nsp, owner, acl
    FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) 'kalix';
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
               WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass
                 AND d.refobjid OPERATOR(pg_catalog.=) nsp
                 AND d.classid OPERATOR(pg_catalog.<>) 'pg_catalog.pg_extension'::pg_catalog.regclass)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) nsp)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) nsp)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_type t WHERE t.typnamespace OPERATOR(pg_catalog.=) nsp)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_operator o WHERE o.oprnamespace OPERATOR(pg_catalog.=) nsp)
    THEN
        RAISE EXCEPTION 'schema "kalix" already exists and is not empty'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'CREATE EXTENSION kalix_accounts would adopt the schema, and calls inside the extension could resolve to the objects in it.',
                  HINT = 'Check what the schema holds and drop it, then run CREATE EXTENSION kalix_accounts again.';
    END IF;
    IF owner OPERATOR(pg_catalog.<>) (SELECT r.oid FROM pg_catalog.pg_roles r
                                      WHERE r.rolname OPERATOR(pg_catalog.=) pg_catalog.current_user()) THEN
        RAISE EXCEPTION 'schema "kalix" is owned by role "%", not by the installing superuser',
                        (SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) owner)
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The owner of the schema could create objects in it that calls inside the extension resolve to.',
                  HINT = 'Drop the schema, or give it to the installing superuser with ALTER SCHEMA kalix OWNER TO, then run CREATE EXTENSION kalix_accounts again.';
    END IF;
    SELECT a.grantee INTO grantee FROM pg_catalog.aclexplode(acl) a
    WHERE a.privilege_type OPERATOR(pg_catalog.=) 'CREATE' AND a.grantee OPERATOR(pg_catalog.<>) owner
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'schema "kalix" grants CREATE to %',
                        CASE WHEN grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                             ELSE pg_catalog.format('role "%s"', grantee::pg_catalog.regrole) END
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Whoever may create objects in the schema could create some that calls inside the extension resolve to.',
                  HINT = 'Revoke CREATE ON SCHEMA kalix from every role but its owner, then run CREATE EXTENSION kalix_accounts again.';
    END IF;
END
$$;

GRANT USAGE ON SCHEMA kalix TO PUBLIC;

------------------------------------------------------------------------------
-- Types and tables
------------------------------------------------------------------------------

CREATE TYPE kalix.account_role AS ENUM ('member', 'admin', 'owner');
COMMENT ON TYPE kalix.account_role IS 'role of a login in an account, ordered member < admin < owner';

CREATE TABLE kalix.logins (
    id           uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    email        text NOT NULL,
    display_name text,
    db_role      regrole,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT logins_db_role_key UNIQUE (db_role)
);
CREATE UNIQUE INDEX logins_email_key ON kalix.logins (pg_catalog.lower(email));
COMMENT ON TABLE kalix.logins IS 'one person''s identity; may belong to many accounts';
COMMENT ON COLUMN kalix.logins.db_role IS 'the database role that is this login, bound by its OID: renamed, it stays this login; another role that takes its name (re-created after DROP ROLE, or renamed to it) is not';

CREATE FUNCTION kalix.account_name_ok(name text) RETURNS boolean
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'kalix_account_name_ok';
COMMENT ON FUNCTION kalix.account_name_ok(text) IS 'internal: the CHECK of kalix.accounts.name: trimmed of white space, 1 to 200 characters (the rule of create_account and update_account)';

CREATE TABLE kalix.accounts (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    name        text NOT NULL,
    parent_id   uuid,           -- references kalix.accounts
    settings    jsonb NOT NULL DEFAULT '{}',
    branding    jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  uuid,           -- references kalix.logins
    archived_at timestamptz,
    CONSTRAINT accounts_name_check CHECK (kalix.account_name_ok(name)),
    CONSTRAINT accounts_parent_check CHECK (parent_id OPERATOR(pg_catalog.<>) id)
);
CREATE INDEX accounts_parent_id_idx ON kalix.accounts (parent_id);
COMMENT ON TABLE kalix.accounts IS 'practice locations and workplaces; parent_id makes a child account';

CREATE TABLE kalix.memberships (
    account_id uuid NOT NULL,   -- references kalix.accounts
    login_id   uuid NOT NULL,   -- references kalix.logins
    role       kalix.account_role NOT NULL DEFAULT 'member',
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT memberships_pkey PRIMARY KEY (account_id, login_id)
);
-- (login_id, account_id), not (login_id) alone: a query naming both columns is then
-- one index probe whichever of the two indexes the planner picks (with login_id alone
-- it could walk every membership of a login that belongs to thousands of accounts).
CREATE INDEX memberships_login_id_idx ON kalix.memberships (login_id, account_id);
COMMENT ON TABLE kalix.memberships IS 'which login belongs to which account, with which role';

CREATE TABLE kalix.isolated_tables (
    tbl            regclass PRIMARY KEY,
    account_column name NOT NULL,
    inherited      boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE kalix.isolated_tables IS 'application tables isolated by account through kalix policies';

CREATE SEQUENCE kalix.audit_log_id_seq;
CREATE TABLE kalix.audit_log (
    id         bigint PRIMARY KEY DEFAULT pg_catalog.nextval('kalix.audit_log_id_seq'),
    at         timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    login_id   uuid,
    account_id uuid,
    action     text NOT NULL,
    detail     jsonb NOT NULL DEFAULT '{}'
);
ALTER SEQUENCE kalix.audit_log_id_seq OWNED BY kalix.audit_log.id;
-- A large detail (copy_users of 1,000 members: ~70 kB) is stored out of line
-- uncompressed: pglz took an eighth of such a copy.
ALTER TABLE kalix.audit_log ALTER COLUMN detail SET STORAGE EXTERNAL;
CREATE INDEX audit_log_account_id_idx ON kalix.audit_log (account_id, id);
COMMENT ON TABLE kalix.audit_log IS 'one row for every change made through the kalix functions';

SELECT pg_catalog.pg_extension_config_dump('kalix.logins', '');
SELECT pg_catalog.pg_extension_config_dump('kalix.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('kalix.memberships', '');
SELECT pg_catalog.pg_extension_config_dump('kalix.isolated_tables', '');
SELECT pg_catalog.pg_extension_config_dump('kalix.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('kalix.audit_log_id_seq', '');

------------------------------------------------------------------------------
-- References between the extension's tables
------------------------------------------------------------------------------

-- Constraint triggers stand for the foreign keys between the extension's
-- tables.  pg_restore -j loads the data of an extension's tables all at once,
-- in any order (its archive orders them only for a serial restore), and a
-- foreign key refused memberships whose accounts had not committed yet.  A
-- reference_check trigger on the referencing table accepts a key that is in
-- the referenced table, locking that row as a foreign key does, and a key of
-- a referenced table that has no row at all yet (a parallel restore); the
-- reference_keep triggers on the referenced table refuse to delete, re-key or
-- truncate away rows that are still referenced.  Each trigger is named after
-- the foreign key it replaces; the errors are that foreign key's.
CREATE FUNCTION kalix.reference_check() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'kalix_reference_check';
COMMENT ON FUNCTION kalix.reference_check() IS 'internal: constraint trigger (column, referenced table, referenced column): the row''s key exists in the referenced table';
CREATE FUNCTION kalix.reference_keep() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'kalix_reference_keep';
COMMENT ON FUNCTION kalix.reference_keep() IS 'internal: trigger (column, referencing table, referencing column, constraint): a referenced key is not deleted, changed or truncated away';
-- Only the extension's own triggers use them (they read as the table's owner).
REVOKE EXECUTE ON FUNCTION kalix.reference_check(), kalix.reference_keep() FROM PUBLIC;

-- A child account's parent, checked at commit, so that one transaction (and
-- so a restore) may store children before their parents.
CREATE CONSTRAINT TRIGGER accounts_parent_id_fkey
    AFTER INSERT OR UPDATE ON kalix.accounts DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_check('parent_id', 'kalix.accounts', 'id');
CREATE CONSTRAINT TRIGGER accounts_parent_id_fkey_keep
    AFTER UPDATE OF id OR DELETE ON kalix.accounts DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.accounts', 'parent_id', 'accounts_parent_id_fkey');

CREATE CONSTRAINT TRIGGER accounts_created_by_fkey
    AFTER INSERT OR UPDATE ON kalix.accounts
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_check('created_by', 'kalix.logins', 'id');
CREATE CONSTRAINT TRIGGER accounts_created_by_fkey_keep
    AFTER UPDATE OF id OR DELETE ON kalix.logins
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.accounts', 'created_by', 'accounts_created_by_fkey');
CREATE TRIGGER accounts_created_by_fkey_truncate
    AFTER TRUNCATE ON kalix.logins
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.accounts', 'created_by', 'accounts_created_by_fkey');

CREATE CONSTRAINT TRIGGER memberships_account_id_fkey
    AFTER INSERT OR UPDATE ON kalix.memberships
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_check('account_id', 'kalix.accounts', 'id');
CREATE CONSTRAINT TRIGGER memberships_account_id_fkey_keep
    AFTER UPDATE OF id OR DELETE ON kalix.accounts
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.memberships', 'account_id', 'memberships_account_id_fkey');
CREATE TRIGGER memberships_account_id_fkey_truncate
    AFTER TRUNCATE ON kalix.accounts
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.memberships', 'account_id', 'memberships_account_id_fkey');

CREATE CONSTRAINT TRIGGER memberships_login_id_fkey
    AFTER INSERT OR UPDATE ON kalix.memberships
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_check('login_id', 'kalix.logins', 'id');
CREATE CONSTRAINT TRIGGER memberships_login_id_fkey_keep
    AFTER UPDATE OF id OR DELETE ON kalix.logins
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.memberships', 'login_id', 'memberships_login_id_fkey');
CREATE TRIGGER memberships_login_id_fkey_truncate
    AFTER TRUNCATE ON kalix.logins
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.memberships', 'login_id', 'memberships_login_id_fkey');

------------------------------------------------------------------------------
-- Backend cache invalidation
------------------------------------------------------------------------------

CREATE FUNCTION kalix.cache_invalidate() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'kalix_cache_invalidate';
COMMENT ON FUNCTION kalix.cache_invalidate() IS 'internal: row trigger: invalidates in every backend''s kalix cache, at commit, the keys a row names (statement trigger: the whole cache)';

CREATE TRIGGER logins_cache_invalidate
    AFTER INSERT OR UPDATE OF id, db_role OR DELETE ON kalix.logins
    FOR EACH ROW EXECUTE FUNCTION kalix.cache_invalidate('logins');
CREATE TRIGGER logins_cache_invalidate_truncate
    AFTER TRUNCATE ON kalix.logins
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.cache_invalidate();
CREATE TRIGGER accounts_cache_invalidate
    AFTER INSERT OR UPDATE OF id, parent_id, archived_at OR DELETE ON kalix.accounts
    FOR EACH ROW EXECUTE FUNCTION kalix.cache_invalidate('accounts');
CREATE TRIGGER accounts_cache_invalidate_truncate
    AFTER TRUNCATE ON kalix.accounts
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.cache_invalidate();
CREATE TRIGGER memberships_cache_invalidate
    AFTER INSERT OR UPDATE OR DELETE ON kalix.memberships
    FOR EACH ROW EXECUTE FUNCTION kalix.cache_invalidate('memberships');
CREATE TRIGGER memberships_cache_invalidate_truncate
    AFTER TRUNCATE ON kalix.memberships
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.cache_invalidate();

------------------------------------------------------------------------------
-- Identity (C, answered from the backend cache)
------------------------------------------------------------------------------

CREATE FUNCTION kalix.current_login() RETURNS uuid
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_current_login';
COMMENT ON FUNCTION kalix.current_login() IS 'the login this session acts for: kalix.current_login, else the login of the current role';

CREATE FUNCTION kalix.current_account() RETURNS uuid
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_current_account';
COMMENT ON FUNCTION kalix.current_account() IS 'the account this session works in, checked against the current login; NULL when none';

CREATE FUNCTION kalix.current_account_role() RETURNS kalix.account_role
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_current_account_role';
COMMENT ON FUNCTION kalix.current_account_role() IS 'the current login''s role in the current account';

CREATE FUNCTION kalix.member_role(account uuid) RETURNS kalix.account_role
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_member_role';
COMMENT ON FUNCTION kalix.member_role(uuid) IS 'internal: the current login''s role in an account, NULL when not a member';

CREATE FUNCTION kalix.switch_account(account uuid, is_local boolean DEFAULT false) RETURNS uuid
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'kalix_switch_account';
COMMENT ON FUNCTION kalix.switch_account(uuid, boolean) IS 'checks access, then sets kalix.current_account for the session (or with is_local the transaction)';

CREATE FUNCTION kalix.act_as(login uuid, account uuid DEFAULT NULL) RETURNS uuid
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'kalix_act_as';
COMMENT ON FUNCTION kalix.act_as(uuid, uuid) IS 'for this transaction only: the current login becomes login and the current account account (checked); for superusers and roles with SET on kalix.current_login';

-- What the policies of the extension's tables compare their key columns
-- with, so that they plan as index conditions and hold no subquery.  The
-- high COST makes the planner evaluate them once, in an index scan's
-- condition, rather than per row in a filter.
CREATE FUNCTION kalix.member_accounts() RETURNS uuid[]
    LANGUAGE C STABLE PARALLEL SAFE COST 1000
    AS 'MODULE_PATHNAME', 'kalix_member_accounts';
COMMENT ON FUNCTION kalix.member_accounts() IS 'internal: the accounts the current login is a member of, archived ones too; ''{}'' without a login';

CREATE FUNCTION kalix.admin_accounts() RETURNS uuid[]
    LANGUAGE C STABLE PARALLEL SAFE COST 1000
    AS 'MODULE_PATHNAME', 'kalix_admin_accounts';
COMMENT ON FUNCTION kalix.admin_accounts() IS 'internal: the accounts where the current login is an admin or owner; ''{}'' without a login';

CREATE FUNCTION kalix.team_logins() RETURNS uuid[]
    LANGUAGE C STABLE PARALLEL SAFE COST 1000
    AS 'MODULE_PATHNAME', 'kalix_team_logins';
COMMENT ON FUNCTION kalix.team_logins() IS 'internal: the current login and every login it shares an account with; ''{}'' without a login';

------------------------------------------------------------------------------
-- Row-level security of the extension's own tables
------------------------------------------------------------------------------

ALTER TABLE kalix.logins ENABLE ROW LEVEL SECURITY;
ALTER TABLE kalix.accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE kalix.memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE kalix.isolated_tables ENABLE ROW LEVEL SECURITY;
ALTER TABLE kalix.audit_log ENABLE ROW LEVEL SECURITY;

-- A login sees the accounts it belongs to (archived ones too) ...
CREATE POLICY accounts_of_member ON kalix.accounts FOR SELECT
    USING (id OPERATOR(pg_catalog.=) ANY (kalix.member_accounts()));
-- ... every membership of those accounts ...
CREATE POLICY memberships_of_member ON kalix.memberships FOR SELECT
    USING (account_id OPERATOR(pg_catalog.=) ANY (kalix.member_accounts()));
-- ... itself and the logins it shares an account with ...
CREATE POLICY logins_self_and_team ON kalix.logins FOR SELECT
    USING (id OPERATOR(pg_catalog.=) ANY (kalix.team_logins()));
-- ... which tables are isolated ...
CREATE POLICY isolated_tables_public ON kalix.isolated_tables FOR SELECT
    USING (true);
-- ... and, as an admin or owner, the audit trail of the account.
CREATE POLICY audit_log_of_admin ON kalix.audit_log FOR SELECT
    USING (account_id OPERATOR(pg_catalog.=) ANY (kalix.admin_accounts()));

GRANT SELECT ON kalix.logins, kalix.accounts, kalix.memberships, kalix.isolated_tables,
    kalix.audit_log TO PUBLIC;

------------------------------------------------------------------------------
-- Logins and accounts
------------------------------------------------------------------------------

CREATE FUNCTION kalix.create_login(email text, display_name text DEFAULT NULL, db_role name DEFAULT NULL)
RETURNS uuid
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_create_login';
REVOKE EXECUTE ON FUNCTION kalix.create_login(text, text, name) FROM PUBLIC;
COMMENT ON FUNCTION kalix.create_login(text, text, name) IS 'creates a login; db_role maps a database role to it';

CREATE FUNCTION kalix.my_accounts()
RETURNS TABLE (account_id uuid, name text, role kalix.account_role, parent_id uuid, is_current boolean)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_my_accounts';
COMMENT ON FUNCTION kalix.my_accounts() IS 'the current login''s unarchived accounts, by name (the Switch tab)';

CREATE FUNCTION kalix.create_account(name text, child boolean DEFAULT false, copy_users boolean DEFAULT false)
RETURNS uuid
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_create_account';
COMMENT ON FUNCTION kalix.create_account(text, boolean, boolean) IS 'creates an account owned by the current login, optionally a child of and with the users of the current account';

------------------------------------------------------------------------------
-- Isolation of application tables
------------------------------------------------------------------------------

CREATE FUNCTION kalix.write_account() RETURNS uuid
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_write_account';
COMMENT ON FUNCTION kalix.write_account() IS 'internal: the current account, for the write check of isolated tables; raises "no current account" when none';

-- The policies are defined once, in C (src/isolation.c), which creates them;
-- lint() checks the catalog against the same definitions.
CREATE FUNCTION kalix.enable_isolation(tbl regclass, account_column name DEFAULT 'account_id', inherited boolean DEFAULT false)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_enable_isolation';
COMMENT ON FUNCTION kalix.enable_isolation(regclass, name, boolean) IS 'enables and forces row-level security on a table so each account sees only its rows (inherited: also its ancestors'' rows, read-only)';

CREATE FUNCTION kalix.disable_isolation(tbl regclass)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_disable_isolation';
COMMENT ON FUNCTION kalix.disable_isolation(regclass) IS 'removes the kalix policies of a table';

-- A dropped table leaves the registry, so that dumps never name a missing OID.
CREATE FUNCTION kalix.forget_dropped_tables() RETURNS event_trigger
LANGUAGE C SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_forget_dropped_tables';
COMMENT ON FUNCTION kalix.forget_dropped_tables() IS 'internal: event trigger: unregisters dropped isolated tables';
CREATE EVENT TRIGGER kalix_forget_dropped_tables ON sql_drop
    EXECUTE FUNCTION kalix.forget_dropped_tables();

-- A partition created or attached later is isolated as its parent is.
CREATE FUNCTION kalix.isolate_new_partitions() RETURNS event_trigger
LANGUAGE C SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_isolate_new_partitions';
COMMENT ON FUNCTION kalix.isolate_new_partitions() IS 'internal: event trigger: isolates new and attached partitions of isolated tables';
CREATE EVENT TRIGGER kalix_isolate_new_partitions ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION kalix.isolate_new_partitions();

-- Only enable_isolation and disable_isolation change the policies and
-- row-level security of an isolated table; roles that are not superusers
-- are refused.  Runs as the caller (not SECURITY DEFINER): it asks whether
-- the caller is a superuser, and resolves the command's table names with the
-- caller's search_path (its own statements name every object qualified).
-- An event trigger rather than a hook, so that it is in force in every
-- session, also before the library is loaded.
CREATE FUNCTION kalix.guard_isolation_ddl() RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'kalix_guard_isolation_ddl';
COMMENT ON FUNCTION kalix.guard_isolation_ddl() IS 'internal: event trigger: refuses policy and row-level security changes on isolated tables outside kalix.enable_isolation and kalix.disable_isolation';
CREATE EVENT TRIGGER kalix_guard_isolation_ddl ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'CREATE POLICY', 'ALTER POLICY', 'DROP POLICY')
    EXECUTE FUNCTION kalix.guard_isolation_ddl();

------------------------------------------------------------------------------
-- Team management: members and roles, copying users, account updates
--
-- Role rules, checked against kalix.memberships itself (not the backend cache)
-- after the account row is locked:
--   * only an admin or owner of an unarchived account manages its members;
--   * nobody grants a role above their own: admins grant member and admin,
--     owners grant any role;
--   * an admin cannot change the role of an owner nor remove one: only owners
--     touch owners (an admin may change or remove other admins and itself);
--   * the last owner of an account can be neither demoted nor removed.
--
-- The functions are C (src/members.c, src/accounts.c); src/access.c explains
-- their locks: the account row FOR NO KEY UPDATE, then the membership.
------------------------------------------------------------------------------

CREATE FUNCTION kalix.add_member(account uuid, login uuid, role kalix.account_role DEFAULT 'member')
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_add_member';
COMMENT ON FUNCTION kalix.add_member(uuid, uuid, kalix.account_role) IS 'makes a login a member of an account (admin; roles up to one''s own)';

CREATE FUNCTION kalix.set_member_role(account uuid, login uuid, role kalix.account_role)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_set_member_role';
COMMENT ON FUNCTION kalix.set_member_role(uuid, uuid, kalix.account_role) IS 'changes a member''s role (admin; roles up to one''s own; the last owner stays)';

CREATE FUNCTION kalix.remove_member(account uuid, login uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_remove_member';
COMMENT ON FUNCTION kalix.remove_member(uuid, uuid) IS 'removes a login from an account (admin; only owners remove owners; the last owner stays)';

CREATE FUNCTION kalix.copy_users(source uuid, target uuid)
RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_copy_users';
COMMENT ON FUNCTION kalix.copy_users(uuid, uuid) IS 'adds the source account''s members missing in the target, roles capped at the caller''s; returns how many were added';

CREATE FUNCTION kalix.update_account(account uuid, name text DEFAULT NULL, settings jsonb DEFAULT NULL,
                                     branding jsonb DEFAULT NULL)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_update_account';
COMMENT ON FUNCTION kalix.update_account(uuid, text, jsonb, jsonb) IS 'changes an account''s name, settings or branding (admin); NULL leaves a field unchanged';

------------------------------------------------------------------------------
-- lint: what weakens isolation
------------------------------------------------------------------------------

-- Runs with the caller's rights: it reads only catalogs that every role may
-- read.  The pinned search_path makes pg_get_expr and regclass print
-- schema-qualified names, so policy expressions compare exactly.
CREATE FUNCTION kalix.lint()
RETURNS TABLE (object text, problem text)
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_lint';
COMMENT ON FUNCTION kalix.lint() IS 'lists what weakens account isolation: RLS off or not forced, altered kalix policies, constraints without the account column, TRUNCATE/REFERENCES/TRIGGER grants, rules, unisolated partitions, views without security_invoker, SECURITY DEFINER functions without a pinned search_path or owned by a superuser, foreign objects in schema kalix';

-- Citus (SPEC section 8): the one set-up call.  SECURITY DEFINER, for the
-- table's owner: it makes the extension's tables reference tables (every
-- table but kalix.isolated_tables, which stays on the coordinator), gives the
-- table the policies of a table with shards, then distributes it.
CREATE FUNCTION kalix.distribute_table(tbl regclass, reference boolean DEFAULT false)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_distribute_table';
COMMENT ON FUNCTION kalix.distribute_table(regclass, boolean) IS 'on the Citus coordinator: makes the kalix tables reference tables, then distributes an isolated table by its account column (or, reference, copies it to every node) with policies that fail closed on every shard';

------------------------------------------------------------------------------
-- NPIs: the NPIs an account bills under
------------------------------------------------------------------------------

-- The type npi belongs to the required extension kalix_npi, in the schema it
-- was installed into (public by default).  While this script runs,
-- search_path is kalix followed by the schemas of the required extensions,
-- so the unqualified name npi below is kalix_npi's type on every version;
-- once created, columns and signatures hold it by OID, and kalix_npi may be
-- moved with ALTER EXTENSION kalix_npi SET SCHEMA.
CREATE TABLE kalix.account_npis (
    account_id uuid NOT NULL,   -- references kalix.accounts
    npi        npi NOT NULL,
    label      text,
    is_primary boolean NOT NULL DEFAULT false,
    CONSTRAINT account_npis_pkey PRIMARY KEY (account_id, npi)
);
-- At most one primary NPI per account.
CREATE UNIQUE INDEX account_npis_primary_key ON kalix.account_npis (account_id) WHERE is_primary;
-- Which accounts bill under an NPI.
CREATE INDEX account_npis_npi_idx ON kalix.account_npis (npi);
COMMENT ON TABLE kalix.account_npis IS 'the NPIs an account bills under; at most one is primary';

ALTER TABLE kalix.account_npis ENABLE ROW LEVEL SECURITY;
-- The members of an account see its NPIs.
CREATE POLICY account_npis_of_member ON kalix.account_npis FOR SELECT
    USING (account_id OPERATOR(pg_catalog.=) ANY (kalix.member_accounts()));
GRANT SELECT ON kalix.account_npis TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('kalix.account_npis', '');
-- Its reference to kalix.accounts, kept as the other references are (see
-- "References between the extension's tables").
CREATE CONSTRAINT TRIGGER account_npis_account_id_fkey
    AFTER INSERT OR UPDATE ON kalix.account_npis
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_check('account_id', 'kalix.accounts', 'id');
CREATE CONSTRAINT TRIGGER account_npis_account_id_fkey_keep
    AFTER UPDATE OF id OR DELETE ON kalix.accounts
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.account_npis', 'account_id', 'account_npis_account_id_fkey');
CREATE TRIGGER account_npis_account_id_fkey_truncate
    AFTER TRUNCATE ON kalix.accounts
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.account_npis', 'account_id', 'account_npis_account_id_fkey');

CREATE FUNCTION kalix.add_npi(account uuid, npi npi, label text DEFAULT NULL, is_primary boolean DEFAULT false)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_add_npi';
COMMENT ON FUNCTION kalix.add_npi(uuid, npi, text, boolean) IS 'registers an NPI for an account (admin); is_primary moves the primary flag to it';

CREATE FUNCTION kalix.remove_npi(account uuid, npi npi)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_remove_npi';
COMMENT ON FUNCTION kalix.remove_npi(uuid, npi) IS 'unregisters an NPI of an account (admin); removing the primary leaves the account without one';

CREATE FUNCTION kalix.primary_npi(account uuid DEFAULT NULL) RETURNS npi
LANGUAGE C STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_primary_npi';
COMMENT ON FUNCTION kalix.primary_npi(uuid) IS 'the primary NPI of an account (default: the current one), NULL when it has none';

------------------------------------------------------------------------------
-- Child accounts: hierarchy functions, linking, archiving, billing
------------------------------------------------------------------------------

-- link_child, unlink_child, archive_account and create_account(child => true)
-- are C; src/tree.c explains their locks: the root rows of the trees they
-- change, never the whole database.

-- lineage() has a form without arguments, so that the policies of inherited
-- tables read (and EXPLAIN shows) "account_id = ANY (kalix.lineage())".
CREATE FUNCTION kalix.lineage() RETURNS uuid[]
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_lineage';
COMMENT ON FUNCTION kalix.lineage() IS 'the current account, its parent, ..., its payer; ''{}'' without a current account';

CREATE FUNCTION kalix.lineage(account uuid) RETURNS uuid[]
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_lineage';
COMMENT ON FUNCTION kalix.lineage(uuid) IS 'the account (NULL: the current one), its parent, ..., its payer';

CREATE FUNCTION kalix.lineage_distance(account uuid) RETURNS integer
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_lineage_distance';
COMMENT ON FUNCTION kalix.lineage_distance(uuid) IS '0 for the current account, 1 for its parent, ...; NULL when not in the current lineage';

CREATE FUNCTION kalix.descendants(account uuid DEFAULT NULL)
RETURNS TABLE (account_id uuid, depth integer)
    LANGUAGE C STABLE PARALLEL SAFE ROWS 10
    AS 'MODULE_PATHNAME', 'kalix_descendants';
COMMENT ON FUNCTION kalix.descendants(uuid) IS 'the account (depth 0; default: the current one) and its unarchived descendants';

CREATE FUNCTION kalix.billing_account(account uuid DEFAULT NULL) RETURNS uuid
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_billing_account';
COMMENT ON FUNCTION kalix.billing_account(uuid) IS 'the payer of the account (default: the current one): the root of its lineage';

CREATE FUNCTION kalix.billed_accounts(account uuid DEFAULT NULL)
RETURNS TABLE (account_id uuid, name text, depth integer)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT d.account_id, a.name, d.depth
    FROM kalix.descendants(kalix.billing_account(billed_accounts.account)) d
    JOIN kalix.accounts a ON a.id OPERATOR(pg_catalog.=) d.account_id
    ORDER BY d.depth, a.name, a.id;
$$;
COMMENT ON FUNCTION kalix.billed_accounts(uuid) IS 'the payer of the account (default: the current one) at depth 0 and every account it pays for';

CREATE FUNCTION kalix.link_child(child uuid, parent uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_link_child';
COMMENT ON FUNCTION kalix.link_child(uuid, uuid) IS 'makes an independent account a child of another; admin of both';

CREATE FUNCTION kalix.unlink_child(child uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_unlink_child';
COMMENT ON FUNCTION kalix.unlink_child(uuid) IS 'makes a child account independent; admin of the child or of its parent';

CREATE FUNCTION kalix.archive_account(account uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_archive_account';
COMMENT ON FUNCTION kalix.archive_account(uuid) IS 'archives an account without unarchived children; owner';

-- A security barrier keeps functions in a caller's WHERE clause from seeing
-- the rows of accounts the caller does not belong to.  Ancestors the caller
-- is not a member of appear in path as "...", never by name.
CREATE VIEW kalix.account_tree WITH (security_barrier) AS
    SELECT a.id AS account_id, a.name, a.parent_id,
           pg_catalog.cardinality(kalix.lineage(a.id)) OPERATOR(pg_catalog.-) 1 AS depth,
           (SELECT pg_catalog.string_agg(CASE WHEN kalix.member_role(p.id) IS NULL THEN '...'
                                              ELSE p.name END,
                                         ' / ' ORDER BY l.ord DESC)
            FROM pg_catalog.unnest(kalix.lineage(a.id)) WITH ORDINALITY AS l(id, ord)
            JOIN kalix.accounts p ON p.id OPERATOR(pg_catalog.=) l.id) AS path
    FROM kalix.accounts a
    WHERE a.id OPERATOR(pg_catalog.=) ANY (kalix.member_accounts()) AND a.archived_at IS NULL;
COMMENT ON VIEW kalix.account_tree IS 'the caller''s unarchived accounts with their depth and path from the payer';
GRANT SELECT ON kalix.account_tree TO PUBLIC;

------------------------------------------------------------------------------
-- The team lifecycle: invitations, login updates, unarchiving, billing summary
------------------------------------------------------------------------------

-- An invitation brings a person into an account by email (src/invitations.c).
-- Its token is shown once, by invite(); only the token's SHA-256 is kept, in
-- kalix.invitation_tokens, which has no grant and no policy: no role that
-- RLS applies to reads it, whatever is granted later, and kalix.invitations
-- can be read by the account's admins without any column to hide.
CREATE TABLE kalix.invitations (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    account_id  uuid NOT NULL,
    email       text NOT NULL,
    role        kalix.account_role NOT NULL DEFAULT 'member',
    invited_by  uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by uuid,
    revoked_at  timestamptz,
    CONSTRAINT invitations_accepted_check
        CHECK ((accepted_at IS NULL) OPERATOR(pg_catalog.=) (accepted_by IS NULL)),
    CONSTRAINT invitations_closed_check CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
CREATE INDEX invitations_account_id_idx ON kalix.invitations (account_id);
COMMENT ON TABLE kalix.invitations IS 'invitations to join an account, by email; the token is never stored';

-- Its references, kept as the other references between the extension's
-- tables are (see "References between the extension's tables"), so that a
-- parallel restore may load the tables in any order.
CREATE CONSTRAINT TRIGGER invitations_account_id_fkey
    AFTER INSERT OR UPDATE ON kalix.invitations
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_check('account_id', 'kalix.accounts', 'id');
CREATE CONSTRAINT TRIGGER invitations_account_id_fkey_keep
    AFTER UPDATE OF id OR DELETE ON kalix.accounts
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.invitations', 'account_id', 'invitations_account_id_fkey');
CREATE TRIGGER invitations_account_id_fkey_truncate
    AFTER TRUNCATE ON kalix.accounts
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.invitations', 'account_id', 'invitations_account_id_fkey');
CREATE CONSTRAINT TRIGGER invitations_invited_by_fkey
    AFTER INSERT OR UPDATE ON kalix.invitations
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_check('invited_by', 'kalix.logins', 'id');
CREATE CONSTRAINT TRIGGER invitations_invited_by_fkey_keep
    AFTER UPDATE OF id OR DELETE ON kalix.logins
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.invitations', 'invited_by', 'invitations_invited_by_fkey');
CREATE TRIGGER invitations_invited_by_fkey_truncate
    AFTER TRUNCATE ON kalix.logins
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.invitations', 'invited_by', 'invitations_invited_by_fkey');
CREATE CONSTRAINT TRIGGER invitations_accepted_by_fkey
    AFTER INSERT OR UPDATE ON kalix.invitations
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_check('accepted_by', 'kalix.logins', 'id');
CREATE CONSTRAINT TRIGGER invitations_accepted_by_fkey_keep
    AFTER UPDATE OF id OR DELETE ON kalix.logins
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.invitations', 'accepted_by', 'invitations_accepted_by_fkey');
CREATE TRIGGER invitations_accepted_by_fkey_truncate
    AFTER TRUNCATE ON kalix.logins
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.invitations', 'accepted_by', 'invitations_accepted_by_fkey');

CREATE TABLE kalix.invitation_tokens (
    invitation_id uuid PRIMARY KEY,
    token_hash    bytea NOT NULL,
    CONSTRAINT invitation_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT invitation_tokens_token_hash_check
        CHECK (pg_catalog.length(token_hash) OPERATOR(pg_catalog.=) 32)
);
COMMENT ON TABLE kalix.invitation_tokens IS 'the SHA-256 of each open invitation''s token; readable by no role RLS applies to';

-- The token's invitation.  Invitations are never deleted (accept and revoke
-- delete the token row itself), so the reference only refuses.
CREATE CONSTRAINT TRIGGER invitation_tokens_invitation_id_fkey
    AFTER INSERT OR UPDATE ON kalix.invitation_tokens
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_check('invitation_id', 'kalix.invitations', 'id');
CREATE CONSTRAINT TRIGGER invitation_tokens_invitation_id_fkey_keep
    AFTER UPDATE OF id OR DELETE ON kalix.invitations
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.invitation_tokens', 'invitation_id', 'invitation_tokens_invitation_id_fkey');
CREATE TRIGGER invitation_tokens_invitation_id_fkey_truncate
    AFTER TRUNCATE ON kalix.invitations
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.invitation_tokens', 'invitation_id', 'invitation_tokens_invitation_id_fkey');

ALTER TABLE kalix.invitations ENABLE ROW LEVEL SECURITY;
-- Admins and owners of an account read its invitations.
CREATE POLICY invitations_of_admin ON kalix.invitations FOR SELECT
    USING (kalix.member_role(account_id) OPERATOR(pg_catalog.>=) 'admin'::kalix.account_role);
GRANT SELECT ON kalix.invitations TO PUBLIC;
-- No policy and no grant: fails closed even if someone grants SELECT.
ALTER TABLE kalix.invitation_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE kalix.invitation_tokens FORCE ROW LEVEL SECURITY;

SELECT pg_catalog.pg_extension_config_dump('kalix.invitations', '');
SELECT pg_catalog.pg_extension_config_dump('kalix.invitation_tokens', '');

CREATE FUNCTION kalix.invite(account uuid, email text, role kalix.account_role DEFAULT 'member',
                             valid_for interval DEFAULT '7 days')
RETURNS text
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_invite';
COMMENT ON FUNCTION kalix.invite(uuid, text, kalix.account_role, interval) IS 'invites an email address into an account (admin; roles up to one''s own); returns the one-time token, shown only here';

CREATE FUNCTION kalix.accept_invitation(token text)
RETURNS uuid
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_accept_invitation';
COMMENT ON FUNCTION kalix.accept_invitation(text) IS 'makes the current login a member as the invitation says (its email must match); one use; returns the account';

CREATE FUNCTION kalix.revoke_invitation(invitation uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_revoke_invitation';
COMMENT ON FUNCTION kalix.revoke_invitation(uuid) IS 'revokes an open invitation (admin of its account); its token stops working';

CREATE FUNCTION kalix.update_login(login uuid, email text DEFAULT NULL, display_name text DEFAULT NULL)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_update_login';
COMMENT ON FUNCTION kalix.update_login(uuid, text, text) IS 'changes a login''s email or display name (the login itself, or a role that may set kalix.current_login); NULL keeps a field';

CREATE FUNCTION kalix.unarchive_account(account uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_unarchive_account';
COMMENT ON FUNCTION kalix.unarchive_account(uuid) IS 'unarchives an account whose parent is not archived; owner';

CREATE FUNCTION kalix.billing_summary(payer uuid DEFAULT NULL)
RETURNS TABLE (account_id uuid, name text, depth integer, members integer, npis integer)
LANGUAGE C STABLE SECURITY DEFINER ROWS 10
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_billing_summary';
COMMENT ON FUNCTION kalix.billing_summary(uuid) IS 'every account billed to the payer (default: the current account''s) with its member and NPI counts; admin of the payer';

------------------------------------------------------------------------------
-- Comments on the members that had none: every column, the sequence and the
-- event triggers, so \d+ and \dd describe the whole extension (test/comments.sh
-- fails on a member without one).  The same block ends kalix_accounts--1.1.sql
-- and kalix_accounts--1.0--1.1.sql (test/upgrade.sh compares the comments).

COMMENT ON COLUMN kalix.logins.id IS 'the login''s id: the value of kalix.current_login and of kalix.current_login()';
COMMENT ON COLUMN kalix.logins.email IS 'trimmed, with one @; unique regardless of case';
COMMENT ON COLUMN kalix.logins.display_name IS 'the name shown for the person, NULL when not given';
COMMENT ON COLUMN kalix.logins.created_at IS 'when kalix.create_login() created the login';

COMMENT ON COLUMN kalix.accounts.id IS 'the account''s id: the value of kalix.current_account';
COMMENT ON COLUMN kalix.accounts.name IS 'trimmed, 1 to 200 characters';
COMMENT ON COLUMN kalix.accounts.parent_id IS 'the parent account, NULL for an independent account (a payer)';
COMMENT ON COLUMN kalix.accounts.settings IS 'the account''s own settings, a JSON object; never inherited';
COMMENT ON COLUMN kalix.accounts.branding IS 'the account''s own branding, a JSON object; never inherited';
COMMENT ON COLUMN kalix.accounts.created_at IS 'when the account was created';
COMMENT ON COLUMN kalix.accounts.created_by IS 'the login that created the account';
COMMENT ON COLUMN kalix.accounts.archived_at IS 'when the account was archived, NULL while it is in use';

COMMENT ON COLUMN kalix.memberships.account_id IS 'the account';
COMMENT ON COLUMN kalix.memberships.login_id IS 'the login that belongs to it';
COMMENT ON COLUMN kalix.memberships.role IS 'the login''s role in the account: member, admin or owner';
COMMENT ON COLUMN kalix.memberships.created_at IS 'when the login became a member';

COMMENT ON COLUMN kalix.isolated_tables.tbl IS 'the isolated table (partitions are listed too)';
COMMENT ON COLUMN kalix.isolated_tables.account_column IS 'its uuid column compared with the current account';
COMMENT ON COLUMN kalix.isolated_tables.inherited IS 'true when reads see the whole lineage (shared down the tree)';

COMMENT ON SEQUENCE kalix.audit_log_id_seq IS 'ids of kalix.audit_log, in the order the changes were made';
COMMENT ON COLUMN kalix.audit_log.id IS 'the row''s number, increasing in the order of the changes';
COMMENT ON COLUMN kalix.audit_log.at IS 'when the change was made (clock time)';
COMMENT ON COLUMN kalix.audit_log.login_id IS 'the login that made the change';
COMMENT ON COLUMN kalix.audit_log.account_id IS 'the account changed';
COMMENT ON COLUMN kalix.audit_log.action IS 'the name of the kalix function that made the change';
COMMENT ON COLUMN kalix.audit_log.detail IS 'what changed, as a JSON object';

COMMENT ON COLUMN kalix.account_npis.account_id IS 'the account that bills under the NPI';
COMMENT ON COLUMN kalix.account_npis.npi IS 'the NPI';
COMMENT ON COLUMN kalix.account_npis.label IS 'what the NPI is for (trimmed; NULL when empty)';
COMMENT ON COLUMN kalix.account_npis.is_primary IS 'true for the account''s primary NPI; at most one per account';

COMMENT ON COLUMN kalix.account_tree.account_id IS 'an unarchived account of the caller';
COMMENT ON COLUMN kalix.account_tree.name IS 'its name';
COMMENT ON COLUMN kalix.account_tree.parent_id IS 'its parent, NULL for a payer';
COMMENT ON COLUMN kalix.account_tree.depth IS '0 for a payer, 1 for its children, ...';
COMMENT ON COLUMN kalix.account_tree.path IS 'the names from the payer down, joined by " / "; "..." for an account the caller does not belong to';

COMMENT ON COLUMN kalix.invitations.id IS 'the invitation''s id, for kalix.revoke_invitation()';
COMMENT ON COLUMN kalix.invitations.account_id IS 'the account the invited person joins';
COMMENT ON COLUMN kalix.invitations.email IS 'the email the accepting login must have (case does not matter)';
COMMENT ON COLUMN kalix.invitations.role IS 'the role the invited person gets';
COMMENT ON COLUMN kalix.invitations.invited_by IS 'the login that sent the invitation';
COMMENT ON COLUMN kalix.invitations.created_at IS 'when the invitation was sent';
COMMENT ON COLUMN kalix.invitations.expires_at IS 'after this the token no longer works';
COMMENT ON COLUMN kalix.invitations.accepted_at IS 'when it was accepted, NULL while open';
COMMENT ON COLUMN kalix.invitations.accepted_by IS 'the login that accepted it';
COMMENT ON COLUMN kalix.invitations.revoked_at IS 'when it was revoked, NULL unless revoked';

COMMENT ON COLUMN kalix.invitation_tokens.invitation_id IS 'the open invitation the token is for';
COMMENT ON COLUMN kalix.invitation_tokens.token_hash IS 'the SHA-256 of the token (32 bytes); the token itself is never stored';

COMMENT ON EVENT TRIGGER kalix_forget_dropped_tables IS 'internal: runs kalix.forget_dropped_tables() at sql_drop';
COMMENT ON EVENT TRIGGER kalix_isolate_new_partitions IS 'internal: runs kalix.isolate_new_partitions() at ddl_command_end';
COMMENT ON EVENT TRIGGER kalix_guard_isolation_ddl IS 'internal: runs kalix.guard_isolation_ddl() at ddl_command_start';
