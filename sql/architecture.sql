--
-- architecture: docs/architecture.md says what the source tree is.  The
-- files are read from the source tree (pg_regress's PG_ABS_SRCDIR), the
-- SQLSTATEs from the server's errcodes.h.  What is listed below as being in
-- one and not in the other fails the test.
--
\set errors_c `cat "$PG_ABS_SRCDIR/src/errors.c"`
\set errcodes_h `cat "$(${PG_CONFIG:-pg_config} --includedir-server)/utils/errcodes.h"`
\set doc `cat "$PG_ABS_SRCDIR/docs/architecture.md"`
\set src_files `cd "$PG_ABS_SRCDIR/src" && ls *.c *.h`
\set includes `cd "$PG_ABS_SRCDIR/src" && grep -H '^#include "' *.h`

CREATE TEMP TABLE doc_lines AS
SELECT n, line FROM regexp_split_to_table(:'doc', E'\n') WITH ORDINALITY AS l (line, n);

--
-- The layout table names every file of src/, and only those.
--
CREATE TEMP TABLE src_files AS SELECT regexp_split_to_table(:'src_files', E'\n') AS file;
CREATE TEMP TABLE doc_files AS
SELECT f[1] AS file
FROM doc_lines, regexp_matches(split_part(line, ' | ', 1), '`([a-z_]+\.[ch])`', 'g') f
WHERE line LIKE '| `%';
SELECT count(*) AS files_in_src FROM src_files;
-- In src/, not in the layout table:
SELECT file FROM src_files EXCEPT SELECT file FROM doc_files ORDER BY 1;
-- In the layout table, not in src/:
SELECT file FROM doc_files EXCEPT SELECT file FROM src_files ORDER BY 1;

--
-- The headers include no cycle, and a header includes, of ours, only the
-- shared layer (kalix.h, compat.h, tables.h).
--
CREATE TEMP TABLE header_includes AS
SELECT m[1] AS header, m[2] AS included
FROM regexp_split_to_table(:'includes', E'\n') line,
     regexp_match(line, '^([a-z_]+\.h):#include "([a-z_]+\.h)"') m
WHERE m[2] IN (SELECT file FROM src_files);
SELECT count(*) AS includes_between_our_headers FROM header_includes;
WITH RECURSIVE reach (start, node, path) AS (
    SELECT header, included, ARRAY[included] FROM header_includes
    UNION ALL
    SELECT r.start, i.included, r.path || i.included
    FROM reach r JOIN header_includes i ON i.header = r.node
    WHERE NOT i.included = ANY (r.path)
)
SELECT start AS header_in_a_cycle, path FROM reach WHERE node = start ORDER BY 1;
SELECT header, included AS not_a_shared_header FROM header_includes
WHERE included NOT IN ('kalix.h', 'compat.h', 'tables.h')
ORDER BY 1, 2;

--
-- The error catalogue: every function of errors.c that raises (the comment
-- above it, its SQLSTATE, each of its messages) is a row of the document's
-- table, and every row of the table such a function.
--

CREATE TEMP TABLE sqlstates AS
SELECT m[1] AS macro, m[2] || m[3] || m[4] || m[5] || m[6] AS sqlstate
FROM regexp_matches(:'errcodes_h',
    '#define (ERRCODE_\w+)\s+MAKE_SQLSTATE\(''(.)'',''(.)'',''(.)'',''(.)'',''(.)''\)', 'g') m;

-- errors.c, function by function: the comment above it, its errcode, its messages.
CREATE TEMP TABLE in_source AS
SELECT f[2] AS function,
       btrim(regexp_replace(f[1], '\s*\n\s*\*\s*', ' ', 'g'), E' \n\t') AS condition,
       s.sqlstate, substr(e[1], 9) AS macro,
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
FROM doc_lines,
     regexp_match(line, '^\| `(KalixRaise\w+)` \| (.*) \| (\w{5}) `(\w+)` \| `(.*)` \|$') r
WHERE r IS NOT NULL;

SELECT count(*) AS conditions, count(DISTINCT function) AS functions FROM in_source;
-- Every raising function of errors.c was found (none parsed away).
SELECT (SELECT count(*) FROM regexp_matches(:'errors_c', '\nKalixRaise\w+\(', 'g'))
     = (SELECT count(DISTINCT function) FROM in_source) AS every_function_read;
-- In errors.c, not in the document (each as the row to put in its table):
SELECT format('| `%s` | %s | %s `%s` | `%s` |', function, condition, sqlstate, macro, message) AS missing_row
FROM (SELECT * FROM in_source EXCEPT SELECT * FROM in_doc) m
ORDER BY function, message;
-- In the document, not in errors.c:
SELECT * FROM in_doc EXCEPT SELECT * FROM in_source ORDER BY function, message;
DROP TABLE doc_lines, src_files, doc_files, header_includes, sqlstates, in_source, in_doc;
