--
-- architecture: docs/architecture.md's error catalogue is src/errors.c's.
-- Both files are read from the source tree (pg_regress's PG_ABS_SRCDIR), the
-- SQLSTATEs from the server's errcodes.h; every function of errors.c that
-- raises (its one-line comment, its SQLSTATE, each of its messages) must be
-- a row of the document's table, and every row of the table such a
-- function.  A condition added, changed or removed in one file but not in
-- the other is listed below and fails the test.
--
\set errors_c `cat "$PG_ABS_SRCDIR/src/errors.c"`
\set errcodes_h `cat "$(${PG_CONFIG:-pg_config} --includedir-server)/utils/errcodes.h"`
\set doc `cat "$PG_ABS_SRCDIR/docs/architecture.md"`

CREATE TEMP TABLE sqlstates AS
SELECT m[1] AS macro, m[2] || m[3] || m[4] || m[5] || m[6] AS sqlstate
FROM regexp_matches(:'errcodes_h',
    '#define (ERRCODE_\w+)\s+MAKE_SQLSTATE\(''(.)'',''(.)'',''(.)'',''(.)'',''(.)''\)', 'g') m;

-- errors.c, function by function: the comment above it, its errcode, its messages.
CREATE TEMP TABLE in_source AS
SELECT f[2] AS function,
       btrim(regexp_replace(f[1], '\s*\n\s*\*\s*', ' ', 'g')) AS condition,
       s.sqlstate, substr(e[1], 8) AS macro,
       replace(msg[1], '\"', '"') AS message
FROM regexp_split_to_table(:'errors_c', E'\n}\n') c,
     regexp_match(c, '/\*((?:[^*]|\*+[^*/])*)\*+/\s*void\s+(KalixRaise\w+)\(') f,
     regexp_match(c, 'errcode\((ERRCODE_\w+)\)') e,
     regexp_matches(c, 'errmsg\("((?:[^"\\]|\\.)*)"', 'g') msg,
     sqlstates s
WHERE s.macro = e[1];

-- The document's table rows.
CREATE TEMP TABLE in_doc AS
SELECT r[1] AS function, r[2] AS condition, r[3] AS sqlstate, r[4] AS macro, r[5] AS message
FROM regexp_split_to_table(:'doc', E'\n') line,
     regexp_match(line, '^\| `(KalixRaise\w+)` \| (.*) \| (\w{5}) `(\w+)` \| `(.*)` \|$') r;

SELECT count(*) AS conditions, count(DISTINCT function) AS functions FROM in_source;
-- Every raising function of errors.c was found (none parsed away).
SELECT (SELECT count(*) FROM regexp_matches(:'errors_c', '\nKalixRaise\w+\(', 'g'))
     = (SELECT count(DISTINCT function) FROM in_source) AS every_function_read;
-- In errors.c, not in the document:
SELECT * FROM in_source EXCEPT SELECT * FROM in_doc ORDER BY function, message;
-- In the document, not in errors.c:
SELECT * FROM in_doc EXCEPT SELECT * FROM in_source ORDER BY function, message;
DROP TABLE sqlstates, in_source, in_doc;
