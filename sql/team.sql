-- team: members and roles, copying users, account updates, audit trail.
-- Fixtures are inserted directly, with fixed ids, so that error texts are stable.
SET client_min_messages = warning;
\set SHOW_CONTEXT never

INSERT INTO kalix.logins (id, email, display_name) VALUES
    ('feed0000-0000-4000-8000-000000000001', 'team-owner@example.com', 'Olivia Owner'),
    ('feed0000-0000-4000-8000-000000000002', 'team-owner2@example.com', 'Oscar Owner'),
    ('feed0000-0000-4000-8000-000000000003', 'team-admin@example.com', 'Ada Admin'),
    ('feed0000-0000-4000-8000-000000000004', 'team-member@example.com', 'Mo Member'),
    ('feed0000-0000-4000-8000-000000000005', 'team-outsider@example.com', 'Nina Outsider'),
    ('feed0000-0000-4000-8000-000000000006', 'team-newcomer@example.com', 'Ned Newcomer'),
    ('feed0000-0000-4000-8000-000000000007', 'team-partner@example.com', 'Pat Partner'),
    ('feed0000-0000-4000-8000-000000000008', 'team-staff@example.com', 'Sam Staff');
INSERT INTO kalix.accounts (id, name, created_by) VALUES
    ('acc00000-0000-4000-8000-000000000001', 'Team Clinic', 'feed0000-0000-4000-8000-000000000001'),
    ('acc00000-0000-4000-8000-000000000002', 'Team Annex', 'feed0000-0000-4000-8000-000000000001'),
    ('acc00000-0000-4000-8000-000000000003', 'Team Archive', 'feed0000-0000-4000-8000-000000000001'),
    ('acc00000-0000-4000-8000-000000000004', 'Team Satellite', 'feed0000-0000-4000-8000-000000000001');
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('acc00000-0000-4000-8000-000000000001', 'feed0000-0000-4000-8000-000000000001', 'owner'),
    ('acc00000-0000-4000-8000-000000000001', 'feed0000-0000-4000-8000-000000000003', 'admin'),
    ('acc00000-0000-4000-8000-000000000001', 'feed0000-0000-4000-8000-000000000004', 'member'),
    ('acc00000-0000-4000-8000-000000000002', 'feed0000-0000-4000-8000-000000000001', 'owner'),
    ('acc00000-0000-4000-8000-000000000002', 'feed0000-0000-4000-8000-000000000003', 'admin'),
    ('acc00000-0000-4000-8000-000000000002', 'feed0000-0000-4000-8000-000000000004', 'admin'),
    ('acc00000-0000-4000-8000-000000000002', 'feed0000-0000-4000-8000-000000000007', 'owner'),
    ('acc00000-0000-4000-8000-000000000002', 'feed0000-0000-4000-8000-000000000008', 'member'),
    ('acc00000-0000-4000-8000-000000000003', 'feed0000-0000-4000-8000-000000000001', 'owner'),
    ('acc00000-0000-4000-8000-000000000003', 'feed0000-0000-4000-8000-000000000003', 'admin'),
    ('acc00000-0000-4000-8000-000000000004', 'feed0000-0000-4000-8000-000000000001', 'owner');

\set clinic '''acc00000-0000-4000-8000-000000000001'''
\set annex '''acc00000-0000-4000-8000-000000000002'''
\set archive '''acc00000-0000-4000-8000-000000000003'''
\set satellite '''acc00000-0000-4000-8000-000000000004'''
\set owner '''feed0000-0000-4000-8000-000000000001'''
\set owner2 '''feed0000-0000-4000-8000-000000000002'''
\set admin '''feed0000-0000-4000-8000-000000000003'''
\set member '''feed0000-0000-4000-8000-000000000004'''
\set outsider '''feed0000-0000-4000-8000-000000000005'''
\set newcomer '''feed0000-0000-4000-8000-000000000006'''
\set partner '''feed0000-0000-4000-8000-000000000007'''
\set staff '''feed0000-0000-4000-8000-000000000008'''

-- The audit rows written since the previous call, and the members of an account.
CREATE TABLE pg_temp.team_audit_mark AS SELECT coalesce(max(id), 0) AS id FROM kalix.audit_log;
CREATE FUNCTION pg_temp.new_audit()
RETURNS TABLE (action text, account_id uuid, login_id uuid, detail jsonb)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
        SELECT a.action, a.account_id, a.login_id, a.detail FROM kalix.audit_log a
        WHERE a.id > (SELECT m.id FROM pg_temp.team_audit_mark m) ORDER BY a.id;
    UPDATE pg_temp.team_audit_mark m SET id = (SELECT coalesce(max(a.id), 0) FROM kalix.audit_log a);
END
$$;
CREATE FUNCTION pg_temp.members(account uuid)
RETURNS TABLE (email text, role kalix.account_role)
LANGUAGE sql AS $$
    SELECT l.email, m.role FROM kalix.memberships m JOIN kalix.logins l ON l.id = m.login_id
    WHERE m.account_id = account ORDER BY l.email;
$$;

--
-- add_member, set_member_role, remove_member: happy paths (an owner)
--
SET kalix.current_login = :owner;
SELECT kalix.add_member(:clinic, :newcomer);
SELECT kalix.set_member_role(:clinic, :newcomer, 'admin');
-- the same role again changes nothing and writes no audit row
SELECT kalix.set_member_role(:clinic, :newcomer, 'admin');
SELECT kalix.remove_member(:clinic, :newcomer);
-- an owner grants any role
SELECT kalix.add_member(:clinic, :owner2, 'owner');
SELECT * FROM pg_temp.members(:clinic);
SELECT * FROM pg_temp.new_audit();

-- adding an existing member
SELECT kalix.add_member(:clinic, :member);
SELECT kalix.add_member(:clinic, :owner2, 'admin');

-- unknown logins and non-members
SELECT kalix.add_member(:clinic, 'feed0000-0000-4000-8000-0000000000ff');
SELECT kalix.set_member_role(:clinic, 'feed0000-0000-4000-8000-0000000000ff', 'admin');
SELECT kalix.remove_member(:clinic, 'feed0000-0000-4000-8000-0000000000ff');
SELECT kalix.set_member_role(:clinic, :outsider, 'admin');
SELECT kalix.remove_member(:clinic, :outsider);

-- NULL arguments
SELECT kalix.add_member(NULL, :newcomer);
SELECT kalix.add_member(:clinic, NULL);
SELECT kalix.add_member(:clinic, :newcomer, NULL);
SELECT kalix.set_member_role(:clinic, :member, NULL);
SELECT kalix.set_member_role(NULL, :member, 'admin');
SELECT kalix.remove_member(:clinic, NULL);
SELECT kalix.copy_users(NULL, :clinic);
SELECT kalix.copy_users(:annex, NULL);
SELECT kalix.update_account(NULL, 'x');

--
-- The last owner
--
-- Team Annex has two owners (Olivia and Pat), Team Satellite one (Olivia).
SELECT kalix.set_member_role(:satellite, :owner, 'admin');
SELECT kalix.remove_member(:satellite, :owner);
-- with two owners one may go; then the other is the last
SELECT kalix.set_member_role(:clinic, :owner2, 'admin');
SELECT kalix.set_member_role(:clinic, :owner, 'member');
SELECT kalix.set_member_role(:clinic, :owner2, 'owner');
SELECT kalix.remove_member(:clinic, :owner2);
SELECT kalix.remove_member(:clinic, :owner);
SELECT * FROM pg_temp.members(:clinic);
SELECT * FROM pg_temp.new_audit();

--
-- Admins: manage members and admins, never owners, grant up to admin
--
SET kalix.current_login = :admin;
SELECT kalix.add_member(:clinic, :newcomer, 'owner');
SELECT kalix.add_member(:clinic, :newcomer, 'admin');
SELECT kalix.set_member_role(:clinic, :member, 'owner');
SELECT kalix.set_member_role(:clinic, :owner, 'admin');
SELECT kalix.set_member_role(:clinic, :owner, 'owner');
SELECT kalix.remove_member(:clinic, :owner);
SELECT kalix.set_member_role(:clinic, :newcomer, 'member');
SELECT kalix.set_member_role(:clinic, :member, 'admin');
SELECT kalix.set_member_role(:clinic, :member, 'member');
SELECT kalix.remove_member(:clinic, :newcomer);
SELECT * FROM pg_temp.members(:clinic);
SELECT * FROM pg_temp.new_audit();

--
-- Members, non-members, unknown accounts, no login: refused, revealing nothing
--
SET kalix.current_login = :member;
SELECT kalix.add_member(:clinic, :newcomer);
SELECT kalix.set_member_role(:clinic, :member, 'admin');
SELECT kalix.remove_member(:clinic, :member);
SELECT kalix.update_account(:clinic, 'Mo''s Clinic');
SET kalix.current_login = :outsider;
SELECT kalix.add_member(:clinic, :outsider);
SELECT kalix.remove_member(:clinic, :member);
SELECT kalix.update_account(:clinic, 'Nina''s Clinic');
SELECT kalix.add_member('acc00000-0000-4000-8000-0000000000ff', :outsider);
RESET kalix.current_login;
SELECT kalix.add_member(:clinic, :outsider);
SELECT * FROM pg_temp.new_audit();

--
-- Archived accounts (archived directly; archiving is another function)
--
UPDATE kalix.accounts SET archived_at = now() WHERE id = :archive;
SET kalix.current_login = :owner;
SELECT kalix.add_member(:archive, :newcomer);
SELECT kalix.set_member_role(:archive, :admin, 'member');
SELECT kalix.remove_member(:archive, :admin);
SELECT kalix.copy_users(:annex, :archive);
SELECT kalix.copy_users(:archive, :satellite);
SELECT kalix.update_account(:archive, settings => '{}');
-- a non-member does not learn that it is archived
SET kalix.current_login = :outsider;
SELECT kalix.add_member(:archive, :outsider);
SELECT * FROM pg_temp.new_audit();

--
-- copy_users
--
-- Ada is an admin of both: Pat (owner of Team Annex) arrives capped at admin,
-- Sam as a member; Mo (admin in Team Annex, member here) is left alone.
SET kalix.current_login = :admin;
SELECT kalix.copy_users(:annex, :clinic);
SELECT * FROM pg_temp.members(:clinic);
-- again: nothing is missing any more
SELECT kalix.copy_users(:annex, :clinic);
SELECT * FROM pg_temp.new_audit();
-- an owner of the target keeps the owners
SET kalix.current_login = :owner;
SELECT kalix.copy_users(:annex, :satellite);
SELECT * FROM pg_temp.members(:satellite);
SELECT * FROM pg_temp.new_audit();
-- Mo is only a member of Team Clinic: copying from it or into it is refused
SET kalix.current_login = :member;
SELECT kalix.copy_users(:clinic, :annex);
SELECT kalix.copy_users(:annex, :clinic);
SET kalix.current_login = :outsider;
SELECT kalix.copy_users(:annex, :clinic);
SET kalix.current_login = :owner;
SELECT kalix.copy_users(:clinic, :clinic);
SELECT * FROM pg_temp.new_audit();

--
-- update_account
--
SET kalix.current_login = :admin;
SELECT kalix.update_account(:clinic, name => '  Team Clinic Downtown  ');
SELECT kalix.update_account(:clinic, settings => '{"timezone": "America/Chicago"}',
                            branding => '{"color": "#0a7f6f"}');
-- NULL leaves a field unchanged; nothing changed writes no audit row
SELECT kalix.update_account(:clinic);
SELECT kalix.update_account(:clinic, name => 'Team Clinic Downtown', settings => '{"timezone": "America/Chicago"}');
SELECT name, settings, branding FROM kalix.accounts WHERE id = :clinic;
SELECT * FROM pg_temp.new_audit();
-- bad values
SELECT kalix.update_account(:clinic, name => '   ');
SELECT kalix.update_account(:clinic, name => repeat('x', 201));
SELECT kalix.update_account(:clinic, settings => '[1, 2]');
SELECT kalix.update_account(:clinic, settings => 'null');
SELECT kalix.update_account(:clinic, branding => '"green"');
-- settings are the account's own: a child account keeps its own
INSERT INTO kalix.accounts (id, name, parent_id) VALUES
    ('acc00000-0000-4000-8000-000000000005', 'Team Child', :clinic);
SELECT name, settings, branding FROM kalix.accounts WHERE id = 'acc00000-0000-4000-8000-000000000005';
SELECT * FROM pg_temp.new_audit();

--
-- Switching accounts is not audited
--
SET kalix.current_login = :admin;
SELECT kalix.switch_account(:clinic) IS NOT NULL AS switched;
SELECT kalix.switch_account(:annex, true) IS NOT NULL AS switched;
RESET kalix.current_account;
SELECT * FROM pg_temp.new_audit();

--
-- The audit trail: read by admins and owners through RLS, written by nobody
--
-- The roles are the fixture's (sql/fixture.sql): fixture_app is the
-- application, fixture_dave a role allowed to write every table.
GRANT SET ON PARAMETER kalix.current_login TO fixture_app;
GRANT pg_write_all_data TO fixture_dave;
RESET kalix.current_login;
SET ROLE fixture_app;
SET kalix.current_login = :admin;
SELECT count(*) > 0 AS admin_reads_clinic_audit FROM kalix.audit_log WHERE account_id = :clinic;
SET kalix.current_login = :member;
SELECT count(*) AS member_reads_clinic_audit FROM kalix.audit_log WHERE account_id = :clinic;
SET kalix.current_login = :owner;
UPDATE kalix.audit_log SET action = 'forged';
DELETE FROM kalix.audit_log;
INSERT INTO kalix.audit_log (action) VALUES ('forged');
TRUNCATE kalix.audit_log;
RESET kalix.current_login;
RESET ROLE;
-- a role allowed to write every table, here the database role of an admin
-- who reads the account's audit rows, is still held off by row-level security
UPDATE kalix.logins SET db_role = 'fixture_dave' WHERE id = :admin;
SET ROLE fixture_dave;
SELECT count(*) > 0 AS writer_reads_clinic_audit FROM kalix.audit_log WHERE account_id = :clinic;
WITH changed AS (UPDATE kalix.audit_log SET action = 'forged' RETURNING 1) SELECT count(*) AS updated FROM changed;
WITH gone AS (DELETE FROM kalix.audit_log RETURNING 1) SELECT count(*) AS deleted FROM gone;
INSERT INTO kalix.audit_log (action) VALUES ('forged');
TRUNCATE kalix.audit_log;
RESET ROLE;
SELECT count(*) AS forged FROM kalix.audit_log WHERE action = 'forged';
-- no grant beyond SELECT exists on the table
SELECT grantee, privilege_type FROM information_schema.role_table_grants
WHERE table_schema = 'kalix' AND table_name = 'audit_log'
  AND grantee <> pg_get_userbyid((SELECT relowner FROM pg_class WHERE oid = 'kalix.audit_log'::regclass))
ORDER BY 1, 2;

-- Clean up.
REVOKE SET ON PARAMETER kalix.current_login FROM fixture_app;
REVOKE pg_write_all_data FROM fixture_dave;
RESET kalix.current_login;
DELETE FROM kalix.audit_log WHERE account_id::text LIKE 'acc00000-%' OR login_id::text LIKE 'feed0000-%';
DELETE FROM kalix.memberships WHERE account_id::text LIKE 'acc00000-%';
DELETE FROM kalix.accounts WHERE id::text LIKE 'acc00000-%';
DELETE FROM kalix.logins WHERE id::text LIKE 'feed0000-%';
