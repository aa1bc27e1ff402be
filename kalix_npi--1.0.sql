/* kalix_npi--1.0.sql */

\echo Use "CREATE EXTENSION kalix_npi" to load this file. \quit

-- The npi type: a US National Provider Identifier, stored like int8 (the ten
-- digits as a number), so that comparison, btree and hash support are int8's
-- own functions declared over npi (as contrib/isn does).  The extension is
-- relocatable: every object below is created in the schema CREATE EXTENSION
-- chose (public by default), which is what puts the operators on an
-- application's search_path.  Names are therefore unqualified here; the
-- built-ins are named with pg_catalog.

CREATE TYPE npi;

CREATE FUNCTION npi_in(cstring) RETURNS npi
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_npi_in';
COMMENT ON FUNCTION npi_in(cstring) IS 'text input of npi: 10 digits or the 15-digit 80840 form, validated';

CREATE FUNCTION npi_out(npi) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_npi_out';
COMMENT ON FUNCTION npi_out(npi) IS 'text output of npi: the 10 digits';

CREATE FUNCTION npi_recv(internal) RETURNS npi
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_npi_recv';
COMMENT ON FUNCTION npi_recv(internal) IS 'binary input of npi (an int8), validated again';

CREATE FUNCTION npi_send(npi) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_npi_send';
COMMENT ON FUNCTION npi_send(npi) IS 'binary output of npi (an int8)';

CREATE TYPE npi (
    INPUT = npi_in,
    OUTPUT = npi_out,
    RECEIVE = npi_recv,
    SEND = npi_send,
    LIKE = pg_catalog.int8
);
COMMENT ON TYPE npi IS 'US National Provider Identifier: 10 digits, the last a Luhn check digit over 80840 and the first nine';

CREATE FUNCTION npi_is_valid(text) RETURNS boolean
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_npi_is_valid';
COMMENT ON FUNCTION npi_is_valid(text) IS 'true exactly when npi accepts the text; never raises';

CREATE FUNCTION npi(bigint) RETURNS npi
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_npi_from_int8';
COMMENT ON FUNCTION npi(bigint) IS 'cast from bigint to npi, validated';

CREATE FUNCTION npi(integer) RETURNS npi
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kalix_npi_from_int4';
COMMENT ON FUNCTION npi(integer) IS 'cast from integer to npi, validated (so that 1234567893::npi works)';

-- Explicit into npi (always validated); out of npi also on assignment.
CREATE CAST (text AS npi) WITH INOUT;
CREATE CAST (npi AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (bigint AS npi) WITH FUNCTION npi(bigint);
CREATE CAST (integer AS npi) WITH FUNCTION npi(integer);
CREATE CAST (npi AS bigint) WITHOUT FUNCTION AS ASSIGNMENT;

-- int8's built-ins, declared over npi (same representation).
CREATE FUNCTION npi_eq(npi, npi) RETURNS boolean
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8eq';
COMMENT ON FUNCTION npi_eq(npi, npi) IS 'implementation of = for npi';
CREATE FUNCTION npi_ne(npi, npi) RETURNS boolean
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8ne';
COMMENT ON FUNCTION npi_ne(npi, npi) IS 'implementation of <> for npi';
CREATE FUNCTION npi_lt(npi, npi) RETURNS boolean
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8lt';
COMMENT ON FUNCTION npi_lt(npi, npi) IS 'implementation of < for npi';
CREATE FUNCTION npi_le(npi, npi) RETURNS boolean
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8le';
COMMENT ON FUNCTION npi_le(npi, npi) IS 'implementation of <= for npi';
CREATE FUNCTION npi_gt(npi, npi) RETURNS boolean
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8gt';
COMMENT ON FUNCTION npi_gt(npi, npi) IS 'implementation of > for npi';
CREATE FUNCTION npi_ge(npi, npi) RETURNS boolean
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8ge';
COMMENT ON FUNCTION npi_ge(npi, npi) IS 'implementation of >= for npi';
CREATE FUNCTION npi_cmp(npi, npi) RETURNS integer
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'btint8cmp';
COMMENT ON FUNCTION npi_cmp(npi, npi) IS 'btree comparison of npi';
CREATE FUNCTION npi_sortsupport(internal) RETURNS void
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'btint8sortsupport';
COMMENT ON FUNCTION npi_sortsupport(internal) IS 'btree sort support of npi';
CREATE FUNCTION npi_hash(npi) RETURNS integer
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'hashint8';
COMMENT ON FUNCTION npi_hash(npi) IS 'hash of npi';
CREATE FUNCTION npi_hash_extended(npi, bigint) RETURNS bigint
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'hashint8extended';
COMMENT ON FUNCTION npi_hash_extended(npi, bigint) IS 'seeded 64-bit hash of npi';

CREATE FUNCTION npi_smaller(npi, npi) RETURNS npi
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'int8smaller';
COMMENT ON FUNCTION npi_smaller(npi, npi) IS 'the smaller of two npi values (for min)';
CREATE FUNCTION npi_larger(npi, npi) RETURNS npi
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'int8larger';
COMMENT ON FUNCTION npi_larger(npi, npi) IS 'the larger of two npi values (for max)';

CREATE OPERATOR = (
    LEFTARG = npi, RIGHTARG = npi, FUNCTION = npi_eq,
    COMMUTATOR = =, NEGATOR = <>,
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR <> (
    LEFTARG = npi, RIGHTARG = npi, FUNCTION = npi_ne,
    COMMUTATOR = <>, NEGATOR = =,
    RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR < (
    LEFTARG = npi, RIGHTARG = npi, FUNCTION = npi_lt,
    COMMUTATOR = >, NEGATOR = >=,
    RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR <= (
    LEFTARG = npi, RIGHTARG = npi, FUNCTION = npi_le,
    COMMUTATOR = >=, NEGATOR = >,
    RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR > (
    LEFTARG = npi, RIGHTARG = npi, FUNCTION = npi_gt,
    COMMUTATOR = <, NEGATOR = <=,
    RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR >= (
    LEFTARG = npi, RIGHTARG = npi, FUNCTION = npi_ge,
    COMMUTATOR = <=, NEGATOR = <,
    RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR CLASS npi_ops
    DEFAULT FOR TYPE npi USING btree AS
        OPERATOR 1 <,
        OPERATOR 2 <=,
        OPERATOR 3 =,
        OPERATOR 4 >=,
        OPERATOR 5 >,
        FUNCTION 1 npi_cmp(npi, npi),
        FUNCTION 2 npi_sortsupport(internal),
        FUNCTION 4 pg_catalog.btequalimage(oid);
CREATE OPERATOR CLASS npi_hash_ops
    DEFAULT FOR TYPE npi USING hash AS
        OPERATOR 1 =,
        FUNCTION 1 npi_hash(npi),
        FUNCTION 2 npi_hash_extended(npi, bigint);

CREATE AGGREGATE min(npi) (
    SFUNC = npi_smaller, STYPE = npi, COMBINEFUNC = npi_smaller,
    SORTOP = <, PARALLEL = SAFE
);
COMMENT ON AGGREGATE min(npi) IS 'the smallest NPI';
CREATE AGGREGATE max(npi) (
    SFUNC = npi_larger, STYPE = npi, COMBINEFUNC = npi_larger,
    SORTOP = >, PARALLEL = SAFE
);
COMMENT ON AGGREGATE max(npi) IS 'the largest NPI';

-- Comments on the casts, operators and operator classes and families, so
-- that every member of the extension has one (test/comments.sh).
COMMENT ON CAST (text AS npi) IS 'explicit: validated text input ($1::npi)';
COMMENT ON CAST (npi AS text) IS 'assignment: the 10 digits';
COMMENT ON CAST (bigint AS npi) IS 'explicit: validated, 0 to 9999999999';
COMMENT ON CAST (integer AS npi) IS 'explicit: validated, so that 1234567893::npi works';
COMMENT ON CAST (npi AS bigint) IS 'assignment: the number, without leading zeros';
COMMENT ON OPERATOR = (npi, npi) IS 'equal';
COMMENT ON OPERATOR <> (npi, npi) IS 'not equal';
COMMENT ON OPERATOR < (npi, npi) IS 'less than, in numeric order';
COMMENT ON OPERATOR <= (npi, npi) IS 'less than or equal, in numeric order';
COMMENT ON OPERATOR > (npi, npi) IS 'greater than, in numeric order';
COMMENT ON OPERATOR >= (npi, npi) IS 'greater than or equal, in numeric order';
COMMENT ON OPERATOR FAMILY npi_ops USING btree IS 'btree ordering of npi, in numeric order (int8''s)';
COMMENT ON OPERATOR CLASS npi_ops USING btree IS 'default btree operator class of npi: indexes, ORDER BY, merge joins';
COMMENT ON OPERATOR FAMILY npi_hash_ops USING hash IS 'hashing of npi (int8''s)';
COMMENT ON OPERATOR CLASS npi_hash_ops USING hash IS 'default hash operator class of npi: hash indexes, hash joins and aggregation';
