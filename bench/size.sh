#!/bin/bash
# kalix_accounts at size (issue 17 item 3): loads 10k, 100k (and with
# SIZES="10000 100000 1000000" 1M) accounts in a throwaway cluster through a
# bulk path (generate_series into the extension's tables, as bench/schema.sql
# does), and at each size records
#   - calls/s of create_account(child => true) and of add_member (each
#     add_member is followed by remove_member; the pair is one pgbench
#     transaction of two statements), and the same calls in a loop inside the
#     server (one transaction each) per second of the backend's CPU time,
#     which other work on a shared machine disturbs far less,
#   - the time to the first protected read in a fresh backend,
#   - the kalix cache memory (pg_backend_memory_contexts) after one backend
#     has touched every account.
# shared_buffers is 1GB: every kalix table and index fits at 1M accounts (about
# 700 MB), so the larger sizes do not measure reads from the OS cache.  The
# write measures all run as one login in one account, whose children pile up
# (300 x ROUNDS of them, deleted again) the same way at every size.
# Writes bench/SIZE.md (RESULTS=...).  Knobs: SIZES, CALLS (pgbench transactions
# per write measure, 300), CPU_CALLS (calls per round of a loop in the server,
# 1000), ROUNDS (3), PG_CONFIG, BENCH_PORT (54329).
set -eu
cd "$(dirname "$0")/.."

PG_CONFIG=${PG_CONFIG:-pg_config}
SIZES=${SIZES:-10000 100000}
CALLS=${CALLS:-300}
CPU_CALLS=${CPU_CALLS:-1000}
ROUNDS=${ROUNDS:-3}
RESULTS=${RESULTS:-bench/SIZE.md}
PORT=${BENCH_PORT:-54329}
bindir=$($PG_CONFIG --bindir)
say() { printf '%s\n' "$*" >&2; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
make -s PG_CONFIG="$PG_CONFIG" >/dev/null
$sudo make -s install PG_CONFIG="$PG_CONFIG" >/dev/null

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
tmp=$(mktemp -d /tmp/kalix-size.XXXXXX)
as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$tmp"
trap 'as_pg "$bindir/pg_ctl -D $tmp/data -m immediate stop" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
server_pin="" client_pin=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    server_pin="taskset -c 1" client_pin="taskset -c 0"
fi
as_pg "'$bindir/initdb' -D '$tmp/data' -U postgres --auth=trust -E UTF8 --locale=C >/dev/null"
cat >>"$tmp/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$tmp'
port = $PORT
shared_buffers = 1GB
max_parallel_workers_per_gather = 0
jit = off
autovacuum = off
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 8GB
checkpoint_timeout = 1h
EOF
as_pg "MALLOC_MMAP_THRESHOLD_=8388608 MALLOC_TRIM_THRESHOLD_=8388608 MALLOC_TOP_PAD_=8388608 $server_pin '$bindir/pg_ctl' -D '$tmp/data' -l '$tmp/log' -w start >/dev/null"
export PGHOST=$tmp PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
unset PGOPTIONS PGSERVICE PGPASSWORD || true
psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1)

"${psql[@]}" <<'EOF' >/dev/null
CREATE EXTENSION kalix_accounts CASCADE;
CREATE SCHEMA bench;
CREATE FUNCTION bench.account_id(n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid $$;
CREATE FUNCTION bench.login_id(n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT ('00000000-0000-4000-9000-' || lpad(n::text, 12, '0'))::uuid $$;
-- the protected table of the first read: one row per account
CREATE TABLE bench.notes (account_id uuid NOT NULL, body text NOT NULL);
CREATE INDEX ON bench.notes (account_id);
SELECT kalix.enable_isolation('bench.notes');
CREATE ROLE bench_app LOGIN;
GRANT SET ON PARAMETER kalix.current_login TO bench_app;
GRANT USAGE ON SCHEMA bench TO bench_app;
GRANT SELECT ON bench.notes TO bench_app;
-- the write measures' logins W+0..W+99 (W = 900000000000): W+0 owns account 0, the parent of
-- the created children; W+1..W+99 join and leave it
INSERT INTO kalix.logins (id, email, display_name)
SELECT bench.login_id(900000000000 + l), 'writer' || l || '@bench.example', 'Writer ' || l FROM generate_series(0, 99) l;
INSERT INTO kalix.accounts (id, name) VALUES (bench.account_id(0), 'Writers');
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES (bench.account_id(0), bench.login_id(900000000000), 'owner');
-- the write measures in a loop inside the server, one transaction per call
CREATE PROCEDURE bench.write_loop(w text, n integer) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        IF w = 'create' THEN
            PERFORM kalix.create_account('Size child', true);
            COMMIT;
        ELSE
            PERFORM kalix.add_member(bench.account_id(0), bench.login_id(900000000001 + i % 99), 'member');
            COMMIT;
            PERFORM kalix.remove_member(bench.account_id(0), bench.login_id(900000000001 + i % 99));
            COMMIT;
        END IF;
    END LOOP;
END
$$;
EOF
cat >"$tmp/create.sql" <<'EOF'
SELECT kalix.create_account('Size child', true);
EOF
cat >"$tmp/member.sql" <<'EOF'
\set l random(1, 99)
SELECT kalix.add_member(bench.account_id(0), bench.login_id(900000000000 + :l), 'member');
SELECT kalix.remove_member(bench.account_id(0), bench.login_id(900000000000 + :l));
EOF

# What a write measure deleted must not stay behind in the indexes: VACUUM
# skips index cleanup when few pages have dead rows (PostgreSQL 14+), and a
# login's or an account's index range full of dead entries made every later
# lookup of it walk them (at 100k, 1.3M instructions per call more).
vacuum() {
    "${psql[@]}" -c "VACUUM (INDEX_CLEANUP ON) kalix.audit_log, kalix.accounts, kalix.memberships" >/dev/null
}

# write_tps FILE: median calls/s of a write script as login 0 in account 0.
write_tps() {
    local r
    for r in $(seq 1 "$ROUNDS"); do
        PGOPTIONS="-c kalix.current_login=$(bench_id login 900000000000) -c kalix.current_account=$(bench_id account 0)" \
            $client_pin "$bindir/pgbench" -n -M prepared -c 1 -j 1 -t "$CALLS" -f "$1" 2>&1 |
            sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
    done | median
}
bench_id() { "${psql[@]}" -At -c "SELECT bench.$1_id($2)"; }

# cpu_rate WORKLOAD: median calls (create) or pairs (member) per second of
# the backend's CPU time (user + system, /proc), CPU_CALLS of them per round.
hz=$(getconf CLK_TCK)
cpu_rate() {
    local r
    for r in $(seq 1 "$ROUNDS"); do
        PGOPTIONS="-c kalix.current_login=$(bench_id login 900000000000) -c kalix.current_account=$(bench_id account 0)" \
            "${psql[@]}" -At <<SQL >/dev/null
SELECT pg_backend_pid() AS pid \\gset
\\setenv KALIX_PID :pid
\\! awk '{ print \$14 + \$15 }' /proc/\$KALIX_PID/stat > $tmp/cpu.before
CALL bench.write_loop('$1', $CPU_CALLS);
\\! awk '{ print \$14 + \$15 }' /proc/\$KALIX_PID/stat > $tmp/cpu.after
SQL
        awk -v n="$CPU_CALLS" -v hz="$hz" 'NR == FNR { b = $1; next } { d = ($1 - b) / hz; print (d > 0 ? n / d : 0) }' \
            "$tmp/cpu.before" "$tmp/cpu.after"
    done | median
}

# first_read N: median ms of the first protected read in a fresh backend (the
# identity of account N's owner set, then one query on bench.notes).
first_read() {
    local r
    for r in $(seq 1 "$ROUNDS"); do
        PGOPTIONS="-c kalix.current_login=$(bench_id login "$1") -c kalix.current_account=$(bench_id account "$1")" \
            "${psql[@]}" -U bench_app -At -c '\timing on' -c "SELECT count(*) FROM bench.notes" |
            sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
    done | median
}

# cache_bytes N [SIZE]: the kalix cache after one backend has touched accounts
# 1..N, with kalix.cache_size at its default or at SIZE.
cache_bytes() {
    "${psql[@]}" -At <<EOF
${2:+SET kalix.cache_size = '$2';}
DO \$\$
DECLARE
    n bigint;
BEGIN
    FOR n IN 1..$1 LOOP
        PERFORM set_config('kalix.current_login', bench.login_id(n)::text, false);
        PERFORM kalix.switch_account(bench.account_id(n));
        PERFORM kalix.current_account();
    END LOOP;
END
\$\$;
SELECT coalesce(sum(total_bytes), 0) FROM pg_backend_memory_contexts
WHERE name = 'kalix_accounts cache' OR name LIKE 'kalix %' OR (name = 'dynahash' AND ident LIKE 'kalix %');
EOF
}

: >"$tmp/rows"
have=0
for n in $SIZES; do
    say "== loading accounts $((have + 1))..$n (trees of 10, one owner login each)"
    t0=$(date +%s)
    "${psql[@]}" <<EOF >/dev/null
SET client_min_messages = warning;
INSERT INTO kalix.logins (id, email, display_name)
SELECT bench.login_id(l), 'login' || l || '@bench.example', 'Login ' || l FROM generate_series($have + 1, $n) l;
INSERT INTO kalix.accounts (id, name, parent_id)
SELECT bench.account_id(a), 'Account ' || a, CASE WHEN a % 10 <> 1 THEN bench.account_id(a - 1) END
FROM generate_series($have + 1, $n) a ORDER BY a;
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT bench.account_id(a), bench.login_id(a), 'owner' FROM generate_series($have + 1, $n) a;
INSERT INTO bench.notes SELECT bench.account_id(a), 'note ' || a FROM generate_series($have + 1, $n) a;
VACUUM (FREEZE, ANALYZE, INDEX_CLEANUP ON);
EOF
    load=$(($(date +%s) - t0))
    have=$n
    say "   loaded in ${load}s; create_account(child => true)"
    create=$(write_tps "$tmp/create.sql")
    create_cpu=$(cpu_rate create)
    "${psql[@]}" -c "DELETE FROM kalix.audit_log;
                     DELETE FROM kalix.memberships m USING kalix.accounts a WHERE a.id = m.account_id AND a.name = 'Size child';
                     DELETE FROM kalix.accounts WHERE name = 'Size child'" >/dev/null
    vacuum
    say "   add_member + remove_member"
    member=$(write_tps "$tmp/member.sql")
    member_cpu=$(cpu_rate member)
    "${psql[@]}" -c "DELETE FROM kalix.audit_log" >/dev/null
    vacuum
    say "   first protected read in a fresh backend"
    first=$(first_read "$n")
    say "   cache memory after touching $n accounts"
    bytes=$(cache_bytes "$n")
    unbounded=$(cache_bytes "$n" 64GB)
    echo "$n $load $create $member $first $bytes $unbounded $create_cpu $member_cpu" | tee -a "$tmp/rows" >&2
done

{
    echo "# kalix_accounts at size"
    echo
    echo "Produced by \`SIZES=\"$SIZES\" CALLS=$CALLS CPU_CALLS=$CPU_CALLS ROUNDS=$ROUNDS bench/size.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')," \
         "tree \`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\`; $("$bindir/postgres" --version);" \
         "$(nproc) cores, server pinned with \`${server_pin:-no taskset}\`; load average at the start: $load_start."
    echo
    echo "| accounts | bulk load (s) | create_account(child => true) calls/s | the same per CPU s | add_member + remove_member pairs/s | the same per CPU s | first protected read, fresh backend (ms) | cache after touching every account (MiB) | the same with kalix.cache_size = 64GB (MiB) |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk '{ printf "| %d | %d | %.0f | %.0f | %.0f | %.0f | %.2f | %.1f | %.1f |\n", $1, $2, $3, $8, $4, $9, $5, $6 / 1048576, $7 / 1048576 }' "$tmp/rows"
    echo
    echo "Medians of $ROUNDS runs of $CALLS transactions on one connection (per CPU s: $CPU_CALLS calls or pairs in" \
         "\`CALL bench.write_loop(...)\`, one transaction per call, per second of the backend's user + system time);" \
         "the first read is the whole statement" \
         "(psql \`\\timing\`) of the backend's first query on an isolated table, its cache empty."
} >"$RESULTS"
cat "$RESULTS"
