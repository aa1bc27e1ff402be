#!/bin/bash
# Benchmarks the write path: calls/s of create_account(child => true),
# link_child, add_member and copy_users of 1,000 members, 1.1 (C) against
# 1.0 (plpgsql) on the same data in one run -- `CREATE EXTENSION
# kalix_accounts VERSION '1.0'` installs the plpgsql functions over the same
# library -- and create_account(child => true) in disjoint trees from 1 and
# 2 clients.  A third install, 1.1 with the cache-invalidation triggers
# disabled, measures what invalidation costs writers (issue 17 item 7).
# Writes its figures into bench/RESULTS.md (section "Writes").
#
#   bench/writes.sh              ROUNDS=5 rounds, versions alternated
#   CALLGRIND=1 bench/writes.sh  instructions per call instead (see below)
#
# Each round also runs the calls pipelined, PIPE calls (PIPE_COPIES copies)
# per round trip, each call still its own transaction (BEGIN; SELECT ...;
# COMMIT; in one \startpipeline): a call then pays the protocol's parse, bind
# and execute but not the client's wait for each answer, which on this
# machine costs both versions alike (the kernel's wake-ups of client and
# server, about a third of the backend's CPU time per call).
#
# Knobs: ROUNDS (5), CALLS (calls per round of the cheap functions, 3000),
# COPIES (copy_users calls per round, 30), PIPE (20) and PIPE_COPIES (5),
# CPU_CALLS and CPU_COPIES (the same
# for the in-server loop timed by CPU seconds, 4 x CALLS and 4 x COPIES: its
# clock ticks every 10 ms, so a round must last a few seconds), DURATION
# (seconds per round of the 1-/2-client runs, 5), PG_CONFIG, WRITES_PORT
# (54339), RESULTS, TREE (the commit named in the results when git cannot
# tell).
#
# CALLGRIND=1 runs no rounds: the server runs under valgrind --tool=callgrind
# and each call runs in the in-server loop CG_CALLS and then 2 x CG_CALLS
# times (CG_COPIES for copy_users; 100 and 4), each in a backend of its own,
# for each call CG_WORKLOADS names (all four);
# the difference of the two backends' instruction totals divided by the
# difference of the calls is one call, without the fixed costs (connection,
# first plans, exit), on the data the timed rounds would use.  Prints a
# table, writes nothing into RESULTS, and keeps the profiles
# (cg.WORKLOAD.DB.CALLS) in CG_DIR when it is set, for callgrind_annotate.
#
# As root the
# cluster runs as the postgres OS user.  For the 1.0/1.1 comparison the
# server is pinned to core 1 and pgbench to core 0; for the 1-/2-client runs
# the server may use both cores.
set -eu
cd "$(dirname "$0")/.."
. bench/cluster.sh

PG_CONFIG=${PG_CONFIG:-pg_config}
ROUNDS=${ROUNDS:-5}
CALLS=${CALLS:-3000}
COPIES=${COPIES:-30}
CPU_CALLS=${CPU_CALLS:-$((4 * CALLS))}
CPU_COPIES=${CPU_COPIES:-$((4 * COPIES))}
PIPE=${PIPE:-20}
PIPE_COPIES=${PIPE_COPIES:-5}
CALLGRIND=${CALLGRIND:-0}
CG_CALLS=${CG_CALLS:-100}
CG_COPIES=${CG_COPIES:-4}
CG_DIR=${CG_DIR:-}
CG_WORKLOADS=${CG_WORKLOADS:-create_child link_child add_member copy_users}
DURATION=${DURATION:-5}
PORT=${WRITES_PORT:-54339}
RESULTS=${RESULTS:-bench/RESULTS.md}
bindir=$($PG_CONFIG --bindir)
say() { printf '%s\n' "$*" >&2; }

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
say "== build and install ($PG_CONFIG)"
make -s PG_CONFIG="$PG_CONFIG" >/dev/null
$sudo make -s install PG_CONFIG="$PG_CONFIG" >/dev/null

tmp=$(mktemp -d /tmp/kalix-writes.XXXXXX)
as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$tmp"
cleanup() {
    as_pg "'$bindir/pg_ctl' -D '$tmp/data' -m immediate stop" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

pin=0
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then pin=1; fi
say "== throwaway cluster in $tmp (port $PORT)"
as_pg "'$bindir/initdb' -D '$tmp/data' -U postgres --auth=trust -E UTF8 --locale=C >/dev/null"
bench_conf "$tmp/data/postgresql.conf" "$PORT" "$tmp" 256MB
as_pg "MALLOC_MMAP_THRESHOLD_=8388608 MALLOC_TRIM_THRESHOLD_=8388608 '$bindir/pg_ctl' -D '$tmp/data' -l '$tmp/log' -w start >/dev/null"
postmaster=$(head -1 "$tmp/data/postmaster.pid")
export PGHOST=$tmp PGPORT=$PORT PGUSER=postgres
unset PGOPTIONS PGSERVICE PGPASSWORD || true
psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1)

# Fixed ids: the owner login; tree R > A > B > P (P at depth 4), where children
# are created and linked; M, where members are added; S with 1,000 members,
# copied into fresh targets; two disjoint trees T0 and T1 of depth 4.
owner=b0000000-0000-4000-8000-000000000001
P=b0000000-0000-4000-8000-0000000000a4
M=b0000000-0000-4000-8000-0000000000b1
S=b0000000-0000-4000-8000-0000000000c1
pool=$((ROUNDS * (2 * CALLS + CPU_CALLS) + 100))
targets=$((ROUNDS * (2 * COPIES + CPU_COPIES) + 10))

load() {  # load DB VERSION
    "$bindir/createdb" "$1"
    "${psql[@]}" -d "$1" -c "CREATE EXTENSION kalix_accounts VERSION '$2' CASCADE" >/dev/null
    "${psql[@]}" -d "$1" -v pool="$pool" -v targets="$targets" >/dev/null <<'SQL'
INSERT INTO kalix.logins (id, email) VALUES ('b0000000-0000-4000-8000-000000000001', 'bench-owner@example.com');
INSERT INTO kalix.accounts (id, name, parent_id, created_by)
SELECT ('b0000000-0000-4000-8000-0000000000' || t || d)::uuid, 'tree ' || t || ' level ' || d,
       CASE WHEN d > 1 THEN ('b0000000-0000-4000-8000-0000000000' || t || (d - 1))::uuid END,
       'b0000000-0000-4000-8000-000000000001'
FROM unnest(ARRAY['a', 'd', 'e']) t, generate_series(1, 4) d;
INSERT INTO kalix.accounts (id, name, created_by) VALUES
    ('b0000000-0000-4000-8000-0000000000b1', 'members', 'b0000000-0000-4000-8000-000000000001'),
    ('b0000000-0000-4000-8000-0000000000c1', 'copy source', 'b0000000-0000-4000-8000-000000000001');
-- the link pool: independent accounts; the login pool; the copy targets
CREATE TABLE bench_link (n bigint PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench_link SELECT n, gen_random_uuid() FROM generate_series(1, :pool) n;
INSERT INTO kalix.accounts (id, name, created_by)
SELECT id, 'link ' || n, 'b0000000-0000-4000-8000-000000000001' FROM bench_link;
CREATE TABLE bench_login (n bigint PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench_login SELECT n, gen_random_uuid() FROM generate_series(1, :pool + 1000) n;
INSERT INTO kalix.logins (id, email) SELECT id, 'bench' || n || '@example.com' FROM bench_login;
CREATE TABLE bench_target (n bigint PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench_target SELECT n, gen_random_uuid() FROM generate_series(1, :targets) n;
INSERT INTO kalix.accounts (id, name, created_by)
SELECT id, 'target ' || n, 'b0000000-0000-4000-8000-000000000001' FROM bench_target;
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT a.id, 'b0000000-0000-4000-8000-000000000001', 'owner' FROM kalix.accounts a;
-- the copy source's other 999 members (the last 999 logins of the pool)
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT 'b0000000-0000-4000-8000-0000000000c1', l.id, (ARRAY['member', 'admin', 'owner'])[1 + l.n % 3]::kalix.account_role
FROM bench_login l WHERE l.n > (SELECT max(n) FROM bench_login) - 999;
CREATE SEQUENCE bench_link_seq;
CREATE SEQUENCE bench_login_seq;
CREATE SEQUENCE bench_target_seq;
CREATE TABLE bench_root (k integer PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench_root VALUES (0, 'b0000000-0000-4000-8000-0000000000d4'), (1, 'b0000000-0000-4000-8000-0000000000e4');
-- The same calls in a loop inside the server, one transaction each, for the
-- server's CPU time per call.
CREATE PROCEDURE bench_loop(w text, n integer) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        IF w = 'create_child' THEN
            PERFORM kalix.create_account('bench child', child => true);
        ELSIF w = 'link_child' THEN
            PERFORM kalix.link_child(p.id, 'b0000000-0000-4000-8000-0000000000a4')
            FROM bench_link p WHERE p.n = (SELECT nextval('bench_link_seq'));
        ELSIF w = 'add_member' THEN
            PERFORM kalix.add_member('b0000000-0000-4000-8000-0000000000b1', l.id)
            FROM bench_login l WHERE l.n = (SELECT nextval('bench_login_seq'));
        ELSE
            PERFORM kalix.copy_users('b0000000-0000-4000-8000-0000000000c1', t.id)
            FROM bench_target t WHERE t.n = (SELECT nextval('bench_target_seq'));
        END IF;
        COMMIT;
    END LOOP;
END
$$;
VACUUM ANALYZE;
SQL
}
say "== loading the same data into a 1.0 and a 1.1 install ($pool pool accounts and logins each)"
load bench10 1.0
load bench11 1.1
load bench11n 1.1
"${psql[@]}" -d bench11n >/dev/null <<'SQL'
ALTER TABLE kalix.logins DISABLE TRIGGER logins_cache_invalidate;
ALTER TABLE kalix.accounts DISABLE TRIGGER accounts_cache_invalidate;
ALTER TABLE kalix.memberships DISABLE TRIGGER memberships_cache_invalidate;
SQL

cat >"$tmp/create_child.sql" <<EOF
SELECT kalix.create_account('bench child', child => true);
EOF
cat >"$tmp/link_child.sql" <<EOF
SELECT kalix.link_child(p.id, '$P') FROM bench_link p WHERE p.n = (SELECT nextval('bench_link_seq'));
EOF
cat >"$tmp/add_member.sql" <<EOF
SELECT kalix.add_member('$M', l.id) FROM bench_login l WHERE l.n = (SELECT nextval('bench_login_seq'));
EOF
cat >"$tmp/copy_users.sql" <<EOF
SELECT kalix.copy_users('$S', t.id) FROM bench_target t WHERE t.n = (SELECT nextval('bench_target_seq'));
EOF
cat >"$tmp/disjoint.sql" <<EOF
BEGIN;
SELECT set_config('kalix.current_account', r.id::text, true) FROM bench_root r WHERE r.k = :client_id % 2;
SELECT kalix.create_account('disjoint child', child => true);
COMMIT;
EOF
# The same calls pipelined: each its own transaction, PIPE per round trip.
per_pipe() { if [ "$1" = copy_users ]; then echo "$PIPE_COPIES"; else echo "$PIPE"; fi; }
for w in create_child link_child add_member copy_users; do
    n=$(per_pipe "$w")
    { echo '\startpipeline'
      for i in $(seq 1 "$n"); do echo 'BEGIN;'; cat "$tmp/$w.sql"; echo 'COMMIT;'; done
      echo '\endpipeline'; } >"$tmp/$w.pipe.sql"
done
chmod -R a+r "$tmp"/*.sql

# tps of one pgbench run: tps FILE DB CLIENTS COUNT_OPTION [PIN]
tps() {
    local out
    out=$(PGOPTIONS="-c kalix.current_login=$owner -c kalix.current_account=$P" \
          ${5:-} "$bindir/pgbench" -n -M prepared -f "$1" -c "$3" -j "$3" $4 -d "$2" 2>&1) ||
        { say "pgbench failed: $1 on $2"; say "$out"; exit 1; }
    printf '%s\n' "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# CALLGRIND=1: instructions per call (see the top), then exit.
# cg_total WORKLOAD DB N: the instruction total of a backend that ran N calls.
cg_total() {
    local pid i
    pid=$(PGOPTIONS="-c kalix.current_login=$owner -c kalix.current_account=$P" "${psql[@]}" -At -d "$2" \
          -c "SELECT pg_backend_pid()" -c "CALL bench_loop('$1', $3)")
    # the backend writes its profile when it exits, after psql has gone
    for i in $(seq 1 600); do
        grep -q '^totals:' "$tmp/cg/cg.$pid" 2>/dev/null && break
        sleep 1
    done
    [ -z "$CG_DIR" ] || cp "$tmp/cg/cg.$pid" "$CG_DIR/cg.$1.$2.$3"
    awk '/^totals:/ { print $2; found = 1 } END { exit !found }' "$tmp/cg/cg.$pid" ||
        { say "callgrind: no profile for $1 in $2 (backend $pid)"; exit 1; }
}
if [ "$CALLGRIND" = 1 ]; then
    say "== instructions per call (callgrind, slope between $CG_CALLS and $((2 * CG_CALLS)) calls; copy_users $CG_COPIES and $((2 * CG_COPIES)))"
    mkdir "$tmp/cg"; [ "$(id -u)" -eq 0 ] && chown postgres "$tmp/cg"
    [ -z "$CG_DIR" ] || mkdir -p "$CG_DIR"
    as_pg "'$bindir/pg_ctl' -D '$tmp/data' -m fast -w stop >/dev/null"
    as_pg "MALLOC_MMAP_THRESHOLD_=8388608 MALLOC_TRIM_THRESHOLD_=8388608 valgrind -q --tool=callgrind --trace-children=yes --dump-instr=no \
        --callgrind-out-file='$tmp/cg/cg.%p' --log-file='$tmp/cg/valgrind.%p.log' \
        '$bindir/pg_ctl' -D '$tmp/data' -l '$tmp/log' -w -t 600 start >/dev/null"
    : >"$tmp/instr"
    for w in $CG_WORKLOADS; do
        n=$CG_CALLS; [ "$w" = copy_users ] && n=$CG_COPIES
        for v in 10 11; do
            i1=$(cg_total "$w" "bench$v" "$n")
            i2=$(cg_total "$w" "bench$v" "$((2 * n))")
            echo "$w $v $(( (i2 - i1) / n ))" >>"$tmp/instr"
        done
        say "   $w: $(awk -v w="$w" '$1 == w { printf "%s %.1fk  ", $2 == 10 ? "1.0" : "1.1", $3 / 1000 }' "$tmp/instr")"
    done
    echo "Instructions per call (\`CALLGRIND=1 CG_CALLS=$CG_CALLS CG_COPIES=$CG_COPIES bench/writes.sh\`, $(date -u '+%Y-%m-%d %H:%M UTC'), tree \`${TREE:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}\`):"
    echo
    echo "| call | 1.0 instructions per call | 1.1 instructions per call | 1.0/1.1 |"
    echo "|---|---:|---:|---:|"
    awk '{ i[$1 " " $2] = $3 } END {
        split("create_child link_child add_member copy_users", w, " ")
        for (k = 1; k <= 4; k++)
            if ((w[k] " 10") in i) printf "| `%s` | %d | %d | %.2f× |\n", w[k], i[w[k] " 10"], i[w[k] " 11"], i[w[k] " 10"] / i[w[k] " 11"] }' "$tmp/instr"
    exit 0
fi

: >"$tmp/raw"
# The three versions' figures of one round: show_round ROUND CALL UNIT
show_round() {
    awk -v r="$1" -v w="$2" -v u="$3" '$1 == r && $2 == w {
        printf "%s: %.0f%s  ", $3 == 10 ? "1.0" : $3 == 11 ? "1.1" : "1.1 no triggers", $4, u }' "$tmp/raw"
}
client_pin=""
if [ "$pin" = 1 ]; then taskset -pc 1 "$postmaster" >/dev/null; client_pin="taskset -c 0"; fi
say "== $ROUNDS rounds, 1.0 and 1.1 alternated, 1 client (server on core 1, pgbench on core 0)"
for r in $(seq 1 "$ROUNDS"); do
    for w in create_child link_child add_member copy_users; do
        count="-t $CALLS"; [ "$w" = copy_users ] && count="-t $COPIES"
        if [ $((r % 2)) = 1 ]; then order="10 11 11n"; else order="11n 11 10"; fi
        n=$(per_pipe "$w")
        pipes="-t $((${count#-t } / n))"
        for v in $order; do
            t=$(tps "$tmp/$w.sql" "bench$v" 1 "$count" "$client_pin")
            echo "$r $w $v $t" >>"$tmp/raw"
            t=$(tps "$tmp/$w.pipe.sql" "bench$v" 1 "$pipes" "$client_pin")
            echo "$r pipe_$w $v $(awk -v t="$t" -v n="$n" 'BEGIN { print t * n }')" >>"$tmp/raw"
        done
        say "   round $r $w: $(show_round "$r" "$w" /s)"
        say "   round $r $w pipelined: $(show_round "$r" "pipe_$w" /s)"
    done
done
# The server's CPU time per call (user + system of the backend, from
# /proc), which other work on the machine disturbs far less than wall time.
hz=$(getconf CLK_TCK)
cpu_calls() {  # calls per CPU second: cpu_calls WORKLOAD DB COUNT
    PGOPTIONS="-c kalix.current_login=$owner -c kalix.current_account=$P" "${psql[@]}" -At -d "$2" <<SQL 2>/dev/null | tail -1
SELECT pg_backend_pid() AS pid \\gset
\\setenv KALIX_PID :pid
\\! awk '{ print \$14 + \$15 }' /proc/\$KALIX_PID/stat > $tmp/cpu.before
CALL bench_loop('$1', $3);
\\! awk '{ print \$14 + \$15 }' /proc/\$KALIX_PID/stat > $tmp/cpu.after
SQL
    awk -v n="$3" -v hz="$hz" 'NR == FNR { b = $1; next } { d = ($1 - b) / hz; print (d > 0 ? n / d : 0) }' "$tmp/cpu.before" "$tmp/cpu.after"
}
say "== $ROUNDS rounds of the server's CPU time per call, 1.0 and 1.1 alternated"
for r in $(seq 1 "$ROUNDS"); do
    for w in create_child link_child add_member copy_users; do
        n=$CPU_CALLS; [ "$w" = copy_users ] && n=$CPU_COPIES
        if [ $((r % 2)) = 1 ]; then order="10 11 11n"; else order="11n 11 10"; fi
        for v in $order; do
            echo "$r cpu_$w $v $(cpu_calls "$w" "bench$v" "$n")" >>"$tmp/raw"
        done
        say "   round $r $w: $(show_round "$r" "cpu_$w" " calls per CPU second")"
    done
done

# Every call must have found its pool row (else it measured nothing).
for v in 10 11 11n; do
    short=$("${psql[@]}" -At -d "bench$v" -c "SELECT (SELECT last_value FROM bench_link_seq) > (SELECT max(n) FROM bench_link)
        OR (SELECT last_value FROM bench_login_seq) > (SELECT max(n) FROM bench_login) - 1000
        OR (SELECT last_value FROM bench_target_seq) > (SELECT max(n) FROM bench_target)")
    [ "$short" = f ] || { say "a pool ran out in bench$v: raise it"; exit 1; }
done

[ "$pin" = 1 ] && taskset -pc 0,1 "$postmaster" >/dev/null
say "== create_account(child => true) in disjoint trees, 1 and 2 clients, ${DURATION}s rounds (server on both cores)"
for r in $(seq 1 "$ROUNDS"); do
    for v in 11 10; do
        for c in 1 2; do
            t=$(tps "$tmp/disjoint.sql" "bench$v" "$c" "-T $DURATION")
            echo "$r disjoint$c $v $t" >>"$tmp/raw"
        done
    done
    say "   round $r: $(awk -v r="$r" '$1 == r && $2 ~ /^disjoint/ { printf "%s %s clients: %.0f/s  ", $3 == 10 ? "1.0" : "1.1", substr($2, 9), $4 }' "$tmp/raw")"
done

med() { awk -v w="$1" -v v="$2" '$2 == w && $3 == v { print $4 }' "$tmp/raw" | median; }
# The rows of a table of the four calls, figures recorded under PREFIX<call>: rows PREFIX
rows() {
    for w in create_child link_child add_member copy_users; do
        printf '| `%s` | %.0f | %.0f | %.2f× | %.0f | %.2f× |\n' "$w" "$(med "$1$w" 10)" "$(med "$1$w" 11)" \
            "$(ratio "$1$w" 11 "$1$w" 10)" "$(med "$1$w" 11n)" "$(ratio "$1$w" 11 "$1$w" 11n)"
    done
}
ratio() {  # median of per-round ratios a/b: ratio WA VA WB VB
    awk -v wa="$1" -v va="$2" -v wb="$3" -v vb="$4" '
        $2 == wa && $3 == va { a[$1] = $4 } $2 == wb && $3 == vb { b[$1] = $4 }
        END { for (r in a) if (b[r] > 0) print a[r] / b[r] }' "$tmp/raw" | median
}
{
    echo "## Writes: the write path in C (1.1) against plpgsql (1.0)"
    echo
    echo "Produced by \`ROUNDS=$ROUNDS CALLS=$CALLS COPIES=$COPIES CPU_CALLS=$CPU_CALLS CPU_COPIES=$CPU_COPIES DURATION=$DURATION bench/writes.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'),"
    echo "tree \`${TREE:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}\`; $("$bindir/postgres" --version), $(nproc) cores"
    echo "shared with other work (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)). Both versions"
    echo "run over the same library in one cluster, on the same data; medians of $ROUNDS alternated rounds."
    echo
    echo "| call (1 client; server pinned to core 1, pgbench to core 0) | 1.0 calls/s | 1.1 calls/s | 1.1/1.0 (target ≥ 2×) | 1.1 without cache triggers calls/s | 1.1 / 1.1 without |"
    echo "|---|---:|---:|---:|---:|---:|"
    for w in create_child link_child add_member copy_users; do
        case $w in
            create_child) label='`create_account(child => true)` under an account at depth 4' ;;
            link_child) label='`link_child` of a new account under an account at depth 4' ;;
            add_member) label='`add_member` of a new login' ;;
            copy_users) label='`copy_users` of a 1,000-member account into an empty one' ;;
        esac
        printf '| %s | %.0f | %.0f | %.2f× | %.0f | %.2f× |\n' "$label" "$(med "$w" 10)" "$(med "$w" 11)" "$(ratio "$w" 11 "$w" 10)" \
            "$(med "$w" 11n)" "$(ratio "$w" 11 "$w" 11n)"
    done
    echo
    echo "The same calls pipelined, $PIPE per round trip ($PIPE_COPIES for \`copy_users\`), each in its own transaction"
    echo "(\`BEGIN; SELECT ...; COMMIT;\` in one \`\\startpipeline\`), calls/s of wall time:"
    echo
    echo "| call (1 client, pipelined) | 1.0 calls/s | 1.1 calls/s | 1.1/1.0 (target ≥ 2×) | 1.1 without cache triggers calls/s | 1.1 / 1.1 without |"
    echo "|---|---:|---:|---:|---:|---:|"
    rows pipe_
    echo
    echo "The same calls in a loop inside the server, one transaction each (\`CALL bench_loop(...)\`), per second"
    echo "of the backend's CPU time (user + system), which the other work on the machine disturbs far less:"
    echo
    echo "| call | 1.0 calls per CPU s | 1.1 calls per CPU s | 1.1/1.0 (target ≥ 2×) | 1.1 without cache triggers | 1.1 / 1.1 without |"
    echo "|---|---:|---:|---:|---:|---:|"
    rows cpu_
    echo
    echo "| \`create_account(child => true)\`, two disjoint trees (server on both cores) | 1 client calls/s | 2 clients calls/s | 2/1 |"
    echo "|---|---:|---:|---:|"
    for v in 11 10; do
        printf '| %s | %.0f | %.0f | %.2f× |\n' "$([ $v = 11 ] && echo '1.1 (locks the trees'"'"' roots)' || echo '1.0 (one database-wide lock)')" \
            "$(med disjoint1 $v)" "$(med disjoint2 $v)" "$(ratio disjoint2 $v disjoint1 $v)"
    done
    echo
    echo "Raw figures (round call version calls/s):"
    echo
    echo '```'
    cat "$tmp/raw"
    echo '```'
} >"$tmp/section.md"
cat "$tmp/section.md"
# Replace the section in RESULTS (or append it).
if [ -f "$RESULTS" ] && grep -q '^## Writes: ' "$RESULTS"; then
    awk -v f="$tmp/section.md" '
        /^## Writes: / { while ((getline l < f) > 0) print l; skip = 1; next }
        skip && /^## / { skip = 0 }
        !skip' "$RESULTS" >"$tmp/results.md"
    cat "$tmp/results.md" >"$RESULTS"
else
    { echo; cat "$tmp/section.md"; } >>"$RESULTS"
fi
say "== wrote the section \"Writes\" of $RESULTS"
