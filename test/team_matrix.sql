-- Who may manage members, copy users and update accounts: every caller role
-- (owner, admin, member, non-member) against every call.  Each cell runs in a
-- subtransaction that is undone afterwards, so cells do not affect each other.
BEGIN;
SET client_min_messages = warning;
SELECT plan(69);

CREATE TEMP TABLE ids (name text PRIMARY KEY, id uuid NOT NULL);
INSERT INTO ids VALUES
    ('owner',      'feed0004-0000-4000-8000-000000000001'),
    ('owner2',     'feed0004-0000-4000-8000-000000000002'),
    ('admin',      'feed0004-0000-4000-8000-000000000003'),
    ('admin2',     'feed0004-0000-4000-8000-000000000004'),
    ('member',     'feed0004-0000-4000-8000-000000000005'),
    ('outsider',   'feed0004-0000-4000-8000-000000000006'),
    ('newcomer',   'feed0004-0000-4000-8000-000000000007'),
    ('src_owner',  'feed0004-0000-4000-8000-000000000008'),
    ('src_staff',  'feed0004-0000-4000-8000-000000000009'),
    ('clinic',     'acc00004-0000-4000-8000-000000000001'),
    ('source',     'acc00004-0000-4000-8000-000000000002');
INSERT INTO kalix.logins (id, email)
    SELECT id, name || '@matrix.example.com' FROM ids WHERE id::text LIKE 'feed%';
INSERT INTO kalix.accounts (id, name)
    SELECT id, 'Matrix ' || name FROM ids WHERE id::text LIKE 'acc%';
-- Team Clinic: two owners, two admins, a member.  Source: the callers with
-- the roles the copy matrix needs, plus an owner and a member to copy.
INSERT INTO kalix.memberships (account_id, login_id, role)
    SELECT a.id, l.id, r.role::kalix.account_role
    FROM (VALUES ('clinic', 'owner', 'owner'), ('clinic', 'owner2', 'owner'),
                 ('clinic', 'admin', 'admin'), ('clinic', 'admin2', 'admin'),
                 ('clinic', 'member', 'member'),
                 ('source', 'owner', 'admin'), ('source', 'admin', 'admin'),
                 ('source', 'member', 'admin'), ('source', 'admin2', 'member'),
                 ('source', 'src_owner', 'owner'), ('source', 'src_staff', 'member')
         ) r (account, login, role)
    JOIN ids a ON a.name = r.account JOIN ids l ON l.name = r.login;

-- The statement with {name} replaced by the quoted id of that name.
CREATE FUNCTION pg_temp.expand(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    i record;
BEGIN
    FOR i IN SELECT * FROM ids LOOP
        call := replace(call, '{' || i.name || '}', quote_literal(i.id));
    END LOOP;
    RETURN call;
END
$$;

-- 'ok', or the SQLSTATE the call raised, when a login runs it; always undone.
CREATE FUNCTION pg_temp.outcome(caller text, call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    BEGIN
        PERFORM set_config('kalix.current_login', (SELECT i.id::text FROM ids i WHERE i.name = caller), true);
        EXECUTE pg_temp.expand(call);
        RAISE EXCEPTION 'undo team matrix cell';
    EXCEPTION WHEN OTHERS THEN
        result := CASE WHEN SQLERRM = 'undo team matrix cell' THEN 'ok' ELSE SQLSTATE END;
    END;
    RETURN result;
END
$$;

-- 42501: insufficient_privilege; 55000: object_not_in_prerequisite_state.
SELECT is(pg_temp.outcome(m.caller, m.call), m.expected, format('%s: %s', m.caller, m.call))
FROM (VALUES
    ('owner',    'SELECT kalix.add_member({clinic}, {newcomer})',                   'ok'),
    ('admin',    'SELECT kalix.add_member({clinic}, {newcomer})',                   'ok'),
    ('member',   'SELECT kalix.add_member({clinic}, {newcomer})',                   '42501'),
    ('outsider', 'SELECT kalix.add_member({clinic}, {newcomer})',                   '42501'),
    ('owner',    'SELECT kalix.add_member({clinic}, {newcomer}, ''admin'')',        'ok'),
    ('admin',    'SELECT kalix.add_member({clinic}, {newcomer}, ''admin'')',        'ok'),
    ('member',   'SELECT kalix.add_member({clinic}, {newcomer}, ''admin'')',        '42501'),
    ('outsider', 'SELECT kalix.add_member({clinic}, {newcomer}, ''admin'')',        '42501'),
    ('owner',    'SELECT kalix.add_member({clinic}, {newcomer}, ''owner'')',        'ok'),
    ('admin',    'SELECT kalix.add_member({clinic}, {newcomer}, ''owner'')',        '42501'),
    ('member',   'SELECT kalix.add_member({clinic}, {newcomer}, ''owner'')',        '42501'),
    ('outsider', 'SELECT kalix.add_member({clinic}, {newcomer}, ''owner'')',        '42501'),
    ('owner',    'SELECT kalix.set_member_role({clinic}, {member}, ''admin'')',     'ok'),
    ('admin',    'SELECT kalix.set_member_role({clinic}, {member}, ''admin'')',     'ok'),
    ('member',   'SELECT kalix.set_member_role({clinic}, {member}, ''admin'')',     '42501'),
    ('outsider', 'SELECT kalix.set_member_role({clinic}, {member}, ''admin'')',     '42501'),
    ('owner',    'SELECT kalix.set_member_role({clinic}, {member}, ''owner'')',     'ok'),
    ('admin',    'SELECT kalix.set_member_role({clinic}, {member}, ''owner'')',     '42501'),
    ('member',   'SELECT kalix.set_member_role({clinic}, {member}, ''owner'')',     '42501'),
    ('outsider', 'SELECT kalix.set_member_role({clinic}, {member}, ''owner'')',     '42501'),
    ('owner',    'SELECT kalix.set_member_role({clinic}, {admin2}, ''member'')',    'ok'),
    ('admin',    'SELECT kalix.set_member_role({clinic}, {admin2}, ''member'')',    'ok'),
    ('member',   'SELECT kalix.set_member_role({clinic}, {admin2}, ''member'')',    '42501'),
    ('outsider', 'SELECT kalix.set_member_role({clinic}, {admin2}, ''member'')',    '42501'),
    ('owner',    'SELECT kalix.set_member_role({clinic}, {owner2}, ''admin'')',     'ok'),
    ('admin',    'SELECT kalix.set_member_role({clinic}, {owner2}, ''admin'')',     '42501'),
    ('member',   'SELECT kalix.set_member_role({clinic}, {owner2}, ''admin'')',     '42501'),
    ('outsider', 'SELECT kalix.set_member_role({clinic}, {owner2}, ''admin'')',     '42501'),
    ('owner',    'SELECT kalix.set_member_role({clinic}, {owner}, ''admin'')',      'ok'),
    ('admin',    'SELECT kalix.set_member_role({clinic}, {admin}, ''member'')',     'ok'),
    ('member',   'SELECT kalix.set_member_role({clinic}, {member}, ''member'')',    '42501'),
    ('owner',    'SELECT kalix.remove_member({clinic}, {member})',                  'ok'),
    ('admin',    'SELECT kalix.remove_member({clinic}, {member})',                  'ok'),
    ('member',   'SELECT kalix.remove_member({clinic}, {member})',                  '42501'),
    ('outsider', 'SELECT kalix.remove_member({clinic}, {member})',                  '42501'),
    ('owner',    'SELECT kalix.remove_member({clinic}, {admin2})',                  'ok'),
    ('admin',    'SELECT kalix.remove_member({clinic}, {admin2})',                  'ok'),
    ('member',   'SELECT kalix.remove_member({clinic}, {admin2})',                  '42501'),
    ('outsider', 'SELECT kalix.remove_member({clinic}, {admin2})',                  '42501'),
    ('owner',    'SELECT kalix.remove_member({clinic}, {owner2})',                  'ok'),
    ('admin',    'SELECT kalix.remove_member({clinic}, {owner2})',                  '42501'),
    ('member',   'SELECT kalix.remove_member({clinic}, {owner2})',                  '42501'),
    ('outsider', 'SELECT kalix.remove_member({clinic}, {owner2})',                  '42501'),
    ('owner',    'SELECT kalix.remove_member({clinic}, {owner})',                   'ok'),
    ('admin',    'SELECT kalix.remove_member({clinic}, {admin})',                   'ok'),
    ('owner',    'SELECT kalix.update_account({clinic}, ''Matrix renamed'')',      'ok'),
    ('admin',    'SELECT kalix.update_account({clinic}, ''Matrix renamed'')',      'ok'),
    ('member',   'SELECT kalix.update_account({clinic}, ''Matrix renamed'')',      '42501'),
    ('outsider', 'SELECT kalix.update_account({clinic}, ''Matrix renamed'')',      '42501'),
    -- copy_users, callers' roles (source / clinic): owner admin/owner, admin admin/admin,
    -- member admin/member, admin2 member/admin, outsider none/none
    ('owner',    'SELECT kalix.copy_users({source}, {clinic})',                     'ok'),
    ('admin',    'SELECT kalix.copy_users({source}, {clinic})',                     'ok'),
    ('member',   'SELECT kalix.copy_users({source}, {clinic})',                     '42501'),
    ('admin2',   'SELECT kalix.copy_users({source}, {clinic})',                     '42501'),
    ('outsider', 'SELECT kalix.copy_users({source}, {clinic})',                     '42501'),
    ('owner',    'SELECT kalix.copy_users({clinic}, {source})',                     'ok'),
    ('admin',    'SELECT kalix.copy_users({clinic}, {source})',                     'ok'),
    ('member',   'SELECT kalix.copy_users({clinic}, {source})',                     '42501'),
    ('admin2',   'SELECT kalix.copy_users({clinic}, {source})',                     '42501')
) m (caller, call, expected);

-- The last owner: with the second owner gone, the first can neither go nor step down.
DELETE FROM kalix.memberships
WHERE account_id = 'acc00004-0000-4000-8000-000000000001' AND login_id = 'feed0004-0000-4000-8000-000000000002';
SELECT is(pg_temp.outcome('owner', 'SELECT kalix.remove_member({clinic}, {owner})'), '55000',
          'the last owner cannot remove itself');
SELECT is(pg_temp.outcome('owner', 'SELECT kalix.set_member_role({clinic}, {owner}, ''admin'')'), '55000',
          'the last owner cannot step down');
SELECT is(pg_temp.outcome('owner', 'SELECT kalix.set_member_role({clinic}, {owner}, ''owner'')'), 'ok',
          'the last owner may keep its role');

-- Copying for real: an admin of the target caps the copied roles at admin ...
SELECT set_config('kalix.current_login', 'feed0004-0000-4000-8000-000000000003', true);
SELECT is(kalix.copy_users('acc00004-0000-4000-8000-000000000002', 'acc00004-0000-4000-8000-000000000001'), 2,
          'an admin copies the missing members (src_owner, src_staff)');
SELECT results_eq(
    $$SELECT i.name, m.role::text FROM kalix.memberships m JOIN ids i ON i.id = m.login_id
      WHERE m.account_id = 'acc00004-0000-4000-8000-000000000001' ORDER BY i.name$$,
    $$VALUES ('admin', 'admin'), ('admin2', 'admin'), ('member', 'member'), ('owner', 'owner'),
             ('src_owner', 'admin'), ('src_staff', 'member')$$,
    'copied roles are capped at the admin''s own, existing memberships are left alone');
SELECT is(kalix.copy_users('acc00004-0000-4000-8000-000000000002', 'acc00004-0000-4000-8000-000000000001'), 0,
          'a second copy adds nothing');
-- ... and an owner of the target keeps owners.
SELECT set_config('kalix.current_login', 'feed0004-0000-4000-8000-000000000001', true);
SELECT kalix.remove_member('acc00004-0000-4000-8000-000000000001', 'feed0004-0000-4000-8000-000000000008');
SELECT is(kalix.copy_users('acc00004-0000-4000-8000-000000000002', 'acc00004-0000-4000-8000-000000000001'), 1,
          'an owner copies the missing owner');
SELECT is((SELECT m.role::text FROM kalix.memberships m
           WHERE m.account_id = 'acc00004-0000-4000-8000-000000000001'
             AND m.login_id = 'feed0004-0000-4000-8000-000000000008'), 'owner',
          'copied by an owner, an owner stays an owner');

-- A member whose role is revoked in this transaction is refused at once.
SELECT set_config('kalix.current_login', 'feed0004-0000-4000-8000-000000000003', true);
SELECT kalix.set_member_role('acc00004-0000-4000-8000-000000000001', 'feed0004-0000-4000-8000-000000000003', 'member');
SELECT is(pg_temp.outcome('admin', 'SELECT kalix.add_member({clinic}, {newcomer})'), '42501',
          'an admin who stepped down no longer manages members');
SELECT is(kalix.member_role('acc00004-0000-4000-8000-000000000001')::text, 'member',
          'member_role() sees the new role');
SELECT is((SELECT count(*)::integer FROM kalix.audit_log
           WHERE account_id = 'acc00004-0000-4000-8000-000000000001'), 4,
          'two copies, a removal and a role change wrote one audit row each; the empty copy none');

SELECT * FROM finish();
ROLLBACK;
