/* kalix_accounts--1.0--1.1.sql */

\echo Use "ALTER EXTENSION kalix_accounts UPDATE TO '1.1'" to load this file. \quit

-- Release 1.1: the write path in C, the companion extension kalix_npi, and
-- the security fixes of the 1.1 review.  Each change below names what it
-- replaces; after it the installation equals a fresh 1.1 install
-- (test/upgrade.sh compares them object by object).

-- The foreign keys between the extension's tables become constraint
-- triggers of the same names, so that pg_restore -j can load the tables in
-- any order (see "References between the extension's tables" in
-- kalix_accounts--1.1.sql).
ALTER TABLE kalix.accounts DROP CONSTRAINT accounts_parent_id_fkey,
    DROP CONSTRAINT accounts_created_by_fkey;
ALTER TABLE kalix.memberships DROP CONSTRAINT memberships_account_id_fkey,
    DROP CONSTRAINT memberships_login_id_fkey;
ALTER TABLE kalix.account_npis DROP CONSTRAINT account_npis_account_id_fkey;

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
COMMENT ON FUNCTION kalix.member_accounts() IS 'the accounts the current login is a member of, archived ones too; ''{}'' without a login';

CREATE FUNCTION kalix.admin_accounts() RETURNS uuid[]
    LANGUAGE C STABLE PARALLEL SAFE COST 1000
    AS 'MODULE_PATHNAME', 'kalix_admin_accounts';
COMMENT ON FUNCTION kalix.admin_accounts() IS 'the accounts where the current login is an admin or owner; ''{}'' without a login';

CREATE FUNCTION kalix.team_logins() RETURNS uuid[]
    LANGUAGE C STABLE PARALLEL SAFE COST 1000
    AS 'MODULE_PATHNAME', 'kalix_team_logins';
COMMENT ON FUNCTION kalix.team_logins() IS 'the current login and every login it shares an account with; ''{}'' without a login';

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
