#!/bin/bash
# TAP: every member of kalix_accounts and kalix_npi has a COMMENT, and so has
# every column of the extension's tables and views -- in a fresh install and
# in a 1.0 install updated to the default version -- so a new member added
# without one fails here.  Internal helpers say so: the comment of each
# trigger and event-trigger function of kalix begins with "internal:".
# Runs as superuser against the PG* server, in databases of its own.
set -u
cd "$(dirname "$0")/.."

fresh_db=kalix_comments_fresh
updated_db=kalix_comments_updated
work=$(mktemp -d)

cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $fresh_db" \
        -c "DROP DATABASE IF EXISTS $updated_db" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

. test/lib/tap.sh

# The members of extension :ext without a comment, one line each.
cat >"$work/members.sql" <<'SQL'
SELECT pg_catalog.pg_describe_object(d.classid, d.objid, 0)
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
  AND d.deptype = 'e' AND e.extname = :'ext'
  AND pg_catalog.obj_description(d.objid, d.classid::pg_catalog.regclass::pg_catalog.name) IS NULL
  -- The types PostgreSQL makes by itself, which 17 and later also record as
  -- members: the row type of a table or view, and every array type.
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_type t
                  LEFT JOIN pg_catalog.pg_class r ON r.oid = t.typrelid
                  WHERE d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND t.oid = d.objid
                    AND (r.relkind IS DISTINCT FROM 'c' AND t.typrelid <> 0
                         OR t.typsubscript = 'pg_catalog.array_subscript_handler'::pg_catalog.regproc))
ORDER BY 1;
SQL
# The columns of the extension's tables and views without a comment.
cat >"$work/columns.sql" <<'SQL'
SELECT pg_catalog.format('%s.%I', c.oid::pg_catalog.regclass, a.attname)
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
JOIN pg_catalog.pg_class c ON c.oid = d.objid
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
  AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
  AND d.deptype = 'e' AND e.extname = :'ext' AND c.relkind IN ('r', 'p', 'v', 'm')
  AND pg_catalog.col_description(c.oid, a.attnum) IS NULL
ORDER BY 1;
SQL
# The trigger and event-trigger functions of kalix not commented as internal.
cat >"$work/internal.sql" <<'SQL'
SELECT p.oid::pg_catalog.regprocedure
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'kalix'::pg_catalog.regnamespace
  AND p.prorettype IN ('pg_catalog.trigger'::pg_catalog.regtype, 'pg_catalog.event_trigger'::pg_catalog.regtype)
  AND COALESCE(pg_catalog.obj_description(p.oid, 'pg_proc'), '') NOT LIKE 'internal: %'
ORDER BY 1;
SQL

# Runs query file $2 in database $1 for extension $3; ok when it lists nothing.
expect_none() {  # expect_none DB FILE EXT NAME
    psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" -v ext="$3" -f "$2" >"$work/out" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] && [ ! -s "$work/out" ]
    check $? "$4" "$work/out"
}

echo "1..7"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $fresh_db" -c "CREATE DATABASE $fresh_db" \
    -c "DROP DATABASE IF EXISTS $updated_db" -c "CREATE DATABASE $updated_db" >/dev/null 2>"$work/setup.err" &&
    psql -X -q -v ON_ERROR_STOP=1 -d "$fresh_db" -c 'CREATE EXTENSION kalix_accounts CASCADE' \
        >/dev/null 2>>"$work/setup.err" &&
    psql -X -q -v ON_ERROR_STOP=1 -d "$updated_db" -c "CREATE EXTENSION kalix_accounts VERSION '1.0'" \
        -c 'CREATE EXTENSION kalix_npi' -c 'ALTER EXTENSION kalix_accounts UPDATE' \
        >/dev/null 2>>"$work/setup.err" ||
    bail "set-up failed: $(head -3 "$work/setup.err")"

expect_none "$fresh_db" "$work/members.sql" kalix_accounts "fresh install: every member of kalix_accounts has a comment"
expect_none "$fresh_db" "$work/columns.sql" kalix_accounts "fresh install: every column of kalix's tables and views has a comment"
expect_none "$fresh_db" "$work/members.sql" kalix_npi "every member of kalix_npi has a comment"
expect_none "$fresh_db" "$work/internal.sql" kalix_accounts "fresh install: every trigger and event-trigger function is commented as internal"
expect_none "$updated_db" "$work/members.sql" kalix_accounts "updated from 1.0: every member of kalix_accounts has a comment"
expect_none "$updated_db" "$work/columns.sql" kalix_accounts "updated from 1.0: every column of kalix's tables and views has a comment"
expect_none "$updated_db" "$work/internal.sql" kalix_accounts "updated from 1.0: every trigger and event-trigger function is commented as internal"
[ "$failed" -eq 0 ]
