#!/bin/bash
# Benchmarks kalix_accounts against a hand-written WHERE (limit), the insecure
# "app setting" design and two SQL-only designs (sql-naive, sql-tuned) in a
# throwaway cluster, prints the throughput ratios and writes bench/RESULTS.md
# and bench/results.png.  Methodology: bench/README.md.
#
#   bench/run.sh                 default scale: 10,000 accounts, 2,000,000 appointments
#   SCALE=0.1 bench/run.sh       a tenth of that (SCALE=2: twice)
#   SMOKE=1 bench/run.sh         tiny data, 1 round of 1 s, checks that every design
#                                returns the same rows as limit; exits non-zero if not
#
# Other knobs: ROUNDS (3), DURATION (seconds per workload and design, 5),
# TRANSACTIONS (a count per run instead of DURATION; SMOKE uses 30),
# PG_CONFIG (pg_config), BENCH_PORT (54329), RESULTS (bench/RESULTS.md),
# CHURN=0 skips the churn workload, CHURN_RATE (membership changes per second, 100),
# WORKLOADS (the workloads of the rounds, all by default), DESIGNS (the designs
# they compare, all by default; limit must be one; act_as joins the per-transaction
# workloads when it exists), CHURN_CPU_TX (reader
# transactions per CPU-time measure of the churn, 2000),
# CALLGRIND=0 skips the instruction counts (default: on when valgrind is installed
# and not SMOKE), CG_TX1/CG_TX2 (the two transaction counts of the slope, 500/1000;
# sql-naive's count_tx costs 11M instructions a transaction under valgrind),
# CG_WORKLOADS (the workloads counted, the per-transaction ones by default;
# e.g. nearest for lineage_distance() per row),
# KEEP=1 keeps the cluster's directory.  As root, the cluster runs as the
# postgres OS user.  The server is pinned to core 1 and pgbench to core 0.
set -eu
cd "$(dirname "$0")/.."
. bench/cluster.sh
root=$(pwd)

PG_CONFIG=${PG_CONFIG:-pg_config}
SMOKE=${SMOKE:-0}
if [ "$SMOKE" = 1 ]; then
    SCALE=${SCALE:-0.02}; ROUNDS=${ROUNDS:-1}; DURATION=${DURATION:-1}; TRANSACTIONS=${TRANSACTIONS:-30}
    RESULTS=${RESULTS:-$(mktemp /tmp/kalix-bench-smoke.XXXXXX.md)}
else
    SCALE=${SCALE:-1}; ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-5}
    RESULTS=${RESULTS:-bench/RESULTS.md}
fi
PORT=${BENCH_PORT:-54329}
bindir=$($PG_CONFIG --bindir)
designs=${DESIGNS:-limit kalix app naive tuned}
tx_workloads="point_tx day_tx count_tx"
private_workloads="point day count pooler"
inherited_workloads="types1 types4 types16 nearest"

# Data set size: SCALE 1 is 10,000 accounts, 20,000 logins, 200 appointments
# and 10 appointment types per account.
naccts=$(awk -v s="$SCALE" 'BEGIN { n = int(10000 * s); print (n < 200 ? 200 : n) }')
nlogins=$((2 * naccts))
per=200
types=10
days=$(((per + 7) / 8))
step=$((naccts / 5 + 1))
shared_buffers=$(awk -v s="$SCALE" 'BEGIN { m = int(2048 * s); print (m < 128 ? 128 : m) "MB" }')

say() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------- cluster
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
say "== build and install ($PG_CONFIG)"
make -s PG_CONFIG="$PG_CONFIG" >/dev/null
$sudo make -s install PG_CONFIG="$PG_CONFIG" >/dev/null

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
tmp=$(mktemp -d /tmp/kalix-bench.XXXXXX)
as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$tmp"
cleanup() {
    as_pg "'$bindir/pg_ctl' -D '$tmp/data' -m immediate stop" >/dev/null 2>&1 || true
    [ "${KEEP:-0}" = 1 ] && say "cluster kept in $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

server_pin="" client_pin=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    server_pin="taskset -c 1" client_pin="taskset -c 0"
fi
say "== throwaway cluster in $tmp (port $PORT, shared_buffers $shared_buffers)"
as_pg "'$bindir/initdb' -D '$tmp/data' -U postgres --auth=trust -E UTF8 --locale=C >/dev/null"
bench_conf "$tmp/data/postgresql.conf" "$PORT" "$tmp" $shared_buffers
# Fixed malloc thresholds: otherwise one design pays mmap/trim churn (page
# faults) that another does not, and that dominates the noise.
malloc_env="MALLOC_MMAP_THRESHOLD_=8388608 MALLOC_TRIM_THRESHOLD_=8388608 MALLOC_TOP_PAD_=8388608"
start_server() { as_pg "$malloc_env $server_pin $* '$bindir/pg_ctl' -D '$tmp/data' -l '$tmp/log' -w -t 600 start >/dev/null"; }
stop_server() { as_pg "'$bindir/pg_ctl' -D '$tmp/data' -m fast -w stop >/dev/null"; }
start_server

export PGHOST=$tmp PGPORT=$PORT PGUSER=postgres PGDATABASE=bench
unset PGOPTIONS PGSERVICE PGPASSWORD || true
"$bindir/createdb" bench
psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1)

# ---------------------------------------------------------------- data
inherited=$("${psql[@]}" -At -c "CREATE EXTENSION kalix_accounts CASCADE;
    SELECT to_regprocedure('kalix.lineage_distance(uuid)') IS NOT NULL;
    DROP EXTENSION kalix_accounts;")
say "== loading $naccts accounts, $nlogins logins, $((naccts * per)) appointments, $((naccts * types)) appointment types"
t0=$(date +%s)
"${psql[@]}" -v naccts="$naccts" -v nlogins="$nlogins" -v per="$per" -v types="$types" \
    -v step="$step" -v inherited="$inherited" -f bench/schema.sql >/dev/null
"${psql[@]}" -c "CREATE EXTENSION pg_prewarm" \
    -c "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('d_limit','d_kalix','d_app','d_naive','d_tuned','app','kalix') AND c.relkind IN ('r','i')" >/dev/null 2>&1 ||
    say "   (pg_prewarm not available: the first round warms the cache)"
load_seconds=$(($(date +%s) - t0))
say "   loaded in ${load_seconds}s"

# Load check: every design's tables and indexes all-visible, or count's
# index-only scan pays heap fetches in one design alone.
not_visible() {
    "${psql[@]}" -At -c "SELECT n.nspname || '.' || c.relname || ' (' || c.relallvisible || ' of ' || c.relpages || ' pages all-visible)'
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('d_limit','d_kalix','d_app','d_naive','d_tuned') AND c.relkind = 'r'
          AND c.relallvisible <> c.relpages ORDER BY 1"
}
for pass in 1 2 3; do
    [ -z "$(not_visible)" ] && break
    "${psql[@]}" -c "VACUUM (FREEZE, ANALYZE)" >/dev/null
done
if [ -n "$(not_visible)" ]; then
    say "LOAD CHECK FAILED: tables not all-visible after 3 VACUUM (FREEZE, ANALYZE):"
    not_visible | sed 's/^/   /' >&2
    exit 1
fi
say "   load check: every design's tables all-visible"

# kalix.act_as arrives with a later 1.1 change: its design runs when it exists.
actas=$("${psql[@]}" -At -c "SELECT to_regprocedure('kalix.act_as(uuid, uuid)') IS NOT NULL")
[ "$actas" = t ] || say "== kalix.act_as missing: act_as: not available in this build"
# designs_of WORKLOAD: the designs a workload runs on.
designs_of() {
    case $1 in *_tx) [ "$actas" = t ] && { echo "$designs actas"; return; };; esac
    echo "$designs"
}

workloads="$tx_workloads $private_workloads"
if [ "$inherited" = t ]; then
    workloads="$workloads $inherited_workloads"
else
    say "== kalix has no inherited isolation (kalix.lineage_distance missing): inherited workloads skipped"
fi
# WORKLOADS narrows the rounds to a subset (e.g. WORKLOADS=point_tx for a churn-only run).
workloads=${WORKLOADS:-$workloads}

# One account per round and workload, the same for every design: a random
# account, for typesN an account whose lineage has N accounts, for nearest 16.
"${psql[@]}" -At -F ' ' >"$tmp/picks" <<EOF
SELECT setseed(0.4242);
WITH RECURSIVE up (root, n, parent_n, dist) AS (
    SELECT n, n, parent_n, 0 FROM bench.acct
    UNION ALL
    SELECT up.root, a.n, a.parent_n, up.dist + 1 FROM up JOIN bench.acct a ON a.n = up.parent_n
), lineages AS (
    SELECT root AS n, array_agg(bench.account_id(n) ORDER BY dist)::text AS lin FROM up GROUP BY root
), wanted (w, depth) AS (
    VALUES ('point_tx', 0), ('day_tx', 0), ('count_tx', 0),
           ('point', 0), ('day', 0), ('count', 0), ('pooler', 0),
           ('types1', 1), ('types4', 4), ('types16', 16), ('nearest', 16)
), picks AS (
    SELECT r, w, (SELECT a.n FROM bench.acct a
                  WHERE (wanted.depth = 0 OR a.depth = wanted.depth) AND r > -1
                  ORDER BY random() LIMIT 1) AS n
    FROM generate_series(0, $ROUNDS) r, wanted
)
SELECT r, w, p.n, bench.account_id(p.n), bench.login_id(p.n), l.lin
FROM picks p JOIN lineages l USING (n) ORDER BY r, w;
EOF
sed -i '/^$/d; /^ *$/d' "$tmp/picks"

# ---------------------------------------------------------------- pgbench
# session_options WORKLOAD DESIGN ACC LOGIN LINEAGE: how a design's session
# names its account ("identity set once per session"); nothing for the
# workloads that set it in every transaction.
session_options() {
    case $1 in *_tx|pooler) echo ""; return;; esac
    case $2 in
        kalix) echo "-c kalix.current_login=$4 -c kalix.current_account=$3";;
        app) echo "-c app.current_account=$3 -c app.lineage=$5";;
        naive|tuned) echo "-c app.current_login=$4 -c app.current_account=$3";;
        *) echo "";;
    esac
}

# run_pgbench WORKLOAD_FILE DESIGN ROUND_PICK_LINE: prints the throughput (tps).
run_pgbench() {
    local file=$1 design=$2 accno=$3 acc=$4 login=$5 lin=$6 opts=$7 out
    local length="-T $DURATION"
    [ -n "${TRANSACTIONS:-}" ] && length="-t $TRANSACTIONS"
    [ -n "${length_override:-}" ] && length=$length_override
    out=$(PGOPTIONS="$opts" $client_pin "$bindir/pgbench" -n -M prepared -c 1 -j 1 $length \
        -U bench_app -D accno="$accno" -D acc="$acc" -D login="$login" -D lin="$lin" -D per="$per" -D days="$days" \
        -D nlogins="$nlogins" -D naccts="$naccts" -D step="$step" -f "$file" bench 2>&1) || {
        say "pgbench failed: $file ($design)"; say "$out"; exit 1; }
    printf '%s\n' "$out" | sed -n 's/^tps = \([0-9.]*\) .*without initial.*/\1/p'
}

script_of() { case $1 in types*) echo bench/workloads/types.$2.sql;; *) echo bench/workloads/$1.$2.sql;; esac; }

# ---------------------------------------------------------------- honesty check
# Every design must return exactly limit's rows: each workload's query is run
# through psql with fixed parameters for a few accounts and the outputs compared.
# psql_form FILE: a pgbench script as psql input -- no \set, :var quoted,
# the output of the identity statements (and limit's stand-ins) discarded.
psql_form() {
    awk '/^\\set/ { next }
         /^SELECT (set_config|kalix\.(switch_account|act_as)|bench\.|:login)/ { print "\\o /dev/null"; print; print "\\o"; next }
         { print }' "$1" | sed -e "s/\(^\|[^:]\):\([a-z_][a-z_]*\)/\1:'\2'/g"
}
check_failed=0
if [ "$SMOKE" = 1 ] || [ "${CHECK:-0}" = 1 ]; then
    say "== checking that every design returns the rows of limit"
    checks=0
    while read -r r w accno acc login lin; do
        [ "$r" -lt 3 ] || continue
        case " $workloads " in *" $w "*) ;; *) continue;; esac
        own=$(( (accno - 1) * per + 1 + r )); foreign=$(( (accno % naccts) * per + 1 ))
        l=$(( (accno * 7 + r) % nlogins + 1 )); k=$(( r % (l % 5 + 1) ))
        a=$(( (l - 1 + k * step) % naccts + 1 ))
        for id in $own $foreign; do
            ref=""
            for d in $(designs_of "$w"); do
                opts=$(session_options "$w" "$d" "$acc" "$login" "$lin")
                got=$(psql_form "$(script_of "$w" "$d")" |
                      PGOPTIONS="$opts" "${psql[@]}" -At -U bench_app -v id="$id" -v accno="$accno" \
                          -v acc="$acc" -v login="$login" -v lin="$lin" -v d="$((r % days))" -v l="$l" -v a="$a" -f - 2>&1)
                if [ -z "$ref" ]; then
                    ref=$got
                    if [ -z "$got" ] && [ "$id" = "$own" ]; then
                        say "   EMPTY: $w, design $d, account $accno returned no rows"; check_failed=1
                    fi
                elif [ "$got" != "$ref" ]; then
                    say "   MISMATCH: $w, design $d, account $accno$( [ "$w" = point ] && echo ", appointment $id")"; check_failed=1
                fi
                checks=$((checks + 1))
            done
            case $w in point) ;; *) break;; esac
        done
    done <"$tmp/picks"
    say "   $checks query results compared, $( [ $check_failed = 0 ] && echo 'all equal' || echo 'MISMATCHES')"
fi

# ---------------------------------------------------------------- rounds
say "== $ROUNDS round(s) of ${TRANSACTIONS:-${DURATION}s} per workload and design, designs alternated"
: >"$tmp/tps"
for r in $(seq 0 $((ROUNDS - 1))); do
    # rotate the design order each round
    for w in $workloads; do
        set -- $(designs_of "$w")
        for _ in $(seq 1 $((r % $#))); do x=$1; shift; set -- "$@" "$x"; done
        read -r _ _ accno acc login lin < <(awk -v r="$r" -v w="$w" '$1 == r && $2 == w' "$tmp/picks")
        for d in "$@"; do
            opts=$(session_options "$w" "$d" "$acc" "$login" "$lin")
            tps=$(run_pgbench "$(script_of "$w" "$d")" "$d" "$accno" "$acc" "$login" "$lin" "$opts")
            echo "$r $w $d $tps" >>"$tmp/tps"
        done
        say "   round $((r + 1)) $w: $(awk -v r="$r" -v w="$w" '$1 == r && $2 == w { printf "%s %.0f  ", $3, $4 }' "$tmp/tps")"
    done
done

acc1=$("${psql[@]}" -At -c "SELECT bench.account_id(1)")
login1=$("${psql[@]}" -At -c "SELECT bench.login_id(1)")

# ---------------------------------------------------------------- churn
# Readers (point_tx on kalix, one client) alone, then beside a writer in
# another tenant (account 1) that changes memberships or creates child
# accounts, and beside a control writer that sends the same statements and
# commits to a table outside kalix.  CHURN_RATE 0: writers unbounded.
CHURN=${CHURN:-1}
CHURN_RATE=${CHURN_RATE:-100}
CHURN_CPU_TX=${CHURN_CPU_TX:-2000}
churn_phases="none members members_control children children_control"
# writer_start PHASE: starts the phase's writer in the background (pid in $writer).
writer_start() {
    local file rate
    case $1 in
        none) writer=""; return;;
        members|children) file=bench/workloads/churn_$1.kalix.sql;;
        *_control) file=bench/workloads/churn_${1%_control}.control.sql;;
    esac
    # transactions/s: a members transaction makes two changes (CHURN_RATE
    # changes/s), a children one creates one account (CHURN_RATE / 2 per s)
    rate=$((CHURN_RATE / 2))
    PGOPTIONS="-c kalix.current_login=$login1 -c kalix.current_account=$acc1" $client_pin "$bindir/pgbench" -M prepared \
        -n -c 1 -j 1 -T $((DURATION + 2)) $( [ "$rate" -gt 0 ] && echo "-R $rate") \
        -D acc="$acc1" -D nlogins="$nlogins" -f "$file" bench >"$tmp/writer.out" 2>&1 &
    writer=$!
    sleep 0.5
}
# writer_wait: waits for the writer to end, sets $writer_tps (0 for none).
writer_wait() {
    writer_tps=0
    [ -n "$writer" ] || return 0
    wait "$writer" || { say "churn writer failed:"; cat "$tmp/writer.out" >&2; exit 1; }
    writer_tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$tmp/writer.out")
}
: >"$tmp/churn"
if [ "$CHURN" = 1 ]; then
    say "== churn: point_tx readers alone and beside writers (CHURN_RATE $CHURN_RATE changes/s; 0 = unbounded)"
    for r in $(seq 0 $((ROUNDS - 1))); do
        set -- $churn_phases
        for _ in $(seq 1 $((r % $#))); do x=$1; shift; set -- "$@" "$x"; done
        read -r _ _ accno acc login lin < <(awk -v r="$r" '$1 == r && $2 == "point_tx"' "$tmp/picks")
        for ph in "$@"; do
            writer_start "$ph"
            tps=$(length_override="-T $DURATION" run_pgbench bench/workloads/point_tx.kalix.sql kalix \
                "$accno" "$acc" "$login" "$lin" "")
            writer_wait
            echo "$r $ph $tps $writer_tps" >>"$tmp/churn"
        done
        say "   round $((r + 1)): $(awk -v r="$r" '$1 == r { printf "%s %.0f (writer %.0f/s)  ", $2, $3, $4 }' "$tmp/churn")"
    done
    # The same readers as a loop inside the server (CALL bench_reader_loop), per
    # second of the reader backend's CPU time, which the machine's other work
    # disturbs far less than wall time: what a writer's invalidations cost it.
    hz=$(getconf CLK_TCK)
    "${psql[@]}" >/dev/null <<'SQL'
CREATE OR REPLACE PROCEDURE public.bench_reader_loop(n integer, login text, acc text, first bigint, per integer)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR i IN 1..n LOOP
        PERFORM set_config('kalix.current_login', login, true), set_config('kalix.current_account', acc, true);
        SELECT * INTO r FROM d_kalix.appointments WHERE id = first + i % per;
        COMMIT;
    END LOOP;
END
$$;
SQL
    say "== churn: the same readers, per CPU second of the reader's backend (CHURN_CPU_TX $CHURN_CPU_TX transactions)"
    for r in $(seq 0 $((ROUNDS - 1))); do
        set -- $churn_phases
        for _ in $(seq 1 $((r % $#))); do x=$1; shift; set -- "$@" "$x"; done
        read -r _ _ accno acc login lin < <(awk -v r="$r" '$1 == r && $2 == "point_tx"' "$tmp/picks")
        for ph in "$@"; do
            writer_start "$ph"
            "${psql[@]}" -U bench_app -At <<SQL >/dev/null 2>&1
SELECT pg_backend_pid() AS pid \gset
\setenv KALIX_PID :pid
\! awk '{ print \$14 + \$15 }' /proc/\$KALIX_PID/stat > $tmp/cpu.before
CALL public.bench_reader_loop($CHURN_CPU_TX, '$login', '$acc', ($accno - 1) * $per + 1, $per);
\! awk '{ print \$14 + \$15 }' /proc/\$KALIX_PID/stat > $tmp/cpu.after
SQL
            cpu=$(awk -v n="$CHURN_CPU_TX" -v hz="$hz" 'NR == FNR { b = $1; next } { d = ($1 - b) / hz; print (d > 0 ? n / d : 0) }' "$tmp/cpu.before" "$tmp/cpu.after")
            writer_wait
            echo "$r cpu_$ph $cpu $writer_tps" >>"$tmp/churn"
        done
        say "   round $((r + 1)): $(awk -v r="$r" '$1 == r && $2 ~ /^cpu_/ { printf "%s %.0f/CPU s (writer %.0f/s)  ", substr($2, 5), $3, $4 }' "$tmp/churn")"
    done
    "${psql[@]}" -c "DELETE FROM kalix.memberships m USING kalix.accounts a
        WHERE a.id = m.account_id AND a.name = 'Bench churn child';
        DELETE FROM kalix.accounts WHERE name = 'Bench churn child'; TRUNCATE bench.control_log" >/dev/null
fi

# ---------------------------------------------------------------- instructions
# Instructions per transaction from callgrind: the server runs under valgrind,
# each per-transaction workload runs CG_TX1 and CG_TX2 transactions on one
# connection, and the slope between the two backends' totals cancels the
# fixed costs (connection, first-use caches, exit).
CALLGRIND=${CALLGRIND:-$( [ "$SMOKE" != 1 ] && command -v valgrind >/dev/null && echo 1 || echo 0)}
CG_TX1=${CG_TX1:-500}
CG_TX2=${CG_TX2:-1000}
: >"$tmp/instr"
CG_WORKLOADS=${CG_WORKLOADS:-$tx_workloads}
# cg_total N WORKLOAD DESIGN PICK...: instructions of the backend that ran N
# transactions, found by its pid (the profile is cg.PID).
cg_total() {
    local n=$1 w=$2 d=$3 bg pid="" p i
    length_override="-t $n" run_pgbench "$(script_of "$w" "$d")" "$d" "$4" "$5" "$6" "$7" \
        "$(session_options "$w" "$d" "$5" "$6" "$7")" >/dev/null &
    bg=$!
    # pgbench's benchmark connection is the last bench_app backend it opens
    while kill -0 "$bg" 2>/dev/null; do
        p=$("${psql[@]}" -At -c "SELECT pid FROM pg_stat_activity WHERE usename = 'bench_app'
                                  ORDER BY backend_start DESC LIMIT 1")
        [ -n "$p" ] && pid=$p
        sleep 1
    done
    wait "$bg"
    [ -n "$pid" ] || { say "callgrind: no backend seen for $w ($d)"; exit 1; }
    # the backend writes its profile when it exits, after pgbench has gone
    for i in $(seq 1 300); do
        grep -q '^totals:' "$tmp/cg/cg.$pid" 2>/dev/null && break
        sleep 1
    done
    awk '/^totals:/ { print $2; found = 1 } END { exit !found }' "$tmp/cg/cg.$pid" ||
        { say "callgrind: no profile for $w ($d), backend $pid"; exit 1; }
    # which profile is which, for per-function diffs (KEEP=1 keeps them)
    echo "$w $d $n cg.$pid" >>"$tmp/cg/index"
}
if [ "$CALLGRIND" = 1 ]; then
    say "== instructions per transaction (callgrind, slope between $CG_TX1 and $CG_TX2 transactions)"
    mkdir "$tmp/cg"; [ "$(id -u)" -eq 0 ] && chown postgres "$tmp/cg"
    stop_server
    start_server "valgrind -q --tool=callgrind --trace-children=yes --dump-instr=no" \
        "--callgrind-out-file='$tmp/cg/cg.%p' --log-file='$tmp/cg/valgrind.%p.log'"
    for w in $CG_WORKLOADS; do
        read -r _ _ accno acc login lin < <(awk -v w="$w" '$1 == 0 && $2 == w' "$tmp/picks")
        for d in $(designs_of "$w"); do
            i1=$(cg_total "$CG_TX1" "$w" "$d" "$accno" "$acc" "$login" "$lin")
            i2=$(cg_total "$CG_TX2" "$w" "$d" "$accno" "$acc" "$login" "$lin")
            echo "$w $d $(( (i2 - i1) / (CG_TX2 - CG_TX1) ))" >>"$tmp/instr"
        done
        say "   $w: $(awk -v w="$w" '$1 == w { printf "%s %.1fk  ", $2, $3 / 1000 }' "$tmp/instr")"
    done
    stop_server
    start_server
fi

# ---------------------------------------------------------------- kalix only
say "== create_account(copy_users) from a 50-member account"
members=$("${psql[@]}" -At -c "SELECT count(*) FROM kalix.memberships WHERE account_id = bench.account_id(1)")
: >"$tmp/create"
for r in $(seq 1 "$ROUNDS"); do
    run_pgbench bench/workloads/create_account.kalix.sql kalix 1 "$acc1" "$login1" '{}' \
        "$(session_options - kalix "$acc1" "$login1" "{}")" >>"$tmp/create"
done
"${psql[@]}" -c "DELETE FROM kalix.audit_log; DELETE FROM kalix.memberships m USING kalix.accounts a
    WHERE a.id = m.account_id AND a.name = 'Bench copy'; DELETE FROM kalix.accounts WHERE name = 'Bench copy'"

# cache_probe NACCOUNTS: touches every account as its owner in one backend,
# prints the bytes of the kalix cache context and its children.
cache_probe() {
    "${psql[@]}" -At <<EOF
DO \$\$
DECLARE
    n bigint;
BEGIN
    FOR n IN 1..$1 LOOP
        PERFORM set_config('kalix.current_login',
            bench.login_id(CASE WHEN n <= $naccts THEN n ELSE (n - 1) % $nlogins + 1 END)::text, false);
        PERFORM kalix.switch_account(bench.account_id(n));
        PERFORM kalix.current_account();
    END LOOP;
END
\$\$;
SELECT coalesce(sum(total_bytes), 0) FROM pg_backend_memory_contexts
WHERE name = 'kalix_accounts cache' OR name LIKE 'kalix %' OR (name = 'dynahash' AND ident LIKE 'kalix %');
EOF
}

# rebuild_probe: median extra latency (us) of the first point lookup after a
# kalix invalidation, against the same statement without one.
rebuild_probe() {
    local inv steady
    : >"$tmp/rebuild"
    for r in $(seq 1 "$ROUNDS"); do
        for f in steady invalidated; do
            tps=$(run_pgbench bench/workloads/$f.kalix.sql kalix 2 "$(bench_acc 2)" "$(bench_login 2)" '{}' \
                "$(session_options - kalix "$(bench_acc 2)" "$(bench_login 2)" "{}")")
            echo "$f $tps" >>"$tmp/rebuild"
        done
    done
    inv=$(awk '$1 == "invalidated" { print 1e6 / $2 }' "$tmp/rebuild" | median)
    steady=$(awk '$1 == "steady" { print 1e6 / $2 }' "$tmp/rebuild" | median)
    echo "$steady $inv"
}
bench_acc() { "${psql[@]}" -At -c "SELECT bench.account_id($1)"; }
bench_login() { "${psql[@]}" -At -c "SELECT bench.login_id($1)"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

say "== cache memory and rebuild with $naccts accounts"
mem_small=$(cache_probe "$naccts")
read -r steady_small inv_small < <(rebuild_probe)

big=$((naccts * 10))
say "== cache memory and rebuild with $big accounts"
"${psql[@]}" <<EOF >/dev/null
INSERT INTO kalix.accounts (id, name)
SELECT bench.account_id(n), 'Account ' || n FROM generate_series($naccts + 1, $big) n;
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT bench.account_id(n), bench.login_id((n - 1) % $nlogins + 1), 'owner'
FROM generate_series($naccts + 1, $big) n;
VACUUM ANALYZE kalix.accounts, kalix.memberships;
EOF
mem_big=$(cache_probe "$big")
read -r steady_big inv_big < <(rebuild_probe)

# ---------------------------------------------------------------- report
# per workload: median tps per design and median per-round ratios ("-" where
# a design does not run)
summary() {
    for w in $workloads; do
        med() { awk -v w="$w" -v d="$1" '$2 == w && $3 == d { print $4 }' "$tmp/tps" | median; }
        ratio() { awk -v w="$w" -v a="$1" -v b="$2" '$2 == w && $3 == a { x[$1] = $4 } $2 == w && $3 == b { y[$1] = $4 }
                      END { for (r in x) if (y[r] > 0) print x[r] / y[r] }' "$tmp/tps" | median; }
        echo "$w $(med limit) $(med kalix) $(med actas) $(med app) $(med naive) $(med tuned)" \
             "$(ratio kalix limit) $(ratio actas limit) $(ratio kalix app) $(ratio kalix naive) $(ratio kalix tuned)"
    done | sed 's/nan/-/g'
}
summary >"$tmp/summary"

# target_of WORKLOAD DESIGN: SPEC §7's floor for DESIGN/limit, "-" for none.
target_of() {
    case $2:$1 in
        actas:*_tx) echo "0.98";;
        kalix:*_tx) echo "0.97";;
        kalix:point|kalix:day|kalix:count) echo "0.99";;
        kalix:types16) echo "0.93";;
        *) echo "-";;
    esac
}
naive_target_of() { case $1 in count*|nearest) echo "10";; *) echo "1";; esac; }
describe() {
    case $1 in
        point_tx) echo "per transaction: set the identity, point lookup by primary key";;
        day_tx) echo "per transaction: set the identity, one account's appointments of a day";;
        count_tx) echo "per transaction: set the identity, count of one account's appointments";;
        point) echo "identity set once per session: point lookup by primary key";;
        day) echo "identity set once per session: one account's appointments of a day";;
        count) echo "identity set once per session: count of one account's appointments";;
        pooler) echo "per transaction: a random login's random account, then read a day";;
        types1) echo "identity set once per session: inherited appointment types, lineage of 1";;
        types4) echo "identity set once per session: inherited appointment types, lineage of 4";;
        types16) echo "identity set once per session: inherited appointment types, lineage of 16";;
        nearest) echo "identity set once per session: nearest definition wins, lineage of 16";;
    esac
}
# vs RATIO TARGET: the ratio, its target, and **missed** below it.
vs() {
    [ "$1" = - ] && { echo "–"; return; }
    if [ "$2" = - ]; then printf '%.3f' "$1"; return; fi
    printf '%.3f (≥ %s)' "$1" "$2"
    awk -v x="$1" -v y="$2" 'BEGIN { exit !(x + 0 < y + 0) }' && printf ' **missed**'
    return 0
}
tps_of() { [ "$1" = - ] && echo "–" || printf '%.0f' "$1"; }

table() {
    if [ "$actas" = t ]; then
        echo "| workload | limit | kalix | act_as | app-setting | sql-naive | sql-tuned | kalix/limit | act_as/limit | kalix/app-setting | kalix/sql-naive | kalix/sql-tuned |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    else
        echo "| workload | limit | kalix | app-setting | sql-naive | sql-tuned | kalix/limit | kalix/app-setting | kalix/sql-naive | kalix/sql-tuned |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    fi
    while read -r w l k a p n t kl al kp kn kt; do
        row="| $w: $(describe "$w") | $(tps_of "$l") | $(tps_of "$k")"
        [ "$actas" = t ] && row="$row | $(tps_of "$a")"
        row="$row | $(tps_of "$p") | $(tps_of "$n") | $(tps_of "$t") | $(vs "$kl" "$(target_of "$w" kalix)")"
        [ "$actas" = t ] && row="$row | $(vs "$al" "$(target_of "$w" actas)")"
        row="$row | $(vs "$kp" 1) | $(vs "$kn" "$(naive_target_of "$w")") | $(vs "$kt" 1) |"
        echo "$row" | sed 's/(≥ 1) \*\*missed\*\*/**slower**/g; s/ (≥ 1)//g'
    done <"$tmp/summary"
}

# instr_table: callgrind's instructions per transaction beside the limit.
instr_table() {
    echo "| workload | design | instructions per transaction | vs limit |"
    echo "|---|---|---:|---:|"
    awk '$2 == "limit" { lim[$1] = $3 } { row[NR] = $0 }
         END { for (i = 1; i <= NR; i++) { split(row[i], f, " ")
               printf "| %s | %s | %.1fk | %+.1fk |\n", f[1], f[2], f[3] / 1000, (f[3] - lim[f[1]]) / 1000 } }' "$tmp/instr"
}

# churn_table: readers' median tps per phase, and the ratios of the medians of
# per-round ratios.
churn_table() {  # churn_table [cpu_]: wall-time tps, or with cpu_ per CPU second of the reader
    local p pre=${1:-}
    if [ -n "$pre" ]; then
        echo "| extra writer | writer tx/s | reader tx per CPU s | reader / no writer | reader / control writer |"
    else
        echo "| extra writer | writer tx/s | readers tps | readers / no writer | readers / control writer |"
    fi
    echo "|---|---:|---:|---:|---:|"
    for p in $churn_phases; do
        awk -v p="$pre$p" '$2 == p { print $3 }' "$tmp/churn" | median >"$tmp/m"
        wr=$(awk -v p="$pre$p" '$2 == p { print $4 }' "$tmp/churn" | median)
        rn=$(awk -v p="$pre$p" -v n="${pre}none" '$2 == p { x[$1] = $3 } $2 == n { y[$1] = $3 }
                 END { for (r in x) if (y[r] > 0) print x[r] / y[r] }' "$tmp/churn" | median)
        rc="–"
        case $p in members|children)
            rc=$(awk -v p="$pre$p" -v c="$pre${p}_control" '$2 == p { x[$1] = $3 } $2 == c { y[$1] = $3 }
                     END { for (r in x) if (y[r] > 0) print x[r] / y[r] }' "$tmp/churn" | median)
            rc=$(vs "$rc" 0.90);;
        esac
        [ "$p" = none ] && rn=1
        printf '| %s | %.0f | %.0f | %.3f | %s |\n' "$p" "$wr" "$(cat "$tmp/m")" "$rn" "$rc"
    done
}

create_tps=$(median <"$tmp/create")
run_length="${DURATION}s"
[ -n "${TRANSACTIONS:-}" ] && run_length="$TRANSACTIONS transactions"
# hand-written sections below this marker survive the rewrite of $RESULTS
marker="<!-- bench/run.sh keeps everything below this line when it rewrites the file -->"
kept=$(sed -n "\|^$marker|,\$p" "$RESULTS" 2>/dev/null || true)
command="$(for v in SCALE ROUNDS DURATION TRANSACTIONS SMOKE; do [ -n "${!v:-}" ] && printf "%s=%s " "$v" "${!v}"; done)bench/run.sh"
{
    echo "# kalix_accounts benchmark results"
    echo
    echo "Produced by \`$command\` (\`make bench\`) on $(date -u '+%Y-%m-%d %H:%M UTC'),"
    echo "tree \`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src kalix_accounts--1.0.sql 2>/dev/null || echo '+changes')\`."
    echo
    [ "$SMOKE" = 1 ] && { echo "**SMOKE run: $TRANSACTIONS transactions per run on tiny data; the figures check that the harness works, they measure nothing.**"; echo; }
    echo "## Machine"
    echo
    echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores;" \
         "server pinned with \`${server_pin:-no taskset}\`, pgbench with \`${client_pin:-no taskset}\`"
    echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); kernel $(uname -r)"
    echo "- $("$bindir/postgres" --version); shared_buffers $shared_buffers, parallel query off, fsync off (throwaway cluster)," \
         "MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_/MALLOC_TOP_PAD_ = 8388608 in the server's environment"
    echo "- load average (1, 5, 15 min) at the start: $load_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "## Data set"
    echo
    echo "$naccts accounts in trees of 1–19 (lineages of 1–16 accounts), $nlogins logins with memberships in" \
         "1–5 accounts ($("${psql[@]}" -At -c "SELECT count(*) FROM kalix.memberships WHERE account_id <= bench.account_id($naccts)") memberships)," \
         "$((naccts * per)) appointments (private, $per per account, interleaved on disk in time order)," \
         "$((naccts * types)) appointment types (inherited, $types per account, names from a pool of 20)." \
         "Loaded in ${load_seconds}s."
    echo
    echo "## Throughput (pgbench, 1 client, \`-M prepared\`, median of $ROUNDS rounds of $run_length; ratios are medians of per-round ratios)"
    echo
    [ "$actas" = t ] || { echo "act_as: not available in this build (\`kalix.act_as(uuid, uuid)\` does not exist)."; echo; }
    table
    [ "$inherited" = t ] || { echo; echo "Inherited workloads not run: this build of kalix has no \`kalix.lineage_distance()\`."; }
    echo
    echo "Every per-transaction (\`_tx\`) variant sends the same four statements: BEGIN; one statement that sets the" \
         "identity (kalix: \`set_config\` of \`kalix.current_login\` and \`kalix.current_account\`, transaction-local;" \
         "app-setting: \`app.current_account\` and \`app.lineage\`; SQL-only: \`app.current_login\` and \`app.current_account\`)" \
         "or, for limit, selects the same two values without setting anything; the query; COMMIT."
    echo
    if [ -s "$tmp/instr" ]; then
        echo "## Instructions per transaction (callgrind, slope between $CG_TX1 and $CG_TX2 transactions on one connection)"
        echo
        instr_table
        echo
    else
        echo "Instructions per transaction: not measured in this run (CALLGRIND=0 or valgrind missing)."
        echo
    fi
    if [ -s "$tmp/churn" ]; then
        echo "## Readers under churn (point_tx on kalix, 1 reader; median of $ROUNDS rounds of ${DURATION}s; target ≥ 0.90× the control)"
        echo
        echo "Writers work in account 1 as its owner, at CHURN_RATE=$CHURN_RATE membership changes/s" \
             "(\`add_member\` then \`remove_member\`, $((CHURN_RATE / 2)) transactions/s) or $((CHURN_RATE / 2)) \`create_account(child => true)\`/s;" \
             "each control writer sends the same number of statements and commits to a table outside kalix (0 = unbounded)."
        echo
        churn_table
        echo
        echo "The same readers as a loop inside the server (\`CALL bench_reader_loop\`, $CHURN_CPU_TX transactions per measure)," \
             "per second of the reader backend's CPU time (user + system), which the other work on the machine disturbs far less:"
        echo
        churn_table cpu_
        echo
    fi
    echo "## kalix only"
    echo
    echo "- \`create_account(name, copy_users => true)\` from a $members-member account: $(awk -v t="$create_tps" 'BEGIN { printf "%.0f calls/s (%.2f ms each)", t, 1000 / t }')"
    echo "- backend cache after touching every account (\`pg_backend_memory_contexts\`, context \"kalix_accounts cache\" and its children):" \
         "$naccts accounts: $(awk -v b="$mem_small" 'BEGIN { printf "%.1f MiB", b / 1048576 }'); $big accounts: $(awk -v b="$mem_big" 'BEGIN { printf "%.1f MiB", b / 1048576 }')"
    echo "- first point lookup after a membership change (cache rebuilt) vs steady state, per transaction:" \
         "$naccts accounts: $(awk -v a="$inv_small" -v b="$steady_small" 'BEGIN { printf "%.0f µs vs %.0f µs (+%.0f µs)", a, b, a - b }');" \
         "$big accounts: $(awk -v a="$inv_big" -v b="$steady_big" 'BEGIN { printf "%.0f µs vs %.0f µs (+%.0f µs)", a, b, a - b }')"
    echo
    echo "Chart: \`bench/results.png\` (throughput relative to limit, log scale; written by each run, not committed)."
    echo
    echo "## Raw figures (round workload design tps)"
    echo
    echo '```'
    cat "$tmp/tps"
    echo '```'
    if [ -s "$tmp/churn" ]; then
        echo
        echo "Churn (round phase readers-tps writer-tps):"
        echo
        echo '```'
        cat "$tmp/churn"
        echo '```'
    fi
    [ -z "$kept" ] || { echo; printf '%s\n' "$kept"; }
} >"$RESULTS"

# chart: throughput relative to limit, log scale
if command -v gnuplot >/dev/null; then
    png=$(dirname "$RESULTS")/results.png
    [ "$SMOKE" = 1 ] && png=${RESULTS%.md}.png
    # kalix, sql-naive, sql-tuned and app-setting relative to limit
    awk '{ printf "%s %s %s %s %s\n", $1, $8 * 1, ($11 > 0 ? $8 / $11 : 0), ($12 > 0 ? $8 / $12 : 0), ($10 > 0 ? $8 / $10 : 0) }' "$tmp/summary" >"$tmp/chart.dat"
    gnuplot <<EOF
set terminal png size 900,500
set output '$png'
set title 'kalix\_accounts: throughput relative to a hand-written WHERE (limit = 1)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [*:3]
set grid ytics
set key below horizontal
set xtics rotate by -30
plot '$tmp/chart.dat' using 2:xtic(1) title 'kalix', '' using 5 title 'app-setting', '' using 4 title 'sql-tuned', '' using 3 title 'sql-naive', 1 notitle lc rgb 'black'
EOF
    say "== chart: $png"
else
    say "== gnuplot not installed (scripts/install-deps.sh bench): no chart"
fi

echo
[ "$SMOKE" = 1 ] && echo "SMOKE run: these figures measure nothing (tiny data, $TRANSACTIONS transactions per run)."
[ "$actas" = t ] || echo "act_as: not available in this build"
table | sed 's/\*\*//g'
[ -s "$tmp/instr" ] && { echo; instr_table; }
[ -s "$tmp/churn" ] && { echo; churn_table; echo; churn_table cpu_; }
echo
echo "create_account(copy_users): $(awk -v t="$create_tps" 'BEGIN { printf "%.0f/s", t }');" \
     "cache: $mem_small B ($naccts accounts), $mem_big B ($big accounts);" \
     "rebuild: +$(awk -v a="$inv_small" -v b="$steady_small" 'BEGIN { printf "%.0f", a - b }') µs"
say "== results: $RESULTS"
exit $check_failed
