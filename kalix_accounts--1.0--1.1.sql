/* kalix_accounts--1.0--1.1.sql */

\echo Use "ALTER EXTENSION kalix_accounts UPDATE TO '1.1'" to load this file. \quit

-- Release 1.1: the write path in C, the companion extension kalix_npi, and
-- the security fixes of the 1.1 review.  Each change below names what it
-- replaces; after it the installation equals a fresh 1.1 install
-- (test/upgrade.sh compares them object by object).

------------------------------------------------------------------------------
-- NPIs: the type kalix.npi gives way to npi of the extension kalix_npi
------------------------------------------------------------------------------

-- 1.0 had its own type kalix.npi, whose operators lived in schema kalix and
-- so were never on an application's search_path.  1.1 uses the type npi of
-- the required extension kalix_npi, installed in the schema the user chose
-- (ALTER EXTENSION refuses to start until it is there: the README says to
-- run CREATE EXTENSION kalix_npi first).  The NPIs of kalix.account_npis are
-- converted in place, labels and primary flags untouched.  A user's table is
-- never rewritten here: a column of kalix.npi is named with the command that
-- converts it, and anything else of the user's that uses the type is named
-- too.  This part runs before any other that names npi: until kalix.npi is
-- dropped, the unqualified name would still find it first on search_path.
DO $$
DECLARE
    npi_schema name := (SELECT n.nspname FROM pg_catalog.pg_extension e
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                        WHERE e.extname OPERATOR(pg_catalog.=) 'kalix_npi');
    script_path text := pg_catalog.current_setting('search_path');
    users text;
    commands text;
BEGIN
    -- Objects are described schema-qualified: with kalix first on this
    -- script's search_path, kalix.npi would print as plain npi.
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog', true);
    SELECT pg_catalog.string_agg(CASE WHEN c.oid IS NOT NULL
                                      THEN pg_catalog.format('column %I.%I.%I', cn.nspname, c.relname, a.attname)
                                      ELSE pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) END,
                                 ', ' ORDER BY d.classid, d.objid, d.objsubid),
           pg_catalog.string_agg(pg_catalog.format(
                                     'ALTER TABLE %I.%I ALTER COLUMN %I TYPE %I.npi%s USING %I::pg_catalog.int8%s::%I.npi%s;',
                                     cn.nspname, c.relname, a.attname, npi_schema, brackets,
                                     a.attname, brackets, npi_schema, brackets),
                                 ' ' ORDER BY cn.nspname, c.relname, a.attname)
                FILTER (WHERE c.relkind IN ('r', 'p', 'f'))
    INTO users, commands
    FROM pg_catalog.pg_depend d
    CROSS JOIN LATERAL (SELECT CASE WHEN d.refobjid OPERATOR(pg_catalog.=) 'kalix.npi'::pg_catalog.regtype
                                    THEN '' ELSE '[]' END AS brackets) AS b
    LEFT JOIN pg_catalog.pg_attribute a
           ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
          AND a.attrelid OPERATOR(pg_catalog.=) d.objid AND a.attnum OPERATOR(pg_catalog.=) d.objsubid
    LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid
    LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid OPERATOR(pg_catalog.=) c.relnamespace
    WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass
      AND d.refobjid IN ('kalix.npi'::pg_catalog.regtype, 'kalix.npi[]'::pg_catalog.regtype)
      AND d.deptype OPERATOR(pg_catalog.=) 'n'
      -- A partition or inheritance child is converted with its parent.
      AND NOT coalesce(a.attinhcount OPERATOR(pg_catalog.>) 0, false)
      -- The objects of kalix_accounts itself are converted or dropped below.
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend m
                      WHERE m.classid OPERATOR(pg_catalog.=) d.classid
                        AND m.objid OPERATOR(pg_catalog.=) d.objid
                        AND m.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                        AND m.deptype OPERATOR(pg_catalog.=) 'e');
    PERFORM pg_catalog.set_config('search_path', script_path, true);
    IF users IS NOT NULL THEN
        RAISE EXCEPTION 'type kalix.npi is still used by %', users
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'Release 1.1 replaces kalix.npi with the type npi of the extension kalix_npi, and the update rewrites no table of yours.',
                  HINT = coalesce('Convert the columns first, then run ALTER EXTENSION kalix_accounts UPDATE again: ' || commands,
                                  'Drop those objects or define them over npi, then run ALTER EXTENSION kalix_accounts UPDATE again.');
    END IF;
    EXECUTE pg_catalog.format('ALTER TABLE kalix.account_npis ALTER COLUMN npi TYPE %I.npi USING npi::pg_catalog.int8::%I.npi',
                              npi_schema, npi_schema);
END
$$;

DROP FUNCTION kalix.add_npi(uuid, kalix.npi, text, boolean);
DROP FUNCTION kalix.remove_npi(uuid, kalix.npi);
DROP FUNCTION kalix.primary_npi(uuid);
DROP AGGREGATE kalix.min(kalix.npi);
DROP AGGREGATE kalix.max(kalix.npi);
DROP OPERATOR FAMILY kalix.npi_ops USING btree;
DROP OPERATOR FAMILY kalix.npi_hash_ops USING hash;
DROP OPERATOR kalix.= (kalix.npi, kalix.npi);
DROP OPERATOR kalix.<> (kalix.npi, kalix.npi);
DROP OPERATOR kalix.< (kalix.npi, kalix.npi);
DROP OPERATOR kalix.<= (kalix.npi, kalix.npi);
DROP OPERATOR kalix.> (kalix.npi, kalix.npi);
DROP OPERATOR kalix.>= (kalix.npi, kalix.npi);
DROP CAST (text AS kalix.npi);
DROP CAST (kalix.npi AS text);
DROP CAST (bigint AS kalix.npi);
DROP CAST (kalix.npi AS bigint);
DROP FUNCTION kalix.npi(bigint);
DROP FUNCTION kalix.npi_is_valid(text);
DROP FUNCTION kalix.npi_eq(kalix.npi, kalix.npi);
DROP FUNCTION kalix.npi_ne(kalix.npi, kalix.npi);
DROP FUNCTION kalix.npi_lt(kalix.npi, kalix.npi);
DROP FUNCTION kalix.npi_le(kalix.npi, kalix.npi);
DROP FUNCTION kalix.npi_gt(kalix.npi, kalix.npi);
DROP FUNCTION kalix.npi_ge(kalix.npi, kalix.npi);
DROP FUNCTION kalix.npi_cmp(kalix.npi, kalix.npi);
DROP FUNCTION kalix.npi_sortsupport(internal);
DROP FUNCTION kalix.npi_hash(kalix.npi);
DROP FUNCTION kalix.npi_hash_extended(kalix.npi, bigint);
DROP FUNCTION kalix.npi_smaller(kalix.npi, kalix.npi);
DROP FUNCTION kalix.npi_larger(kalix.npi, kalix.npi);
-- The type and its I/O functions depend on each other: one drop takes the
-- four with it (nothing else is left that uses them; checked above).
DROP TYPE kalix.npi CASCADE;

-- The NPI functions, now over npi.
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

-- A login is bound to its database role by OID, not by name (SPEC §3): a
-- role that takes the name (re-created after DROP ROLE, or another role
-- renamed to it) is not the login, and the role itself keeps the login when
-- renamed.  regrole prints the name, pg_dump dumps it by name and a
-- restore resolves it again.  A name that is no longer a role loses its
-- binding here, as it no longer had a role.  create_login stores the OID.
ALTER TABLE kalix.logins
    ALTER COLUMN db_role TYPE pg_catalog.regrole
    USING pg_catalog.to_regrole(pg_catalog.quote_ident(db_role));
COMMENT ON COLUMN kalix.logins.db_role IS 'the database role that is this login, bound by its OID: renamed, it stays this login; another role that takes its name (re-created after DROP ROLE, or renamed to it) is not';

-- The team functions move to C (src/members.c): the plpgsql bodies are
-- replaced, and the internal helpers only they used go.
CREATE OR REPLACE FUNCTION kalix.add_member(account uuid, login uuid, role kalix.account_role DEFAULT 'member')
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_add_member';

CREATE OR REPLACE FUNCTION kalix.set_member_role(account uuid, login uuid, role kalix.account_role)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_set_member_role';

CREATE OR REPLACE FUNCTION kalix.remove_member(account uuid, login uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_remove_member';

CREATE OR REPLACE FUNCTION kalix.copy_users(source uuid, target uuid)
RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_copy_users';

DROP FUNCTION kalix.check_grantable(uuid, kalix.account_role, kalix.account_role);
DROP FUNCTION kalix.lock_membership(uuid, uuid);
DROP FUNCTION kalix.keep_an_owner(uuid, uuid);

-- Logins, accounts and the hierarchy move to C (src/accounts.c, src/tree.c).
CREATE OR REPLACE FUNCTION kalix.create_login(email text, display_name text DEFAULT NULL, db_role name DEFAULT NULL)
RETURNS uuid
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_create_login';

CREATE OR REPLACE FUNCTION kalix.my_accounts()
RETURNS TABLE (account_id uuid, name text, role kalix.account_role, parent_id uuid, is_current boolean)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_my_accounts';

CREATE OR REPLACE FUNCTION kalix.create_account(name text, child boolean DEFAULT false, copy_users boolean DEFAULT false)
RETURNS uuid
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_create_account';

CREATE OR REPLACE FUNCTION kalix.update_account(account uuid, name text DEFAULT NULL, settings jsonb DEFAULT NULL,
                                     branding jsonb DEFAULT NULL)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_update_account';

CREATE OR REPLACE FUNCTION kalix.archive_account(account uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_archive_account';

CREATE OR REPLACE FUNCTION kalix.link_child(child uuid, parent uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_link_child';

CREATE OR REPLACE FUNCTION kalix.unlink_child(child uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_unlink_child';

-- Their plpgsql helpers go, and with them the database-wide hierarchy lock:
-- a hierarchy change now locks the root rows of the trees it changes.
DROP FUNCTION kalix.require_admin(uuid, text, boolean);
DROP FUNCTION kalix.lock_hierarchy();
DROP FUNCTION kalix.locked_role(uuid);
DROP FUNCTION kalix.lineage_fresh(uuid, uuid);
DROP TABLE kalix.hierarchy_lock;

-- NPI administration moves to C (src/account_npis.c), with the one access
-- check of src/access.c; its helper and require_login, which nothing uses
-- any more, go.
CREATE OR REPLACE FUNCTION kalix.add_npi(account uuid, npi npi, label text DEFAULT NULL, is_primary boolean DEFAULT false)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_add_npi';

CREATE OR REPLACE FUNCTION kalix.remove_npi(account uuid, npi npi)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_remove_npi';

CREATE OR REPLACE FUNCTION kalix.primary_npi(account uuid DEFAULT NULL) RETURNS npi
LANGUAGE C STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_primary_npi';

DROP FUNCTION kalix.check_npi_admin(uuid);
DROP FUNCTION kalix.require_login();

-- The team lifecycle (new in 1.1): kalix.invitations and the hash table of
-- their tokens, invite/accept_invitation/revoke_invitation, update_login,
-- unarchive_account and billing_summary, exactly as the install script has them.

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

CREATE TABLE kalix.invitation_tokens (
    invitation_id uuid PRIMARY KEY,
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
COMMENT ON FUNCTION kalix.write_account() IS 'internal: the current account, for the write check of isolated tables; raises "no current account" when none';

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
COMMENT ON FUNCTION kalix.isolate_new_partitions() IS 'internal: event trigger: isolates new and attached partitions of isolated tables';
CREATE EVENT TRIGGER kalix_isolate_new_partitions ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION kalix.isolate_new_partitions();

CREATE FUNCTION kalix.guard_isolation_ddl() RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'kalix_guard_isolation_ddl';
COMMENT ON FUNCTION kalix.guard_isolation_ddl() IS 'internal: event trigger: refuses policy and row-level security changes on isolated tables outside kalix.enable_isolation and kalix.disable_isolation';
CREATE EVENT TRIGGER kalix_guard_isolation_ddl ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'CREATE POLICY', 'ALTER POLICY', 'DROP POLICY')
    EXECUTE FUNCTION kalix.guard_isolation_ddl();

CREATE OR REPLACE FUNCTION kalix.lint()
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

-- The foreign keys between the extension's tables become constraint
-- triggers of the same names, so that pg_restore -j can load the tables in
-- any order (see "References between the extension's tables" in
-- kalix_accounts--1.1.sql).
ALTER TABLE kalix.accounts DROP CONSTRAINT accounts_parent_id_fkey,
    DROP CONSTRAINT accounts_created_by_fkey;
ALTER TABLE kalix.memberships DROP CONSTRAINT memberships_account_id_fkey,
    DROP CONSTRAINT memberships_login_id_fkey;
ALTER TABLE kalix.account_npis DROP CONSTRAINT account_npis_account_id_fkey;

-- The name CHECK of kalix.accounts calls the C rule of create_account
-- instead of an expression of five calls and three operators, which the
-- executor parsed again at every INSERT and UPDATE of the table.
CREATE FUNCTION kalix.account_name_ok(name text) RETURNS boolean
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'kalix_account_name_ok';
COMMENT ON FUNCTION kalix.account_name_ok(text) IS 'internal: the CHECK of kalix.accounts.name: trimmed of white space, 1 to 200 characters (the rule of create_account and update_account)';
ALTER TABLE kalix.accounts DROP CONSTRAINT accounts_name_check,
    ADD CONSTRAINT accounts_name_check CHECK (kalix.account_name_ok(name));
-- A large audit detail (copy_users of 1,000 members: ~70 kB) is stored out
-- of line uncompressed: pglz took an eighth of such a copy.
ALTER TABLE kalix.audit_log ALTER COLUMN detail SET STORAGE EXTERNAL;

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

CREATE CONSTRAINT TRIGGER account_npis_account_id_fkey
    AFTER INSERT OR UPDATE ON kalix.account_npis
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_check('account_id', 'kalix.accounts', 'id');
CREATE CONSTRAINT TRIGGER account_npis_account_id_fkey_keep
    AFTER UPDATE OF id OR DELETE ON kalix.accounts
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.account_npis', 'account_id', 'account_npis_account_id_fkey');
CREATE TRIGGER account_npis_account_id_fkey_truncate
    AFTER TRUNCATE ON kalix.accounts
    FOR EACH STATEMENT EXECUTE FUNCTION kalix.reference_keep('id', 'kalix.account_npis', 'account_id', 'account_npis_account_id_fkey');

-- The policies of the extension's tables compare a key column with an array
-- of what the current login may see, so that they plan as index conditions
-- and hold no subquery; they replace 1.0's per-row kalix.member_role() calls
-- and the logins policy's EXISTS.
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

ALTER POLICY accounts_of_member ON kalix.accounts
    USING (id OPERATOR(pg_catalog.=) ANY (kalix.member_accounts()));
ALTER POLICY memberships_of_member ON kalix.memberships
    USING (account_id OPERATOR(pg_catalog.=) ANY (kalix.member_accounts()));
ALTER POLICY logins_self_and_team ON kalix.logins
    USING (id OPERATOR(pg_catalog.=) ANY (kalix.team_logins()));
ALTER POLICY audit_log_of_admin ON kalix.audit_log
    USING (account_id OPERATOR(pg_catalog.=) ANY (kalix.admin_accounts()));
ALTER POLICY account_npis_of_member ON kalix.account_npis
    USING (account_id OPERATOR(pg_catalog.=) ANY (kalix.member_accounts()));

-- A security barrier keeps functions in a caller's WHERE clause from seeing
-- the rows of accounts the caller does not belong to.  Ancestors the caller
-- is not a member of appear in path as "...", never by name.
CREATE OR REPLACE VIEW kalix.account_tree WITH (security_barrier) AS
    SELECT a.id AS account_id, a.name, a.parent_id,
           pg_catalog.cardinality(kalix.lineage(a.id)) OPERATOR(pg_catalog.-) 1 AS depth,
           (SELECT pg_catalog.string_agg(CASE WHEN kalix.member_role(p.id) IS NULL THEN '...'
                                              ELSE p.name END,
                                         ' / ' ORDER BY l.ord DESC)
            FROM pg_catalog.unnest(kalix.lineage(a.id)) WITH ORDINALITY AS l(id, ord)
            JOIN kalix.accounts p ON p.id OPERATOR(pg_catalog.=) l.id) AS path
    FROM kalix.accounts a
    WHERE a.id OPERATOR(pg_catalog.=) ANY (kalix.member_accounts()) AND a.archived_at IS NULL;

-- The invitations' references (the tables come with the team lifecycle above;
-- the reference triggers' functions with the section just before).
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

-- The last plpgsql helpers go: every function that called them is C now.
-- require_argument(anyelement, text) in particular: a planted overload with
-- a more specific signature could have out-matched it (CVE-2022-2625 class).
DROP FUNCTION kalix.write_audit(text, uuid, jsonb);
DROP FUNCTION kalix.require_argument(anyelement, text);

-- Targeted cache invalidation (src/invalidate.c): the statement triggers,
-- which made every backend drop its whole cache and re-plan every statement
-- naming these tables at each commit, become row triggers that name the
-- keys each row changed; TRUNCATE keeps a statement trigger.
COMMENT ON FUNCTION kalix.cache_invalidate() IS 'internal: row trigger: invalidates in every backend''s kalix cache, at commit, the keys a row names (statement trigger: the whole cache)';
DROP TRIGGER logins_cache_invalidate ON kalix.logins;
DROP TRIGGER accounts_cache_invalidate ON kalix.accounts;
DROP TRIGGER memberships_cache_invalidate ON kalix.memberships;
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

-- A trusted application connection's identity per transaction, without
-- writing a setting (issue 14).
CREATE FUNCTION kalix.act_as(login uuid, account uuid DEFAULT NULL) RETURNS uuid
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'kalix_act_as';
COMMENT ON FUNCTION kalix.act_as(uuid, uuid) IS 'for this transaction only: the current login becomes login and the current account account (checked); for superusers and roles with SET on kalix.current_login';

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

-- The internal functions 1.0 commented without saying so (the install script
-- says it where it creates them).
COMMENT ON FUNCTION kalix.member_role(uuid) IS 'internal: the current login''s role in an account, NULL when not a member';
COMMENT ON FUNCTION kalix.forget_dropped_tables() IS 'internal: event trigger: unregisters dropped isolated tables';

COMMENT ON EVENT TRIGGER kalix_forget_dropped_tables IS 'internal: runs kalix.forget_dropped_tables() at sql_drop';
COMMENT ON EVENT TRIGGER kalix_isolate_new_partitions IS 'internal: runs kalix.isolate_new_partitions() at ddl_command_end';
COMMENT ON EVENT TRIGGER kalix_guard_isolation_ddl IS 'internal: runs kalix.guard_isolation_ddl() at ddl_command_start';

------------------------------------------------------------------------------
-- memberships_login_id_idx covers (login_id, account_id)
------------------------------------------------------------------------------

-- 1.0 indexed login_id alone, so a lookup of one membership could be planned
-- on it and walk every membership of the login (the write path's locked role
-- check did, at 100,000 accounts); with both columns either index is one probe.
DROP INDEX kalix.memberships_login_id_idx;
CREATE INDEX memberships_login_id_idx ON kalix.memberships (login_id, account_id);
