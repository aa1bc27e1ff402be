#!/bin/bash
# kalix_accounts at size (issue 17 item 3): one throwaway cluster per size in
# SIZES (10k, 100k, and with SIZES="10000 100000 1000000" 1M accounts), each
# loaded through a bulk path (generate_series into the extension's tables, as
# bench/schema.sql does), frozen, checkpointed and checked all-visible; then
# ROUNDS rounds, each of which measures every size once (the order rotates
# from round to round), so that a size is never measured at another moment of
# the machine than the others.  Per size and round:
#   - calls/s of create_account(child => true) and of add_member (each
#     add_member is followed by remove_member; the pair is one pgbench
#     transaction of two statements), and the same calls in a loop inside the
#     server (one transaction each) per second of the backend's CPU time,
#     which other work on a shared machine disturbs far less;
# and once per size at the end:
#   - the time to the first protected read in a fresh backend,
#   - the kalix cache memory (pg_backend_memory_contexts) after one backend
#     has touched every account.
# The report gives medians and, for each size, the median of its per-round
# ratios to the smallest size (target for the CPU measures: >= 0.90).
# shared_buffers is 1GB: every kalix table and index fits at 1M accounts (about
# 700 MB), so the larger sizes do not measure reads from the OS cache.  The
# write measures all run as one login in one account, whose children pile up
# (CALLS + CPU_CALLS of them, deleted again after each measure) the same way
# at every size.
# Writes bench/SIZE.md (RESULTS=...).  Knobs: SIZES, CALLS (pgbench transactions
# per write measure, 1000), CPU_CALLS (calls per round of a loop in the server,
# 3000: about a second of CPU, a hundred of the kernel's 10 ms ticks), ROUNDS
# (5), PG_CONFIG, BENCH_PORT (54329: the first size's port, the next ones +1),
# CACHEGRIND (1 when valgrind is installed: instructions and simulated cache
# misses per call at each size, which the machine's load does not change),
# CG_CALLS1/CG_CALLS2 (the two call counts of that slope, 400/800: the first
# few hundred calls of a backend cost more, so the slope needs both counts well
# past them), KEEP=1 (leave the clusters' directory).
set -eu
cd "$(dirname "$0")/.."
. bench/cluster.sh

PG_CONFIG=${PG_CONFIG:-pg_config}
SIZES=${SIZES:-10000 100000}
CALLS=${CALLS:-1000}
CPU_CALLS=${CPU_CALLS:-3000}
ROUNDS=${ROUNDS:-5}
RESULTS=${RESULTS:-bench/SIZE.md}
BASE_PORT=${BENCH_PORT:-54329}
CACHEGRIND=${CACHEGRIND:-$(command -v valgrind >/dev/null && echo 1 || echo 0)}
CG_CALLS1=${CG_CALLS1:-400}
CG_CALLS2=${CG_CALLS2:-800}
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
stop_all() {
    for d in "$tmp"/s*/data; do
        [ -f "$d/postmaster.pid" ] && as_pg "$bindir/pg_ctl -D $d -m immediate stop" >/dev/null 2>&1
    done
    rm -rf "$tmp"
}
trap stop_all EXIT
[ "${KEEP:-0}" = 1 ] && trap 'for d in "$tmp"/s*/data; do as_pg "$bindir/pg_ctl -D $d -m immediate stop" >/dev/null 2>&1; done' EXIT
server_pin="" client_pin=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    server_pin="taskset -c 1" client_pin="taskset -c 0"
fi
export PGHOST=$tmp PGUSER=postgres PGDATABASE=postgres
unset PGOPTIONS PGSERVICE PGPASSWORD || true
psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1)

# at N: the following psql/pgbench calls go to size N's cluster.
declare -A port_of
at() { export PGPORT=${port_of[$1]}; }

# The schema every size shares: the protected table of the first read, its
# role, the write measures' logins and account, and the in-server loop.
cat >"$tmp/setup.sql" <<'EOF'
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

# start_cluster N PORT: initdb and start size N's cluster in $tmp/sN.
start_cluster() {
    local d=$tmp/s$1
    mkdir "$d"
    [ "$(id -u)" -eq 0 ] && chown postgres "$d"
    as_pg "'$bindir/initdb' -D '$d/data' -U postgres --auth=trust -E UTF8 --locale=C >/dev/null"
    bench_conf "$d/data/postgresql.conf" "$2" "$tmp" 1GB
    as_pg "MALLOC_MMAP_THRESHOLD_=8388608 MALLOC_TRIM_THRESHOLD_=8388608 MALLOC_TOP_PAD_=8388608 $server_pin '$bindir/pg_ctl' -D '$d/data' -l '$d/log' -w start >/dev/null"
}

# load N: accounts 1..N in trees of 10, one owner login each, a note each;
# then frozen and analyzed.  Prints the seconds.
load() {
    local t0
    t0=$(date +%s)
    "${psql[@]}" <<EOF >/dev/null
SET client_min_messages = warning;
INSERT INTO kalix.logins (id, email, display_name)
SELECT bench.login_id(l), 'login' || l || '@bench.example', 'Login ' || l FROM generate_series(1, $1) l;
INSERT INTO kalix.accounts (id, name, parent_id)
SELECT bench.account_id(a), 'Account ' || a, CASE WHEN a % 10 <> 1 THEN bench.account_id(a - 1) END
FROM generate_series(1, $1) a ORDER BY a;
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT bench.account_id(a), bench.login_id(a), 'owner' FROM generate_series(1, $1) a;
INSERT INTO bench.notes SELECT bench.account_id(a), 'note ' || a FROM generate_series(1, $1) a;
VACUUM (FREEZE, ANALYZE, INDEX_CLEANUP ON);
EOF
    echo $(($(date +%s) - t0))
}

# not_all_visible: the loaded tables whose pages are not all all-visible.
not_all_visible() {
    "${psql[@]}" -At -c "SELECT string_agg(c.oid::regclass || ' (' || c.relallvisible || ' of ' || c.relpages || ')', ' ') FROM pg_class c
                         WHERE c.oid IN ('kalix.accounts'::regclass, 'kalix.logins'::regclass,
                                         'kalix.memberships'::regclass, 'bench.notes'::regclass)
                           AND c.relallvisible <> c.relpages"
}

# What a write measure deleted must not stay behind in the indexes: VACUUM
# skips index cleanup when few pages have dead rows (PostgreSQL 14+), and a
# login's or an account's index range full of dead entries made every later
# lookup of it walk them (at 100k, 1.3M instructions per call more).
vacuum() {
    "${psql[@]}" -c "VACUUM (INDEX_CLEANUP ON) kalix.audit_log, kalix.accounts, kalix.memberships" >/dev/null
}

# cleanup: the write measures' children, memberships and audit rows deleted.
cleanup() {
    "${psql[@]}" -c "DELETE FROM kalix.audit_log;
                     DELETE FROM kalix.memberships m USING kalix.accounts a WHERE a.id = m.account_id AND a.name = 'Size child';
                     DELETE FROM kalix.accounts WHERE name = 'Size child'" >/dev/null
    vacuum
}

bench_id() { "${psql[@]}" -At -c "SELECT bench.$1_id($2)"; }

# write_tps FILE: calls/s of a write script as login 0 in account 0.
write_tps() {
    PGOPTIONS="-c kalix.current_login=$(bench_id login 900000000000) -c kalix.current_account=$(bench_id account 0)" \
        $client_pin "$bindir/pgbench" -n -M prepared -c 1 -j 1 -t "$CALLS" -f "$1" 2>&1 |
        sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

# cpu_rate WORKLOAD: calls (create) or pairs (member) per second of the
# backend's CPU time (user + system, /proc), CPU_CALLS of them.
hz=$(getconf CLK_TCK)
cpu_rate() {
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

sizes=($SIZES)
: >"$tmp/loads"
i=0
for n in "${sizes[@]}"; do
    port_of[$n]=$((BASE_PORT + i))
    i=$((i + 1))
    say "== size $n: cluster on port ${port_of[$n]}, loading (trees of 10, one owner login each)"
    start_cluster "$n" "${port_of[$n]}"
    at "$n"
    "${psql[@]}" -f "$tmp/setup.sql" >/dev/null 2>"$tmp/setup.err" || { cat "$tmp/setup.err" >&2; exit 1; }
    secs=$(load "$n")
    # The load's last commits may not be flushed yet (synchronous_commit is
    # off), and VACUUM leaves their pages not all-visible: vacuum again.
    for pass in 1 2 3; do
        bad=$(not_all_visible)
        [ -n "$bad" ] || break
        "${psql[@]}" -c "VACUUM (FREEZE, ANALYZE, INDEX_CLEANUP ON)" >/dev/null
    done
    [ -z "$bad" ] || { say "size $n: not all-visible after 3 passes of VACUUM: $bad"; exit 1; }
    "${psql[@]}" -c "CHECKPOINT" >/dev/null
    echo "$n $secs" >>"$tmp/loads"
    say "   loaded in ${secs}s, every table all-visible"
done

# Alternated rounds: round r starts at size r mod the number of sizes.
: >"$tmp/rounds"
for r in $(seq 1 "$ROUNDS"); do
    for k in $(seq 0 $((${#sizes[@]} - 1))); do
        n=${sizes[$(((r + k) % ${#sizes[@]}))]}
        at "$n"
        c=$(write_tps "$tmp/create.sql")
        cc=$(cpu_rate create)
        cleanup
        m=$(write_tps "$tmp/member.sql")
        mc=$(cpu_rate member)
        cleanup
        echo "$r $n $c $cc $m $mc" | tee -a "$tmp/rounds" >&2
    done
done

# Per call at each size, from cachegrind's slope between CG_CALLS1 and
# CG_CALLS2 calls in one backend: instructions, and misses of the simulated
# first-level data cache and of a 1 MB last level (the size of this machine's
# L2 per core, so that a working set that outgrows it shows): a figure the
# machine's load does not change, unlike the CPU seconds above.
cg_run() {
    local pid f
    pid=$(PGOPTIONS="-c kalix.current_login=$(bench_id login 900000000000) -c kalix.current_account=$(bench_id account 0)" \
        "${psql[@]}" -At -c "SELECT pg_backend_pid()" -c "CALL bench.write_loop('$1', $2)") ||
        { say "cachegrind: $1 x $2 failed"; exit 1; }
    f=$tmp/cg/cg.$pid
    for _ in $(seq 1 60); do grep -qs '^summary' "$f" && break; sleep 1; done
    # events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw
    sed -n 's/^summary: //p' "$f" | awk '{ print $1, $5 + $8, $6 + $9 }' >"$tmp/cg_run"
    [ -s "$tmp/cg_run" ] || { say "cachegrind: no profile of backend $pid"; exit 1; }
    cleanup
}
: >"$tmp/cg_rows"
if [ "$CACHEGRIND" = 1 ]; then
    mkdir "$tmp/cg"
    [ "$(id -u)" -eq 0 ] && chown postgres "$tmp/cg"
    for n in "${sizes[@]}"; do
        say "== size $n: instructions and simulated cache misses per call (cachegrind)"
        at "$n"
        as_pg "$bindir/pg_ctl -D $tmp/s$n/data -m fast -w stop" >/dev/null
        as_pg "MALLOC_MMAP_THRESHOLD_=8388608 MALLOC_TRIM_THRESHOLD_=8388608 MALLOC_TOP_PAD_=8388608 $server_pin \
            valgrind -q --tool=cachegrind --cache-sim=yes --LL=1048576,16,64 --trace-children=yes \
            --cachegrind-out-file=$tmp/cg/cg.%p --log-file=$tmp/cg/valgrind.%p.log \
            '$bindir/postgres' -D '$tmp/s$n/data' >>'$tmp/s$n/log' 2>&1 &"
        # ready when a query answers (pg_isready can say so a moment early)
        for _ in $(seq 1 120); do "${psql[@]}" -c "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done
        row=$n
        for w in create member; do
            cg_run "$w" "$CG_CALLS1"
            read -r i1 d1 l1 <"$tmp/cg_run"
            cg_run "$w" "$CG_CALLS2"
            read -r i2 d2 l2 <"$tmp/cg_run"
            row="$row $(awk -v a="$i1" -v b="$i2" -v c="$d1" -v d="$d2" -v e="$l1" -v f="$l2" -v n=$((CG_CALLS2 - CG_CALLS1)) \
                'BEGIN { printf "%.0f %.0f %.0f", (b - a) / n, (d - c) / n, (f - e) / n }')"
        done
        echo "$row" | tee -a "$tmp/cg_rows" >&2
        as_pg "$bindir/pg_ctl -D $tmp/s$n/data -m fast -w stop" >/dev/null
        as_pg "MALLOC_MMAP_THRESHOLD_=8388608 MALLOC_TRIM_THRESHOLD_=8388608 MALLOC_TOP_PAD_=8388608 $server_pin '$bindir/pg_ctl' -D '$tmp/s$n/data' -l '$tmp/s$n/log' -w start >/dev/null"
    done
fi

: >"$tmp/rows"
for n in "${sizes[@]}"; do
    at "$n"
    say "== size $n: first protected read, cache memory"
    first=$(first_read "$n")
    bytes=$(cache_bytes "$n")
    unbounded=$(cache_bytes "$n" 64GB)
    echo "$n $(awk -v n="$n" '$1 == n { print $2 }' "$tmp/loads") $first $bytes $unbounded" >>"$tmp/rows"
done

# col N K: the median of column K (3..6) of size N's rounds; ratio N K: the
# median of size N's per-round ratios of column K to the smallest size's.
col() { awk -v n="$1" -v k="$2" '$2 == n { print $k }' "$tmp/rounds" | median; }
ratio() {
    awk -v n="$1" -v base="${sizes[0]}" -v k="$2" '
        $2 == base { b[$1] = $k } $2 == n { v[$1] = $k }
        END { for (r in v) if (b[r] > 0) print v[r] / b[r] }' "$tmp/rounds" | median
}

{
    echo "# kalix_accounts at size"
    echo
    echo "Produced by \`SIZES=\"$SIZES\" CALLS=$CALLS CPU_CALLS=$CPU_CALLS ROUNDS=$ROUNDS bench/size.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')," \
         "tree \`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\`; $("$bindir/postgres" --version);" \
         "$(nproc) cores, servers pinned with \`${server_pin:-no taskset}\`; load average at the start: $load_start, at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "| accounts | bulk load (s) | create_account(child => true) calls/s | the same per CPU s | vs ${sizes[0]} (per CPU s, target ≥ 0.90) | add_member + remove_member pairs/s | the same per CPU s | vs ${sizes[0]} (per CPU s, target ≥ 0.90) | first protected read, fresh backend (ms) | cache after touching every account (MiB) | the same with kalix.cache_size = 64GB (MiB) |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    while read -r n secs first bytes unbounded; do
        printf '| %d | %d | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f | %.2f | %.1f | %.1f |\n' "$n" "$secs" \
            "$(col "$n" 3)" "$(col "$n" 4)" "$(ratio "$n" 4)" "$(col "$n" 5)" "$(col "$n" 6)" "$(ratio "$n" 6)" \
            "$first" "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" "$(awk -v b="$unbounded" 'BEGIN { print b / 1048576 }')"
    done <"$tmp/rows"
    echo
    echo "One cluster per size, all loaded before the first measure (frozen, analyzed, checkpointed, every table all-visible);" \
         "then $ROUNDS rounds, each measuring every size once, the order rotating. Medians over the rounds; \"vs\" is the" \
         "median of the per-round ratios to the ${sizes[0]}-account cluster. Each measure: $CALLS pgbench transactions on one" \
         "connection, or $CPU_CALLS calls or pairs in \`CALL bench.write_loop(...)\`, one transaction per call, per second of the" \
         "backend's user + system time. The first read is the whole statement (psql \`\\timing\`) of the backend's first" \
         "query on an isolated table, its cache empty, median of $ROUNDS fresh backends."
    if [ -s "$tmp/cg_rows" ]; then
        echo
        echo "Per call, from cachegrind (\`--cache-sim=yes --LL=1048576,16,64\`), the slope between $CG_CALLS1 and $CG_CALLS2 calls or pairs in one backend:"
        echo
        echo "| accounts | create_account(child => true) instructions | D1 misses | 1 MB LL misses | add_member + remove_member instructions | D1 misses | 1 MB LL misses |"
        echo "|---:|---:|---:|---:|---:|---:|---:|"
        awk '{ printf "| %d | %d | %d | %d | %d | %d | %d |\n", $1, $2, $3, $4, $5, $6, $7 }' "$tmp/cg_rows"
    fi
    echo
    echo "Per round (round, accounts, create calls/s, create per CPU s, pairs/s, pairs per CPU s):"
    echo
    echo '```'
    cat "$tmp/rounds"
    echo '```'
} >"$RESULTS"
cat "$RESULTS"
