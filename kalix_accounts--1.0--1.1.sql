/* kalix_accounts--1.0--1.1.sql */

\echo Use "ALTER EXTENSION kalix_accounts UPDATE TO '1.1'" to load this file. \quit

-- Release 1.1: the write path in C, the companion extension kalix_npi, and
-- the security fixes of the 1.1 review.  Each change below names what it
-- replaces; after it the installation equals a fresh 1.1 install
-- (test/upgrade.sh compares them object by object).

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
CREATE OR REPLACE FUNCTION kalix.create_login(email text, display_name text DEFAULT NULL, db_role name DEFAULT NULL)
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
