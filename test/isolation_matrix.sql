-- The isolation matrix: roles x current account x statement on an isolated
-- table.  Every case runs in a subtransaction that is rolled back, so each
-- starts from the same rows: 3 of account A, 2 of account B.
BEGIN;
SELECT plan(74);

CREATE ROLE matrix_owner;
CREATE ROLE matrix_admin;
CREATE ROLE matrix_member;
CREATE ROLE matrix_nonmember;
CREATE ROLE matrix_tblowner;
INSERT INTO kalix.logins (id, email, db_role) VALUES
    ('b7000000-0000-0000-0000-000000000001', 'owner@matrix.test', 'matrix_owner'),
    ('b7000000-0000-0000-0000-000000000002', 'admin@matrix.test', 'matrix_admin'),
    ('b7000000-0000-0000-0000-000000000003', 'member@matrix.test', 'matrix_member'),
    ('b7000000-0000-0000-0000-000000000004', 'nonmember@matrix.test', 'matrix_nonmember'),
    ('b7000000-0000-0000-0000-000000000005', 'tblowner@matrix.test', 'matrix_tblowner');
INSERT INTO kalix.accounts (id, name) VALUES
    ('a7000000-0000-0000-0000-00000000000a', 'Matrix A'),
    ('a7000000-0000-0000-0000-00000000000b', 'Matrix B');
-- Everyone works in B too; the non-member has no membership in A.
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('a7000000-0000-0000-0000-00000000000a', 'b7000000-0000-0000-0000-000000000001', 'owner'),
    ('a7000000-0000-0000-0000-00000000000a', 'b7000000-0000-0000-0000-000000000002', 'admin'),
    ('a7000000-0000-0000-0000-00000000000a', 'b7000000-0000-0000-0000-000000000003', 'member'),
    ('a7000000-0000-0000-0000-00000000000a', 'b7000000-0000-0000-0000-000000000005', 'member'),
    ('a7000000-0000-0000-0000-00000000000b', 'b7000000-0000-0000-0000-000000000001', 'member'),
    ('a7000000-0000-0000-0000-00000000000b', 'b7000000-0000-0000-0000-000000000002', 'member'),
    ('a7000000-0000-0000-0000-00000000000b', 'b7000000-0000-0000-0000-000000000003', 'member'),
    ('a7000000-0000-0000-0000-00000000000b', 'b7000000-0000-0000-0000-000000000004', 'owner'),
    ('a7000000-0000-0000-0000-00000000000b', 'b7000000-0000-0000-0000-000000000005', 'member');

CREATE TABLE public.matrix_notes (
    id         int PRIMARY KEY,
    account_id uuid NOT NULL,
    body       text
);
CREATE INDEX ON public.matrix_notes (account_id, id);
INSERT INTO public.matrix_notes VALUES
    (1, 'a7000000-0000-0000-0000-00000000000a', 'a1'),
    (2, 'a7000000-0000-0000-0000-00000000000a', 'a2'),
    (3, 'a7000000-0000-0000-0000-00000000000a', 'a3'),
    (4, 'a7000000-0000-0000-0000-00000000000b', 'b1'),
    (5, 'a7000000-0000-0000-0000-00000000000b', 'b2');
ALTER TABLE public.matrix_notes OWNER TO matrix_tblowner;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.matrix_notes
    TO matrix_owner, matrix_admin, matrix_member, matrix_nonmember;
SET LOCAL ROLE matrix_tblowner;
SELECT kalix.enable_isolation('public.matrix_notes');
RESET ROLE;

SELECT ok((SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'public.matrix_notes'::regclass),
          'row-level security is enabled and forced on the table');

-- Runs one statement as a role in a current account ('' = none), returns
-- 'rows N' or 'ERROR sqlstate', and rolls everything it did back.
CREATE FUNCTION pg_temp.attempt(who name, login text, account text, stmt text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    outcome text;
BEGIN
    BEGIN
        BEGIN
            PERFORM set_config('role', who, true);
            IF login IS NOT NULL THEN
                PERFORM set_config('kalix.current_login', login, true);
            END IF;
            PERFORM set_config('kalix.current_account', account, true);
            EXECUTE stmt INTO n;
            outcome := 'rows ' || n;
        EXCEPTION WHEN OTHERS THEN
            outcome := 'ERROR ' || SQLSTATE;
        END;
        RAISE EXCEPTION 'undo the case' USING ERRCODE = 'KX999';
    EXCEPTION WHEN SQLSTATE 'KX999' THEN
        NULL;
    END;
    RETURN outcome;
END
$$;

-- The statements, all aimed at account A's rows.
CREATE TEMP TABLE matrix_ops (op text PRIMARY KEY, ord int, stmt text);
INSERT INTO matrix_ops VALUES
    ('SELECT', 1, $$SELECT count(*) FROM public.matrix_notes
                  WHERE account_id = 'a7000000-0000-0000-0000-00000000000a'$$),
    ('INSERT', 2, $$WITH w AS (INSERT INTO public.matrix_notes
                  VALUES (100, 'a7000000-0000-0000-0000-00000000000a', 'new') RETURNING 1)
                  SELECT count(*) FROM w$$),
    ('UPDATE moving a row to B', 3, $$WITH w AS (UPDATE public.matrix_notes
                  SET account_id = 'a7000000-0000-0000-0000-00000000000b'
                  WHERE account_id = 'a7000000-0000-0000-0000-00000000000a' RETURNING 1)
                  SELECT count(*) FROM w$$),
    ('DELETE', 4, $$WITH w AS (DELETE FROM public.matrix_notes
                  WHERE account_id = 'a7000000-0000-0000-0000-00000000000a' RETURNING 1)
                  SELECT count(*) FROM w$$);

-- The roles; the superuser acts for the owner's login.
CREATE TEMP TABLE matrix_roles (label text, ord int, who name, login text, kind text);
INSERT INTO matrix_roles VALUES
    ('owner of A', 1, 'matrix_owner', NULL, 'member'),
    ('admin of A', 2, 'matrix_admin', NULL, 'member'),
    ('member of A', 3, 'matrix_member', NULL, 'member'),
    ('non-member of A', 4, 'matrix_nonmember', NULL, 'nonmember'),
    ('table owner (member of A)', 5, 'matrix_tblowner', NULL, 'member'),
    ('superuser', 6, current_user, 'b7000000-0000-0000-0000-000000000001', 'superuser');

CREATE TEMP TABLE matrix_accounts (label text, ord int, account text);
INSERT INTO matrix_accounts VALUES
    ('in own account A', 1, 'a7000000-0000-0000-0000-00000000000a'),
    ('in other account B', 2, 'a7000000-0000-0000-0000-00000000000b'),
    ('in no account', 3, '');

-- What must happen.  42501: refused (row-level security or no access to A).
CREATE TEMP TABLE matrix_expected (kind text, account_ord int, op text, outcome text);
INSERT INTO matrix_expected VALUES
    -- a member working in A: A's rows only, and nothing leaves A
    ('member', 1, 'SELECT', 'rows 3'),
    ('member', 1, 'INSERT', 'rows 1'),
    ('member', 1, 'UPDATE moving a row to B', 'ERROR 42501'),
    ('member', 1, 'DELETE', 'rows 3'),
    -- working in B: A's rows are invisible and unwritable
    ('member', 2, 'SELECT', 'rows 0'),
    ('member', 2, 'INSERT', 'ERROR 42501'),
    ('member', 2, 'UPDATE moving a row to B', 'rows 0'),
    ('member', 2, 'DELETE', 'rows 0'),
    -- no account: fail closed
    ('member', 3, 'SELECT', 'rows 0'),
    ('member', 3, 'INSERT', 'ERROR 42501'),
    ('member', 3, 'UPDATE moving a row to B', 'rows 0'),
    ('member', 3, 'DELETE', 'rows 0'),
    -- a non-member cannot even choose A
    ('nonmember', 1, 'SELECT', 'ERROR 42501'),
    ('nonmember', 1, 'INSERT', 'ERROR 42501'),
    ('nonmember', 1, 'UPDATE moving a row to B', 'ERROR 42501'),
    ('nonmember', 1, 'DELETE', 'ERROR 42501'),
    ('nonmember', 2, 'SELECT', 'rows 0'),
    ('nonmember', 2, 'INSERT', 'ERROR 42501'),
    ('nonmember', 2, 'UPDATE moving a row to B', 'rows 0'),
    ('nonmember', 2, 'DELETE', 'rows 0'),
    ('nonmember', 3, 'SELECT', 'rows 0'),
    ('nonmember', 3, 'INSERT', 'ERROR 42501'),
    ('nonmember', 3, 'UPDATE moving a row to B', 'rows 0'),
    ('nonmember', 3, 'DELETE', 'rows 0');
-- A superuser bypasses row-level security by PostgreSQL design (also FORCE):
-- every statement reaches A's rows whatever the current account.
INSERT INTO matrix_expected
SELECT 'superuser', a, op, CASE op WHEN 'INSERT' THEN 'rows 1' ELSE 'rows 3' END
FROM generate_series(1, 3) a, (SELECT op FROM matrix_ops) o;

SELECT is(pg_temp.attempt(r.who, r.login, a.account, o.stmt), e.outcome,
          format('%s %s: %s -> %s%s', r.label, a.label, o.op, e.outcome,
                 CASE WHEN r.kind = 'superuser' THEN ' (superuser bypasses row-level security by PostgreSQL design)' ELSE '' END))
FROM matrix_roles r
CROSS JOIN matrix_accounts a
CROSS JOIN matrix_ops o
JOIN matrix_expected e ON e.kind = r.kind AND e.account_ord = a.ord AND e.op = o.op
ORDER BY r.ord, a.ord, o.ord;

-- Every case was undone: the rows are as they were.
SELECT results_eq('SELECT id, account_id::text FROM public.matrix_notes ORDER BY id',
                  $$VALUES (1, 'a7000000-0000-0000-0000-00000000000a'), (2, 'a7000000-0000-0000-0000-00000000000a'),
                           (3, 'a7000000-0000-0000-0000-00000000000a'), (4, 'a7000000-0000-0000-0000-00000000000b'),
                           (5, 'a7000000-0000-0000-0000-00000000000b')$$,
                  'the table is unchanged after the matrix');

SELECT * FROM finish();
ROLLBACK;
