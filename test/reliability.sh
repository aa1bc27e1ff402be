#!/bin/bash
# TAP: the extension under faults and in a long session.
# - kill -9 of the backend in the middle of copy_users of 3,000 members and
#   of create_account(child => true, copy_users => true) from a 3,000-member
#   account; after crash recovery no cycle, no half-copied membership set,
#   every account has an owner, the audit log agrees, and the next calls work;
# - statement_timeout in the middle of copy_users: no half state, no lock
#   left, the next call works;
# - 100,000 switching transactions in one session: the backend's memory
#   (pg_backend_memory_contexts) stays flat.
# A BEFORE INSERT trigger of this test on kalix.memberships sleeps at the
# 1,000th row while the session's rel.pause is on, so that each fault lands
# in the middle of the operation.  Runs as superuser against the server the
# PG* variables point to (a throwaway cluster: a backend killed with -9 makes
# the postmaster restart every session).  Every wait is bounded.
set -u
cd "$(dirname "$0")/.."

db=kalix_reliability
work=$(mktemp -d)
victim_pid=

psql_su() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
value() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"; }

cleanup() {
    [ -n "$victim_pid" ] && kill "$victim_pid" 2>/dev/null
    psql_su -d postgres -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS rel_reader" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

. test/lib/tap.sh

# until SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds; false after SECONDS.
until_ok() {
    local tries=$(($1 * 10))
    shift
    while [ "$tries" -gt 0 ]; do
        "$@" && return 0
        sleep 0.1
        tries=$((tries - 1))
    done
    return 1
}
server_up() { psql -X -q -At -d postgres -c 'SELECT 1' >/dev/null 2>&1; }
paused() { [ "$(value -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'" 2>/dev/null)" = 1 ]; }

echo "1..11"

psql_su -d postgres -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS rel_reader" \
    -c "CREATE ROLE rel_reader" -c "CREATE DATABASE $db" >/dev/null 2>"$work/setup.err" ||
    { cat "$work/setup.err" >&2; bail "setup failed"; }

# Dana owns a source account of 3,000 members and an empty target account;
# the login of role rel_reader is a member of both.
psql_su -At -d "$db" >"$work/setup.out" 2>"$work/setup.err" <<'SQL' || { cat "$work/setup.err" >&2; bail "fill failed"; }
CREATE EXTENSION kalix_accounts CASCADE;
SELECT kalix.create_login('dana@reliability.test') AS dana \gset
SELECT set_config('kalix.current_login', :'dana', false) \gset
SELECT kalix.create_account('Source') AS source \gset
SELECT kalix.create_account('Target') AS target \gset
INSERT INTO kalix.logins (id, email)
SELECT md5('member ' || g)::uuid, format('member%s@reliability.test', g) FROM generate_series(1, 3000) g;
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT :'source', md5('member ' || g)::uuid, 'member' FROM generate_series(1, 3000) g;
SELECT kalix.create_login('reader@reliability.test', NULL, 'rel_reader') AS reader \gset
SELECT kalix.add_member(:'source', :'reader') \gset
SELECT kalix.add_member(:'target', :'reader') \gset

CREATE TABLE public.rel_notes (id serial PRIMARY KEY, account_id uuid NOT NULL, body text);
CREATE INDEX ON public.rel_notes (account_id);
SELECT kalix.enable_isolation('public.rel_notes') \gset
GRANT SELECT ON public.rel_notes TO rel_reader;
INSERT INTO public.rel_notes (account_id, body)
SELECT a, 'note ' || g FROM unnest(ARRAY[:'source', :'target']::uuid[]) a, generate_series(1, 3) g;

-- The pause: at the 1,000th membership row inserted while rel.pause is on.
CREATE SEQUENCE public.rel_rows;
CREATE FUNCTION public.rel_pause() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('rel.pause', true) = 'on' AND nextval('public.rel_rows') = 1000 THEN
        PERFORM pg_sleep(60);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER rel_pause BEFORE INSERT ON kalix.memberships
    FOR EACH ROW EXECUTE FUNCTION public.rel_pause();
SELECT :'dana' AS dana, :'source' AS source, :'target' AS target;
SQL
read -r dana source target < <(tail -1 "$work/setup.out" | tr '|' ' ')
[ -n "$target" ] || bail "no ids from the fill"

# The invariants after a fault: no cycle of parent links, every account has
# an owner, the target holds its owner plus either none or all of the
# source's members and the audit log says which, no account of the killed
# create_account, no membership or audit row of a missing account.
invariants="SELECT format('%s in cycles, %s without owner, target %s members, %s copies audited (%s added), %s killed children, %s dangling',
    (WITH RECURSIVE walk(start, id, steps) AS (
         SELECT a.id, a.parent_id, 1 FROM kalix.accounts a WHERE a.parent_id IS NOT NULL
         UNION ALL
         SELECT w.start, a.parent_id, w.steps + 1 FROM walk w JOIN kalix.accounts a ON a.id = w.id
         WHERE a.parent_id IS NOT NULL AND w.id <> w.start AND w.steps < 1001)
     SELECT count(DISTINCT start) FROM walk WHERE id = start),
    (SELECT count(*) FROM kalix.accounts a WHERE NOT EXISTS
         (SELECT 1 FROM kalix.memberships m WHERE m.account_id = a.id AND m.role = 'owner')),
    (SELECT count(*) FROM kalix.memberships WHERE account_id = '$target'),
    (SELECT count(*) FROM kalix.audit_log WHERE action = 'copy_users' AND account_id = '$target'),
    (SELECT coalesce(sum((detail->>'added')::int), 0) FROM kalix.audit_log WHERE action = 'copy_users' AND account_id = '$target'),
    (SELECT count(*) FROM kalix.accounts WHERE name = 'Killed child'),
    (SELECT count(*) FROM kalix.memberships m WHERE NOT EXISTS (SELECT 1 FROM kalix.accounts a WHERE a.id = m.account_id))
    + (SELECT count(*) FROM kalix.audit_log l WHERE l.account_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM kalix.accounts a WHERE a.id = l.account_id)))"
clean_before_copy="0 in cycles, 0 without owner, target 2 members, 0 copies audited (0 added), 0 killed children, 0 dangling"

# kill_during WHAT SQL: runs SQL as Dana with the pause on, kills the backend
# with -9 once it sleeps at the 1,000th row, and waits for crash recovery.
kill_during() {
    rm -f "$work/pid"
    value >"$work/victim.out" 2>&1 <<SQL &
SELECT pg_backend_pid() \g '$work/pid'
SELECT set_config('kalix.current_login', '$dana', false) \g /dev/null
SELECT kalix.switch_account('$source') \g /dev/null
SELECT setval('public.rel_rows', 1, false) \g /dev/null
SET rel.pause = on;
$2
SQL
    victim_pid=$!
    until_ok 30 test -s "$work/pid" && until_ok 30 paused "$(cat "$work/pid")"
    local reached=$?
    [ "$reached" -eq 0 ] && kill -9 "$(cat "$work/pid")"
    until_ok 30 sh -c "! kill -0 $victim_pid 2>/dev/null"
    kill "$victim_pid" 2>/dev/null
    wait "$victim_pid" 2>/dev/null
    victim_pid=
    until_ok 60 server_up
    local up=$?
    [ "$reached" -eq 0 ] && [ "$up" -eq 0 ]
    check $? "kill -9 of the backend in the middle of $1, then crash recovery" "$work/victim.out"
}

kill_during "copy_users of 3,000 members" "SELECT kalix.copy_users('$source', '$target');"
seen=$(value -c "$invariants" 2>&1)
[ "$seen" = "$clean_before_copy" ]; check $? "after recovery: every invariant holds, nothing of the copy is left ($seen)"

kill_during "create_account(child => true, copy_users => true) from 3,000 members" \
    "SELECT kalix.create_account('Killed child', child => true, copy_users => true);"
seen=$(value -c "$invariants" 2>&1)
[ "$seen" = "$clean_before_copy" ]; check $? "after recovery: every invariant holds, no part of the new account is left ($seen)"

# The caches of a new backend are rebuilt: the reader works in the source account.
seen=$(value 2>&1 <<SQL
SET ROLE rel_reader;
SELECT kalix.switch_account('$source') \g /dev/null
SELECT kalix.current_account_role(), count(*) FROM public.rel_notes;
SQL
)
[ "$seen" = "member|3" ]; check $? "after recovery a new session answers from rebuilt caches ($seen)"

# statement_timeout lands while copy_users sleeps at the 1,000th row.
psql -X -q -At -d "$db" >"$work/timeout.out" 2>&1 <<SQL
SELECT set_config('kalix.current_login', '$dana', false) \g /dev/null
SELECT setval('public.rel_rows', 1, false) \g /dev/null
SET rel.pause = on;
SET statement_timeout = '1s';
SELECT kalix.copy_users('$source', '$target');
\echo locks: 
SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype IN ('relation', 'tuple', 'transactionid')
    AND (relation IS NULL OR relation::regclass::text LIKE 'kalix.%');
\echo current_login:
SELECT current_setting('kalix.current_login') = '$dana';
RESET rel.pause;
RESET statement_timeout;
\echo next:
SELECT kalix.copy_users('$source', '$target');
SQL
grep -q 'canceling statement due to statement timeout' "$work/timeout.out"
check $? "statement_timeout cancels copy_users in the middle" "$work/timeout.out"
[ "$(sed -n '/^locks:/{n;p}' "$work/timeout.out")" = 0 ] && [ "$(sed -n '/^current_login:/{n;p}' "$work/timeout.out")" = t ]
check $? "after the timeout the session holds no lock on the kalix tables and keeps its settings" "$work/timeout.out"
[ "$(sed -n '/^next:/{n;p}' "$work/timeout.out")" = 3000 ]
check $? "the next copy_users in the same session copies all 3,000 members" "$work/timeout.out"
seen=$(value -c "$invariants" 2>&1)
[ "$seen" = "0 in cycles, 0 without owner, target 3002 members, 1 copies audited (3000 added), 0 killed children, 0 dangling" ]
check $? "the copy is whole and audited once ($seen)"

# 100,000 transactions in one session of the reader, each switching between
# two accounts (a transaction-local switch_account) and reading the isolated
# table, one round trip each; the backend's memory is sampled every 1,000.
start=$(date +%s)
/usr/bin/python3 - "$source" "$target" >"$work/memory" 2>"$work/long.err" <<'PY'
import sys
import psycopg2

conn = psycopg2.connect(dbname="kalix_reliability")
conn.autocommit = True
cur = conn.cursor()
cur.execute("SET ROLE rel_reader")
cur.execute("PREPARE notes AS SELECT count(*) FROM public.rel_notes")
accounts = sys.argv[1:3]
for i in range(1, 100001):
    cur.execute("BEGIN; SELECT kalix.switch_account(%s, true); EXECUTE notes; COMMIT",
                (accounts[i % 2],))
    if i % 1000 == 0:
        # pg_backend_memory_contexts is for superusers only.
        cur.execute("RESET ROLE; SELECT sum(total_bytes) FROM pg_backend_memory_contexts")
        print("memory|%d|%d" % (i, cur.fetchone()[0]))
        cur.execute("SET ROLE rel_reader")
cur.execute("BEGIN; SELECT kalix.switch_account(%s, true)", (accounts[0],))
cur.execute("EXECUTE notes")
print("rows|%d" % cur.fetchone()[0])
cur.execute("COMMIT")
PY
elapsed=$(($(date +%s) - start))
rows=$(sed -n 's/^rows|//p' "$work/memory")
sed -i '/^rows|/d' "$work/memory"
samples=$(wc -l <"$work/memory")
[ "$samples" -eq 100 ] && [ ! -s "$work/long.err" ] && [ "$rows" = 3 ]
check $? "100,000 switching transactions in one session (${elapsed}s, $samples memory samples, $rows rows of one account)" "$work/long.err"
read -r first last <<EOF
$(awk -F'|' 'NR <= 10 { f += $3 } NR > 90 { l += $3 } END { printf "%d %d\n", f / 10, l / 10 }' "$work/memory")
EOF
growth=$((last - first))
[ "$samples" -eq 100 ] && [ "$growth" -lt 262144 ]
check $? "the backend's memory stays flat: first 10% $((first / 1024)) kB, last 10% $((last / 1024)) kB on average (growth $growth bytes < 256 kB)" "$work/memory"

exit $((failed > 0))
