#!/bin/sh
# Runs the build and every suite against another PostgreSQL major version in a
# Debian chroot: `scripts/chroot.sh SUITE PGVERSION` (trixie 17, forky 18).
# `scripts/chroot.sh SUITE PGVERSION 'COMMAND'` runs COMMAND in the copied
# tree (/src in the chroot) instead, e.g. one regress file:
#   scripts/chroot.sh forky 18 'pg_virtualenv -t sh -c "make -s install && make installcheck REGRESS=team ISOLATION="'
# PGPORT, when set, is the port of the throwaway cluster (the chroot shares
# the host's network, so runs side by side need ports of their own).
# The chroot is kept in $KALIX_CHROOT_CACHE (default /var/cache/kalix-chroots)
# outside the clone, so a later run on the same machine re-uses it; the work
# tree is copied in afresh each time.  Needs root and debootstrap.
set -eu
suite=$1
pgversion=$2
command=${3:-}
cd "$(dirname "$0")/.."
cache=${KALIX_CHROOT_CACHE:-/var/cache/kalix-chroots}
root=$cache/$suite
mirror=${KALIX_MIRROR:-http://deb.debian.org/debian}

[ "$(id -u)" -eq 0 ] || { echo "chroot.sh: must run as root" >&2; exit 1; }
command -v debootstrap >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }

# Undoes the bind mounts, also when a step fails.
unmount_all() {
    for m in src dev/shm dev/pts proc; do
        mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
    done
    return 0
}
trap unmount_all EXIT INT TERM

if [ ! -f "$root/.kalix-bootstrapped" ]; then
    echo "== chroot $suite: debootstrap (first run on this machine)"
    rm -rf "$root"
    mkdir -p "$cache"
    # Bookworm's debootstrap knows no script for suites after trixie; sid's fits.
    script=/usr/share/debootstrap/scripts/$suite
    [ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
    debootstrap --variant=minbase "$suite" "$root" "$mirror" "$script" >"$cache/$suite.log" 2>&1 ||
        { tail -20 "$cache/$suite.log"; echo "chroot.sh: debootstrap of $suite failed" >&2; exit 1; }
    # A mirror's newer suites may be past Valid-Until; the chroot's packaged
    # cluster must never start (policy-rc.d 101); npm needs the host's CAs.
    printf 'Acquire::Check-Valid-Until "false";\nAPT::Install-Recommends "false";\n' >"$root/etc/apt/apt.conf.d/99kalix"
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    touch "$root/.kalix-bootstrapped"
fi

mkdir -p "$root/usr/local/share/ca-certificates" "$root/src"
cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$root/proc"
mount --bind /dev/pts "$root/dev/pts"
mount --bind /dev/shm "$root/dev/shm"

# The work tree as git sees it (tracked and untracked, never ignored output).
rm -rf "$root/src.new" && mkdir "$root/src.new"
git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - 2>/dev/null | tar -xf - -C "$root/src.new"
umount -l "$root/src" 2>/dev/null || true
rm -rf "$root/src" && mv "$root/src.new" "$root/src"

run() {
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive PGVERSION="$pgversion" CI="${CI:-}" ${PGPORT:+PGPORT=$PGPORT} \
        sh -c "$1"
}

if [ ! -f "$root/.kalix-deps-$pgversion" ] || ! run 'cd /src && scripts/install-deps.sh --check'; then
    echo "== chroot $suite: packages for PostgreSQL $pgversion"
    if ! run 'apt-get update -qq && apt-get install -y -qq ca-certificates git sudo procps &&
              update-ca-certificates && cd /src && scripts/install-deps.sh' >"$cache/$suite-deps.log" 2>&1; then
        tail -30 "$cache/$suite-deps.log"
        echo "chroot.sh: installing the packages failed in $suite (log: $cache/$suite-deps.log)" >&2
        exit 1
    fi
    touch "$root/.kalix-deps-$pgversion"
fi

if [ -n "$command" ]; then
    run "cd /src && $command"
    exit
fi
echo "== chroot $suite: PostgreSQL $pgversion build with warnings as errors"
run "cd /src && make -s PG_CONFIG=/usr/lib/postgresql/$pgversion/bin/pg_config PG_CFLAGS='-Wall -Wextra -Werror -Wno-unused-parameter'"
echo "== chroot $suite: PostgreSQL $pgversion suites"
run "cd /src && make test PG_CONFIG=/usr/lib/postgresql/$pgversion/bin/pg_config"
