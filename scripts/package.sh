#!/bin/sh
# Builds the Debian package postgresql-NN-kalix-accounts with pg_buildext for
# the PostgreSQL versions this Debian release supports, installs it, checks
# that the installed package alone serves CREATE EXTENSION in a throwaway
# cluster, and removes it again.  Meant for a chroot (CI runs it in the forky
# one: `scripts/chroot.sh forky 18 scripts/package.sh`); needs root.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "package.sh: must run as root" >&2; exit 1; }

echo "== package: build dependencies"
apt-get install -y -qq build-essential debhelper dpkg-dev fakeroot postgresql-server-dev-all >/dev/null

# Build in a copy, so the work tree keeps no build output.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/kalix-accounts"
tar -cf - --exclude=./.git . | tar -xf - -C "$work/kalix-accounts"
cd "$work/kalix-accounts"
make -s clean >/dev/null 2>&1 || true
pg_buildext updatecontrol
echo "== package: dpkg-buildpackage"
dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }

status=0
for deb in "$work"/postgresql-*-kalix-accounts_*.deb; do
    pkg=$(dpkg-deb -f "$deb" Package)
    v=$(echo "$pkg" | sed 's/^postgresql-\([0-9]*\)-.*/\1/')
    echo "== package: $pkg"
    # The package alone must serve the extension: drop what make install left.
    share=$(/usr/lib/postgresql/$v/bin/pg_config --sharedir)/extension
    lib=$(/usr/lib/postgresql/$v/bin/pg_config --pkglibdir)
    rm -f "$share"/kalix_* "$lib"/kalix_*.so
    dpkg -i "$deb" >/dev/null
    for f in "$share/kalix_accounts.control" "$lib/kalix_accounts.so"; do
        dpkg -S "$f" >/dev/null 2>&1 || { echo "package.sh: $pkg lacks $f" >&2; status=1; }
    done
    pg_virtualenv -v "$v" -t sh -c \
        "psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION kalix_accounts CASCADE' \
              -c \"SELECT kalix.create_login('package@example.com') IS NOT NULL AS login_created\"" ||
        status=1
    dpkg -r "$pkg" >/dev/null
done
[ "$status" -eq 0 ] && echo "package: built, installed and used, then removed"
exit $status
