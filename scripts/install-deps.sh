#!/bin/sh
# Installs the Debian packages kalix_accounts needs to build and test, if any
# are missing.  Idempotent; uses sudo when not run as root.
# `install-deps.sh bench` also installs what bench/run.sh needs (gnuplot, taskset).
set -eu

packages="make gcc postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap \
libtap-parser-sourcehandler-pgtap-perl postgresql-common pgbouncer python3-psycopg2 \
python3-sqlalchemy"
# Node.js and npm for examples/node: Debian's packages, only where no node
# (or npm) is installed already, whatever its origin.
command -v node >/dev/null 2>&1 || packages="$packages nodejs"
command -v npm >/dev/null 2>&1 || packages="$packages npm"
if [ "${1:-}" = bench ]; then
    packages="$packages gnuplot-nox util-linux"
fi

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "install-deps: installing$missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
