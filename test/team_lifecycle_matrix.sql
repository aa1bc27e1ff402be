-- Who may invite, revoke invitations, update logins, unarchive accounts and
-- see the billing summary: every caller (owner, admin, member, non-member,
-- and the trusted application role) against every call.  Callers run as
-- their own database roles, not as the superuser, so that update_login's
-- "a role that may set kalix.current_login" is what is tested.  Each cell
-- runs in a subtransaction that is undone afterwards.
BEGIN;
SET client_min_messages = warning;
SELECT plan(54);

CREATE ROLE kx_life_owner;
CREATE ROLE kx_life_admin;
CREATE ROLE kx_life_member;
CREATE ROLE kx_life_outsider;
CREATE ROLE kx_life_app;
GRANT SET ON PARAMETER kalix.current_login TO kx_life_app;

CREATE TEMP TABLE ids (name text PRIMARY KEY, id uuid NOT NULL, db_role name);
INSERT INTO ids VALUES
    ('owner',      'feed0017-0000-4000-8000-000000000001', 'kx_life_owner'),
    ('admin',      'feed0017-0000-4000-8000-000000000002', 'kx_life_admin'),
    ('member',     'feed0017-0000-4000-8000-000000000003', 'kx_life_member'),
    ('outsider',   'feed0017-0000-4000-8000-000000000004', 'kx_life_outsider'),
    ('app',        'feed0017-0000-4000-8000-0000000000ff', 'kx_life_app'),
    ('clinic',     'acc00017-0000-4000-8000-000000000001', NULL),
    ('branch',     'acc00017-0000-4000-8000-000000000002', NULL),
    ('closed',     'acc00017-0000-4000-8000-000000000003', NULL),
    ('invitation', '1a1a0017-0000-4000-8000-000000000001', NULL);
-- The application role has no login of its own.
INSERT INTO kalix.logins (id, email, db_role)
    SELECT id, name || '@life-matrix.example.com', db_role::text::regrole FROM ids
    WHERE id::text LIKE 'feed%' AND name <> 'app';
INSERT INTO kalix.accounts (id, name, parent_id, archived_at) VALUES
    ('acc00017-0000-4000-8000-000000000001', 'Matrix Clinic', NULL, NULL),
    ('acc00017-0000-4000-8000-000000000002', 'Matrix Branch', 'acc00017-0000-4000-8000-000000000001', NULL),
    ('acc00017-0000-4000-8000-000000000003', 'Matrix Closed', 'acc00017-0000-4000-8000-000000000001', now());
-- The same roles in every account.
INSERT INTO kalix.memberships (account_id, login_id, role)
    SELECT a.id, l.id, r.role::kalix.account_role
    FROM (VALUES ('owner', 'owner'), ('admin', 'admin'), ('member', 'member')) r (login, role)
    JOIN ids l ON l.name = r.login
    CROSS JOIN (SELECT id FROM ids WHERE name IN ('clinic', 'branch', 'closed')) a;
INSERT INTO kalix.invitations (id, account_id, email, role, invited_by, expires_at) VALUES
    ('1a1a0017-0000-4000-8000-000000000001', 'acc00017-0000-4000-8000-000000000001',
     'invited@life-matrix.example.com', 'member', 'feed0017-0000-4000-8000-000000000001',
     now() + interval '1 day');

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

-- 'ok', or the SQLSTATE the call raised, when a caller's role runs it; always undone.
CREATE FUNCTION pg_temp.outcome(caller text, call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    statement text := pg_temp.expand(call);
    caller_role name := (SELECT i.db_role FROM ids i WHERE i.name = caller);
    result text;
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', caller_role);
        EXECUTE statement;
        RAISE EXCEPTION 'undo team lifecycle matrix cell';
    EXCEPTION WHEN OTHERS THEN
        result := CASE WHEN SQLERRM = 'undo team lifecycle matrix cell' THEN 'ok' ELSE SQLSTATE END;
    END;
    RETURN result;
END
$$;

-- The same, run by the application's role acting as a login.
CREATE FUNCTION pg_temp.app_outcome(login text, call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    statement text := pg_temp.expand(call);
    login_id text := (SELECT i.id::text FROM ids i WHERE i.name = login);
    result text;
BEGIN
    BEGIN
        SET LOCAL ROLE kx_life_app;
        PERFORM set_config('kalix.current_login', login_id, true);
        EXECUTE statement;
        RAISE EXCEPTION 'undo team lifecycle matrix cell';
    EXCEPTION WHEN OTHERS THEN
        result := CASE WHEN SQLERRM = 'undo team lifecycle matrix cell' THEN 'ok' ELSE SQLSTATE END;
    END;
    RETURN result;
END
$$;

-- 42501: insufficient_privilege; 42704: undefined_object.
SELECT is(pg_temp.outcome(m.caller, m.call), m.expected, format('%s: %s', m.caller, m.call))
FROM (VALUES
    ('owner',    'SELECT kalix.invite({clinic}, ''new@life-matrix.example.com'')',            'ok'),
    ('admin',    'SELECT kalix.invite({clinic}, ''new@life-matrix.example.com'')',            'ok'),
    ('member',   'SELECT kalix.invite({clinic}, ''new@life-matrix.example.com'')',            '42501'),
    ('outsider', 'SELECT kalix.invite({clinic}, ''new@life-matrix.example.com'')',            '42501'),
    ('owner',    'SELECT kalix.invite({clinic}, ''new@life-matrix.example.com'', ''admin'')', 'ok'),
    ('admin',    'SELECT kalix.invite({clinic}, ''new@life-matrix.example.com'', ''admin'')', 'ok'),
    ('member',   'SELECT kalix.invite({clinic}, ''new@life-matrix.example.com'', ''admin'')', '42501'),
    ('outsider', 'SELECT kalix.invite({clinic}, ''new@life-matrix.example.com'', ''admin'')', '42501'),
    ('owner',    'SELECT kalix.invite({clinic}, ''new@life-matrix.example.com'', ''owner'')', 'ok'),
    ('admin',    'SELECT kalix.invite({clinic}, ''new@life-matrix.example.com'', ''owner'')', '42501'),
    ('member',   'SELECT kalix.invite({clinic}, ''new@life-matrix.example.com'', ''owner'')', '42501'),
    ('outsider', 'SELECT kalix.invite({clinic}, ''new@life-matrix.example.com'', ''owner'')', '42501'),
    ('owner',    'SELECT kalix.revoke_invitation({invitation})',                              'ok'),
    ('admin',    'SELECT kalix.revoke_invitation({invitation})',                              'ok'),
    ('member',   'SELECT kalix.revoke_invitation({invitation})',                              '42501'),
    ('outsider', 'SELECT kalix.revoke_invitation({invitation})',                              '42704'),
    ('owner',    'SELECT kalix.update_login({member}, display_name => ''Renamed'')',          '42501'),
    ('admin',    'SELECT kalix.update_login({member}, display_name => ''Renamed'')',          '42501'),
    ('member',   'SELECT kalix.update_login({member}, display_name => ''Renamed'')',          'ok'),
    ('outsider', 'SELECT kalix.update_login({member}, display_name => ''Renamed'')',          '42501'),
    ('app',      'SELECT kalix.update_login({member}, display_name => ''Renamed'')',          'ok'),
    ('owner',    'SELECT kalix.update_login({owner}, email => ''o2@life-matrix.example.com'')', 'ok'),
    ('admin',    'SELECT kalix.update_login({owner}, email => ''o2@life-matrix.example.com'')', '42501'),
    ('member',   'SELECT kalix.update_login({owner}, email => ''o2@life-matrix.example.com'')', '42501'),
    ('outsider', 'SELECT kalix.update_login({owner}, email => ''o2@life-matrix.example.com'')', '42501'),
    ('app',      'SELECT kalix.update_login({owner}, email => ''o2@life-matrix.example.com'')', 'ok'),
    ('owner',    'SELECT kalix.unarchive_account({closed})',                                  'ok'),
    ('admin',    'SELECT kalix.unarchive_account({closed})',                                  '42501'),
    ('member',   'SELECT kalix.unarchive_account({closed})',                                  '42501'),
    ('outsider', 'SELECT kalix.unarchive_account({closed})',                                  '42501'),
    ('app',      'SELECT kalix.unarchive_account({closed})',                                  '42501'),
    ('owner',    'SELECT * FROM kalix.billing_summary({clinic})',                             'ok'),
    ('admin',    'SELECT * FROM kalix.billing_summary({clinic})',                             'ok'),
    ('member',   'SELECT * FROM kalix.billing_summary({clinic})',                             '42501'),
    ('outsider', 'SELECT * FROM kalix.billing_summary({clinic})',                             '42501'),
    ('owner',    'SELECT * FROM kalix.billing_summary({branch})',                             'ok'),
    ('admin',    'SELECT * FROM kalix.billing_summary({branch})',                             'ok'),
    ('member',   'SELECT * FROM kalix.billing_summary({branch})',                             '42501'),
    ('outsider', 'SELECT * FROM kalix.billing_summary({branch})',                             '42501'),
    ('app',      'SELECT * FROM kalix.billing_summary({clinic})',                             '42501')
) m (caller, call, expected);

-- The cells changed nothing.
SELECT is((SELECT count(*)::integer FROM kalix.invitations i JOIN ids a ON a.id = i.account_id), 1,
          'the invitations made in the cells were undone');
SELECT is((SELECT revoked_at FROM kalix.invitations WHERE id = '1a1a0017-0000-4000-8000-000000000001'), NULL,
          'the revocations were undone');
SELECT is((SELECT archived_at IS NOT NULL FROM kalix.accounts WHERE id = 'acc00017-0000-4000-8000-000000000003'), true,
          'the unarchiving was undone');

-- What the summary shows an admin of the payer: every unarchived account it
-- pays for, with its seats and NPIs; a child account stands for its payer.
SELECT set_config('kalix.current_login', 'feed0017-0000-4000-8000-000000000002', true);
SELECT results_eq(
    $$SELECT name, depth, members, npis FROM kalix.billing_summary('acc00017-0000-4000-8000-000000000002')$$,
    $$VALUES ('Matrix Clinic', 0, 3, 0), ('Matrix Branch', 1, 3, 0)$$,
    'the summary of a child is its payer''s; the archived child is not billed');
SELECT set_config('kalix.current_login', '', true);

-- The trusted application role acting as a login has that login's rights
-- for everything but update_login.
SELECT is(pg_temp.app_outcome(m.login, m.call), m.expected, format('app as %s: %s', m.login, m.call))
FROM (VALUES
    ('member', 'SELECT kalix.invite({clinic}, ''x@life-matrix.example.com'')',  '42501'),
    ('admin',  'SELECT kalix.invite({clinic}, ''x@life-matrix.example.com'')',  'ok'),
    ('admin',  'SELECT kalix.unarchive_account({closed})',                      '42501'),
    ('owner',  'SELECT kalix.unarchive_account({closed})',                      'ok'),
    ('member', 'SELECT * FROM kalix.billing_summary({clinic})',                 '42501'),
    ('admin',  'SELECT * FROM kalix.billing_summary({clinic})',                 'ok'),
    ('member', 'SELECT kalix.update_login({owner}, display_name => ''App'')',   'ok')
) m (login, call, expected);

-- Nobody but the superuser reads a token hash.
SELECT ok(NOT has_table_privilege(r, 'kalix.invitation_tokens', 'SELECT'), r || ' cannot read token hashes')
FROM unnest(ARRAY['kx_life_owner', 'kx_life_app', 'public']) r;

SELECT * FROM finish();
ROLLBACK;
