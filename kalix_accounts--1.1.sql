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

CREATE TABLE kalix.accounts (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    name        text NOT NULL,
    parent_id   uuid,           -- references kalix.accounts
    settings    jsonb NOT NULL DEFAULT '{}',
    branding    jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  uuid,           -- references kalix.logins
    archived_at timestamptz,
    CONSTRAINT accounts_name_check
        CHECK (name OPERATOR(pg_catalog.=) pg_catalog.btrim(name, E' \t\n\r\f\x0B')
               AND pg_catalog.length(name) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.length(name) OPERATOR(pg_catalog.<=) 200),
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
CREATE INDEX memberships_login_id_idx ON kalix.memberships (login_id);
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
COMMENT ON FUNCTION kalix.reference_check() IS 'constraint trigger (column, referenced table, referenced column): the row''s key exists in the referenced table';
CREATE FUNCTION kalix.reference_keep() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'kalix_reference_keep';
COMMENT ON FUNCTION kalix.reference_keep() IS 'trigger (column, referencing table, referencing column, constraint): a referenced key is not deleted, changed or truncated away';
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
COMMENT ON FUNCTION kalix.cache_invalidate() IS 'statement trigger: invalidates every backend''s kalix cache at commit';

CREATE TRIGGER logins_cache_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kalix.logins
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.cache_invalidate();
CREATE TRIGGER accounts_cache_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kalix.accounts
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.cache_invalidate();
CREATE TRIGGER memberships_cache_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kalix.memberships
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
COMMENT ON FUNCTION kalix.member_role(uuid) IS 'the current login''s role in an account, NULL when not a member';

CREATE FUNCTION kalix.switch_account(account uuid, is_local boolean DEFAULT false) RETURNS uuid
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'kalix_switch_account';
COMMENT ON FUNCTION kalix.switch_account(uuid, boolean) IS 'checks access, then sets kalix.current_account for the session (or with is_local the transaction)';

-- What the policies of the extension's tables compare their key columns
-- with, so that they plan as index conditions and hold no subquery.  The
-- high COST makes the planner evaluate them once, in an index scan's
-- condition, rather than per row in a filter.
CREATE FUNCTION kalix.member_accounts() RETURNS uuid[]
    LANGUAGE C STABLE PARALLEL SAFE COST 1000
    AS 'MODULE_PATHNAME', 'kalix_member_accounts';
COMMENT ON FUNCTION kalix.member_accounts() IS 'the accounts the current login is a member of, archived ones too; ''{}'' without a login';

CREATE FUNCTION kalix.admin_accounts() RETURNS uuid[]
    LANGUAGE C STABLE PARALLEL SAFE COST 1000
    AS 'MODULE_PATHNAME', 'kalix_admin_accounts';
COMMENT ON FUNCTION kalix.admin_accounts() IS 'the accounts where the current login is an admin or owner; ''{}'' without a login';

CREATE FUNCTION kalix.team_logins() RETURNS uuid[]
    LANGUAGE C STABLE PARALLEL SAFE COST 1000
    AS 'MODULE_PATHNAME', 'kalix_team_logins';
COMMENT ON FUNCTION kalix.team_logins() IS 'the current login and every login it shares an account with; ''{}'' without a login';

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

-- Internal: records one change.  Only the SECURITY DEFINER functions call it.
CREATE FUNCTION kalix.write_audit(action text, account uuid, detail jsonb DEFAULT '{}')
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO kalix.audit_log (login_id, account_id, action, detail)
    VALUES (kalix.current_login(), account, action, coalesce(detail, '{}'));
$$;
REVOKE EXECUTE ON FUNCTION kalix.write_audit(text, uuid, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION kalix.write_audit(text, uuid, jsonb) IS 'internal: appends a row to kalix.audit_log';

-- Internal: the current login; raises when there is none.
CREATE FUNCTION kalix.require_login() RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me uuid := kalix.current_login();
BEGIN
    IF me IS NULL THEN
        RAISE EXCEPTION 'no current login'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Set kalix.current_login, or create a login whose db_role is the current role.';
    END IF;
    RETURN me;
END
$$;
REVOKE EXECUTE ON FUNCTION kalix.require_login() FROM PUBLIC;
COMMENT ON FUNCTION kalix.require_login() IS 'internal: the current login; raises when there is none';

------------------------------------------------------------------------------
-- Logins and accounts
------------------------------------------------------------------------------

CREATE FUNCTION kalix.create_login(email text, display_name text DEFAULT NULL, db_role name DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    clean_email text := pg_catalog.btrim(email, E' \t\n\r\f\x0B');
    new_id uuid;
BEGIN
    PERFORM kalix.require_argument(email, 'email');
    IF clean_email !~ '^[^@[:space:]]+@[^@[:space:]]+$' THEN
        RAISE EXCEPTION 'invalid email address "%"', email
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'An email address has one "@" with text on both sides and no blanks.';
    END IF;
    IF db_role IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = db_role) THEN
        RAISE EXCEPTION 'role "%" does not exist', db_role
            USING ERRCODE = 'undefined_object';
    END IF;
    IF EXISTS (SELECT 1 FROM kalix.logins l WHERE lower(l.email) = lower(clean_email)) THEN
        RAISE EXCEPTION 'a login with email "%" already exists', clean_email
            USING ERRCODE = 'unique_violation',
                  DETAIL = 'Emails are unique regardless of case.';
    END IF;
    IF db_role IS NOT NULL AND EXISTS (SELECT 1 FROM kalix.logins l, pg_catalog.pg_roles r
                                       WHERE r.rolname = create_login.db_role AND l.db_role OPERATOR(pg_catalog.=) r.oid) THEN
        RAISE EXCEPTION 'role "%" already has a login', db_role
            USING ERRCODE = 'unique_violation',
                  DETAIL = 'A database role is the login of at most one person.';
    END IF;
    INSERT INTO kalix.logins (email, display_name, db_role)
    VALUES (clean_email, create_login.display_name,
            (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = create_login.db_role))
    RETURNING id INTO new_id;
    PERFORM kalix.write_audit('create_login', NULL,
        jsonb_build_object('login_id', new_id, 'email', clean_email, 'db_role', create_login.db_role));
    RETURN new_id;
END
$$;
REVOKE EXECUTE ON FUNCTION kalix.create_login(text, text, name) FROM PUBLIC;
COMMENT ON FUNCTION kalix.create_login(text, text, name) IS 'creates a login; db_role maps a database role to it';

CREATE FUNCTION kalix.my_accounts()
RETURNS TABLE (account_id uuid, name text, role kalix.account_role, parent_id uuid, is_current boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me uuid := kalix.current_login();
    -- the setting as seen now ('' once a transaction-scoped choice lapsed)
    chosen text := current_setting('kalix.current_account');
BEGIN
    RETURN QUERY
        SELECT a.id, a.name, m.role, a.parent_id, a.id::text = chosen
        FROM kalix.memberships m
        JOIN kalix.accounts a ON a.id = m.account_id
        WHERE m.login_id = me AND a.archived_at IS NULL
        ORDER BY a.name, a.id;
END
$$;
COMMENT ON FUNCTION kalix.my_accounts() IS 'the current login''s unarchived accounts, by name (the Switch tab)';

CREATE FUNCTION kalix.create_account(name text, child boolean DEFAULT false, copy_users boolean DEFAULT false)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me uuid := kalix.require_login();
    -- trimmed of every kind of white space, not only blanks
    clean_name text := pg_catalog.btrim(create_account.name, E' \t\n\r\f\x0B');
    current uuid;
    my_role kalix.account_role;
    new_id uuid;
    copied bigint := 0;
    above record;
BEGIN
    IF clean_name IS NULL OR clean_name = '' THEN
        RAISE EXCEPTION 'account name must not be empty'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF length(clean_name) > 200 THEN
        RAISE EXCEPTION 'account name "%..." is too long', left(clean_name, 20)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('An account name has at most 200 characters; this one has %s.', length(clean_name));
    END IF;
    IF coalesce(child, false) OR coalesce(copy_users, false) THEN
        current := kalix.current_account();
        IF current IS NULL THEN
            RAISE EXCEPTION 'no current account'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'A child account and copied users come from the current account.',
                      HINT = 'Switch to that account first with kalix.switch_account().';
        END IF;
        my_role := kalix.current_account_role();
        IF my_role < 'admin' THEN
            RAISE EXCEPTION 'permission denied to create a child of or copy users from account "%"', current
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'Only an admin or owner of the current account may do that.';
        END IF;
    END IF;
    IF child THEN
        -- Serialised with link_child and archive_account; see kalix.hierarchy_lock.
        PERFORM kalix.lock_hierarchy();
        IF (SELECT a.archived_at FROM kalix.accounts a WHERE a.id = current) IS NOT NULL THEN
            RAISE EXCEPTION 'account "%" is archived', current
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'Archived accounts can neither become nor get child accounts.';
        END IF;
        SELECT * INTO above FROM kalix.lineage_fresh(current, NULL);
        IF above.len + 1 > current_setting('kalix.max_depth')::integer THEN
            RAISE EXCEPTION 'a child of account "%" would make a lineage of % accounts', current, above.len + 1
                USING ERRCODE = 'program_limit_exceeded',
                      DETAIL = format('kalix.max_depth allows at most %s accounts in a lineage.',
                                      current_setting('kalix.max_depth'));
        END IF;
    END IF;

    INSERT INTO kalix.accounts (name, parent_id, created_by)
    VALUES (clean_name, CASE WHEN child THEN current END, me)
    RETURNING id INTO new_id;
    INSERT INTO kalix.memberships (account_id, login_id, role) VALUES (new_id, me, 'owner');
    IF copy_users THEN
        INSERT INTO kalix.memberships (account_id, login_id, role)
        SELECT new_id, m.login_id, m.role
        FROM kalix.memberships m
        WHERE m.account_id = current AND m.login_id <> me;
        GET DIAGNOSTICS copied = ROW_COUNT;
    END IF;
    PERFORM kalix.write_audit('create_account', new_id,
        jsonb_build_object('name', clean_name, 'parent_id', CASE WHEN child THEN current END,
                           'copied_from', CASE WHEN copy_users THEN current END,
                           'copied_users', copied));
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION kalix.create_account(text, boolean, boolean) IS 'creates an account owned by the current login, optionally a child of and with the users of the current account';

------------------------------------------------------------------------------
-- Isolation of application tables
------------------------------------------------------------------------------

CREATE FUNCTION kalix.write_account() RETURNS uuid
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_write_account';
COMMENT ON FUNCTION kalix.write_account() IS 'the current account, for the write check of isolated tables; raises "no current account" when none';

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
COMMENT ON FUNCTION kalix.forget_dropped_tables() IS 'event trigger: unregisters dropped isolated tables';
CREATE EVENT TRIGGER kalix_forget_dropped_tables ON sql_drop
    EXECUTE FUNCTION kalix.forget_dropped_tables();

-- A partition created or attached later is isolated as its parent is.
CREATE FUNCTION kalix.isolate_new_partitions() RETURNS event_trigger
LANGUAGE C SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_isolate_new_partitions';
COMMENT ON FUNCTION kalix.isolate_new_partitions() IS 'event trigger: isolates new and attached partitions of isolated tables';
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
COMMENT ON FUNCTION kalix.guard_isolation_ddl() IS 'event trigger: refuses policy and row-level security changes on isolated tables outside kalix.enable_isolation and kalix.disable_isolation';
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
-- Every function that changes an account's memberships first locks the
-- account row FOR NO KEY UPDATE (kalix.require_admin).  That serialises all
-- membership changes of one account, so in READ COMMITTED each later
-- statement reads what a concurrent change committed: two owners demoting or
-- removing each other run one after the other, and the second sees the first's
-- result.  NO KEY UPDATE rather than UPDATE keeps foreign-key checks of
-- application tables referencing the account from waiting.  The owners'
-- membership rows are locked as well when they are counted, so a REPEATABLE
-- READ transaction whose snapshot missed a concurrent owner change fails with
-- a serialization error instead of counting stale owners.
------------------------------------------------------------------------------

-- Internal: locks nothing or the account row, then returns the current login's
-- role there if it may administer it; raises otherwise.
CREATE FUNCTION kalix.require_admin(account uuid, doing text, lock_account boolean)
RETURNS kalix.account_role
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me uuid := kalix.require_login();
    archived timestamptz;
    my_role kalix.account_role;
BEGIN
    IF lock_account THEN
        SELECT a.archived_at INTO archived
        FROM kalix.accounts a WHERE a.id = account
        FOR NO KEY UPDATE;
        -- a new statement, hence (in READ COMMITTED) a snapshot taken after the lock
        IF FOUND THEN
            SELECT m.role INTO my_role
            FROM kalix.memberships m
            WHERE m.account_id = account
              AND m.login_id = me
            FOR SHARE;
        END IF;
    ELSE
        SELECT a.archived_at, m.role INTO archived, my_role
        FROM kalix.accounts a
        JOIN kalix.memberships m ON m.account_id = a.id
        WHERE a.id = account AND m.login_id = me;
    END IF;
    IF my_role IS NULL THEN
        RAISE EXCEPTION 'permission denied for account "%"', account
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The current login is not a member of this account.';
    END IF;
    IF archived IS NOT NULL THEN
        RAISE EXCEPTION 'account "%" is archived', account
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'An archived account can no longer be worked in.';
    END IF;
    IF my_role < 'admin'::kalix.account_role THEN
        RAISE EXCEPTION 'permission denied for account "%"', account
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Only an admin or owner of the account may %s.', doing);
    END IF;
    RETURN my_role;
END
$$;
REVOKE EXECUTE ON FUNCTION kalix.require_admin(uuid, text, boolean) FROM PUBLIC;
COMMENT ON FUNCTION kalix.require_admin(uuid, text, boolean) IS 'internal: the current login''s role in an account it administers, optionally locking the account row; raises otherwise';

-- Internal: refuses to grant a role above the granter's own.
CREATE FUNCTION kalix.check_grantable(account uuid, granted kalix.account_role, my_role kalix.account_role)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF granted > my_role THEN
        RAISE EXCEPTION 'permission denied to grant role "%" in account "%"', granted, account
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The current login is an %s of this account and can grant roles up to %s.', my_role, my_role);
    END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION kalix.check_grantable(uuid, kalix.account_role, kalix.account_role) FROM PUBLIC;
COMMENT ON FUNCTION kalix.check_grantable(uuid, kalix.account_role, kalix.account_role) IS 'internal: raises when a role above the granter''s own is granted';

-- Internal: locks a login's membership row and returns its role; raises when there is none.
CREATE FUNCTION kalix.lock_membership(account uuid, login uuid)
RETURNS kalix.account_role
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    old_role kalix.account_role;
BEGIN
    SELECT m.role INTO old_role
    FROM kalix.memberships m
    WHERE m.account_id = account AND m.login_id = login
    FOR UPDATE;
    IF FOUND THEN
        RETURN old_role;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM kalix.logins l WHERE l.id = login) THEN
        RAISE EXCEPTION 'login "%" does not exist', login
            USING ERRCODE = 'undefined_object';
    END IF;
    RAISE EXCEPTION 'login "%" is not a member of account "%"', login, account
        USING ERRCODE = 'undefined_object',
              HINT = 'Add it with kalix.add_member().';
END
$$;
REVOKE EXECUTE ON FUNCTION kalix.lock_membership(uuid, uuid) FROM PUBLIC;
COMMENT ON FUNCTION kalix.lock_membership(uuid, uuid) IS 'internal: locks a membership row and returns its role; raises when the login is not a member';

-- Internal: refuses to demote or remove the last owner of an account.
CREATE FUNCTION kalix.keep_an_owner(account uuid, login uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    owners bigint;
BEGIN
    -- The caller holds the account row lock; locking the owners' rows makes a
    -- stale REPEATABLE READ snapshot fail rather than miscount.
    SELECT count(*) INTO owners
    FROM (SELECT 1 FROM kalix.memberships m
          WHERE m.account_id = account
            AND m.role = 'owner'::kalix.account_role
          FOR UPDATE) o;
    IF owners <= 1 THEN
        RAISE EXCEPTION 'login "%" is the last owner of account "%"', login, account
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'An account always keeps at least one owner.',
                  HINT = 'Make another member an owner first.';
    END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION kalix.keep_an_owner(uuid, uuid) FROM PUBLIC;
COMMENT ON FUNCTION kalix.keep_an_owner(uuid, uuid) IS 'internal: raises when an owner about to be demoted or removed is the account''s last one';

-- Internal: raises null_value_not_allowed naming the argument when it is NULL.
CREATE FUNCTION kalix.require_argument(value anyelement, argument text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be null', argument
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION kalix.require_argument(anyelement, text) FROM PUBLIC;
COMMENT ON FUNCTION kalix.require_argument(anyelement, text) IS 'internal: raises when a required argument is NULL';

CREATE FUNCTION kalix.add_member(account uuid, login uuid, role kalix.account_role DEFAULT 'member')
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    my_role kalix.account_role;
    old_role kalix.account_role;
BEGIN
    PERFORM kalix.require_argument(add_member.account, 'account');
    PERFORM kalix.require_argument(add_member.login, 'login');
    PERFORM kalix.require_argument(add_member.role, 'role');
    my_role := kalix.require_admin(add_member.account, 'manage its members', true);
    PERFORM kalix.check_grantable(add_member.account, add_member.role, my_role);
    IF NOT EXISTS (SELECT 1 FROM kalix.logins l WHERE l.id = add_member.login) THEN
        RAISE EXCEPTION 'login "%" does not exist', add_member.login
            USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO kalix.memberships (account_id, login_id, role)
    VALUES (add_member.account, add_member.login, add_member.role)
    ON CONFLICT (account_id, login_id) DO NOTHING;
    IF NOT FOUND THEN
        SELECT m.role INTO old_role FROM kalix.memberships m
        WHERE m.account_id = add_member.account AND m.login_id = add_member.login;
        RAISE EXCEPTION 'login "%" is already a member of account "%"', add_member.login, add_member.account
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Its role there is %s.', old_role),
                  HINT = 'Change its role with kalix.set_member_role().';
    END IF;
    PERFORM kalix.write_audit('add_member', add_member.account,
        jsonb_build_object('login_id', add_member.login, 'role', add_member.role));
END
$$;
COMMENT ON FUNCTION kalix.add_member(uuid, uuid, kalix.account_role) IS 'makes a login a member of an account (admin; roles up to one''s own)';

CREATE FUNCTION kalix.set_member_role(account uuid, login uuid, role kalix.account_role)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    my_role kalix.account_role;
    old_role kalix.account_role;
BEGIN
    PERFORM kalix.require_argument(set_member_role.account, 'account');
    PERFORM kalix.require_argument(set_member_role.login, 'login');
    PERFORM kalix.require_argument(set_member_role.role, 'role');
    my_role := kalix.require_admin(set_member_role.account, 'manage its members', true);
    PERFORM kalix.check_grantable(set_member_role.account, set_member_role.role, my_role);
    old_role := kalix.lock_membership(set_member_role.account, set_member_role.login);
    IF old_role > my_role THEN
        RAISE EXCEPTION 'permission denied to change the role of login "%" in account "%"',
                set_member_role.login, set_member_role.account
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The login is an owner; only an owner may change the role of an owner.';
    END IF;
    IF old_role = set_member_role.role THEN
        RETURN;
    END IF;
    IF old_role = 'owner' THEN
        PERFORM kalix.keep_an_owner(set_member_role.account, set_member_role.login);
    END IF;
    UPDATE kalix.memberships m SET role = set_member_role.role
    WHERE m.account_id = set_member_role.account AND m.login_id = set_member_role.login;
    PERFORM kalix.write_audit('set_member_role', set_member_role.account,
        jsonb_build_object('login_id', set_member_role.login, 'old_role', old_role,
                           'new_role', set_member_role.role));
END
$$;
COMMENT ON FUNCTION kalix.set_member_role(uuid, uuid, kalix.account_role) IS 'changes a member''s role (admin; roles up to one''s own; the last owner stays)';

CREATE FUNCTION kalix.remove_member(account uuid, login uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    my_role kalix.account_role;
    old_role kalix.account_role;
BEGIN
    PERFORM kalix.require_argument(remove_member.account, 'account');
    PERFORM kalix.require_argument(remove_member.login, 'login');
    my_role := kalix.require_admin(remove_member.account, 'manage its members', true);
    old_role := kalix.lock_membership(remove_member.account, remove_member.login);
    IF old_role > my_role THEN
        RAISE EXCEPTION 'permission denied to remove login "%" from account "%"',
                remove_member.login, remove_member.account
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The login is an owner; only an owner may remove an owner.';
    END IF;
    IF old_role = 'owner' THEN
        PERFORM kalix.keep_an_owner(remove_member.account, remove_member.login);
    END IF;
    DELETE FROM kalix.memberships m
    WHERE m.account_id = remove_member.account AND m.login_id = remove_member.login;
    PERFORM kalix.write_audit('remove_member', remove_member.account,
        jsonb_build_object('login_id', remove_member.login, 'old_role', old_role));
END
$$;
COMMENT ON FUNCTION kalix.remove_member(uuid, uuid) IS 'removes a login from an account (admin; only owners remove owners; the last owner stays)';

CREATE FUNCTION kalix.copy_users(source uuid, target uuid)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    my_role kalix.account_role;
    added integer;
    members jsonb;
BEGIN
    PERFORM kalix.require_argument(copy_users.source, 'source');
    PERFORM kalix.require_argument(copy_users.target, 'target');
    IF copy_users.source = copy_users.target THEN
        RAISE EXCEPTION 'cannot copy the users of account "%" into itself', copy_users.source
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM kalix.require_admin(copy_users.source, 'copy its users', false);
    my_role := kalix.require_admin(copy_users.target, 'copy users into it', true);
    -- The target's lock serialises concurrent copies; ON CONFLICT leaves every
    -- existing membership (also one a concurrent transaction just made) alone.
    WITH inserted AS (
        INSERT INTO kalix.memberships AS m (account_id, login_id, role)
        SELECT copy_users.target, s.login_id, LEAST(s.role, my_role)
        FROM kalix.memberships s
        WHERE s.account_id = copy_users.source
        ON CONFLICT (account_id, login_id) DO NOTHING
        RETURNING m.login_id, m.role
    )
    SELECT count(*), jsonb_agg(jsonb_build_object('login_id', i.login_id, 'role', i.role) ORDER BY i.login_id)
    INTO added, members
    FROM inserted i;
    IF added > 0 THEN
        PERFORM kalix.write_audit('copy_users', copy_users.target,
            jsonb_build_object('source_id', copy_users.source, 'added', added, 'members', members));
    END IF;
    RETURN added;
END
$$;
COMMENT ON FUNCTION kalix.copy_users(uuid, uuid) IS 'adds the source account''s members missing in the target, roles capped at the caller''s; returns how many were added';

CREATE FUNCTION kalix.update_account(account uuid, name text DEFAULT NULL, settings jsonb DEFAULT NULL,
                                     branding jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    clean_name text := pg_catalog.btrim(update_account.name, E' \t\n\r\f\x0B');
    old record;
    changes jsonb := '{}';
BEGIN
    PERFORM kalix.require_argument(update_account.account, 'account');
    PERFORM kalix.require_admin(update_account.account, 'change it', true);
    IF update_account.name IS NOT NULL AND clean_name = '' THEN
        RAISE EXCEPTION 'account name must not be empty'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF length(clean_name) > 200 THEN
        RAISE EXCEPTION 'account name "%..." is too long', left(clean_name, 20)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('An account name has at most 200 characters; this one has %s.', length(clean_name));
    END IF;
    IF jsonb_typeof(update_account.settings) <> 'object' THEN
        RAISE EXCEPTION 'account settings must be a JSON object, not %', jsonb_typeof(update_account.settings)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Settings and branding are JSON objects of keys and values.';
    END IF;
    IF jsonb_typeof(update_account.branding) <> 'object' THEN
        RAISE EXCEPTION 'account branding must be a JSON object, not %', jsonb_typeof(update_account.branding)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Settings and branding are JSON objects of keys and values.';
    END IF;

    SELECT a.name, a.settings, a.branding INTO old
    FROM kalix.accounts a WHERE a.id = update_account.account;
    IF clean_name <> old.name THEN
        changes := changes || jsonb_build_object('name', jsonb_build_object('old', old.name, 'new', clean_name));
    END IF;
    IF update_account.settings <> old.settings THEN
        changes := changes || jsonb_build_object('settings',
            jsonb_build_object('old', old.settings, 'new', update_account.settings));
    END IF;
    IF update_account.branding <> old.branding THEN
        changes := changes || jsonb_build_object('branding',
            jsonb_build_object('old', old.branding, 'new', update_account.branding));
    END IF;
    IF changes = '{}' THEN
        RETURN;
    END IF;
    UPDATE kalix.accounts a
    SET name = coalesce(clean_name, a.name),
        settings = coalesce(update_account.settings, a.settings),
        branding = coalesce(update_account.branding, a.branding)
    WHERE a.id = update_account.account;
    PERFORM kalix.write_audit('update_account', update_account.account, changes);
END
$$;
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

-- Internal: raises unless the current login is an admin or owner of an
-- unarchived account; locks the account row so that concurrent NPI changes
-- of one account (and its archiving) take turns.
CREATE FUNCTION kalix.check_npi_admin(account uuid) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    my_role kalix.account_role := kalix.member_role(account);
    archived timestamptz;
BEGIN
    PERFORM kalix.require_login();
    IF my_role IS NULL THEN
        RAISE EXCEPTION 'permission denied for account "%"', account
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The current login is not a member of this account.';
    END IF;
    IF my_role < 'admin' THEN
        RAISE EXCEPTION 'permission denied to change the NPIs of account "%"', account
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Only an admin or owner of the account may change its NPIs.';
    END IF;
    SELECT a.archived_at INTO archived
    FROM kalix.accounts a WHERE a.id OPERATOR(pg_catalog.=) account
    FOR NO KEY UPDATE;
    IF archived IS NOT NULL THEN
        RAISE EXCEPTION 'account "%" is archived', account
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The NPIs of an archived account can no longer be changed.';
    END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION kalix.check_npi_admin(uuid) FROM PUBLIC;
COMMENT ON FUNCTION kalix.check_npi_admin(uuid) IS 'internal: raises unless the current login may change the NPIs of the account';

CREATE FUNCTION kalix.add_npi(account uuid, npi npi, label text DEFAULT NULL, is_primary boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    clean_label text := nullif(pg_catalog.btrim(add_npi.label), '');
    make_primary boolean := coalesce(add_npi.is_primary, false);
    previous kalix.account_npis.npi%TYPE;
BEGIN
    IF account IS NULL OR npi IS NULL THEN
        RAISE EXCEPTION 'account and NPI must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM kalix.check_npi_admin(account);
    IF EXISTS (SELECT 1 FROM kalix.account_npis n
               WHERE n.account_id = account
                 AND n.npi::pg_catalog.int8 OPERATOR(pg_catalog.=) add_npi.npi::pg_catalog.int8) THEN
        RAISE EXCEPTION 'NPI "%" is already registered for account "%"', npi, account
            USING ERRCODE = 'unique_violation',
                  HINT = 'To change its label or primary flag, remove it with kalix.remove_npi() and add it again.';
    END IF;
    IF make_primary THEN
        -- The flag moves: the old primary stops being one in the same step.
        UPDATE kalix.account_npis n SET is_primary = false
        WHERE n.account_id = account AND n.is_primary
        RETURNING n.npi INTO previous;
    END IF;
    INSERT INTO kalix.account_npis (account_id, npi, label, is_primary)
    VALUES (account, npi, clean_label, make_primary);
    PERFORM kalix.write_audit('add_npi', account,
        jsonb_build_object('npi', npi::text, 'label', clean_label, 'is_primary', make_primary,
                           'previous_primary', previous::text));
END
$$;
COMMENT ON FUNCTION kalix.add_npi(uuid, npi, text, boolean) IS 'registers an NPI for an account (admin); is_primary moves the primary flag to it';

CREATE FUNCTION kalix.remove_npi(account uuid, npi npi)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    was_primary boolean;
BEGIN
    IF account IS NULL OR npi IS NULL THEN
        RAISE EXCEPTION 'account and NPI must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM kalix.check_npi_admin(account);
    DELETE FROM kalix.account_npis n
    WHERE n.account_id = account
      AND n.npi::pg_catalog.int8 OPERATOR(pg_catalog.=) remove_npi.npi::pg_catalog.int8
    RETURNING n.is_primary INTO was_primary;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'NPI "%" is not registered for account "%"', npi, account
            USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM kalix.write_audit('remove_npi', account,
        jsonb_build_object('npi', npi::text, 'was_primary', was_primary));
END
$$;
COMMENT ON FUNCTION kalix.remove_npi(uuid, npi) IS 'unregisters an NPI of an account (admin); removing the primary leaves the account without one';

CREATE FUNCTION kalix.primary_npi(account uuid DEFAULT NULL) RETURNS npi
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target uuid := coalesce(account, kalix.current_account());
    result kalix.account_npis.npi%TYPE;
BEGIN
    IF target IS NULL THEN
        RETURN NULL;
    END IF;
    IF kalix.member_role(target) IS NULL THEN
        RAISE EXCEPTION 'permission denied for account "%"', target
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The current login is not a member of this account.';
    END IF;
    SELECT n.npi INTO result
    FROM kalix.account_npis n
    WHERE n.account_id = target AND n.is_primary;
    RETURN result;
END
$$;
COMMENT ON FUNCTION kalix.primary_npi(uuid) IS 'the primary NPI of an account (default: the current one), NULL when it has none';

------------------------------------------------------------------------------
-- Child accounts: hierarchy functions, linking, archiving, billing
------------------------------------------------------------------------------

-- Lock design.  Every change to the shape of the hierarchy -- link_child,
-- unlink_child, archive_account and create_account(child => true) -- first
-- updates the single row of kalix.hierarchy_lock (kalix.lock_hierarchy()).
-- The row lock serialises those changes: the second of two concurrent ones
-- waits until the first commits or rolls back, so two links that would
-- together close a cycle (A under B and B under A, or any longer ring), a
-- link under an account being archived, or two links that together exceed
-- kalix.max_depth can never both commit.  After the wait, its checks must see
-- the first one's result: under READ COMMITTED each later statement takes a
-- new snapshot; under REPEATABLE READ and SERIALIZABLE the update of a row
-- that a transaction committed after our snapshot fails with
-- serialization_failure, so a stale snapshot can never let a cycle through
-- (the application retries, as it must for any serialization failure).
-- After the lock the caller's role is checked again from the table with the
-- membership row locked FOR SHARE (kalix.locked_role), account row first and
-- memberships second as the team functions do, so a membership removed
-- meanwhile is not acted on and the two kinds of change never deadlock.
-- Reads (lineage() and the policies) take no lock: they use the backend cache.
CREATE TABLE kalix.hierarchy_lock (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation bigint NOT NULL DEFAULT 0
);
INSERT INTO kalix.hierarchy_lock DEFAULT VALUES;
COMMENT ON TABLE kalix.hierarchy_lock IS 'one row, updated by every change to the account hierarchy to serialise those changes';
ALTER TABLE kalix.hierarchy_lock ENABLE ROW LEVEL SECURITY;
CREATE POLICY hierarchy_lock_public ON kalix.hierarchy_lock FOR SELECT USING (true);
GRANT SELECT ON kalix.hierarchy_lock TO PUBLIC;

-- Internal: takes the hierarchy lock (see above) until the transaction ends.
CREATE FUNCTION kalix.lock_hierarchy() RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE kalix.hierarchy_lock SET generation = generation OPERATOR(pg_catalog.+) 1;
$$;
REVOKE EXECUTE ON FUNCTION kalix.lock_hierarchy() FROM PUBLIC;
COMMENT ON FUNCTION kalix.lock_hierarchy() IS 'internal: serialises changes to the account hierarchy until the transaction ends';

-- Internal: the current login's role in an account, read from the table after
-- the hierarchy lock with the membership row locked FOR SHARE, so that a
-- membership removed or changed meanwhile is seen (READ COMMITTED) or fails
-- the transaction with a serialization error (REPEATABLE READ).
CREATE FUNCTION kalix.locked_role(account uuid) RETURNS kalix.account_role
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.role FROM kalix.memberships m
    WHERE m.account_id OPERATOR(pg_catalog.=) account
      AND m.login_id OPERATOR(pg_catalog.=) kalix.current_login()
    FOR SHARE;
$$;
REVOKE EXECUTE ON FUNCTION kalix.locked_role(uuid) FROM PUBLIC;
COMMENT ON FUNCTION kalix.locked_role(uuid) IS 'internal: the current login''s role in an account, its membership row locked';

-- Internal: the length of an account's lineage read from the table (not the
-- cache) with the statement's snapshot, whether `seek` is in it, and whether
-- it runs into a cycle of parent links (only direct writes can make one).
-- Stops after 1001 accounts.  A loop of primary-key lookups rather than a
-- recursive query, whose plan goes wrong while kalix.accounts has no
-- statistics yet (a bulk load followed by a link, as in a migration).
CREATE FUNCTION kalix.lineage_fresh(account uuid, seek uuid,
                                    OUT len integer, OUT has_seek boolean, OUT has_cycle boolean)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur uuid := account;
    seen uuid[] := '{}';
BEGIN
    len := 0;
    has_seek := false;
    WHILE cur IS NOT NULL AND len <= 1000 LOOP
        len := len + 1;
        seen := seen || cur;
        has_seek := has_seek OR coalesce(cur = seek, false);
        SELECT a.parent_id INTO cur FROM kalix.accounts a WHERE a.id = cur;
    END LOOP;
    has_cycle := cur IS NOT NULL AND (SELECT count(DISTINCT s) FROM unnest(seen) s) < len;
END
$$;
REVOKE EXECUTE ON FUNCTION kalix.lineage_fresh(uuid, uuid) FROM PUBLIC;
COMMENT ON FUNCTION kalix.lineage_fresh(uuid, uuid) IS 'internal: lineage length read from the table, for the checks of link_child and create_account';

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
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me uuid := kalix.require_login();
    max_depth integer := pg_catalog.current_setting('kalix.max_depth')::integer;
    child_row kalix.accounts;
    parent_row kalix.accounts;
    above record;
    below integer;
    level uuid[];
BEGIN
    IF child IS NULL OR parent IS NULL THEN
        RAISE EXCEPTION 'child and parent must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF child = parent THEN
        RAISE EXCEPTION 'account "%" cannot be its own parent', child
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF coalesce(kalix.member_role(child) < 'admin' OR kalix.member_role(parent) < 'admin', true) THEN
        RAISE EXCEPTION 'permission denied to link account "%" under account "%"', child, parent
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Only an admin or owner of both accounts may link them.';
    END IF;

    PERFORM kalix.lock_hierarchy();
    -- From here on every read sees the hierarchy as the last change left it.
    -- The child's row is locked before memberships, in the order the team
    -- functions use, so that the two never deadlock.
    SELECT * INTO child_row FROM kalix.accounts a WHERE a.id = child FOR NO KEY UPDATE;
    IF coalesce(kalix.locked_role(child) < 'admin' OR kalix.locked_role(parent) < 'admin', true) THEN
        RAISE EXCEPTION 'permission denied to link account "%" under account "%"', child, parent
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Only an admin or owner of both accounts may link them.';
    END IF;
    SELECT * INTO parent_row FROM kalix.accounts a WHERE a.id = parent;
    IF child_row.archived_at IS NOT NULL OR parent_row.archived_at IS NOT NULL THEN
        RAISE EXCEPTION 'account "%" is archived',
                CASE WHEN child_row.archived_at IS NOT NULL THEN child ELSE parent END
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Archived accounts can neither become nor get child accounts.';
    END IF;
    IF child_row.parent_id IS NOT NULL THEN
        RAISE EXCEPTION 'account "%" already has a parent', child
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Its parent is account %s.', child_row.parent_id),
                  HINT = 'Call kalix.unlink_child() first to move it.';
    END IF;
    SELECT * INTO above FROM kalix.lineage_fresh(parent, child);
    IF above.has_seek THEN
        RAISE EXCEPTION 'linking account "%" under account "%" would create a cycle', child, parent
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Account %s is an ancestor of account %s.', child, parent);
    END IF;
    IF above.has_cycle THEN
        RAISE EXCEPTION 'account "%" is in or below a cycle of parent links', parent
            USING ERRCODE = 'data_corrupted',
                  DETAIL = 'Following parent_id in kalix.accounts leads back to an account already passed.',
                  HINT = 'kalix.accounts was changed without the kalix functions; repair parent_id by hand.';
    END IF;
    IF above.len > 1000 THEN
        RAISE EXCEPTION 'lineage of account "%" is longer than 1000 accounts', parent
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'kalix.accounts was changed without the kalix functions; repair parent_id by hand.';
    END IF;
    -- The height of child's subtree, counting child as 1, level by level.
    below := 0;
    level := ARRAY[child];
    WHILE cardinality(level) > 0 AND below <= max_depth LOOP
        below := below + 1;
        SELECT coalesce(array_agg(a.id), '{}') INTO level
        FROM kalix.accounts a WHERE a.parent_id = ANY (level);
    END LOOP;
    IF above.len + below > max_depth THEN
        RAISE EXCEPTION 'linking account "%" under account "%" would make a lineage of % accounts', child, parent, above.len + below
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('kalix.max_depth allows at most %s accounts in a lineage.', max_depth);
    END IF;

    UPDATE kalix.accounts a SET parent_id = parent WHERE a.id = child;
    PERFORM kalix.write_audit('link_child', child, jsonb_build_object('parent_id', parent));
END
$$;
COMMENT ON FUNCTION kalix.link_child(uuid, uuid) IS 'makes an independent account a child of another; admin of both';

CREATE FUNCTION kalix.unlink_child(child uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me uuid := kalix.require_login();
    old_parent uuid;
BEGIN
    PERFORM kalix.require_argument(child, 'child');
    SELECT a.parent_id INTO old_parent FROM kalix.accounts a WHERE a.id = child;
    IF NOT (coalesce(kalix.member_role(child) >= 'admin', false)
            OR coalesce(kalix.member_role(old_parent) >= 'admin', false)) THEN
        RAISE EXCEPTION 'permission denied to unlink account "%"', child
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Only an admin or owner of the account or of its parent may unlink it.';
    END IF;
    PERFORM kalix.lock_hierarchy();
    -- Read again: the parent may have changed while we waited for the lock.
    SELECT a.parent_id INTO old_parent FROM kalix.accounts a WHERE a.id = child FOR NO KEY UPDATE;
    IF old_parent IS NULL THEN
        RAISE EXCEPTION 'account "%" has no parent', child
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'It is already independent.';
    END IF;
    IF NOT (coalesce(kalix.locked_role(child) >= 'admin', false)
            OR coalesce(kalix.locked_role(old_parent) >= 'admin', false)) THEN
        RAISE EXCEPTION 'permission denied to unlink account "%"', child
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Only an admin or owner of the account or of its parent may unlink it.';
    END IF;
    UPDATE kalix.accounts a SET parent_id = NULL WHERE a.id = child;
    PERFORM kalix.write_audit('unlink_child', child, jsonb_build_object('parent_id', old_parent));
END
$$;
COMMENT ON FUNCTION kalix.unlink_child(uuid) IS 'makes a child account independent; admin of the child or of its parent';

CREATE FUNCTION kalix.archive_account(account uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me uuid := kalix.require_login();
    archived timestamptz;
    children bigint;
BEGIN
    PERFORM kalix.require_argument(account, 'account');
    IF coalesce(kalix.member_role(account) < 'owner', true) THEN
        RAISE EXCEPTION 'permission denied to archive account "%"', account
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Only an owner of the account may archive it.';
    END IF;
    PERFORM kalix.lock_hierarchy();
    -- The account row before memberships, as in the team functions.
    SELECT a.archived_at INTO archived FROM kalix.accounts a
    WHERE a.id = archive_account.account FOR NO KEY UPDATE;
    IF coalesce(kalix.locked_role(account) < 'owner', true) THEN
        RAISE EXCEPTION 'permission denied to archive account "%"', account
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Only an owner of the account may archive it.';
    END IF;
    IF archived IS NOT NULL THEN
        RAISE EXCEPTION 'account "%" is already archived', account
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    SELECT count(*) INTO children FROM kalix.accounts a
    WHERE a.parent_id = archive_account.account AND a.archived_at IS NULL;
    IF children > 0 THEN
        RAISE EXCEPTION 'account "%" has unarchived child accounts', account
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = format('It has %s unarchived child account(s).', children),
                  HINT = 'Archive or unlink its child accounts first.';
    END IF;
    UPDATE kalix.accounts a SET archived_at = now() WHERE a.id = archive_account.account;
    PERFORM kalix.write_audit('archive_account', account, '{}');
END
$$;
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
