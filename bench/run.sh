#!/bin/bash
# Benchmarks kalix_accounts against a hand-written WHERE (limit) and two
# SQL-only designs (sql-naive, sql-tuned) in a throwaway cluster, prints the
# throughput ratios and writes bench/RESULTS.md and bench/results.png.
#
#   bench/run.sh                 default scale: 10,000 accounts, 2,000,000 appointments
#   SCALE=0.1 bench/run.sh       a tenth of that (SCALE=2: twice)
#   SMOKE=1 bench/run.sh         tiny data, 1 round of 1 s, checks that every design
#                                returns the same rows as limit; exits non-zero if not
#
# Other knobs: ROUNDS (3), DURATION (seconds per workload and design, 5),
# TRANSACTIONS (a count per run instead of DURATION; SMOKE uses 30),
# PG_CONFIG (pg_config), BENCH_PORT (54329), RESULTS (bench/RESULTS.md),
# KEEP=1 keeps the cluster's directory.  As root, the cluster runs as the
# postgres OS user.  The server is pinned to core 1 and pgbench to core 0.
set -eu
cd "$(dirname "$0")/.."
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
designs="limit kalix naive tuned"
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
cat >>"$tmp/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$tmp'
port = $PORT
shared_buffers = $shared_buffers
max_parallel_workers_per_gather = 0
jit = off
autovacuum = off
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 8GB
checkpoint_timeout = 1h
EOF
# Fixed malloc thresholds: otherwise page faults from mmap/trim dominate the noise.
as_pg "MALLOC_MMAP_THRESHOLD_=8388608 MALLOC_TRIM_THRESHOLD_=8388608 $server_pin '$bindir/pg_ctl' -D '$tmp/data' -l '$tmp/log' -w start >/dev/null"

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
        WHERE n.nspname IN ('d_limit','d_kalix','d_naive','d_tuned','app','kalix') AND c.relkind IN ('r','i')" >/dev/null 2>&1 ||
    say "   (pg_prewarm not available: the first round warms the cache)"
load_seconds=$(($(date +%s) - t0))
say "   loaded in ${load_seconds}s"

workloads=$private_workloads
if [ "$inherited" = t ]; then
    workloads="$workloads $inherited_workloads"
else
    say "== kalix has no inherited isolation (kalix.lineage_distance missing): inherited workloads skipped"
fi

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
    VALUES ('point', 0), ('day', 0), ('count', 0), ('pooler', 0),
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
# session_options DESIGN ACC LOGIN: how a design's session names its account.
session_options() {
    case $1 in
        kalix) echo "-c kalix.current_login=$3 -c kalix.current_account=$2";;
        naive|tuned) echo "-c app.current_login=$3 -c app.current_account=$2";;
        *) echo "";;
    esac
}

# run_pgbench WORKLOAD_FILE DESIGN ROUND_PICK_LINE: prints the throughput (tps).
run_pgbench() {
    local file=$1 design=$2 accno=$3 acc=$4 login=$5 lin=$6 opts=$7 out
    local length="-T $DURATION"
    [ -n "${TRANSACTIONS:-}" ] && length="-t $TRANSACTIONS"
    out=$(PGOPTIONS="$opts" $client_pin "$bindir/pgbench" -n -M prepared -c 1 -j 1 $length \
        -U bench_app -D accno="$accno" -D acc="$acc" -D lin="$lin" -D per="$per" -D days="$days" \
        -D nlogins="$nlogins" -D naccts="$naccts" -D step="$step" -f "$file" bench 2>&1) || {
        say "pgbench failed: $file ($design)"; say "$out"; exit 1; }
    printf '%s\n' "$out" | sed -n 's/^tps = \([0-9.]*\) .*without initial.*/\1/p'
}

script_of() { case $1 in types*) echo bench/workloads/types.$2.sql;; *) echo bench/workloads/$1.$2.sql;; esac; }

# ---------------------------------------------------------------- honesty check
# Every design must return exactly limit's rows: each workload's query is run
# through psql with fixed parameters for a few accounts and the outputs compared.
# psql_form FILE: a pgbench script as psql input -- no \set, :var quoted,
# the output of the account-switching statements discarded.
psql_form() {
    awk '/^\\set/ { next }
         /^SELECT (set_config|kalix\.switch_account)/ { print "\\o /dev/null"; print; print "\\o"; next }
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
            for d in $designs; do
                opts=$(session_options "$d" "$acc" "$login")
                [ "$w" = pooler ] && opts=""
                got=$(psql_form "$(script_of "$w" "$d")" |
                      PGOPTIONS="$opts" "${psql[@]}" -At -U bench_app -v id="$id" -v accno="$accno" \
                          -v acc="$acc" -v lin="$lin" -v d="$((r % days))" -v l="$l" -v a="$a" -f - 2>&1)
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
    set -- $designs
    for _ in $(seq 1 $((r % 4))); do x=$1; shift; set -- "$@" "$x"; done
    order="$*"
    for w in $workloads; do
        read -r _ _ accno acc login lin < <(awk -v r="$r" -v w="$w" '$1 == r && $2 == w' "$tmp/picks")
        for d in $order; do
            opts=$(session_options "$d" "$acc" "$login")
            [ "$w" = pooler ] && opts=""
            tps=$(run_pgbench "$(script_of "$w" "$d")" "$d" "$accno" "$acc" "$login" "$lin" "$opts")
            echo "$r $w $d $tps" >>"$tmp/tps"
        done
        say "   round $((r + 1)) $w: $(awk -v r="$r" -v w="$w" '$1 == r && $2 == w { printf "%s %.0f  ", $3, $4 }' "$tmp/tps")"
    done
done

# ---------------------------------------------------------------- kalix only
acc1=$("${psql[@]}" -At -c "SELECT bench.account_id(1)")
login1=$("${psql[@]}" -At -c "SELECT bench.login_id(1)")
say "== create_account(copy_users) from a 50-member account"
members=$("${psql[@]}" -At -c "SELECT count(*) FROM kalix.memberships WHERE account_id = bench.account_id(1)")
: >"$tmp/create"
for r in $(seq 1 "$ROUNDS"); do
    run_pgbench bench/workloads/create_account.kalix.sql kalix 1 "$acc1" "$login1" '{}' \
        "$(session_options kalix "$acc1" "$login1")" >>"$tmp/create"
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
WHERE name = 'kalix_accounts cache' OR parent = 'kalix_accounts cache';
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
                "$(session_options kalix "$(bench_acc 2)" "$(bench_login 2)")")
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
# per workload: median tps per design and median per-round ratios
summary() {
    for w in $workloads; do
        med() { awk -v w="$w" -v d="$1" '$2 == w && $3 == d { print $4 }' "$tmp/tps" | median; }
        ratio() { awk -v w="$w" -v a="$1" -v b="$2" '$2 == w && $3 == a { x[$1] = $4 } $2 == w && $3 == b { y[$1] = $4 }
                      END { for (r in x) if (y[r] > 0) print x[r] / y[r] }' "$tmp/tps" | median; }
        echo "$w $(med limit) $(med kalix) $(med naive) $(med tuned) $(ratio kalix limit) $(ratio kalix naive) $(ratio kalix tuned) $(ratio naive limit) $(ratio tuned limit)"
    done
}
summary >"$tmp/summary"

target_of() {
    case $1 in
        point|day|count) echo "0.95";;
        types16|nearest) echo "0.90";;
        *) echo "-";;
    esac
}
naive_target_of() { case $1 in count|nearest) echo "10";; *) echo "1";; esac; }
describe() {
    case $1 in
        point) echo "point lookup by primary key";;
        day) echo "one account's appointments of a day";;
        count) echo "count of one account's appointments";;
        pooler) echo "switch account in a transaction, then read a day";;
        types1) echo "inherited appointment types, lineage of 1";;
        types4) echo "inherited appointment types, lineage of 4";;
        types16) echo "inherited appointment types, lineage of 16";;
        nearest) echo "nearest definition wins, lineage of 16";;
    esac
}

table() {
    echo "| workload | limit tps | kalix tps | sql-naive tps | sql-tuned tps | kalix/limit (target) | kalix/sql-naive | kalix/sql-tuned |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    while read -r w l k n t kl kn kt _ _; do
        ok=""
        awk -v x="$kl" -v y="$(target_of "$w")" 'BEGIN { exit !(y != "-" && x + 0 < y + 0) }' && ok=" **missed**"
        tgt="≥ $(target_of "$w")"; [ "$(target_of "$w")" = - ] && tgt="no target"
        on=""
        awk -v x="$kn" -v y="$(naive_target_of "$w")" 'BEGIN { exit !(x + 0 < y + 0) }' && on=" **missed**"
        ot=""
        awk -v x="$kt" 'BEGIN { exit !(x + 0 < 1) }' && ot=" **slower**"
        printf '| %s: %s | %.0f | %.0f | %.0f | %.0f | %.3f (%s)%s | %.2f× (≥ %s×)%s | %.2f×%s |\n' \
            "$w" "$(describe "$w")" "$l" "$k" "$n" "$t" "$kl" "$tgt" "$ok" "$kn" "$(naive_target_of "$w")" "$on" "$kt" "$ot"
    done <"$tmp/summary"
}

create_tps=$(median <"$tmp/create")
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
         "MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ = 8388608"
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
    echo "## Throughput (pgbench, 1 client, \`-M prepared\`, median of $ROUNDS rounds of ${TRANSACTIONS:+$TRANSACTIONS transactions}${TRANSACTIONS:-${DURATION}s}; ratios are medians of per-round ratios)"
    echo
    table
    [ "$inherited" = t ] || { echo; echo "Inherited workloads not run: this build of kalix has no \`kalix.lineage_distance()\`."; }
    echo
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
} >"$RESULTS"

# chart: throughput relative to limit, log scale
if command -v gnuplot >/dev/null; then
    png=$(dirname "$RESULTS")/results.png
    [ "$SMOKE" = 1 ] && png=${RESULTS%.md}.png
    awk '{ printf "%s %s %s %s\n", $1, $6 * 1, $9 * 1, $10 * 1 }' "$tmp/summary" >"$tmp/chart.dat"
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
plot '$tmp/chart.dat' using 2:xtic(1) title 'kalix', '' using 4 title 'sql-tuned', '' using 3 title 'sql-naive', 1 notitle lc rgb 'black'
EOF
    say "== chart: $png"
else
    say "== gnuplot not installed (scripts/install-deps.sh bench): no chart"
fi

echo
[ "$SMOKE" = 1 ] && echo "SMOKE run: these figures measure nothing (tiny data, $TRANSACTIONS transactions per run)."
table | sed 's/\*\*//g'
echo
echo "create_account(copy_users): $(awk -v t="$create_tps" 'BEGIN { printf "%.0f/s", t }');" \
     "cache: $mem_small B ($naccts accounts), $mem_big B ($big accounts);" \
     "rebuild: +$(awk -v a="$inv_small" -v b="$steady_small" 'BEGIN { printf "%.0f", a - b }') µs"
say "== results: $RESULTS"
exit $check_failed
