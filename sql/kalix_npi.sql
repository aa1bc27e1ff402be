--
-- kalix_npi: the npi type (US National Provider Identifiers) on its own, in
-- a database without kalix_accounts, under the default search_path.
--
SELECT current_database() AS regress_db \gset
CREATE DATABASE kalix_npi_alone;
\c kalix_npi_alone
CREATE EXTENSION kalix_npi;
-- Relocatable, in the schema CREATE EXTENSION chose (public by default),
-- with nothing else installed.
SELECT extname, extrelocatable, extnamespace::regnamespace AS schema
FROM pg_extension ORDER BY extname;
SELECT 'npi'::regtype::text AS type, to_regtype('public.npi') IS NOT NULL AS in_public;
SHOW search_path;

--
-- Valid input: 10 digits whose last is the Luhn digit over 80840 and the
-- first nine, the 15-digit 80840 form, surrounding blanks.  Output is the
-- 10 digits.
--
SELECT input, input::npi AS npi
FROM (VALUES ('1234567893'), ('1245319599'), ('1000000004'), ('1999999992'),
             ('2999999990'), ('1045678905'), ('1876543210'), ('2525252526'),
             ('0000000006'), ('9999999995'),
             ('808401234567893'), ('808401245319599'),
             ('  1234567893'), (E'1234567893 \t\n'), (E'\r\n 808400000000006\f\x0b ')) AS t(input);

-- The 15-digit form is the same value as the 10-digit one.
SELECT '808401234567893'::npi = '1234567893'::npi AS same;

--
-- Invalid input: each class says what is wrong.
--
SELECT '1234567890'::npi;        -- wrong check digit: names the expected one
SELECT '808401234567890'::npi;   -- same in the 15-digit form
SELECT '123456789'::npi;         -- too short
SELECT '12345678930'::npi;       -- too long
SELECT '908401234567893'::npi;   -- 15 digits without the 80840 prefix
SELECT ''::npi;                  -- empty
SELECT '   '::npi;               -- blanks only
SELECT '12345 67893'::npi;       -- inner blank
SELECT '-1234567893'::npi;       -- sign
SELECT '+1234567893'::npi;       -- sign
SELECT '12345678A3'::npi;        -- letter
SELECT '1234567893x'::npi;       -- trailing letter
SELECT '1234.567893'::npi;       -- punctuation
SELECT '１２３４５６７８９３'::npi;   -- fullwidth digits are not digits

-- The same classes as a table: SQLSTATE, message and detail of each.
CREATE FUNCTION npi_test_error(input text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    state text;
    message text;
    detail text;
BEGIN
    PERFORM input::npi;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL;
    RETURN state || ' ' || message || ': ' || detail;
END
$$;
SELECT input, npi_test_error(input) AS error, npi_is_valid(input) AS is_valid
FROM (VALUES ('1234567890'), ('1234567891'), ('1234567894'), ('0000000000'),
             ('123456789'), ('1'), ('12345678901234'), ('1234567893123456'),
             ('808401234567'), ('123451234567893'), ('808411234567893'),
             (''), (E' \t '), ('1234 567893'), (E'1234\t567893'), ('1234567893 1'),
             ('-1234567893'), ('1234567893-'), ('+1234567893'), ('12345-67893'),
             ('abcdefghij'), ('NPI1234567893'), ('1234567893e0'), ('1,234,567,893'),
             ('0x12345678'), ('１２３４５６７８９３'), (E'1234567893\u00a0')) AS t(input);

-- npi_is_valid() never raises, is true exactly for what the type accepts,
-- and returns NULL for NULL.
SELECT npi_is_valid('1234567893') AS valid10,
       npi_is_valid(' 808401234567893 ') AS valid15,
       npi_is_valid('1234567890') AS bad_check,
       npi_is_valid(repeat('9', 100000)) AS huge,
       npi_is_valid(NULL) AS null_input;
SELECT count(*) AS random_texts,
       count(*) FILTER (WHERE npi_is_valid(s)) AS valid,
       count(*) FILTER (WHERE npi_is_valid(s) <> (npi_test_error(s) = 'accepted')) AS disagree
FROM (SELECT CASE g % 4
                 WHEN 0 THEN md5(g::text)
                 WHEN 1 THEN substr(md5(g::text), 1, 10)
                 WHEN 2 THEN lpad(g::text, 10, '0')
                 ELSE ' 80840' || lpad((g * 7)::text, 10, '0') || ' '
             END AS s
      FROM generate_series(1, 20000) AS g) AS t;

--
-- Casts: explicit from text, bigint and integer (validated), assignment to
-- text and bigint.  An integer literal casts directly.
--
SELECT '1234567893'::text::npi AS from_text,
       1234567893::bigint::npi AS from_bigint,
       1234567893::npi AS from_integer_literal,
       9999999995::npi AS from_bigint_literal,
       pg_typeof(1234567893) AS literal_type,
       npi(6) AS leading_zeros,
       '1234567893'::npi::text AS to_text,
       '0000000006'::npi::bigint AS to_bigint,
       pg_typeof('1234567893'::npi::bigint) AS type;
SELECT 1234567890::bigint::npi;     -- wrong check digit
SELECT (-1234567893)::bigint::npi;  -- negative
SELECT 12345678903::bigint::npi;    -- more than 10 digits
SELECT 12345::npi;                  -- an integer literal is validated too
SELECT (-6)::npi;                   -- negative integer
SELECT 1234567890::npi;             -- integer literal, wrong check digit
SELECT castcontext, castmethod, castsource::regtype, casttarget::regtype
FROM pg_cast
WHERE castsource = 'npi'::regtype OR casttarget = 'npi'::regtype
ORDER BY 3, 4;
-- No implicit cast: a number is not silently an NPI.
SELECT '1234567893'::npi = 1234567893::bigint;
SELECT '1234567893'::npi = 1234567893;
-- Arrays of NPIs.
SELECT '{1234567893, 808401245319599}'::npi[] AS npis;

--
-- Operators.
--
SELECT a, b, a = b AS eq, a <> b AS ne, a < b AS lt, a <= b AS le, a > b AS gt, a >= b AS ge
FROM (VALUES ('1234567893'::npi, '1234567893'::npi),
             ('1234567893', '1245319599'),
             ('1245319599', '1234567893'),
             ('0000000006', '9999999995')) AS t(a, b);
SELECT npi FROM unnest('{9999999995, 1234567893, 0000000006, 1245319599}'::npi[]) AS npi ORDER BY npi;
SELECT min(npi)::text, max(npi)::text, count(DISTINCT npi)
FROM unnest('{9999999995, 1234567893, 0000000006, 808401234567893}'::npi[]) AS npi;

--
-- Operator classes: valid for btree and hash.
--
SELECT opc.opcname, am.amname, opc.opcdefault, amvalidate(opc.oid)
FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
WHERE opc.opcintype = 'npi'::regtype
ORDER BY 1;

--
-- A primary key, index scans and a hash join on npi columns.
--
CREATE TABLE npi_providers (npi npi PRIMARY KEY, name text NOT NULL);
CREATE TABLE npi_claims (id int PRIMARY KEY, npi npi NOT NULL, amount numeric NOT NULL);
CREATE INDEX npi_claims_npi_hash ON npi_claims USING hash (npi);
INSERT INTO npi_providers VALUES ('1234567893', 'Dr. Ada'), ('1245319599', 'Dr. Ben'), ('0000000006', 'Lab');
INSERT INTO npi_claims
SELECT g, (ARRAY['1234567893', '1245319599', '9999999995'])[g % 3 + 1]::npi, g
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
-- Binary round trip: \copy out and in with FORMAT binary through a file in
-- results/; binary input is validated again.
--
\copy npi_providers TO 'results/kalix_npi_providers.bin' (FORMAT binary)
CREATE TABLE npi_providers_copy (LIKE npi_providers);
\copy npi_providers_copy FROM 'results/kalix_npi_providers.bin' (FORMAT binary)
SELECT npi, name FROM npi_providers_copy ORDER BY npi;
SELECT count(*) AS differences
FROM (TABLE npi_providers EXCEPT ALL TABLE npi_providers_copy) AS d;
SELECT npi_send('1234567893') AS send,
       npi_send('1234567893') = int8send(1234567893) AS like_int8;
-- A binary file whose numbers are no NPIs is refused.
CREATE TABLE npi_numbers (npi bigint, name text);
INSERT INTO npi_numbers VALUES (1234567890, 'bad check digit');
\copy npi_numbers TO 'results/kalix_npi_numbers.bin' (FORMAT binary)
\copy npi_providers_copy FROM 'results/kalix_npi_numbers.bin' (FORMAT binary)
TRUNCATE npi_numbers;
INSERT INTO npi_numbers VALUES (12345678903, 'eleven digits');
\copy npi_numbers TO 'results/kalix_npi_numbers.bin' (FORMAT binary)
\copy npi_providers_copy FROM 'results/kalix_npi_numbers.bin' (FORMAT binary)
TRUNCATE npi_numbers;
INSERT INTO npi_numbers VALUES (-6, 'negative');
\copy npi_numbers TO 'results/kalix_npi_numbers.bin' (FORMAT binary)
\copy npi_providers_copy FROM 'results/kalix_npi_numbers.bin' (FORMAT binary)
SELECT count(*) FROM npi_providers_copy;
DROP TABLE npi_providers, npi_claims, npi_providers_copy, npi_numbers;

--
-- The extension's objects, all in its schema; DROP EXTENSION takes them all.
--
SELECT pg_describe_object(classid, objid, objsubid) AS member
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'kalix_npi')
  -- PostgreSQL 17 and later also record the array type npi[] as a member.
  AND NOT (classid = 'pg_type'::regclass
           AND (SELECT typcategory = 'A' FROM pg_type WHERE oid = objid))
ORDER BY pg_describe_object(classid, objid, objsubid) COLLATE "C";
DROP EXTENSION kalix_npi;
SELECT to_regtype('npi') AS npi_after_drop,
       (SELECT count(*) FROM pg_operator WHERE oprnamespace = 'public'::regnamespace) AS operators_left;

\c :regress_db
DROP DATABASE kalix_npi_alone;
