-- team_lifecycle: invitations, login updates, unarchiving, the billing summary.
-- Fixtures are inserted directly, with fixed ids, so that error texts are stable.
-- Tokens are random: they are kept in psql variables and never printed.
SET client_min_messages = warning;
\set SHOW_CONTEXT never

-- The roles are the fixture's (sql/fixture.sql): Olga is fixture_alice, Nora
-- fixture_bob; fixture_app, the application's role, may set
-- kalix.current_login; fixture_nobody is bound to no login.
GRANT SET ON PARAMETER kalix.current_login TO fixture_app;
INSERT INTO kalix.logins (id, email, display_name, db_role) VALUES
    ('feed0015-0000-4000-8000-000000000001', 'life-owner@example.com', 'Olga Owner', 'fixture_alice'),
    ('feed0015-0000-4000-8000-000000000002', 'life-admin@example.com', 'Adam Admin', NULL),
    ('feed0015-0000-4000-8000-000000000003', 'life-member@example.com', 'Mia Member', NULL),
    ('feed0015-0000-4000-8000-000000000004', 'life-outsider@example.com', 'Otto Outsider', NULL),
    ('feed0015-0000-4000-8000-000000000005', 'Nora.New@Example.com', 'Nora New', 'fixture_bob'),
    ('feed0015-0000-4000-8000-000000000006', 'life-branch-admin@example.com', 'Bea Branch', NULL);
INSERT INTO kalix.accounts (id, name, parent_id, archived_at) VALUES
    ('acc00015-0000-4000-8000-000000000001', 'Life Clinic', NULL, NULL),
    ('acc00015-0000-4000-8000-000000000002', 'Life Downtown', 'acc00015-0000-4000-8000-000000000001', NULL),
    ('acc00015-0000-4000-8000-000000000003', 'Life Pediatrics', 'acc00015-0000-4000-8000-000000000002', NULL),
    ('acc00015-0000-4000-8000-000000000004', 'Life Closed Branch', 'acc00015-0000-4000-8000-000000000001', now()),
    ('acc00015-0000-4000-8000-000000000005', 'Life Closed Wing', 'acc00015-0000-4000-8000-000000000004', now());
INSERT INTO kalix.memberships (account_id, login_id, role)
    SELECT a.id::uuid, l.id::uuid, r.role::kalix.account_role
    FROM (VALUES ('1', '1', 'owner'), ('1', '2', 'admin'), ('1', '3', 'member'),
                 ('2', '1', 'owner'), ('2', '6', 'admin'), ('2', '3', 'member'),
                 ('3', '1', 'owner'),
                 ('4', '1', 'owner'), ('4', '2', 'admin'),
                 ('5', '1', 'owner')) r (account, login, role),
         LATERAL (SELECT 'acc00015-0000-4000-8000-00000000000' || r.account AS id) a,
         LATERAL (SELECT 'feed0015-0000-4000-8000-00000000000' || r.login AS id) l;
INSERT INTO kalix.account_npis (account_id, npi, is_primary) VALUES
    ('acc00015-0000-4000-8000-000000000001', '1234567893', true),
    ('acc00015-0000-4000-8000-000000000002', '1234567893', false),
    ('acc00015-0000-4000-8000-000000000002', '1245319599', true);

\set clinic '''acc00015-0000-4000-8000-000000000001'''
\set downtown '''acc00015-0000-4000-8000-000000000002'''
\set pediatrics '''acc00015-0000-4000-8000-000000000003'''
\set closed '''acc00015-0000-4000-8000-000000000004'''
\set wing '''acc00015-0000-4000-8000-000000000005'''
\set owner '''feed0015-0000-4000-8000-000000000001'''
\set admin '''feed0015-0000-4000-8000-000000000002'''
\set member '''feed0015-0000-4000-8000-000000000003'''
\set outsider '''feed0015-0000-4000-8000-000000000004'''
\set nora '''feed0015-0000-4000-8000-000000000005'''
\set branch_admin '''feed0015-0000-4000-8000-000000000006'''

-- The audit rows written since the previous call (without times and ids).
CREATE TABLE pg_temp.audit_mark AS SELECT coalesce(max(id), 0) AS id FROM kalix.audit_log;
CREATE FUNCTION pg_temp.new_audit()
RETURNS TABLE (action text, account_id uuid, login_id uuid, detail jsonb)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
        SELECT a.action, a.account_id, a.login_id, a.detail - 'invitation_id' FROM kalix.audit_log a
        WHERE a.id > (SELECT m.id FROM pg_temp.audit_mark m) ORDER BY a.id;
    UPDATE pg_temp.audit_mark m SET id = (SELECT coalesce(max(a.id), 0) FROM kalix.audit_log a);
END
$$;
-- The error a call raises: SQLSTATE, message, detail and hint; 'ok' when none.
CREATE FUNCTION pg_temp.failure(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
    msg text;
    detail text;
    hint text;
BEGIN
    BEGIN
        EXECUTE call;
        RETURN 'ok';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
        RETURN format('%s | %s | %s | %s', state, msg, detail, hint);
    END;
END
$$;
-- The members of an account.
CREATE FUNCTION pg_temp.members(account uuid)
RETURNS TABLE (email text, role kalix.account_role)
LANGUAGE sql AS $$
    SELECT l.email, m.role FROM kalix.memberships m JOIN kalix.logins l ON l.id = m.login_id
    WHERE m.account_id = account ORDER BY l.email COLLATE "C";
$$;
SELECT count(*) >= 0 AS marked FROM pg_temp.new_audit();

--
-- invite: happy paths
--
SET kalix.current_login = :admin;
SELECT kalix.invite(:clinic, '  nora.new@example.com ') AS nora_token \gset
-- 32 random bytes as URL-safe base64: 43 characters, no padding
SELECT length(:'nora_token') AS length, :'nora_token' ~ '^[A-Za-z0-9_-]{43}$' AS url_safe;
-- the row keeps the trimmed email, the role, who invited, a week's validity
SELECT email, role, invited_by, expires_at - created_at AS valid_for,
       accepted_at, accepted_by, revoked_at
FROM kalix.invitations WHERE account_id = :clinic;
-- only the SHA-256 of the token is stored, never the token itself
RESET kalix.current_login;
SELECT t.token_hash = sha256(convert_to(:'nora_token', 'UTF8')) AS hash_matches
FROM kalix.invitation_tokens t JOIN kalix.invitations i ON i.id = t.invitation_id
WHERE i.account_id = :clinic;
SELECT count(*) AS rows_holding_the_token
FROM kalix.invitations i WHERE strpos(i::text, :'nora_token') > 0;
SELECT count(*) AS audit_rows_holding_the_token
FROM kalix.audit_log a WHERE strpos(a::text, :'nora_token') > 0;
-- two invitations never share a token
SET kalix.current_login = :owner;
SELECT kalix.invite(:clinic, 'life-outsider@example.com', 'owner', '1 day') AS owner_token \gset
SELECT :'owner_token' <> :'nora_token' AS distinct_tokens;
SELECT kalix.invite(:downtown, 'Nora.NEW@example.com', 'admin') AS downtown_token \gset
SELECT * FROM pg_temp.new_audit();

-- admins of the account read its invitations; members and outsiders none
-- (read as a role that RLS applies to, acting for each login)
SET kalix.current_login = :admin;
SET ROLE fixture_nobody;
SELECT email, role FROM kalix.invitations ORDER BY email COLLATE "C";
RESET ROLE;
SET kalix.current_login = :member;
SET ROLE fixture_nobody;
SELECT count(*) AS seen_by_member FROM kalix.invitations;
RESET ROLE;
SET kalix.current_login = :outsider;
SET ROLE fixture_nobody;
SELECT count(*) AS seen_by_outsider FROM kalix.invitations;
RESET ROLE;
SET kalix.current_login = :branch_admin;
SET ROLE fixture_nobody;
SELECT email, role FROM kalix.invitations ORDER BY email COLLATE "C";
RESET ROLE;

--
-- invite: refusals
--
SET kalix.current_login = :admin;
-- a role above the inviter's, as add_member refuses it
SELECT kalix.invite(:clinic, 'someone@example.com', 'owner');
SELECT kalix.invite(:clinic, NULL);
SELECT kalix.invite(NULL, 'someone@example.com');
SELECT kalix.invite(:clinic, 'someone@example.com', NULL);
SELECT kalix.invite(:clinic, 'someone@example.com', 'member', NULL);
SELECT kalix.invite(:clinic, 'not an email');
SELECT kalix.invite(:clinic, 'two@at@example.com');
SELECT kalix.invite(:clinic, 'someone@example.com', 'member', '0');
SELECT kalix.invite(:clinic, 'someone@example.com', 'member', '-1 day');
-- the archived account
SELECT kalix.invite(:closed, 'someone@example.com');
SET kalix.current_login = :member;
SELECT kalix.invite(:clinic, 'someone@example.com');
SET kalix.current_login = :outsider;
SELECT kalix.invite(:clinic, 'someone@example.com');
RESET kalix.current_login;
SELECT kalix.invite(:clinic, 'someone@example.com');
SELECT * FROM pg_temp.new_audit();

--
-- accept_invitation: someone else's token, then the right login
--
SET kalix.current_login = :outsider;
SELECT kalix.accept_invitation(:'nora_token');
-- the email matches regardless of case; the invited role is given
SET kalix.current_login = :nora;
SELECT kalix.accept_invitation(:'nora_token') = :clinic AS joined_clinic;
SELECT * FROM pg_temp.members(:clinic);
SELECT email, role, accepted_by, accepted_at IS NOT NULL AS accepted
FROM kalix.invitations WHERE email ILIKE 'nora%' ORDER BY account_id;
-- the hash is gone with the open invitation
RESET kalix.current_login;
SELECT count(*) AS hashes_left FROM kalix.invitation_tokens;
SELECT * FROM pg_temp.new_audit();
-- one use
SET kalix.current_login = :nora;
SELECT kalix.accept_invitation(:'nora_token');
-- the new member works in the account at once
SELECT kalix.switch_account(:clinic) = :clinic AS switched;
SELECT kalix.current_account_role();
RESET kalix.current_account;

-- an existing membership is left as it is (the invitation still counts as used)
SET kalix.current_login = :owner;
SELECT kalix.invite(:clinic, 'life-member@example.com', 'admin') AS member_token \gset
SET kalix.current_login = :member;
SELECT kalix.accept_invitation(:'member_token') = :clinic AS accepted;
SELECT * FROM pg_temp.members(:clinic);
SELECT kalix.accept_invitation(:'member_token');
SELECT * FROM pg_temp.new_audit();

-- expired
SET kalix.current_login = :owner;
SELECT kalix.invite(:clinic, 'life-branch-admin@example.com', 'member', '1 microsecond') AS expired_token \gset
SELECT pg_sleep(0.01);
SET kalix.current_login = :branch_admin;
SELECT kalix.accept_invitation(:'expired_token');
-- revoked
SET kalix.current_login = :owner;
SELECT kalix.invite(:clinic, 'life-branch-admin@example.com') AS revoked_token \gset
SELECT kalix.revoke_invitation(id) FROM kalix.invitations
WHERE account_id = :clinic AND email = 'life-branch-admin@example.com' AND expires_at > now();
SET kalix.current_login = :branch_admin;
SELECT kalix.accept_invitation(:'revoked_token');
-- unknown, and no token at all
SELECT kalix.accept_invitation('kdMVDm0Z7tZ0vUVxlPHvVtuHBRWd3bA6N1Ta8XrnJ5Q');
SELECT kalix.accept_invitation('');
SELECT kalix.accept_invitation(NULL);
-- an account archived after the invitation
SET kalix.current_login = :owner;
SELECT kalix.invite(:pediatrics, 'life-branch-admin@example.com') AS archived_token \gset
SELECT kalix.archive_account(:pediatrics);
SET kalix.current_login = :branch_admin;
SELECT kalix.accept_invitation(:'archived_token');
-- no current login
RESET kalix.current_login;
SELECT kalix.accept_invitation(:'downtown_token');

-- Every failure is one and the same error: SQLSTATE, message, detail, hint:
-- used, expired, revoked, someone else's, archived, unknown.
SET kalix.current_login = :branch_admin;
SELECT count(DISTINCT f) AS distinct_errors, min(f) AS error
FROM (VALUES (pg_temp.failure(format('SELECT kalix.accept_invitation(%L)', :'nora_token'))),
             (pg_temp.failure(format('SELECT kalix.accept_invitation(%L)', :'expired_token'))),
             (pg_temp.failure(format('SELECT kalix.accept_invitation(%L)', :'revoked_token'))),
             (pg_temp.failure(format('SELECT kalix.accept_invitation(%L)', :'downtown_token'))),
             (pg_temp.failure(format('SELECT kalix.accept_invitation(%L)', :'archived_token'))),
             (pg_temp.failure('SELECT kalix.accept_invitation(''not-a-token'')'))) v (f);
SELECT count(*) AS memberships_of_bea FROM kalix.memberships WHERE login_id = :branch_admin;
-- unarchived again, the account's open invitation can be used
SET kalix.current_login = :owner;
SELECT kalix.unarchive_account(:pediatrics);
SET kalix.current_login = :branch_admin;
SELECT kalix.accept_invitation(:'archived_token') = :pediatrics AS joined_after_unarchive;
SELECT * FROM pg_temp.new_audit();

--
-- revoke_invitation
--
SET kalix.current_login = :owner;
SELECT kalix.invite(:clinic, 'life-revoke@example.com') AS revoke_me \gset
SELECT id AS revoke_id FROM kalix.invitations WHERE email = 'life-revoke@example.com' \gset
SELECT id AS accepted_id FROM kalix.invitations WHERE email = 'nora.new@example.com' AND account_id = :clinic \gset
SELECT * FROM pg_temp.new_audit();
-- a member may not; outsiders and unknown ids learn nothing
SET kalix.current_login = :member;
SELECT pg_temp.failure(format('SELECT kalix.revoke_invitation(%L)', :'revoke_id')) AS member_revokes;
SET kalix.current_login = :outsider;
SELECT replace(pg_temp.failure(format('SELECT kalix.revoke_invitation(%L)', :'revoke_id')),
               :'revoke_id', '<id>') AS outsider_revokes;
SELECT kalix.revoke_invitation('1b1b1b1b-0000-4000-8000-000000000000');
-- an admin of another account of the tree may not either
SET kalix.current_login = :branch_admin;
SELECT replace(pg_temp.failure(format('SELECT kalix.revoke_invitation(%L)', :'revoke_id')),
               :'revoke_id', '<id>') AS branch_admin_revokes;
SET kalix.current_login = :admin;
SELECT kalix.revoke_invitation(:'revoke_id');
SELECT revoked_at IS NOT NULL AS revoked FROM kalix.invitations WHERE id = :'revoke_id';
SELECT * FROM pg_temp.new_audit();
SELECT replace(pg_temp.failure(format('SELECT kalix.revoke_invitation(%L)', :'revoke_id')),
               :'revoke_id', '<id>') AS revoked_twice;
SELECT replace(pg_temp.failure(format('SELECT kalix.revoke_invitation(%L)', :'accepted_id')),
               :'accepted_id', '<id>') AS revoke_accepted;
SELECT kalix.revoke_invitation(NULL);
SET kalix.current_login = :nora;
SELECT kalix.accept_invitation(:'revoke_me');

--
-- No non-superuser reads a token or its hash
--
-- kalix.invitations has no column holding either; the hashes are in a table
-- that is granted to nobody and has no policy.
SELECT attname FROM pg_attribute
WHERE attrelid = 'kalix.invitations'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT relacl IS NULL AS owner_only, relrowsecurity, relforcerowsecurity
FROM pg_class WHERE oid = 'kalix.invitation_tokens'::regclass;
SELECT r.rolname, has_table_privilege(r.oid, 'kalix.invitation_tokens', 'SELECT') AS can_select,
       has_any_column_privilege(r.oid, 'kalix.invitation_tokens', 'SELECT') AS any_column
FROM pg_roles r WHERE r.rolname IN ('fixture_bob', 'fixture_alice', 'fixture_app') ORDER BY 1;
SELECT has_table_privilege('public', 'kalix.invitation_tokens', 'SELECT') AS public_can_select;
RESET kalix.current_login;
SET ROLE fixture_alice;
SELECT token_hash FROM kalix.invitation_tokens;
RESET ROLE;
SET ROLE fixture_app;
SET kalix.current_login = :owner;
SELECT * FROM kalix.invitation_tokens;
RESET kalix.current_login;
RESET ROLE;
SET ROLE fixture_bob;
SELECT invitation_id FROM kalix.invitation_tokens;
RESET ROLE;
-- even a grant someone adds by mistake shows no rows
BEGIN;
GRANT SELECT ON kalix.invitation_tokens TO fixture_alice;
SET ROLE fixture_alice;
SELECT count(*) AS rows_after_a_grant FROM kalix.invitation_tokens;
ROLLBACK;

--
-- update_login
--
-- A login changes its own details (its role has a login: Nora, fixture_bob).
RESET kalix.current_login;
SET ROLE fixture_bob;
SELECT kalix.update_login(:nora, display_name => 'Nora N. New');
-- a change of case only is its own email, not a taken one
SELECT kalix.update_login(:nora, email => 'nora.new@example.com');
SELECT kalix.update_login(:nora, email => ' nora@example.com ');
-- NULL keeps, and the same values change nothing (no audit row)
SELECT kalix.update_login(:nora);
SELECT kalix.update_login(:nora, 'nora@example.com', 'Nora N. New');
SELECT email, display_name FROM kalix.logins WHERE id = :nora;
-- refusals: someone else, a taken email (in any case), an invalid one
SELECT kalix.update_login(:member, display_name => 'Hacked');
SELECT kalix.update_login('1b1b1b1b-0000-4000-8000-000000000000', display_name => 'Ghost');
SELECT kalix.update_login(:nora, email => 'LIFE-OWNER@example.com');
SELECT kalix.update_login(:nora, email => 'nora at example.com');
SELECT kalix.update_login(NULL, email => 'x@example.com');
RESET ROLE;
-- a role without a login and without the SET privilege
SET ROLE fixture_nobody;
SELECT kalix.update_login(:nora, display_name => 'Nobody');
RESET ROLE;
-- the trusted application role changes any login
SET ROLE fixture_app;
SELECT kalix.update_login(:member, display_name => 'Mia M. Member');
SELECT kalix.update_login('1b1b1b1b-0000-4000-8000-000000000000', display_name => 'Ghost');
SET kalix.current_login = :outsider;
SELECT kalix.update_login(:member, email => 'mia@example.com');
RESET kalix.current_login;
RESET ROLE;
SELECT email, display_name FROM kalix.logins WHERE id IN (:member, :nora) ORDER BY email;
SELECT * FROM pg_temp.new_audit();
-- the new email is the one invitations must match
SET kalix.current_login = :owner;
SELECT kalix.invite(:clinic, 'mia@example.com') AS mia_token \gset
SET kalix.current_login = :member;
SELECT kalix.accept_invitation(:'mia_token') = :clinic AS accepted_with_new_email;

--
-- unarchive_account
--
-- the child of an archived parent stays archived
SET kalix.current_login = :owner;
SELECT kalix.unarchive_account(:wing);
SELECT kalix.unarchive_account(:closed);
SELECT kalix.unarchive_account(:wing);
SELECT id, archived_at IS NOT NULL AS archived FROM kalix.accounts
WHERE id IN (:closed, :wing) ORDER BY id;
SELECT * FROM pg_temp.new_audit();
-- refusals: not archived, not an owner, unknown, NULL
SELECT kalix.unarchive_account(:clinic);
SELECT kalix.archive_account(:wing);
SET kalix.current_login = :admin;
SELECT kalix.unarchive_account(:wing);
SET kalix.current_login = :outsider;
SELECT kalix.unarchive_account(:wing);
SELECT kalix.unarchive_account('1b1b1b1b-0000-4000-8000-000000000000');
SELECT kalix.unarchive_account(NULL);
RESET kalix.current_login;
SELECT kalix.unarchive_account(:wing);
SELECT * FROM pg_temp.new_audit();

--
-- billing_summary
--
-- The payer's admin sees every account it pays for, with seats and NPIs;
-- an archived account (Life Closed Wing) is not billed.
SET kalix.current_login = :admin;
SELECT * FROM kalix.billing_summary(:clinic);
-- an account that is not a root stands for its payer; the default is the
-- current account's payer
SET kalix.current_login = :owner;
SELECT * FROM kalix.billing_summary(:pediatrics);
SELECT kalix.switch_account(:downtown) = :downtown AS switched;
SELECT account_id, members, npis FROM kalix.billing_summary();
RESET kalix.current_account;
-- no current account: nothing is billed
SELECT count(*) AS rows_without_account FROM kalix.billing_summary();
-- refusals: an admin of a child only, a member of the payer, an outsider
SET kalix.current_login = :branch_admin;
SELECT * FROM kalix.billing_summary(:downtown);
SET kalix.current_login = :member;
SELECT * FROM kalix.billing_summary(:clinic);
SET kalix.current_login = :outsider;
SELECT * FROM kalix.billing_summary(:clinic);
SELECT * FROM kalix.billing_summary('1b1b1b1b-0000-4000-8000-000000000000');
RESET kalix.current_login;
SELECT * FROM kalix.billing_summary(:clinic);

RESET ROLE;
RESET kalix.current_login;

--
-- Clean up: what this file made, and its audit rows.
--
REVOKE SET ON PARAMETER kalix.current_login FROM fixture_app;
DELETE FROM kalix.audit_log WHERE account_id::text LIKE 'acc00015-%' OR login_id::text LIKE 'feed0015-%'
    OR detail->>'login_id' LIKE 'feed0015-%';
DELETE FROM kalix.invitation_tokens WHERE invitation_id IN
    (SELECT id FROM kalix.invitations WHERE account_id::text LIKE 'acc00015-%');
DELETE FROM kalix.invitations WHERE account_id::text LIKE 'acc00015-%';
DELETE FROM kalix.account_npis WHERE account_id::text LIKE 'acc00015-%';
DELETE FROM kalix.memberships WHERE account_id::text LIKE 'acc00015-%';
UPDATE kalix.accounts SET parent_id = NULL WHERE id::text LIKE 'acc00015-%';
DELETE FROM kalix.accounts WHERE id::text LIKE 'acc00015-%';
DELETE FROM kalix.logins WHERE id::text LIKE 'feed0015-%';
