#!/bin/sh
# Runs the pg_regress files and isolation specs (make installcheck) against a
# PostgreSQL server started under valgrind memcheck (every backend traced),
# then lists each error valgrind reported and whether a frame of ours
# (kalix_accounts.so, kalix_npi.so) is in its stack.  Exits 1 when one is,
# or when a test failed.
# Slow (tens of minutes): a tool for the developer, not part of `make test`.
#   scripts/memcheck.sh                 # every REGRESS file and ISOLATION spec
#   scripts/memcheck.sh REGRESS=team ISOLATION=   # make variables narrow it
# Needs valgrind and the server of $PG_CONFIG (default pg_config); as root it
# runs the server as the postgres user.
set -eu
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-pg_config}
bindir=$("$PG_CONFIG" --bindir)
dir=$(mktemp -d /tmp/kalix-memcheck.XXXXXX)
port=${MEMCHECK_PORT:-54398}
as=""
[ "$(id -u)" -ne 0 ] || { chown postgres "$dir"; as="runuser -u postgres --"; }

stop() {
    $as "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 300 stop >/dev/null 2>&1 || true
}
trap stop EXIT

make -s PG_CONFIG="$PG_CONFIG" >/dev/null
make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
$as "$bindir/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
# Known false positives of PostgreSQL itself (WAL and relcache-file padding
# written from partly initialised buffers), as its own suppression file has
# them; the regex cache's memmove of its array by one entry, which the
# fortified build calls as __memmove_chk and valgrind 3.19 checks as
# __memcpy_chk; and the dynamic loader reading an rpath string by words.
cat >"$dir/kalix.supp" <<'EOF'
{
   postgres-regex-cache-memmove
   Memcheck:Overlap
   fun:__memcpy_chk
   fun:RE_compile_and_cache
}
{
   glibc-dlopen-rpath-strncmp
   Memcheck:Addr8
   fun:strncmp
   fun:is_dst
}
{
   postgres-pwrite-padding
   Memcheck:Param
   pwrite64(buf)
   fun:*pwrite*
   ...
}
{
   postgres-write-padding
   Memcheck:Param
   write(buf)
   fun:*write*
   ...
}
EOF
# No autovacuum: under memcheck the suites run some fifty times slower, and an
# ANALYZE of a kalix table (its relcache invalidation empties every backend's
# cache) then lands inside checks that assume nothing else changed the
# tables, such as sql/cache.sql's memory after touching 15,000 accounts.
$as valgrind --tool=memcheck --trace-children=yes --quiet --num-callers=30 --fullpath-after= \
    --suppressions="$dir/kalix.supp" --error-limit=no --log-file="$dir/vg.%p.log" \
    "$bindir/postgres" -D "$dir/data" -p "$port" -k "$dir" -c max_connections=30 \
    -c listen_addresses='' -c autovacuum=off >"$dir/server.log" 2>&1 &
server=$!
i=0
until "$bindir/pg_isready" -q -h "$dir" -p "$port"; do
    i=$((i + 1))
    if [ "$i" -ge 300 ] || ! kill -0 "$server" 2>/dev/null; then
        echo "memcheck: server did not start"
        cat "$dir/server.log" "$dir"/vg.*.log
        exit 1
    fi
    sleep 1
done

echo "== make installcheck $* (server under valgrind, logs in $dir)"
tests=0
PGHOST=$dir PGPORT=$port PGUSER=postgres make -s installcheck PG_CONFIG="$PG_CONFIG" "$@" || tests=1
stop

# One block per error: its first line and whether a frame of ours appears.
ours=0
total=0
for log in "$dir"/vg.*.log; do
    [ -s "$log" ] || continue
    awk -v src="$(pwd)/src/" '
        /^==[0-9]+== [A-Z]/ && !/HEAP SUMMARY|LEAK SUMMARY|ERROR SUMMARY/ {
            if (block != "") print (kalix ? "OURS " : "core ") block
            block = $0; sub(/^==[0-9]+== /, "", block); kalix = 0; next
        }
        index($0, src) || /kalix_(accounts|npi)\.so/ { kalix = 1 }
        END { if (block != "") print (kalix ? "OURS " : "core ") block }
    ' "$log"
done >"$dir/errors.txt"
total=$(wc -l <"$dir/errors.txt")
ours=$(grep -c '^OURS' "$dir/errors.txt" || true)
sort "$dir/errors.txt" | uniq -c | sort -rn | head -40
echo "memcheck: $total errors reported, $ours with a frame in kalix code (logs: $dir)"
[ "$tests" -eq 0 ] || echo "memcheck: a test failed (see above)"
[ "$ours" -eq 0 ] && [ "$tests" -eq 0 ]
