-- copy_users: how the copy stores its rows (src/members.c).  Without the
-- table's own row triggers, which it replaces with one lock of the copied
-- logins and its own invalidation messages; through the INSERT ... ON
-- CONFLICT statement, with every trigger, when the table carries a row
-- trigger it does not know.  Either way the same rows and the same audit row.
-- The races with a superuser's DML are in specs/copy_users_race.spec.
SET client_min_messages = warning;
\set SHOW_CONTEXT never

INSERT INTO kalix.logins (id, email) VALUES
    ('feed0003-0000-4000-8000-000000000001', 'copy-owner@example.com');
INSERT INTO kalix.logins (id, email)
    SELECT ('feed0003-0000-4000-8000-1' || lpad(i::text, 11, '0'))::uuid, 'copy-staff' || i || '@example.com'
    FROM generate_series(1, 6) i;
INSERT INTO kalix.accounts (id, name) VALUES
    ('acc00003-0000-4000-8000-000000000001', 'Copy Source'),
    ('acc00003-0000-4000-8000-000000000002', 'Copy Direct'),
    ('acc00003-0000-4000-8000-000000000003', 'Copy Through Triggers');
INSERT INTO kalix.memberships (account_id, login_id, role)
    SELECT a.id, 'feed0003-0000-4000-8000-000000000001', 'owner'
    FROM kalix.accounts a WHERE a.id::text LIKE 'acc00003-%';
INSERT INTO kalix.memberships (account_id, login_id, role)
    SELECT 'acc00003-0000-4000-8000-000000000001', l.id,
           (ARRAY['member', 'admin', 'owner'])[1 + right(l.id::text, 1)::int % 3]::kalix.account_role
    FROM kalix.logins l WHERE l.email LIKE 'copy-staff%';
-- staff 6 is in the direct target already, as a member: it stays so
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('acc00003-0000-4000-8000-000000000002', 'feed0003-0000-4000-8000-100000000006', 'member');

\set source '''acc00003-0000-4000-8000-000000000001'''
\set direct '''acc00003-0000-4000-8000-000000000002'''
\set triggered '''acc00003-0000-4000-8000-000000000003'''
\set staff1 '''feed0003-0000-4000-8000-100000000001'''

-- How often the reference-check and cache trigger functions ran since the
-- last call, in this transaction (the counts of earlier transactions that
-- the backend has not reported yet are included, hence the difference), and
-- the memberships and audit detail of an account.
CREATE TABLE pg_temp.calls_mark (reference_checks bigint, cache_invalidations bigint);
INSERT INTO pg_temp.calls_mark VALUES (0, 0);
CREATE FUNCTION pg_temp.trigger_calls()
RETURNS TABLE (reference_checks bigint, cache_invalidations bigint)
LANGUAGE plpgsql AS $$
DECLARE
    r bigint := coalesce(pg_stat_get_xact_function_calls('kalix.reference_check()'::regprocedure), 0);
    c bigint := coalesce(pg_stat_get_xact_function_calls('kalix.cache_invalidate()'::regprocedure), 0);
BEGIN
    RETURN QUERY SELECT r - m.reference_checks, c - m.cache_invalidations FROM pg_temp.calls_mark m;
    UPDATE pg_temp.calls_mark SET reference_checks = r, cache_invalidations = c;
END
$$;
CREATE FUNCTION pg_temp.copied(account uuid)
RETURNS TABLE (email text, role kalix.account_role)
LANGUAGE sql AS $$
    SELECT l.email, m.role FROM kalix.memberships m JOIN kalix.logins l ON l.id = m.login_id
    WHERE m.account_id = account ORDER BY l.email;
$$;
CREATE FUNCTION pg_temp.audit_detail(account uuid)
RETURNS TABLE (login_id uuid, detail jsonb)
LANGUAGE sql AS $$
    SELECT a.login_id, a.detail - 'source_id' || jsonb_build_object('from_source', a.detail->>'source_id' = 'acc00003-0000-4000-8000-000000000001')
    FROM kalix.audit_log a WHERE a.account_id = account AND a.action = 'copy_users' ORDER BY a.id;
$$;

-- staff 1 asks for the direct target before the copy: refused, and what the
-- backend cache knows of staff 1's memberships is now filled in
SET kalix.current_login = :staff1;
SELECT kalix.switch_account(:direct);

--
-- The direct copy: no reference check or cache trigger runs for its rows.
--
SET kalix.current_login = 'feed0003-0000-4000-8000-000000000001';
BEGIN;
SET LOCAL track_functions = 'all';
SELECT FROM pg_temp.trigger_calls();
SELECT kalix.copy_users(:source, :direct);
SELECT * FROM pg_temp.trigger_calls();
COMMIT;
SELECT * FROM pg_temp.copied(:direct);
SELECT * FROM pg_temp.audit_detail(:direct);
-- the copy sent staff 1's invalidation itself: the cache knows the new membership
SET kalix.current_login = :staff1;
SELECT kalix.switch_account(:direct) IS NOT NULL AS switched;
RESET kalix.current_account;
-- a second copy adds nothing and writes no audit row
SET kalix.current_login = 'feed0003-0000-4000-8000-000000000001';
SELECT kalix.copy_users(:source, :direct);
SELECT count(*) AS audit_rows FROM kalix.audit_log WHERE account_id = :direct;

--
-- A row trigger the copy does not know: it runs, and so do the table's own.
--
CREATE TABLE pg_temp.seen (login_id uuid);
CREATE FUNCTION pg_temp.note_membership() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pg_temp.seen VALUES (NEW.login_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER memberships_noted AFTER INSERT ON kalix.memberships
    FOR EACH ROW EXECUTE FUNCTION pg_temp.note_membership();
BEGIN;
SET LOCAL track_functions = 'all';
SELECT FROM pg_temp.trigger_calls();
SELECT kalix.copy_users(:source, :triggered);
SELECT * FROM pg_temp.trigger_calls();
COMMIT;
DROP TRIGGER memberships_noted ON kalix.memberships;
SELECT count(*) AS noted FROM pg_temp.seen;
-- the same memberships and audit detail as the direct copy (staff 6 copied too)
SELECT * FROM pg_temp.copied(:triggered);
SELECT * FROM pg_temp.audit_detail(:triggered);

--
-- create_account(copy_users => true) takes the direct copy as well.
--
SET kalix.current_account = :source;
BEGIN;
SET LOCAL track_functions = 'all';
SELECT FROM pg_temp.trigger_calls();
SELECT kalix.create_account('Copy Created', copy_users => true) AS created \gset
-- the owner's membership (two reference checks, one message) and the account's
-- created_by (one reference check, one message): none for the copied rows
SELECT * FROM pg_temp.trigger_calls();
COMMIT;
SELECT * FROM pg_temp.copied(:'created');
RESET kalix.current_account;

-- Clean up.
RESET kalix.current_login;
DELETE FROM kalix.audit_log WHERE account_id::text LIKE 'acc00003-%' OR account_id = :'created';
DELETE FROM kalix.memberships WHERE account_id::text LIKE 'acc00003-%' OR account_id = :'created';
DELETE FROM kalix.accounts WHERE id::text LIKE 'acc00003-%' OR id = :'created';
DELETE FROM kalix.logins WHERE id::text LIKE 'feed0003-%';
