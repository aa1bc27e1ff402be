--
-- kalix.npi: US National Provider Identifiers, and the NPIs of an account
--
-- The type's operators live in schema kalix, next to the type.
SET search_path = public, kalix;

--
-- Valid input: 10 digits whose last is the Luhn digit over 80840 and the
-- first nine, the 15-digit 80840 form, surrounding blanks.  Output is the
-- 10 digits.
--
SELECT input, input::kalix.npi AS npi
FROM (VALUES ('1234567893'), ('1245319599'), ('1000000004'), ('1999999992'),
             ('2999999990'), ('1045678905'), ('1876543210'), ('2525252526'),
             ('0000000006'), ('9999999995'),
             ('808401234567893'), ('808401245319599'),
             ('  1234567893'), (E'1234567893 \t\n'), (E'\r\n 808400000000006\f\x0b ')) AS t(input);

-- The 15-digit form is the same value as the 10-digit one.
SELECT '808401234567893'::kalix.npi = '1234567893'::kalix.npi AS same;

--
-- Invalid input: each class says what is wrong.
--
SELECT '1234567890'::kalix.npi;        -- wrong check digit: names the expected one
SELECT '808401234567890'::kalix.npi;   -- same in the 15-digit form
SELECT '123456789'::kalix.npi;         -- too short
SELECT '12345678930'::kalix.npi;       -- too long
SELECT '908401234567893'::kalix.npi;   -- 15 digits without the 80840 prefix
SELECT ''::kalix.npi;                  -- empty
SELECT '   '::kalix.npi;               -- blanks only
SELECT '12345 67893'::kalix.npi;       -- inner blank
SELECT '-1234567893'::kalix.npi;       -- sign
SELECT '+1234567893'::kalix.npi;       -- sign
SELECT '12345678A3'::kalix.npi;        -- letter
SELECT '1234567893x'::kalix.npi;       -- trailing letter
SELECT '1234.567893'::kalix.npi;       -- punctuation
SELECT '１２３４５６７８９３'::kalix.npi;   -- fullwidth digits are not digits

-- The same classes as a table: SQLSTATE, message and detail of each.
CREATE FUNCTION npi_test_error(input text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    state text;
    message text;
    detail text;
BEGIN
    PERFORM input::kalix.npi;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL;
    RETURN state || ' ' || message || ': ' || detail;
END
$$;
SELECT input, npi_test_error(input) AS error, kalix.npi_is_valid(input) AS is_valid
FROM (VALUES ('1234567890'), ('1234567891'), ('1234567894'), ('0000000000'),
             ('123456789'), ('1'), ('12345678901234'), ('1234567893123456'),
             ('808401234567'), ('123451234567893'), ('808411234567893'),
             (''), (E' \t '), ('1234 567893'), (E'1234\t567893'), ('1234567893 1'),
             ('-1234567893'), ('1234567893-'), ('+1234567893'), ('12345-67893'),
             ('abcdefghij'), ('NPI1234567893'), ('1234567893e0'), ('1,234,567,893'),
             ('0x12345678'), ('１２３４５６７８９３'), (E'1234567893\u00a0')) AS t(input);

-- npi_is_valid() never raises, is true exactly for what the type accepts,
-- and returns NULL for NULL.
SELECT kalix.npi_is_valid('1234567893') AS valid10,
       kalix.npi_is_valid(' 808401234567893 ') AS valid15,
       kalix.npi_is_valid('1234567890') AS bad_check,
       kalix.npi_is_valid(repeat('9', 100000)) AS huge,
       kalix.npi_is_valid(NULL) AS null_input;
SELECT count(*) AS random_texts,
       count(*) FILTER (WHERE kalix.npi_is_valid(s)) AS valid,
       count(*) FILTER (WHERE kalix.npi_is_valid(s) <> (npi_test_error(s) = 'accepted')) AS disagree
FROM (SELECT CASE g % 4
                 WHEN 0 THEN md5(g::text)
                 WHEN 1 THEN substr(md5(g::text), 1, 10)
                 WHEN 2 THEN lpad(g::text, 10, '0')
                 ELSE ' 80840' || lpad((g * 7)::text, 10, '0') || ' '
             END AS s
      FROM generate_series(1, 20000) AS g) AS t;

--
-- Casts: explicit from text and bigint (validated), assignment to text and bigint.
--
SELECT '1234567893'::text::kalix.npi AS from_text,
       1234567893::bigint::kalix.npi AS from_bigint,
       kalix.npi(6) AS leading_zeros,
       '1234567893'::kalix.npi::text AS to_text,
       '0000000006'::kalix.npi::bigint AS to_bigint,
       pg_typeof('1234567893'::kalix.npi::bigint) AS type;
SELECT 1234567890::bigint::kalix.npi;     -- wrong check digit
SELECT (-1234567893)::bigint::kalix.npi;  -- negative
SELECT 12345678903::bigint::kalix.npi;    -- more than 10 digits
SELECT castcontext, castmethod, castsource::regtype, casttarget::regtype
FROM pg_cast
WHERE castsource = 'kalix.npi'::regtype OR casttarget = 'kalix.npi'::regtype
ORDER BY 3, 4;
-- No implicit cast: a bigint is not silently an NPI.
SELECT '1234567893'::kalix.npi = 1234567893::bigint;
-- Arrays of NPIs.
SELECT '{1234567893, 808401245319599}'::kalix.npi[] AS npis;

--
-- Operators.
--
SELECT a, b, a = b AS eq, a <> b AS ne, a < b AS lt, a <= b AS le, a > b AS gt, a >= b AS ge
FROM (VALUES ('1234567893'::kalix.npi, '1234567893'::kalix.npi),
             ('1234567893', '1245319599'),
             ('1245319599', '1234567893'),
             ('0000000006', '9999999995')) AS t(a, b);
SELECT npi FROM unnest('{9999999995, 1234567893, 0000000006, 1245319599}'::kalix.npi[]) AS npi ORDER BY npi;
SELECT min(npi)::text, max(npi)::text, count(DISTINCT npi)
FROM unnest('{9999999995, 1234567893, 0000000006, 808401234567893}'::kalix.npi[]) AS npi;

--
-- Operator classes: valid for btree and hash.
--
SELECT opc.opcname, am.amname, opc.opcdefault, amvalidate(opc.oid)
FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
WHERE opc.opcintype = 'kalix.npi'::regtype
ORDER BY 1;

--
-- A primary key, index scans and a hash join on npi columns.
--
CREATE TABLE npi_providers (npi kalix.npi PRIMARY KEY, name text NOT NULL);
CREATE TABLE npi_claims (id int PRIMARY KEY, npi kalix.npi NOT NULL, amount numeric NOT NULL);
CREATE INDEX npi_claims_npi_hash ON npi_claims USING hash (npi);
INSERT INTO npi_providers VALUES ('1234567893', 'Dr. Ada'), ('1245319599', 'Dr. Ben'), ('0000000006', 'Lab');
INSERT INTO npi_claims
SELECT g, (ARRAY['1234567893', '1245319599', '9999999995'])[g % 3 + 1]::kalix.npi, g
FROM generate_series(1, 300) AS g;
INSERT INTO npi_providers VALUES ('808401234567893', 'Dr. Ada again');   -- same NPI
ANALYZE npi_providers, npi_claims;

SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT name FROM npi_providers WHERE npi = '1234567893';
SELECT name FROM npi_providers WHERE npi = '1234567893';
EXPLAIN (COSTS OFF) SELECT npi FROM npi_providers WHERE npi >= '1000000004' ORDER BY npi;
SELECT npi FROM npi_providers WHERE npi >= '1000000004' ORDER BY npi;
EXPLAIN (COSTS OFF) SELECT count(*) FROM npi_claims WHERE npi = '9999999995';
SELECT count(*) FROM npi_claims WHERE npi = '9999999995';
RESET enable_seqscan;
RESET enable_bitmapscan;

SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF)
SELECT p.name, count(*), sum(c.amount) FROM npi_claims c JOIN npi_providers p ON p.npi = c.npi GROUP BY p.name ORDER BY p.name;
SELECT p.name, count(*), sum(c.amount) FROM npi_claims c JOIN npi_providers p ON p.npi = c.npi GROUP BY p.name ORDER BY p.name;
RESET enable_mergejoin;
RESET enable_nestloop;
-- Hash aggregation uses the hash opclass too.
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT npi, count(*) FROM npi_claims GROUP BY npi;
SELECT npi, count(*) FROM npi_claims GROUP BY npi ORDER BY npi;
RESET enable_sort;

--
-- Binary round trip: COPY out and in with FORMAT binary; binary input is
-- validated again.
--
SELECT '/tmp/kalix_npi_' || pg_backend_pid() AS copy_file \gset
COPY npi_providers TO :'copy_file' (FORMAT binary);
CREATE TABLE npi_providers_copy (LIKE npi_providers);
COPY npi_providers_copy FROM :'copy_file' (FORMAT binary);
SELECT npi, name FROM npi_providers_copy ORDER BY npi;
SELECT count(*) AS differences
FROM (TABLE npi_providers EXCEPT ALL TABLE npi_providers_copy) AS d;
SELECT kalix.npi_send('1234567893') AS send,
       kalix.npi_send('1234567893') = int8send(1234567893) AS like_int8;
-- A binary file whose numbers are no NPIs is refused.
CREATE TABLE npi_numbers (npi bigint, name text);
INSERT INTO npi_numbers VALUES (1234567890, 'bad check digit');
COPY npi_numbers TO :'copy_file' (FORMAT binary);
COPY npi_providers_copy FROM :'copy_file' (FORMAT binary);
TRUNCATE npi_numbers;
INSERT INTO npi_numbers VALUES (12345678903, 'eleven digits');
COPY npi_numbers TO :'copy_file' (FORMAT binary);
COPY npi_providers_copy FROM :'copy_file' (FORMAT binary);
TRUNCATE npi_numbers;
INSERT INTO npi_numbers VALUES (-6, 'negative');
COPY npi_numbers TO :'copy_file' (FORMAT binary);
COPY npi_providers_copy FROM :'copy_file' (FORMAT binary);
-- The server removes its file.
SELECT 'rm -f ' || :'copy_file' AS remove_copy_file \gset
COPY (SELECT WHERE false) TO PROGRAM :'remove_copy_file';
SELECT count(*) FROM npi_providers_copy;
DROP TABLE npi_providers, npi_claims, npi_providers_copy, npi_numbers;

--
-- Property: for 100,000 random 9-digit stems exactly one of the ten
-- candidate last digits is valid; it is the Luhn digit computed here in SQL
-- independently of the C code; the type accepts it and rejects the other nine.
--
CREATE FUNCTION npi_test_luhn(stem bigint) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT (10 - (24 + sum(CASE WHEN i % 2 = 1
                                THEN (2 * d) / 10 + (2 * d) % 10
                                ELSE d END)) % 10) % 10
    FROM (SELECT i, substr(lpad(stem::text, 9, '0'), 10 - i, 1)::integer AS d
          FROM generate_series(1, 9) AS i) AS digits
$$;
CREATE FUNCTION npi_test_property(stems integer)
RETURNS TABLE (stems_tested integer, exactly_one_valid integer, luhn_agrees integer,
               type_accepts integer, type_rejects integer)
LANGUAGE plpgsql AS $$
DECLARE
    stem bigint;
    candidate text;
    valid_digit integer;
    nvalid integer;
    v kalix.npi;
BEGIN
    stems_tested := 0; exactly_one_valid := 0; luhn_agrees := 0;
    type_accepts := 0; type_rejects := 0;
    FOR stem IN SELECT floor(random() * 1000000000)::bigint FROM generate_series(1, stems)
    LOOP
        stems_tested := stems_tested + 1;
        nvalid := 0;
        FOR d IN 0..9 LOOP
            candidate := lpad(stem::text, 9, '0') || d;
            IF kalix.npi_is_valid(candidate) THEN
                nvalid := nvalid + 1;
                valid_digit := d;
            END IF;
            BEGIN
                v := candidate::kalix.npi;
                IF v::text = candidate AND kalix.npi_is_valid(candidate) THEN
                    type_accepts := type_accepts + 1;
                END IF;
            EXCEPTION WHEN invalid_text_representation THEN
                IF NOT kalix.npi_is_valid(candidate) THEN
                    type_rejects := type_rejects + 1;
                END IF;
            END;
        END LOOP;
        IF nvalid = 1 THEN
            exactly_one_valid := exactly_one_valid + 1;
            IF valid_digit = npi_test_luhn(stem) THEN
                luhn_agrees := luhn_agrees + 1;
            END IF;
        END IF;
    END LOOP;
    RETURN NEXT;
END
$$;
SELECT setseed(0.2024);
SELECT * FROM npi_test_property(100000);
-- The oracle itself knows the published example.
SELECT npi_test_luhn(123456789) AS check_digit_of_123456789;
DROP FUNCTION npi_test_property(integer), npi_test_luhn(bigint), npi_test_error(text);

--
-- The NPIs of an account: kalix.account_npis, add_npi, remove_npi, primary_npi.
--
CREATE ROLE npi_owner;
CREATE ROLE npi_admin;
CREATE ROLE npi_member;
CREATE ROLE npi_outsider;
SELECT kalix.create_login('owner@npi.example', 'Owner', 'npi_owner') AS owner_login \gset
SELECT kalix.create_login('admin@npi.example', 'Admin', 'npi_admin') AS admin_login \gset
SELECT kalix.create_login('member@npi.example', 'Member', 'npi_member') AS member_login \gset
SELECT kalix.create_login('outsider@npi.example', 'Outsider', 'npi_outsider') AS outsider_login \gset
-- Set-up only: accounts with fixed ids (they appear in error messages) and
-- memberships are written directly by the superuser.
\set clinic 'c1c1c1c1-0000-4000-8000-000000000001'
\set lab '1ab1ab00-0000-4000-8000-000000000002'
INSERT INTO kalix.accounts (id, name, created_by)
VALUES (:'clinic', 'NPI Clinic', :'owner_login'), (:'lab', 'NPI Lab', :'owner_login');
INSERT INTO kalix.memberships (account_id, login_id, role)
VALUES (:'clinic', :'owner_login', 'owner'), (:'lab', :'owner_login', 'owner'),
       (:'clinic', :'admin_login', 'admin'), (:'clinic', :'member_login', 'member');
\set SHOW_CONTEXT never

-- An admin registers NPIs; the first primary one becomes the primary NPI.
SET ROLE npi_admin;
SELECT kalix.add_npi(:'clinic', '1234567893', 'Group NPI', true);
SELECT kalix.add_npi(:'clinic', '1245319599', '  Dr. Ben  ');
SELECT kalix.primary_npi(:'clinic');
-- Making another NPI primary moves the flag.
SELECT kalix.add_npi(:'clinic', '808401000000004', NULL, is_primary => true);
SELECT npi, label, is_primary FROM kalix.account_npis ORDER BY npi;
SELECT kalix.primary_npi(:'clinic');
-- The default account is the current one; without one, there is no answer.
SELECT kalix.primary_npi();
SELECT kalix.switch_account(:'clinic') IS NOT NULL AS switched;
SELECT kalix.primary_npi();
RESET kalix.current_account;
-- Adding an NPI twice is a unique violation that says how to change it.
SELECT kalix.add_npi(:'clinic', '1245319599', 'again');
SELECT kalix.add_npi(:'clinic', '1245319599', 'again', true);
SELECT kalix.primary_npi(:'clinic');        -- unchanged by the refused call
-- Invalid NPIs never reach the functions; NULLs are refused.
SELECT kalix.add_npi(:'clinic', '1245319590');
SELECT kalix.add_npi(:'clinic', NULL);
-- Admins only: an admin of one account is nobody in another.
SELECT kalix.add_npi(:'lab', '1234567893');
-- The tables are written only through the functions.
INSERT INTO kalix.account_npis VALUES (:'clinic', '1999999992', 'sneaky', false);
UPDATE kalix.account_npis SET is_primary = true;
DELETE FROM kalix.account_npis;
RESET ROLE;

-- A member reads the account's NPIs but cannot change them.
SET ROLE npi_member;
SELECT npi, label, is_primary FROM kalix.account_npis ORDER BY npi;
SELECT kalix.primary_npi(:'clinic');
SELECT kalix.add_npi(:'clinic', '1999999992');
SELECT kalix.remove_npi(:'clinic', '1234567893');
RESET ROLE;

-- An outsider sees nothing and learns nothing.
SET ROLE npi_outsider;
SELECT count(*) FROM kalix.account_npis;
SELECT kalix.primary_npi(:'clinic');
SELECT kalix.add_npi(:'clinic', '1999999992');
SELECT kalix.remove_npi(:'clinic', '1234567893');
RESET ROLE;

-- The same NPI may serve several accounts, each with its own primary.
SET ROLE npi_owner;
SELECT kalix.add_npi(:'lab', '1234567893', 'Group NPI', true);
SELECT kalix.primary_npi(:'lab') AS lab_primary, kalix.primary_npi(:'clinic') AS clinic_primary;
SELECT account_id = :'lab' AS in_lab, npi, is_primary FROM kalix.account_npis
WHERE npi = '1234567893' ORDER BY 1;
-- Removing: the primary NPI leaves the account without one.
SELECT kalix.remove_npi(:'clinic', '1000000004');
SELECT kalix.primary_npi(:'clinic') IS NULL AS no_primary;
SELECT kalix.remove_npi(:'clinic', '1000000004');
SELECT kalix.remove_npi(:'clinic', '1245319599');
SELECT npi, label, is_primary FROM kalix.account_npis WHERE account_id = :'clinic' ORDER BY npi;
RESET ROLE;

-- The partial unique index backs the one-primary rule even for direct writes.
INSERT INTO kalix.account_npis VALUES (:'lab', '1245319599', NULL, true);

-- Archived accounts are refused (their NPIs stay readable).
UPDATE kalix.accounts SET archived_at = now() WHERE id = :'lab';
SET ROLE npi_owner;
SELECT kalix.add_npi(:'lab', '1245319599');
SELECT kalix.remove_npi(:'lab', '1234567893');
SELECT kalix.primary_npi(:'lab');
RESET ROLE;

-- Each change wrote one audit row.
SELECT a.action,
       CASE a.account_id WHEN :'clinic' THEN 'clinic' WHEN :'lab' THEN 'lab' END AS account,
       CASE a.login_id WHEN :'owner_login' THEN 'owner' WHEN :'admin_login' THEN 'admin' END AS login,
       a.detail
FROM kalix.audit_log a
WHERE a.action LIKE '%npi' AND a.account_id IN (:'clinic', :'lab')
ORDER BY a.id;

-- The table is dumped with the extension's data.
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS t(oid) JOIN pg_class c ON c.oid = t.oid
WHERE e.extname = 'kalix_accounts' AND c.relname = 'account_npis';

-- Clean up.
DELETE FROM kalix.account_npis WHERE account_id IN (:'clinic', :'lab');
DELETE FROM kalix.memberships WHERE account_id IN (:'clinic', :'lab');
DELETE FROM kalix.accounts WHERE id IN (:'clinic', :'lab');
DELETE FROM kalix.logins WHERE id IN (:'owner_login', :'admin_login', :'member_login', :'outsider_login');
DROP ROLE npi_owner, npi_admin, npi_member, npi_outsider;
RESET search_path;
