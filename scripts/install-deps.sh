#!/bin/sh
# Installs the Debian packages kalix_accounts needs to build and test, if any
# are missing.  Idempotent; uses sudo when not run as root.
# PGVERSION selects the PostgreSQL major version (default: the one this Debian
# release ships: bookworm 15, trixie 17, forky 18).
# `install-deps.sh bench` also installs what bench/ needs (gnuplot, taskset, valgrind);
# `install-deps.sh --check` only reports (exit 1) whether anything is missing.
set -eu

if [ -z "${PGVERSION:-}" ]; then
    codename=$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}")
    case "$codename" in
        bookworm) PGVERSION=15 ;;
        trixie) PGVERSION=17 ;;
        forky) PGVERSION=18 ;;
        *) echo "install-deps: unknown Debian release '$codename': set PGVERSION" >&2; exit 1 ;;
    esac
fi
v=$PGVERSION

packages="make gcc postgresql-$v postgresql-server-dev-$v postgresql-$v-pgtap \
libtap-parser-sourcehandler-pgtap-perl postgresql-common pgbouncer python3-psycopg2 \
python3-sqlalchemy python3-django"
# Node.js and npm for examples/node: Debian's packages, only where no node
# (or npm) is installed already, whatever its origin.
command -v node >/dev/null 2>&1 || packages="$packages nodejs"
command -v npm >/dev/null 2>&1 || packages="$packages npm"
if [ "${1:-}" = bench ]; then
    packages="$packages gnuplot-nox util-linux valgrind"
fi

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present (PostgreSQL $v)"
    exit 0
fi
if [ "${1:-}" = --check ]; then
    echo "install-deps: missing$missing"
    exit 1
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "install-deps: installing$missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
