#!/bin/bash
# TAP: the client examples against the server the PG* variables point to
# (unix socket, or TCP with a password as under pg_virtualenv -t):
#   - examples/python (psycopg2 and SQLAlchemy from Debian, /usr/bin/python3),
#   - examples/django (Debian's python3-django, its test client),
#   - examples/node (pg and Knex from npm, node --test).
# Each test creates its own database and application role and drops them; one
# line per test case here, "python: ...", "django: ..." and "node: ...".  The
# node modules are installed with `npm ci` when missing or older than
# package-lock.json (needs the npm registry once; offline afterwards).
set -u
cd "$(dirname "$0")/.."

work=$(mktemp -d)
n=0

cleanup() {
    # A test killed by its time limit cannot drop what it made.
    psql -X -q -d postgres >/dev/null 2>&1 <<'SQL'
DROP DATABASE IF EXISTS kalix_clients_py WITH (FORCE);
DROP DATABASE IF EXISTS kalix_clients_node WITH (FORCE);
DROP DATABASE IF EXISTS kalix_clients_django WITH (FORCE);
DO $$
DECLARE
    r name;
BEGIN
    FOR r IN SELECT rolname FROM pg_roles WHERE rolname IN ('kalix_clients_py_app', 'kalix_clients_node_app', 'kalix_clients_django_app') LOOP
        EXECUTE format('REVOKE SET ON PARAMETER kalix.current_login FROM %I', r);
        EXECUTE format('DROP ROLE %I', r);
    END LOOP;
END
$$;
SQL
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Prints one TAP line: emit ok|"not ok" description
emit() {
    n=$((n + 1))
    echo "$1 $n - $2"
}

# Renumbers the test lines of a runner's output (those matching the pattern
# $3, with the result in \1 and the name in \2) under the label $1, given the
# runner's exit status $2 and its output in $4.  A failing runner's whole
# output follows as diagnostics.
report() {
    local label=$1 status=$2 pattern=$3 out=$4 seen=0 failed=0 result name
    while IFS= read -r line; do
        result=$(printf '%s\n' "$line" | sed -nE "s/$pattern/\1/p")
        [ -n "$result" ] || continue
        name=$(printf '%s\n' "$line" | sed -nE "s/$pattern/\2/p")
        seen=$((seen + 1))
        [ "$result" = ok ] || failed=$((failed + 1))
        emit "$result" "$label: $name"
    done <"$out"
    if [ "$status" -eq 124 ]; then
        emit "not ok" "$label: finished within its time limit"
        failed=$((failed + 1))
    elif [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
        emit "not ok" "$label: the test run exited with status $status"
        failed=1
    elif [ "$seen" -eq 0 ]; then
        emit "not ok" "$label: the test run reported no tests"
        failed=1
    fi
    [ "$failed" -eq 0 ] || sed 's/^/# /' "$out"
}

# --- Python: Debian's python3-psycopg2 and python3-sqlalchemy ----------------
if /usr/bin/python3 -c 'import psycopg2, sqlalchemy' 2>"$work/py.err"; then
    timeout 300 /usr/bin/python3 examples/python/test_example.py >"$work/py.out" 2>&1
    report python $? '^(ok|not ok) [0-9]+ - (.*)$' "$work/py.out"
else
    emit "not ok" "python: psycopg2 and sqlalchemy importable (scripts/install-deps.sh installs them)"
    sed 's/^/# /' "$work/py.err"
fi

# --- Django: Debian's python3-django (3.2 on bookworm, 4.2 trixie, 5.2 forky) -
if /usr/bin/python3 -c 'import django, psycopg2' 2>"$work/django.err"; then
    timeout 300 /usr/bin/python3 examples/django/test_example.py >"$work/django.out" 2>&1
    report django $? '^(ok|not ok) [0-9]+ - (.*)$' "$work/django.out"
else
    emit "not ok" "django: django and psycopg2 importable (scripts/install-deps.sh installs them)"
    sed 's/^/# /' "$work/django.err"
fi

# --- Node: pg and Knex from package-lock.json --------------------------------
node_dir=examples/node
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    emit "not ok" "node: node and npm installed (scripts/install-deps.sh installs them)"
else
    installed=$node_dir/node_modules/.package-lock.json
    if [ ! -f "$installed" ] || [ "$node_dir/package-lock.json" -nt "$installed" ]; then
        (cd "$node_dir" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >"$work/npm.out" 2>&1
        status=$?
    else
        status=0
    fi
    if [ "$status" -ne 0 ]; then
        emit "not ok" "node: npm ci installs pg and knex (needs the npm registry once)"
        sed 's/^/# /' "$work/npm.out"
    else
        (cd "$node_dir" && timeout 300 node --test --test-reporter=tap test_example.js) >"$work/node.out" 2>&1
        # The suite's tests are its subtests, indented by four blanks.
        report node $? '^    (ok|not ok) [0-9]+ - (.*)$' "$work/node.out"
    fi
fi

echo "1..$n"
