#!/bin/sh
# Builds and installs kalix_accounts, then walks through the product's flows
# (examples/demo.sql) in psql against the server the PG* variables point to
# (`make demo` runs this inside a throwaway `pg_virtualenv -t` cluster).
set -eu
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-pg_config}
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo

echo "== build and install"
make -s PG_CONFIG="$PG_CONFIG" >/dev/null
$sudo make -s install PG_CONFIG="$PG_CONFIG" >/dev/null

echo "== walkthrough (examples/demo.sql)"
dropdb --if-exists kalix_demo >/dev/null 2>&1
createdb kalix_demo
psql -X -d kalix_demo -v ON_ERROR_STOP=1 --echo-queries -f examples/demo.sql
dropdb kalix_demo
echo "== demo finished"
