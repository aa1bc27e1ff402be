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
    -- deferred, so that a restore may load children before their parents
    parent_id   uuid REFERENCES kalix.accounts (id) DEFERRABLE INITIALLY DEFERRED,
    settings    jsonb NOT NULL DEFAULT '{}',
    branding    jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  uuid REFERENCES kalix.logins (id),
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
    account_id uuid NOT NULL REFERENCES kalix.accounts (id),
    login_id   uuid NOT NULL REFERENCES kalix.logins (id),
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
    USING (kalix.member_role(id) IS NOT NULL);
-- ... every membership of those accounts ...
CREATE POLICY memberships_of_member ON kalix.memberships FOR SELECT
    USING (kalix.member_role(account_id) IS NOT NULL);
-- ... itself and the logins it shares an account with ...
CREATE POLICY logins_self_and_team ON kalix.logins FOR SELECT
    USING (id OPERATOR(pg_catalog.=) kalix.current_login()
           OR EXISTS (SELECT 1 FROM kalix.memberships m
                      WHERE m.login_id OPERATOR(pg_catalog.=) logins.id));
-- ... which tables are isolated ...
CREATE POLICY isolated_tables_public ON kalix.isolated_tables FOR SELECT
    USING (true);
-- ... and, as an admin or owner, the audit trail of the account.
CREATE POLICY audit_log_of_admin ON kalix.audit_log FOR SELECT
    USING (kalix.member_role(account_id) OPERATOR(pg_catalog.>=) 'admin'::kalix.account_role);

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
-- The functions are C (src/members.c, src/accounts.c); src/access.c explains
-- their locks: the account row FOR NO KEY UPDATE, then the membership.
------------------------------------------------------------------------------

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
    account_id uuid NOT NULL REFERENCES kalix.accounts (id),
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
    USING (kalix.member_role(account_id) IS NOT NULL);
GRANT SELECT ON kalix.account_npis TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('kalix.account_npis', '');

CREATE FUNCTION kalix.add_npi(account uuid, npi kalix.npi, label text DEFAULT NULL, is_primary boolean DEFAULT false)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_add_npi';
COMMENT ON FUNCTION kalix.add_npi(uuid, kalix.npi, text, boolean) IS 'registers an NPI for an account (admin); is_primary moves the primary flag to it';

CREATE FUNCTION kalix.remove_npi(account uuid, npi kalix.npi)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_remove_npi';
COMMENT ON FUNCTION kalix.remove_npi(uuid, kalix.npi) IS 'unregisters an NPI of an account (admin); removing the primary leaves the account without one';

CREATE FUNCTION kalix.primary_npi(account uuid DEFAULT NULL) RETURNS kalix.npi
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
    WHERE a.archived_at IS NULL AND kalix.member_role(a.id) IS NOT NULL;
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
    account_id  uuid NOT NULL REFERENCES kalix.accounts (id),
    email       text NOT NULL,
    role        kalix.account_role NOT NULL DEFAULT 'member',
    invited_by  uuid NOT NULL REFERENCES kalix.logins (id),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by uuid REFERENCES kalix.logins (id),
    revoked_at  timestamptz,
    CONSTRAINT invitations_accepted_check
        CHECK ((accepted_at IS NULL) OPERATOR(pg_catalog.=) (accepted_by IS NULL)),
    CONSTRAINT invitations_closed_check CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
CREATE INDEX invitations_account_id_idx ON kalix.invitations (account_id);
COMMENT ON TABLE kalix.invitations IS 'invitations to join an account, by email; the token is never stored';

CREATE TABLE kalix.invitation_tokens (
    invitation_id uuid PRIMARY KEY REFERENCES kalix.invitations (id) ON DELETE CASCADE,
    token_hash    bytea NOT NULL,
    CONSTRAINT invitation_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT invitation_tokens_token_hash_check
        CHECK (pg_catalog.length(token_hash) OPERATOR(pg_catalog.=) 32)
);
COMMENT ON TABLE kalix.invitation_tokens IS 'the SHA-256 of each open invitation''s token; readable by no role RLS applies to';

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
