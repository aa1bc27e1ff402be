#!/bin/bash
# TAP: pg_dump -Fc / pg_restore of a database using kalix_accounts keeps
# every row of every extension table (accounts stored children before
# parents included), the registered tables with their rows and policies, and
# isolation -- restored serially, with pg_restore -j 4 (which loads the
# extension's tables all at once, in any order), and from a dump taken while
# writers churn.  Runs as superuser against the server the PG* variables
# point to.
set -u
cd "$(dirname "$0")/.."

src=kalix_dump_src
dst=kalix_dump_dst
par=kalix_dump_par
churn=kalix_dump_churn
reader=kalix_dump_reader
work=$(mktemp -d)

psql_su() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
value() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$@"; }

hold_pid=
bench_pid=
cleanup() {
    [ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null
    [ -n "$hold_pid" ] && kill "$hold_pid" 2>/dev/null
    exec 3>&- 2>/dev/null
    psql_su -d postgres >/dev/null 2>&1 <<SQL
DROP DATABASE IF EXISTS $src;
DROP DATABASE IF EXISTS $dst;
DROP DATABASE IF EXISTS $par;
DROP DATABASE IF EXISTS $churn;
DROP ROLE IF EXISTS $reader;
SQL
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

. test/lib/tap.sh

echo "1..22"

psql_su -d postgres >/dev/null 2>"$work/setup.err" <<SQL || { cat "$work/setup.err" >&2; bail "setup failed"; }
DROP DATABASE IF EXISTS $src;
DROP DATABASE IF EXISTS $dst;
DROP DATABASE IF EXISTS $par;
DROP DATABASE IF EXISTS $churn;
DROP ROLE IF EXISTS $reader;
CREATE ROLE $reader;
CREATE DATABASE $src;
SQL

# Fill every extension table.  Accounts are written children first: the
# parent_id foreign key is deferred, so one transaction may do that.
psql_su -d "$src" >/dev/null 2>"$work/fill.err" <<SQL
CREATE EXTENSION kalix_accounts CASCADE;
CREATE TABLE public.notes (id serial, account_id uuid NOT NULL, body text, PRIMARY KEY (account_id, id));
CREATE INDEX ON public.notes (account_id);
SELECT kalix.enable_isolation('public.notes');
GRANT SELECT ON public.notes TO $reader;

SELECT kalix.create_login('dana@example.com', 'Dana') AS dana \gset
SELECT kalix.create_login('eli@example.com', 'Eli', '$reader') AS eli \gset
SELECT kalix.create_login('fay@example.com') AS fay \gset

BEGIN;
INSERT INTO kalix.accounts (id, name, parent_id, created_by, settings, archived_at)
VALUES ('00000000-0000-4000-8000-000000000003', 'Pediatrics', '00000000-0000-4000-8000-000000000002', :'dana',
        '{"color": "blue"}', '2024-05-01 12:00+00');
INSERT INTO kalix.accounts (id, name, parent_id, created_by)
VALUES ('00000000-0000-4000-8000-000000000002', 'Downtown', '00000000-0000-4000-8000-000000000001', :'dana');
INSERT INTO kalix.accounts (id, name, created_by, branding)
VALUES ('00000000-0000-4000-8000-000000000001', 'Sunrise Clinic', :'dana', '{"logo": "sun.png"}');
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT a, :'dana'::uuid, 'owner' FROM unnest(ARRAY['00000000-0000-4000-8000-000000000001',
    '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003']::uuid[]) a;
INSERT INTO kalix.memberships (account_id, login_id, role)
VALUES ('00000000-0000-4000-8000-000000000002', :'eli', 'member');
COMMIT;

SELECT set_config('kalix.current_login', :'fay', false);
SELECT kalix.create_account('Fay Dietetics') AS fay_account \gset
INSERT INTO kalix.audit_log (login_id, account_id, action, detail)
VALUES (:'dana', '00000000-0000-4000-8000-000000000001', 'restored_by_hand', '{"note": "kept"}');

INSERT INTO public.notes (account_id, body)
SELECT a, format('note %s of %s', g, a)
FROM unnest(ARRAY['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
                  :'fay_account']::uuid[]) WITH ORDINALITY AS x(a, k),
     generate_series(1, 3 * k::int) g;

-- Tables other branches add, filled when present.
DO \$\$
BEGIN
    IF to_regclass('kalix.account_npis') IS NOT NULL THEN
        EXECUTE \$q\$INSERT INTO kalix.account_npis (account_id, npi, label, is_primary)
                   VALUES ('00000000-0000-4000-8000-000000000001', '1234567893', 'main', true)\$q\$;
    END IF;
    IF to_regclass('kalix.invitations') IS NOT NULL THEN
        PERFORM kalix.invite((SELECT a.id FROM kalix.accounts a WHERE a.name = 'Fay Dietetics'),
                             'guest@example.com');
    END IF;
END
\$\$;

-- Thousands of accounts for the parallel restore: 1,000 trees of three
-- generations, stored grandchildren first, then children, then roots, each
-- with an owner, an admin and a member, so that kalix.memberships holds
-- more data than kalix.accounts (pg_restore -j starts the largest first).
BEGIN;
INSERT INTO kalix.logins (id, email)
SELECT md5('bulk login ' || g)::uuid, format('bulk%s@example.com', g) FROM generate_series(1, 2) g;
INSERT INTO kalix.accounts (id, name, parent_id, created_by)
SELECT md5(format('bulk %s %s', gen, g))::uuid, format('Bulk %s %s', gen, g),
       CASE WHEN gen > 0 THEN md5(format('bulk %s %s', gen - 1, g))::uuid END, :'dana'
FROM generate_series(0, 2) gen, generate_series(1, 1000) g
ORDER BY gen DESC, g;
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT a.id, l.login, l.role
FROM kalix.accounts a,
     (VALUES (:'dana'::uuid, 'owner'::kalix.account_role),
             (md5('bulk login 1')::uuid, 'admin'), (md5('bulk login 2')::uuid, 'member')) l(login, role)
WHERE a.name LIKE 'Bulk %';
COMMIT;
SQL
check $? "every extension table filled in the source database" "$work/fill.err"

value "$src" >"$work/empty.txt" <<'SQL'
SELECT string_agg(format('%I.%I', schemaname, tablename), ' ' ORDER BY tablename)
FROM pg_tables t
WHERE schemaname = 'kalix'
  AND (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', schemaname, tablename),
                                           false, true, '')))[1]::text::int = 0;
SQL
empty=$(cat "$work/empty.txt")
echo "tables left empty by the fill (extend this test): $empty" >"$work/empty.txt"
[ -z "$empty" ]; check $? "no extension table is empty (the fill covers every table)" "$work/empty.txt"

order=$(value "$src" -c "SELECT string_agg(name, ' < ' ORDER BY ctid) FROM kalix.accounts WHERE name IN ('Sunrise Clinic', 'Downtown', 'Pediatrics')")
before=$(value "$src" -c "SELECT count(*) FROM kalix.accounts c JOIN kalix.accounts p ON p.id = c.parent_id WHERE c.ctid < p.ctid")
[ "$order" = "Pediatrics < Downtown < Sunrise Clinic" ] && [ "$before" -ge 2000 ]
check $? "accounts are stored children before parents ($order; $before children before their parent)"

pg_dump -Fc -d "$src" -f "$work/kalix.dump" 2>"$work/dump.err"
check $? "pg_dump -Fc as superuser" "$work/dump.err"

# pg_dump warned "there are circular foreign-key constraints on this table:
# accounts" while parent_id was a foreign key.
[ ! -s "$work/dump.err" ]; check $? "pg_dump prints no warning" "$work/dump.err"

createdb "$dst" && pg_restore --exit-on-error -d "$dst" "$work/kalix.dump" 2>"$work/restore.err"
check $? "pg_restore into a new database, without errors" "$work/restore.err"

# Row-for-row comparison of every table of schema kalix and of the registered tables.
table_list="SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'kalix'
            UNION SELECT tbl::text FROM kalix.isolated_tables ORDER BY 1"
value "$src" -c "$table_list" >"$work/tables.src"
value "$dst" -c "$table_list" >"$work/tables.dst"
diff "$work/tables.src" "$work/tables.dst" >"$work/tables.diff"
check $? "the same tables exist after the restore ($(wc -l <"$work/tables.src") compared)" "$work/tables.diff"

# compare_rows DB: diffs every table's rows in DB with the source's into
# $work/rows.diff and counts them in $rows.
compare_rows() {
    : >"$work/rows.diff"
    rows=0
    while read -r tbl; do
        for d in "$src" "$1"; do
            psql -X -q -d "$d" -c "COPY (SELECT t::text FROM $tbl t ORDER BY 1) TO STDOUT" >"$work/rows.$d" 2>&1
        done
        rows=$((rows + $(wc -l <"$work/rows.$src")))
        if ! diff "$work/rows.$src" "$work/rows.$1" >"$work/one.diff"; then
            { echo "$tbl:"; cat "$work/one.diff"; } >>"$work/rows.diff"
        fi
    done <"$work/tables.src"
    [ ! -s "$work/rows.diff" ] && [ "$rows" -gt 0 ]
}
compare_rows "$dst"
check $? "every row of every table is the same after the restore ($rows rows)" "$work/rows.diff"

seqs="SELECT string_agg(format('%s=%s', c.oid::regclass, pg_sequence_last_value(c.oid)), ' ' ORDER BY c.relname)
      FROM pg_class c WHERE c.relkind = 'S'"
[ "$(value "$src" -c "$seqs")" = "$(value "$dst" -c "$seqs")" ]
check $? "sequences continue where they were ($(value "$dst" -c "$seqs"))"

# Isolation after the restore.
flags=$(value "$dst" -c "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'public.notes'::regclass")
[ "$flags" = "t" ]; check $? "row-level security is enabled and forced on the restored table"

lint=$(value "$dst" -c "SELECT count(*) FROM kalix.lint()")
[ "$lint" = "0" ]; check $? "kalix.lint() finds nothing in the restored database"

fay=$(value "$dst" -c "SELECT id FROM kalix.logins WHERE email = 'fay@example.com'")
fay_account=$(value "$dst" -c "SELECT id FROM kalix.accounts WHERE name = 'Fay Dietetics'")
expected=$(value "$src" -c "SELECT count(*) FROM public.notes WHERE account_id = '$fay_account'")
seen=$(value "$dst" <<SQL
SELECT set_config('kalix.current_login', '$fay', false) \g /dev/null
SET ROLE $reader;
SELECT kalix.switch_account('$fay_account') \g /dev/null
SELECT format('%s/%s', count(*), count(*) FILTER (WHERE account_id <> '$fay_account')) FROM public.notes;
SQL
)
[ "$seen" = "$expected/0" ] && [ "$expected" -gt 0 ]
check $? "a login sees exactly its account's rows after the restore (seen/other: $seen, expected $expected/0)"

seen=$(value "$dst" <<SQL
SET ROLE $reader;
SELECT count(*) FROM public.notes;
SQL
)
[ "$seen" = "0" ]; check $? "without a current account the restored table shows no rows ($seen)"

# Eli's login is the reader role itself (db_role); Downtown is his only account.
seen=$(value "$dst" <<SQL
SET ROLE $reader;
SELECT string_agg(name, ',') FROM kalix.my_accounts();
SELECT kalix.switch_account(id) FROM kalix.accounts WHERE name = 'Downtown' \g /dev/null
SELECT count(*) FROM public.notes;
SQL
)
[ "$seen" = "$(printf 'Downtown\n6')" ]
check $? "a login mapped to a database role keeps its membership and rows ($(echo $seen))"

newid=$(value "$dst" <<SQL
SELECT set_config('kalix.current_login', '$fay', false) \g /dev/null
SELECT max(id) AS before FROM kalix.audit_log \gset
SELECT kalix.create_account('After Restore') \g /dev/null
SELECT count(*) = 1 FROM kalix.audit_log WHERE id > :before AND action = 'create_account';
SQL
)
[ "$newid" = "t" ]; check $? "the restored database accepts new accounts and audit rows"

# What a restore must never leave: an account without an owner, a membership
# or NPI of no account, a child of no parent, an account of no login.
invariants="SELECT format('%s without owner, %s dangling memberships, %s dangling NPIs, %s orphans, %s unknown creators',
    (SELECT count(*) FROM kalix.accounts a WHERE NOT EXISTS
        (SELECT 1 FROM kalix.memberships m WHERE m.account_id = a.id AND m.role = 'owner')),
    (SELECT count(*) FROM kalix.memberships m WHERE NOT EXISTS (SELECT 1 FROM kalix.accounts a WHERE a.id = m.account_id)
        OR NOT EXISTS (SELECT 1 FROM kalix.logins l WHERE l.id = m.login_id)),
    (SELECT count(*) FROM kalix.account_npis n WHERE NOT EXISTS (SELECT 1 FROM kalix.accounts a WHERE a.id = n.account_id)),
    (SELECT count(*) FROM kalix.accounts c WHERE c.parent_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM kalix.accounts p WHERE p.id = c.parent_id)),
    (SELECT count(*) FROM kalix.accounts a WHERE a.created_by IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM kalix.logins l WHERE l.id = a.created_by)))"
clean="0 without owner, 0 dangling memberships, 0 dangling NPIs, 0 orphans, 0 unknown creators"

# pg_restore -j loads the extension's tables all at once: the archive makes
# each table's data depend only on its table, which CREATE EXTENSION makes.
# With foreign keys between them it failed with "violates foreign key
# constraint memberships_account_id_fkey" and left accounts without owners.
createdb "$par" && pg_restore -j 4 --exit-on-error -d "$par" "$work/kalix.dump" 2>"$work/par.err"
[ $? -eq 0 ] && [ ! -s "$work/par.err" ]
check $? "pg_restore -j 4 into a new database, without errors" "$work/par.err"

compare_rows "$par"
check $? "every row of every table is the same after pg_restore -j 4 ($rows rows)" "$work/rows.diff"

seen=$(value "$par" -c "$invariants")
[ "$seen" = "$clean" ]; check $? "pg_restore -j 4 leaves every invariant intact ($seen)"

# A dump taken while two writers create child accounts (copying their
# parent's members) and add members: pg_dump --snapshot of a snapshot that a
# session holds open, so that the rows the dump must contain can be read in
# that same snapshot afterwards.
cat >"$work/churn.sql" <<'SQL'
BEGIN;
SELECT set_config('kalix.current_login', ':login', true);
SELECT kalix.switch_account(':root', true);
SELECT kalix.add_member(kalix.create_account('Churned', child => true, copy_users => true),
                        kalix.create_login(pg_catalog.gen_random_uuid() || '@churn.test'), 'member');
COMMIT;
SQL
dana=$(value "$src" -c "SELECT id FROM kalix.logins WHERE email = 'dana@example.com'")
root=$(value "$src" -c "SELECT id FROM kalix.accounts WHERE name = 'Sunrise Clinic'")
pgbench -n -c 2 -T 8 -D login="$dana" -D root="$root" -f "$work/churn.sql" "$src" >"$work/bench.out" 2>&1 &
bench_pid=$!

# fp.sql: one line per table that the dump holds (the extension's
# configuration tables and the registered ones), its row count and the md5
# of its sorted rows.
value "$src" >"$work/dumped.txt" <<'SQL'
SELECT c.oid::regclass FROM pg_extension e, unnest(e.extconfig) r JOIN pg_class c ON c.oid = r
WHERE e.extname = 'kalix_accounts' AND c.relkind = 'r'
UNION SELECT tbl FROM kalix.isolated_tables ORDER BY 1;
SQL
sep=""
{
    echo "SELECT line FROM ("
    while read -r tbl; do
        echo "${sep}SELECT '$tbl ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text), '')) AS line FROM $tbl t"
        sep="UNION ALL "
    done <"$work/dumped.txt"
    echo ") f ORDER BY line;"
} >"$work/fp.sql"

sleep 2
mkfifo "$work/hold.in"
psql -X -q -At -v ON_ERROR_STOP=1 -d "$src" <"$work/hold.in" >"$work/hold.out" 2>&1 &
hold_pid=$!
exec 3>"$work/hold.in"
echo "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT pg_export_snapshot() \\g '$work/snapshot'" >&3
for _ in $(seq 100); do [ -s "$work/snapshot" ] && break; sleep 0.1; done
pg_dump -Fc --snapshot="$(cat "$work/snapshot" 2>/dev/null)" -d "$src" -f "$work/churn.dump" 2>"$work/churn-dump.err"
dump_rc=$?
printf '%s\n' "\\o $work/churn.src" "\\i $work/fp.sql" "\\o" >&3
echo "COMMIT;" >&3
exec 3>&-
for _ in $(seq 300); do kill -0 "$hold_pid" 2>/dev/null || break; sleep 0.1; done
kill "$hold_pid" 2>/dev/null; wait "$hold_pid" 2>/dev/null; hold_pid=
for _ in $(seq 300); do kill -0 "$bench_pid" 2>/dev/null || break; sleep 0.1; done
kill "$bench_pid" 2>/dev/null; wait "$bench_pid"; bench_rc=$?; bench_pid=

churned=$(value "$src" -c "SELECT count(*) FROM kalix.accounts WHERE name = 'Churned'")
[ $dump_rc -eq 0 ] && [ ! -s "$work/churn-dump.err" ] && [ -s "$work/churn.src" ] && [ "$bench_rc" -eq 0 ] && [ "$churned" -gt 0 ]
check $? "pg_dump --snapshot while two writers churn ($churned child accounts created during the run)" \
    "$work/churn-dump.err"
[ "$bench_rc" -eq 0 ] || sed 's/^/# /' "$work/bench.out" | tail -20

createdb "$churn" && pg_restore -j 4 --exit-on-error -d "$churn" "$work/churn.dump" 2>"$work/churn-restore.err"
[ $? -eq 0 ] && [ ! -s "$work/churn-restore.err" ]
check $? "pg_restore -j 4 of the dump taken under churn, without errors" "$work/churn-restore.err"

value "$churn" -f "$work/fp.sql" >"$work/churn.dst"
after=$(value "$src" -c "SELECT count(*) FROM kalix.accounts")
restored=$(value "$churn" -c "SELECT count(*) FROM kalix.accounts")
diff "$work/churn.src" "$work/churn.dst" >"$work/churn.diff"
[ $? -eq 0 ] && [ "$restored" -lt "$after" ]
check $? "the restore is the snapshot row for row ($restored accounts; $after in the source after the churn)" \
    "$work/churn.diff"

seen=$(value "$churn" -c "$invariants")
[ "$seen" = "$clean" ]; check $? "the restore of the dump under churn keeps every invariant ($seen)"

exit $((failed > 0))
