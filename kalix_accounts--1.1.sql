/* kalix_accounts--1.1.sql */

\echo Use "CREATE EXTENSION kalix_accounts" to load this file. \quit

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
    db_role      name,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT logins_db_role_key UNIQUE (db_role)
);
CREATE UNIQUE INDEX logins_email_key ON kalix.logins (pg_catalog.lower(email));
COMMENT ON TABLE kalix.logins IS 'one person''s identity; may belong to many accounts';

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

CREATE FUNCTION kalix.check_table_owner(tbl regclass) RETURNS void
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_check_table_owner';
COMMENT ON FUNCTION kalix.check_table_owner(regclass) IS 'raises unless the session''s role owns the table';

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
    IF db_role IS NOT NULL AND EXISTS (SELECT 1 FROM kalix.logins l WHERE l.db_role = create_login.db_role) THEN
        RAISE EXCEPTION 'role "%" already has a login', db_role
            USING ERRCODE = 'unique_violation',
                  DETAIL = 'A database role is the login of at most one person.';
    END IF;
    INSERT INTO kalix.logins (email, display_name, db_role)
    VALUES (clean_email, create_login.display_name, create_login.db_role)
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

CREATE FUNCTION kalix.enable_isolation(tbl regclass, account_column name DEFAULT 'account_id', inherited boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col_num smallint;
    col_type regtype;
    mine text;
    visible text;
BEGIN
    PERFORM kalix.check_table_owner(tbl);
    PERFORM kalix.require_argument(inherited, 'inherited');
    IF EXISTS (SELECT 1 FROM kalix.isolated_tables t WHERE t.tbl = enable_isolation.tbl) THEN
        RAISE EXCEPTION 'table "%" is already isolated', tbl
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Call kalix.disable_isolation() first to change how it is isolated.';
    END IF;
    IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = tbl) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', tbl
            USING ERRCODE = 'wrong_object_type';
    END IF;
    SELECT a.attnum, a.atttypid::regtype INTO col_num, col_type
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = tbl AND a.attname = account_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF col_num IS NULL THEN
        RAISE EXCEPTION 'column "%" of table "%" does not exist', account_column, tbl
            USING ERRCODE = 'undefined_column';
    END IF;
    IF col_type <> 'uuid'::regtype THEN
        RAISE EXCEPTION 'column "%" of table "%" has type %, not uuid', account_column, tbl, col_type
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = 'The account column holds kalix account ids.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = tbl AND i.indkey[0] = col_num) THEN
        RAISE WARNING 'table "%" has no index leading with column "%"', tbl, account_column
            USING DETAIL = 'Every query on an isolated table filters on its account column.',
                  HINT = format('Create one, for example: CREATE INDEX ON %s (%I);', tbl, account_column);
    END IF;

    -- Restrictive policies narrow whatever permissive ones the owner adds.
    -- Inherited tables show the rows of the whole lineage (an index condition
    -- on the account column: lineage() is evaluated once per scan) and take
    -- writes only in the current account.
    mine := format('%I OPERATOR(pg_catalog.=) kalix.current_account()', account_column);
    visible := CASE WHEN inherited
                    THEN format('%I OPERATOR(pg_catalog.=) ANY (kalix.lineage())', account_column)
                    ELSE mine END;
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format('CREATE POLICY kalix_permit ON %s AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true)', tbl);
    EXECUTE format('CREATE POLICY kalix_select ON %s AS RESTRICTIVE FOR SELECT USING (%s)', tbl, visible);
    EXECUTE format('CREATE POLICY kalix_insert ON %s AS RESTRICTIVE FOR INSERT WITH CHECK (%s)', tbl, mine);
    EXECUTE format('CREATE POLICY kalix_update ON %s AS RESTRICTIVE FOR UPDATE USING (%s) WITH CHECK (%s)', tbl, mine, mine);
    EXECUTE format('CREATE POLICY kalix_delete ON %s AS RESTRICTIVE FOR DELETE USING (%s)', tbl, mine);

    INSERT INTO kalix.isolated_tables (tbl, account_column, inherited)
    VALUES (enable_isolation.tbl, enable_isolation.account_column, enable_isolation.inherited);
    PERFORM kalix.write_audit('enable_isolation', NULL,
        jsonb_build_object('table', tbl::text, 'account_column', account_column, 'inherited', inherited));
END
$$;
COMMENT ON FUNCTION kalix.enable_isolation(regclass, name, boolean) IS 'enables and forces row-level security on a table so each account sees only its rows (inherited: also its ancestors'' rows, read-only)';

CREATE FUNCTION kalix.disable_isolation(tbl regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    policy name;
BEGIN
    PERFORM kalix.check_table_owner(tbl);
    DELETE FROM kalix.isolated_tables t WHERE t.tbl = disable_isolation.tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" is not isolated', tbl
            USING ERRCODE = 'undefined_object';
    END IF;
    FOREACH policy IN ARRAY ARRAY['kalix_permit', 'kalix_select', 'kalix_insert', 'kalix_update', 'kalix_delete']
    LOOP
        EXECUTE format('DROP POLICY IF EXISTS %I ON %s', policy, tbl);
    END LOOP;
    -- Row-level security stays on if the owner has policies of their own.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = tbl) THEN
        EXECUTE format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY', tbl);
        EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', tbl);
    END IF;
    PERFORM kalix.write_audit('disable_isolation', NULL, jsonb_build_object('table', tbl::text));
END
$$;
COMMENT ON FUNCTION kalix.disable_isolation(regclass) IS 'removes the kalix policies of a table';

-- A dropped table leaves the registry, so that dumps never name a missing OID.
CREATE FUNCTION kalix.forget_dropped_tables() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM kalix.isolated_tables t
    USING pg_catalog.pg_event_trigger_dropped_objects() d
    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objsubid = 0
      AND d.objid = t.tbl::oid;
END
$$;
COMMENT ON FUNCTION kalix.forget_dropped_tables() IS 'event trigger: unregisters dropped isolated tables';
CREATE EVENT TRIGGER kalix_forget_dropped_tables ON sql_drop
    EXECUTE FUNCTION kalix.forget_dropped_tables();

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

-- Reads only catalogs that every role may read, so it runs with the caller's
-- rights.  The pinned search_path makes pg_get_expr and regclass print
-- schema-qualified names, so expressions compare exactly.
CREATE FUNCTION kalix.lint()
RETURNS TABLE (object text, problem text)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
WITH RECURSIVE registered AS (
    SELECT t.tbl::oid AS relid, t.account_column, t.inherited
    FROM kalix.isolated_tables t
),
-- The policies kalix.enable_isolation creates, with the expressions it writes.
expected AS (
    SELECT r.relid, e.polname, e.polcmd, e.permissive, e.qual, e.qual_alt, e.check_expr
    FROM registered r,
         LATERAL (SELECT format('(%I = kalix.current_account())', r.account_column) AS mine,
                         format('(%I = ANY (kalix.lineage()))', r.account_column) AS lineage) x,
         LATERAL (VALUES
             ('kalix_permit', '*', true,  'true',  NULL::text, 'true'),
             ('kalix_select', 'r', false, x.mine,  CASE WHEN r.inherited THEN x.lineage END, NULL),
             ('kalix_insert', 'a', false, NULL,    NULL, x.mine),
             ('kalix_update', 'w', false, x.mine,  NULL, x.mine),
             ('kalix_delete', 'd', false, x.mine,  NULL, NULL)
         ) AS e (polname, polcmd, permissive, qual, qual_alt, check_expr)
),
found AS (
    SELECT e.*, p.oid IS NOT NULL AS present, p.polcmd::text AS f_cmd,
           p.polpermissive AS f_permissive, p.polroles AS f_roles,
           pg_get_expr(p.polqual, p.polrelid) AS f_qual,
           pg_get_expr(p.polwithcheck, p.polrelid) AS f_check
    FROM expected e
    LEFT JOIN pg_policy p ON p.polrelid = e.relid AND p.polname = e.polname
),
cmd_name (code, word) AS (
    VALUES ('*', 'ALL'), ('r', 'SELECT'), ('a', 'INSERT'), ('w', 'UPDATE'), ('d', 'DELETE')
),
-- Tables inheriting from a registered table, at any depth, with that table.
descendants (relid, base) AS (
    SELECT i.inhrelid, i.inhparent
    FROM pg_inherits i JOIN registered r ON r.relid = i.inhparent
    UNION
    SELECT i.inhrelid, d.base
    FROM pg_inherits i JOIN descendants d ON d.relid = i.inhparent
),
-- Views and materialized views reading a registered table, directly or through other views.
readers (relid, base) AS (
    SELECT rw.ev_class, r.relid
    FROM registered r
    JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = r.relid
                    AND d.classid = 'pg_rewrite'::regclass
    JOIN pg_rewrite rw ON rw.oid = d.objid
    WHERE rw.ev_class <> r.relid
    UNION
    SELECT rw.ev_class, v.base
    FROM readers v
    JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = v.relid
                    AND d.classid = 'pg_rewrite'::regclass
    JOIN pg_rewrite rw ON rw.oid = d.objid
    WHERE rw.ev_class <> v.relid
)
SELECT object, problem FROM (
    SELECT c.oid::regclass::text,
           'row-level security is disabled, so the kalix policies are not applied'
    FROM registered r JOIN pg_class c ON c.oid = r.relid
    WHERE NOT c.relrowsecurity
    UNION ALL
    SELECT c.oid::regclass::text,
           'row-level security is not forced, so the table''s owner bypasses the kalix policies'
    FROM registered r JOIN pg_class c ON c.oid = r.relid
    WHERE NOT c.relforcerowsecurity
    UNION ALL
    SELECT f.relid::regclass::text,
           format('policy %s is missing', f.polname)
    FROM found f
    WHERE NOT f.present
    UNION ALL
    SELECT f.relid::regclass::text,
           format('policy %s differs from what kalix.enable_isolation creates: %s', f.polname,
                  concat_ws('; ',
                      CASE WHEN f.f_cmd IS DISTINCT FROM f.polcmd THEN
                          format('FOR %s instead of FOR %s',
                                 (SELECT word FROM cmd_name WHERE code = f.f_cmd),
                                 (SELECT word FROM cmd_name WHERE code = f.polcmd)) END,
                      CASE WHEN f.f_permissive IS DISTINCT FROM f.permissive THEN
                          format('AS %s instead of AS %s',
                                 CASE WHEN f.f_permissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                                 CASE WHEN f.permissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END) END,
                      CASE WHEN f.f_roles IS DISTINCT FROM '{0}'::oid[] THEN
                          format('TO %s instead of TO PUBLIC',
                                 (SELECT string_agg(CASE WHEN o = 0 THEN 'PUBLIC' ELSE quote_ident(o::regrole::text) END, ', ')
                                  FROM unnest(f.f_roles) AS o)) END,
                      CASE WHEN f.f_qual IS DISTINCT FROM f.qual AND f.f_qual IS DISTINCT FROM f.qual_alt THEN
                          format('USING %s instead of %s', coalesce(f.f_qual, 'nothing'), coalesce(f.qual, 'nothing')) END,
                      CASE WHEN f.f_check IS DISTINCT FROM f.check_expr THEN
                          format('WITH CHECK %s instead of %s', coalesce(f.f_check, 'nothing'), coalesce(f.check_expr, 'nothing')) END))
    FROM found f
    WHERE f.present
      AND (f.f_cmd IS DISTINCT FROM f.polcmd
           OR f.f_permissive IS DISTINCT FROM f.permissive
           OR f.f_roles IS DISTINCT FROM '{0}'::oid[]
           OR (f.f_qual IS DISTINCT FROM f.qual AND f.f_qual IS DISTINCT FROM f.qual_alt)
           OR f.f_check IS DISTINCT FROM f.check_expr)
    UNION ALL
    SELECT d.relid::regclass::text,
           format('%s of isolated table %s without kalix isolation: queried directly, it shows the rows of every account',
                  CASE WHEN c.relispartition THEN 'partition' ELSE 'child table' END,
                  string_agg(DISTINCT d.base::regclass::text, ', '))
    FROM descendants d JOIN pg_class c ON c.oid = d.relid
    WHERE NOT EXISTS (SELECT 1 FROM registered r WHERE r.relid = d.relid)
    GROUP BY d.relid, c.relispartition
    UNION ALL
    SELECT v.relid::regclass::text,
           CASE c.relkind
               WHEN 'm' THEN format('materialized view over isolated table %s: it keeps the rows its owner saw at refresh, without row-level security',
                                    string_agg(DISTINCT v.base::regclass::text, ', '))
               ELSE format('view over isolated table %s without security_invoker: the table''s policies are checked as the view''s owner, and not at all when the owner is a superuser or has BYPASSRLS',
                           string_agg(DISTINCT v.base::regclass::text, ', '))
           END
    FROM readers v JOIN pg_class c ON c.oid = v.relid
    WHERE c.relkind = 'm'
       OR (c.relkind = 'v' AND NOT EXISTS (
               SELECT 1 FROM pg_options_to_table(c.reloptions) o
               WHERE o.option_name = 'security_invoker' AND o.option_value::boolean))
    GROUP BY v.relid, c.relkind
    UNION ALL
    SELECT p.oid::regprocedure::text,
           'SECURITY DEFINER function without a pinned search_path: a caller''s search_path can substitute the objects it names'
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prosecdef
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS s WHERE s LIKE 'search\_path=%')
) AS problems (object, problem)
ORDER BY object, problem;
$$;
COMMENT ON FUNCTION kalix.lint() IS 'lists what weakens account isolation: RLS off or not forced, altered kalix policies, unisolated partitions, views without security_invoker, SECURITY DEFINER functions without a pinned search_path';

------------------------------------------------------------------------------
-- NPIs: the kalix.npi type and the NPIs an account bills under
------------------------------------------------------------------------------

-- Stored like int8 (the ten digits as a number), so that comparison, btree
-- and hash support are int8's own functions declared over kalix.npi.
CREATE TYPE kalix.npi;

CREATE FUNCTION kalix.npi_in(cstring) RETURNS kalix.npi
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_npi_in';
COMMENT ON FUNCTION kalix.npi_in(cstring) IS 'text input of kalix.npi: 10 digits or the 15-digit 80840 form, validated';

CREATE FUNCTION kalix.npi_out(kalix.npi) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_npi_out';
COMMENT ON FUNCTION kalix.npi_out(kalix.npi) IS 'text output of kalix.npi: the 10 digits';

CREATE FUNCTION kalix.npi_recv(internal) RETURNS kalix.npi
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_npi_recv';
COMMENT ON FUNCTION kalix.npi_recv(internal) IS 'binary input of kalix.npi (an int8), validated again';

CREATE FUNCTION kalix.npi_send(kalix.npi) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_npi_send';
COMMENT ON FUNCTION kalix.npi_send(kalix.npi) IS 'binary output of kalix.npi (an int8)';

CREATE TYPE kalix.npi (
    INPUT = kalix.npi_in,
    OUTPUT = kalix.npi_out,
    RECEIVE = kalix.npi_recv,
    SEND = kalix.npi_send,
    LIKE = pg_catalog.int8
);
COMMENT ON TYPE kalix.npi IS 'US National Provider Identifier: 10 digits, the last a Luhn check digit over 80840 and the first nine';

CREATE FUNCTION kalix.npi_is_valid(text) RETURNS boolean
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_npi_is_valid';
COMMENT ON FUNCTION kalix.npi_is_valid(text) IS 'true exactly when kalix.npi accepts the text; never raises';

CREATE FUNCTION kalix.npi(bigint) RETURNS kalix.npi
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_npi_from_int8';
COMMENT ON FUNCTION kalix.npi(bigint) IS 'cast from bigint to kalix.npi, validated';

CREATE CAST (text AS kalix.npi) WITH INOUT;
CREATE CAST (kalix.npi AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (bigint AS kalix.npi) WITH FUNCTION kalix.npi(bigint);
CREATE CAST (kalix.npi AS bigint) WITHOUT FUNCTION AS ASSIGNMENT;

-- int8's built-ins, declared over kalix.npi (same representation).
CREATE FUNCTION kalix.npi_eq(kalix.npi, kalix.npi) RETURNS boolean
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8eq';
COMMENT ON FUNCTION kalix.npi_eq(kalix.npi, kalix.npi) IS 'implementation of = for kalix.npi';
CREATE FUNCTION kalix.npi_ne(kalix.npi, kalix.npi) RETURNS boolean
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8ne';
COMMENT ON FUNCTION kalix.npi_ne(kalix.npi, kalix.npi) IS 'implementation of <> for kalix.npi';
CREATE FUNCTION kalix.npi_lt(kalix.npi, kalix.npi) RETURNS boolean
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8lt';
COMMENT ON FUNCTION kalix.npi_lt(kalix.npi, kalix.npi) IS 'implementation of < for kalix.npi';
CREATE FUNCTION kalix.npi_le(kalix.npi, kalix.npi) RETURNS boolean
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8le';
COMMENT ON FUNCTION kalix.npi_le(kalix.npi, kalix.npi) IS 'implementation of <= for kalix.npi';
CREATE FUNCTION kalix.npi_gt(kalix.npi, kalix.npi) RETURNS boolean
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8gt';
COMMENT ON FUNCTION kalix.npi_gt(kalix.npi, kalix.npi) IS 'implementation of > for kalix.npi';
CREATE FUNCTION kalix.npi_ge(kalix.npi, kalix.npi) RETURNS boolean
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8ge';
COMMENT ON FUNCTION kalix.npi_ge(kalix.npi, kalix.npi) IS 'implementation of >= for kalix.npi';
CREATE FUNCTION kalix.npi_cmp(kalix.npi, kalix.npi) RETURNS integer
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'btint8cmp';
COMMENT ON FUNCTION kalix.npi_cmp(kalix.npi, kalix.npi) IS 'btree comparison of kalix.npi';
CREATE FUNCTION kalix.npi_sortsupport(internal) RETURNS void
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'btint8sortsupport';
COMMENT ON FUNCTION kalix.npi_sortsupport(internal) IS 'btree sort support of kalix.npi';
CREATE FUNCTION kalix.npi_hash(kalix.npi) RETURNS integer
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'hashint8';
COMMENT ON FUNCTION kalix.npi_hash(kalix.npi) IS 'hash of kalix.npi';
CREATE FUNCTION kalix.npi_hash_extended(kalix.npi, bigint) RETURNS bigint
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'hashint8extended';
COMMENT ON FUNCTION kalix.npi_hash_extended(kalix.npi, bigint) IS 'seeded 64-bit hash of kalix.npi';

CREATE FUNCTION kalix.npi_smaller(kalix.npi, kalix.npi) RETURNS kalix.npi
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'int8smaller';
COMMENT ON FUNCTION kalix.npi_smaller(kalix.npi, kalix.npi) IS 'the smaller of two kalix.npi values (for min)';
CREATE FUNCTION kalix.npi_larger(kalix.npi, kalix.npi) RETURNS kalix.npi
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'int8larger';
COMMENT ON FUNCTION kalix.npi_larger(kalix.npi, kalix.npi) IS 'the larger of two kalix.npi values (for max)';

CREATE OPERATOR kalix.= (
    LEFTARG = kalix.npi, RIGHTARG = kalix.npi, FUNCTION = kalix.npi_eq,
    COMMUTATOR = OPERATOR(kalix.=), NEGATOR = OPERATOR(kalix.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR kalix.<> (
    LEFTARG = kalix.npi, RIGHTARG = kalix.npi, FUNCTION = kalix.npi_ne,
    COMMUTATOR = OPERATOR(kalix.<>), NEGATOR = OPERATOR(kalix.=),
    RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR kalix.< (
    LEFTARG = kalix.npi, RIGHTARG = kalix.npi, FUNCTION = kalix.npi_lt,
    COMMUTATOR = OPERATOR(kalix.>), NEGATOR = OPERATOR(kalix.>=),
    RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR kalix.<= (
    LEFTARG = kalix.npi, RIGHTARG = kalix.npi, FUNCTION = kalix.npi_le,
    COMMUTATOR = OPERATOR(kalix.>=), NEGATOR = OPERATOR(kalix.>),
    RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR kalix.> (
    LEFTARG = kalix.npi, RIGHTARG = kalix.npi, FUNCTION = kalix.npi_gt,
    COMMUTATOR = OPERATOR(kalix.<), NEGATOR = OPERATOR(kalix.<=),
    RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR kalix.>= (
    LEFTARG = kalix.npi, RIGHTARG = kalix.npi, FUNCTION = kalix.npi_ge,
    COMMUTATOR = OPERATOR(kalix.<=), NEGATOR = OPERATOR(kalix.<),
    RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR CLASS kalix.npi_ops
    DEFAULT FOR TYPE kalix.npi USING btree AS
        OPERATOR 1 kalix.<,
        OPERATOR 2 kalix.<=,
        OPERATOR 3 kalix.=,
        OPERATOR 4 kalix.>=,
        OPERATOR 5 kalix.>,
        FUNCTION 1 kalix.npi_cmp(kalix.npi, kalix.npi),
        FUNCTION 2 kalix.npi_sortsupport(internal),
        FUNCTION 4 pg_catalog.btequalimage(oid);
CREATE OPERATOR CLASS kalix.npi_hash_ops
    DEFAULT FOR TYPE kalix.npi USING hash AS
        OPERATOR 1 kalix.=,
        FUNCTION 1 kalix.npi_hash(kalix.npi),
        FUNCTION 2 kalix.npi_hash_extended(kalix.npi, bigint);

CREATE AGGREGATE kalix.min(kalix.npi) (
    SFUNC = kalix.npi_smaller, STYPE = kalix.npi, COMBINEFUNC = kalix.npi_smaller,
    SORTOP = OPERATOR(kalix.<), PARALLEL = SAFE
);
COMMENT ON AGGREGATE kalix.min(kalix.npi) IS 'the smallest NPI';
CREATE AGGREGATE kalix.max(kalix.npi) (
    SFUNC = kalix.npi_larger, STYPE = kalix.npi, COMBINEFUNC = kalix.npi_larger,
    SORTOP = OPERATOR(kalix.>), PARALLEL = SAFE
);
COMMENT ON AGGREGATE kalix.max(kalix.npi) IS 'the largest NPI';

CREATE TABLE kalix.account_npis (
    account_id uuid NOT NULL,   -- references kalix.accounts
    npi        kalix.npi NOT NULL,
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

CREATE FUNCTION kalix.add_npi(account uuid, npi kalix.npi, label text DEFAULT NULL, is_primary boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    clean_label text := nullif(pg_catalog.btrim(add_npi.label), '');
    make_primary boolean := coalesce(add_npi.is_primary, false);
    previous kalix.npi;
BEGIN
    IF account IS NULL OR npi IS NULL THEN
        RAISE EXCEPTION 'account and NPI must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM kalix.check_npi_admin(account);
    IF EXISTS (SELECT 1 FROM kalix.account_npis n
               WHERE n.account_id = account AND n.npi OPERATOR(kalix.=) add_npi.npi) THEN
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
COMMENT ON FUNCTION kalix.add_npi(uuid, kalix.npi, text, boolean) IS 'registers an NPI for an account (admin); is_primary moves the primary flag to it';

CREATE FUNCTION kalix.remove_npi(account uuid, npi kalix.npi)
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
    WHERE n.account_id = account AND n.npi OPERATOR(kalix.=) remove_npi.npi
    RETURNING n.is_primary INTO was_primary;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'NPI "%" is not registered for account "%"', npi, account
            USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM kalix.write_audit('remove_npi', account,
        jsonb_build_object('npi', npi::text, 'was_primary', was_primary));
END
$$;
COMMENT ON FUNCTION kalix.remove_npi(uuid, kalix.npi) IS 'unregisters an NPI of an account (admin); removing the primary leaves the account without one';

CREATE FUNCTION kalix.primary_npi(account uuid DEFAULT NULL) RETURNS kalix.npi
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target uuid := coalesce(account, kalix.current_account());
    result kalix.npi;
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
