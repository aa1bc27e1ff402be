#!/bin/bash
# TAP: a client's startup options (PGOPTIONS) never replace the superuser's
# kalix.account_scope and kalix.max_depth (SPEC §3, issue 13 item 4).
# The attack as run: the superuser ran ALTER ROLE web SET
# kalix.account_scope = 'transaction' (and max_depth 3); the client connected
# with PGOPTIONS='-c kalix.account_scope=transaction -c kalix.max_depth=3'.
# Before the library loads the client's value outranks the role's; at load
# PostgreSQL discards it ("permission denied to set parameter"), and in 1.0
# the settings fell back to 'session' and 16: the next transaction saw the
# account chosen in the previous one.  Now the role's value stays in force;
# with no database or role setting, account_scope fails closed to
# 'transaction' and a discarded max_depth ends the connection.
# Runs against the server the PG* variables point to, as its superuser.
set -u
cd "$(dirname "$0")/.."

db=kalix_startup_options
web=kalix_opt_web
plain=kalix_opt_plain
dbrole=kalix_opt_dbrole
work=$(mktemp -d)
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

psql_su() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

cleanup() {
    psql_su -d postgres >/dev/null 2>&1 <<SQL
DROP DATABASE IF EXISTS $db;
DROP ROLE IF EXISTS $web;
DROP ROLE IF EXISTS $plain;
DROP ROLE IF EXISTS $dbrole;
SQL
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

bail() { echo "Bail out! $*"; exit 1; }

psql_su -d postgres >/dev/null 2>"$work/setup.err" <<SQL || { cat "$work/setup.err" >&2; bail "setup failed"; }
DROP DATABASE IF EXISTS $db;
DROP ROLE IF EXISTS $web;
DROP ROLE IF EXISTS $plain;
DROP ROLE IF EXISTS $dbrole;
CREATE ROLE $web LOGIN PASSWORD '$password';
CREATE ROLE $plain LOGIN PASSWORD '$password';
CREATE ROLE $dbrole LOGIN PASSWORD '$password';
ALTER ROLE $web SET kalix.account_scope = 'transaction';
ALTER ROLE $web SET kalix.max_depth = 3;
CREATE DATABASE $db;
ALTER ROLE $dbrole IN DATABASE $db SET kalix.max_depth = 4;
\c $db
CREATE EXTENSION kalix_accounts CASCADE;
CREATE TABLE notes (id serial PRIMARY KEY, account_id uuid NOT NULL, body text NOT NULL);
CREATE INDEX ON notes (account_id);
SELECT kalix.enable_isolation('notes');
GRANT SELECT ON notes TO $web;
CREATE TABLE fixture (account_id uuid);
GRANT SELECT ON fixture TO $web;
DO \$\$
DECLARE
    l uuid := kalix.create_login('web@options.test', db_role => '$web');
    a uuid;
BEGIN
    PERFORM set_config('kalix.current_login', l::text, true);
    a := kalix.create_account('Options practice');
    INSERT INTO fixture VALUES (a);
    INSERT INTO notes (account_id, body) SELECT a, 'secret ' || g FROM generate_series(1, 3) g;
END
\$\$;
SQL
account=$(psql_su -At -d $db -c 'SELECT account_id FROM fixture')

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
    shift
    printf '%s\n' "$@" | sed 's/^/# /'
}
check() { # name expected actual
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "got: $3"; fi
}

# Runs psql as a role with the given PGOPTIONS; the first statement loads the library.
as_role() { # role options sql
    PGPASSWORD=$password PGOPTIONS=$2 PGCONNECT_TIMEOUT=10 timeout 60 \
        psql -X -At -v ON_ERROR_STOP=1 -U "$1" -d $db -c 'SELECT kalix.current_login() IS NULL' -c "$3" 2>"$work/err"
}

echo "1..10"

out=$(as_role $web "" "SHOW kalix.account_scope" | tail -1)
check "without startup options the role's kalix.account_scope is in force" transaction "$out"

# The attack as run: the very same values in PGOPTIONS.
opts='-c kalix.account_scope=transaction -c kalix.max_depth=3'
out=$(as_role $web "$opts" "SHOW kalix.account_scope" | tail -1)
check "PGOPTIONS repeating the role's values: kalix.account_scope stays 'transaction'" transaction "$out"
out=$(as_role $web "$opts" "SHOW kalix.max_depth" | tail -1)
check "PGOPTIONS repeating the role's values: kalix.max_depth stays 3" 3 "$out"
out=$(PGPASSWORD=$password PGOPTIONS=$opts timeout 60 psql -X -At -U $web -d $db 2>&1 <<SQL | tail -1
SELECT kalix.current_login() IS NULL;
SET kalix.current_account = '$account';
SELECT count(*) FROM notes;
SQL
)
check "PGOPTIONS repeating the role's values: the next transaction sees no row of the account" 0 "$out"

# Other values than the role's.
out=$(as_role $web '-c kalix.account_scope=session -c kalix.max_depth=50' \
    "SELECT current_setting('kalix.account_scope') || ' ' || current_setting('kalix.max_depth')" | tail -1)
check "PGOPTIONS with other values: the role's 'transaction' and 3 stay in force" "transaction 3" "$out"
grep -q 'permission denied to set parameter "kalix.account_scope"' "$work/err" &&
    ok "... and PostgreSQL warns that it discarded the client's value" ||
    not_ok "... and PostgreSQL warns that it discarded the client's value" "$(cat "$work/err")"

# ALTER ROLE ... IN DATABASE ... SET is the superuser's value too.
out=$(as_role $dbrole '-c kalix.max_depth=50' "SHOW kalix.max_depth" | tail -1)
check "PGOPTIONS kalix.max_depth against ALTER ROLE ... IN DATABASE ... SET: 4 stays" 4 "$out"

# No database or role setting: fail closed.
out=$(as_role $plain '-c kalix.account_scope=session' "SHOW kalix.account_scope" | tail -1)
check "PGOPTIONS kalix.account_scope=session with no superuser setting fails closed to 'transaction'" \
    transaction "$out"
grep -q 'parameter "kalix.account_scope" is "transaction" for this connection' "$work/err" &&
    ok "... with a warning that says so" || not_ok "... with a warning that says so" "$(cat "$work/err")"
out=$(as_role $plain '-c kalix.max_depth=50' "SHOW kalix.max_depth")
if [ -z "$out" ] && grep -q 'FATAL:  parameter "kalix.max_depth" was given by the client but may not be set by this role' "$work/err"; then
    ok "PGOPTIONS kalix.max_depth with no superuser setting ends the connection"
else
    not_ok "PGOPTIONS kalix.max_depth with no superuser setting ends the connection" "out: $out" "$(cat "$work/err")"
fi

[ "$failed" -eq 0 ]
