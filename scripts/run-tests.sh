#!/bin/sh
# Builds and installs kalix_accounts, then runs every suite -- pg_regress,
# isolation specs, pgTAP -- against the server the PG* variables point to
# (`make test` runs this inside a throwaway `pg_virtualenv -t` cluster).
# Prints the diffs of a failing suite and exits non-zero.
set -u
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-pg_config}
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo

echo "== build and install"
make -s PG_CONFIG="$PG_CONFIG" >/dev/null && $sudo make -s install PG_CONFIG="$PG_CONFIG" >/dev/null || exit 1

status=0
echo "== pg_regress and isolation specs (make installcheck)"
if ! make -s installcheck PG_CONFIG="$PG_CONFIG"; then
    status=1
    for f in regression.diffs output_iso/regression.diffs; do
        [ -f "$f" ] && { echo "---- $f"; cat "$f"; }
    done
fi

echo "== pgTAP (pg_prove test/*.sql)"
dropdb --if-exists kalix_tap >/dev/null 2>&1
createdb kalix_tap &&
    psql -X -q -d kalix_tap -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION kalix_accounts' || exit 1
if ! pg_prove -d kalix_tap test/*.sql; then
    status=1
fi
dropdb --if-exists kalix_tap

if [ "$status" -eq 0 ]; then echo "== all suites passed"; else echo "== some suites FAILED"; fi
exit $status
