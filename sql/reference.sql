--
-- References between the extension's tables: constraint triggers that
-- stand for foreign keys (so that pg_restore -j may load the tables in any
-- order), with a foreign key's errors.  The file makes every row it reads
-- and removes them at its end, so it stands alone.
--
\set VERBOSITY default
INSERT INTO kalix.logins (id, email) VALUES
    ('f0000000-0000-4000-8000-000000000001', 'owner@reference.test');
INSERT INTO kalix.accounts (id, name, created_by) VALUES
    ('f1000000-0000-4000-8000-000000000001', 'Reference Clinic', 'f0000000-0000-4000-8000-000000000001');
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-8000-000000000001', 'owner');
-- An account with an NPI, so that account_npis, too, references rows.
INSERT INTO kalix.accounts (id, name, created_by) VALUES
    ('f1000001-0000-4000-8000-000000000001', 'Reference Billing', 'f0000000-0000-4000-8000-000000000001');
INSERT INTO kalix.account_npis (account_id, npi, is_primary) VALUES
    ('f1000001-0000-4000-8000-000000000001', '1245319599', true);

-- No foreign key is left between the extension's tables (pg_dump orders
-- their data by those, which pg_restore -j ignores); a trigger of the same
-- name stands for each.
SELECT conname, contype, conrelid::regclass
FROM pg_constraint
WHERE conrelid::regclass::text LIKE 'kalix.%' AND contype IN ('f', 't')
ORDER BY conname, conrelid::regclass::text;

--
-- The referencing side: a key that is not there is refused.
--
INSERT INTO kalix.memberships (account_id, login_id) VALUES
    ('f1000000-0000-4000-8000-0000000000ff', 'f0000000-0000-4000-8000-000000000001');
INSERT INTO kalix.memberships (account_id, login_id) VALUES
    ('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-8000-0000000000ff');
UPDATE kalix.memberships SET login_id = 'f0000000-0000-4000-8000-0000000000ff'
WHERE account_id = 'f1000000-0000-4000-8000-000000000001';
INSERT INTO kalix.accounts (name, created_by) VALUES
    ('Nobody''s', 'f0000000-0000-4000-8000-0000000000ff');
INSERT INTO kalix.account_npis (account_id, npi) VALUES
    ('f1000000-0000-4000-8000-0000000000ff', '1234567893');
-- The SQLSTATE and the constraint name reach the client as a foreign key's do.
DO $$
BEGIN
    INSERT INTO kalix.memberships (account_id, login_id) VALUES
        ('f1000000-0000-4000-8000-0000000000ff', 'f0000000-0000-4000-8000-000000000001');
EXCEPTION WHEN foreign_key_violation THEN
    DECLARE
        c text;
        t text;
    BEGIN
        GET STACKED DIAGNOSTICS c = CONSTRAINT_NAME, t = TABLE_NAME;
        RAISE NOTICE 'foreign_key_violation: constraint %, table %', c, t;
    END;
END
$$;

-- A parent is checked at commit: children may be stored before their parents
-- in one transaction, and a parent that never comes is refused then.
BEGIN;
INSERT INTO kalix.accounts (id, name, parent_id) VALUES
    ('f1000000-0000-4000-8000-000000000003', 'Grandchild', 'f1000000-0000-4000-8000-000000000002');
INSERT INTO kalix.accounts (id, name, parent_id) VALUES
    ('f1000000-0000-4000-8000-000000000002', 'Child', 'f1000000-0000-4000-8000-000000000001');
COMMIT;
SELECT name, parent_id FROM kalix.accounts WHERE id::text LIKE 'f1000000-%' ORDER BY name;
BEGIN;
INSERT INTO kalix.accounts (id, name, parent_id) VALUES
    ('f1000000-0000-4000-8000-000000000004', 'Orphan', 'f1000000-0000-4000-8000-0000000000ff');
COMMIT;
-- A row replaced later in the same transaction is checked as it ends.
BEGIN;
INSERT INTO kalix.accounts (id, name, parent_id) VALUES
    ('f1000000-0000-4000-8000-000000000004', 'Adopted', 'f1000000-0000-4000-8000-0000000000ff');
UPDATE kalix.accounts SET parent_id = 'f1000000-0000-4000-8000-000000000001'
WHERE id = 'f1000000-0000-4000-8000-000000000004';
COMMIT;
SELECT name, parent_id FROM kalix.accounts WHERE id = 'f1000000-0000-4000-8000-000000000004';

--
-- The referenced side: a key still referenced is neither deleted, nor
-- changed, nor truncated away.
--
DELETE FROM kalix.logins WHERE id = 'f0000000-0000-4000-8000-000000000001';
UPDATE kalix.logins SET id = 'f0000000-0000-4000-8000-000000000002'
WHERE id = 'f0000000-0000-4000-8000-000000000001';
DELETE FROM kalix.accounts WHERE id = 'f1000000-0000-4000-8000-000000000001';
BEGIN;
DELETE FROM kalix.memberships WHERE account_id = 'f1000000-0000-4000-8000-000000000002';
DELETE FROM kalix.accounts WHERE id = 'f1000000-0000-4000-8000-000000000002';
COMMIT;
TRUNCATE kalix.logins;
TRUNCATE kalix.accounts;
-- Changing other columns of a referenced row is not a change of its key.
UPDATE kalix.logins SET display_name = 'Owner' WHERE id = 'f0000000-0000-4000-8000-000000000001';
UPDATE kalix.accounts SET name = 'Reference Clinic' WHERE id = 'f1000000-0000-4000-8000-000000000001';

--
-- A referenced table with no row at all accepts the referencing rows: that
-- is what pg_restore -j sees while the referenced table's data has not
-- committed yet.  (Rolled back: the tables are emptied only here.)
--
BEGIN;
TRUNCATE kalix.invitation_tokens, kalix.invitations, kalix.account_npis, kalix.memberships, kalix.accounts, kalix.logins;
INSERT INTO kalix.memberships (account_id, login_id) VALUES
    ('f1000000-0000-4000-8000-0000000000ff', 'f0000000-0000-4000-8000-0000000000ff');
INSERT INTO kalix.accounts (id, name, created_by) VALUES
    ('f1000000-0000-4000-8000-0000000000ff', 'Restored', 'f0000000-0000-4000-8000-0000000000ff');
-- Once a referenced row is there, the check applies again.
INSERT INTO kalix.memberships (account_id, login_id) VALUES
    ('f1000000-0000-4000-8000-0000000000fe', 'f0000000-0000-4000-8000-0000000000ff');
ROLLBACK;

--
-- The triggers read their tables as the owner, past row-level security, so
-- they serve the extension's own tables only: an ordinary role may not use
-- them (an existence oracle on any table), and on a table outside schema
-- kalix they refuse.
--
CREATE TABLE public.ref_probe (account uuid);
ALTER TABLE public.ref_probe OWNER TO fixture_mallory;
SET ROLE fixture_mallory;
CREATE CONSTRAINT TRIGGER ref_probe_check AFTER INSERT ON public.ref_probe
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_check('account', 'kalix.accounts', 'id');
RESET ROLE;
CREATE CONSTRAINT TRIGGER ref_probe_check AFTER INSERT ON public.ref_probe
    FOR EACH ROW EXECUTE FUNCTION kalix.reference_check('account', 'kalix.accounts', 'id');
INSERT INTO public.ref_probe VALUES ('f1000000-0000-4000-8000-000000000001');
DROP TABLE public.ref_probe;

--
-- The write path vouches for the keys of its own statements (an account it
-- just inserted, a login or account it holds locked) and skips their checks
-- (src/reference.h); the word ends with that statement and its
-- subtransaction.  Accounts create_account made and a rollback undid are
-- refused afterwards, in a new transaction and after ROLLBACK TO SAVEPOINT.
-- (Terse: the keys are new random ids.)
--
\set VERBOSITY terse
BEGIN;
SET LOCAL kalix.current_login = 'f0000000-0000-4000-8000-000000000001';
SELECT kalix.create_account('Reference Undone') AS undone \gset
ROLLBACK;
INSERT INTO kalix.memberships (account_id, login_id) VALUES
    (:'undone', 'f0000000-0000-4000-8000-000000000001');
BEGIN;
SET LOCAL kalix.current_login = 'f0000000-0000-4000-8000-000000000001';
SAVEPOINT before_create;
SELECT kalix.create_account('Reference Undone') AS undone \gset
ROLLBACK TO SAVEPOINT before_create;
INSERT INTO kalix.memberships (account_id, login_id) VALUES
    (:'undone', 'f0000000-0000-4000-8000-000000000001');
ROLLBACK;
-- The word outlives neither an error in the vouched statement nor its
-- subtransaction: the owner membership's INSERT fails (a superuser's trigger
-- raises), the block's subtransaction is rolled back with the account, and a
-- membership naming that account is then refused in the enclosing one.
CREATE FUNCTION public.ref_fail_owner() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'owner of %', NEW.account_id; END $$;
CREATE TRIGGER ref_fail_owner BEFORE INSERT ON kalix.memberships
    FOR EACH ROW WHEN (NEW.role = 'owner') EXECUTE FUNCTION public.ref_fail_owner();
BEGIN;
SET LOCAL kalix.current_login = 'f0000000-0000-4000-8000-000000000001';
DO $$
DECLARE
    undone uuid;
BEGIN
    BEGIN
        PERFORM kalix.create_account('Reference Failed');
    EXCEPTION WHEN raise_exception THEN
        undone := substring(SQLERRM FROM 'owner of (.*)')::uuid;
    END;
    INSERT INTO kalix.memberships (account_id, login_id)
    VALUES (undone, 'f0000000-0000-4000-8000-000000000001');
END
$$;
ROLLBACK;
DROP TRIGGER ref_fail_owner ON kalix.memberships;
DROP FUNCTION public.ref_fail_owner();
-- The parent that create_account(child => true) holds (the caller's
-- membership in it locked) is vouched for the new child's reference alone,
-- not for every row its transaction stores: a lock does not hold a row
-- against its own transaction.  Once this one has dropped the child, the
-- memberships of the parent and the parent, a new membership naming the
-- parent is refused.
BEGIN;
SET LOCAL kalix.current_login = 'f0000000-0000-4000-8000-000000000001';
SET LOCAL kalix.current_account = 'f1000000-0000-4000-8000-000000000001';
SELECT kalix.create_account('Reference Child', child => true) AS child \gset
DELETE FROM kalix.memberships WHERE account_id = :'child';
DELETE FROM kalix.accounts WHERE id = :'child';
DELETE FROM kalix.memberships WHERE account_id = 'f1000000-0000-4000-8000-000000000001';
DELETE FROM kalix.accounts WHERE id = 'f1000000-0000-4000-8000-000000000001';
INSERT INTO kalix.memberships (account_id, login_id) VALUES
    ('f1000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-8000-000000000001');
ROLLBACK;
\set VERBOSITY default

--
-- Clean up
--
DELETE FROM kalix.account_npis WHERE account_id::text LIKE 'f100000_-%';
DELETE FROM kalix.memberships WHERE account_id::text LIKE 'f1000000-%';
DELETE FROM kalix.accounts WHERE id::text LIKE 'f100000_-%';
DELETE FROM kalix.logins WHERE id::text LIKE 'f0000000-%';
