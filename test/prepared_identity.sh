#!/bin/bash
# TAP: PREPARE TRANSACTION / COMMIT PREPARED under kalix.account_scope =
# 'transaction' (an attack of issue 13 that held and had no test): an account
# and a login chosen in a transaction that is prepared, by session-level SET
# or by SET LOCAL, are not in force in the session's next transaction, before
# or after COMMIT PREPARED / ROLLBACK PREPARED.
# Needs max_prepared_transactions > 0: uses the server the PG* variables point
# to when it has it, else a private throwaway server of the same installation
# (initdb in a temporary directory, unix socket only); reports a SKIP when
# neither is possible.
set -u
cd "$(dirname "$0")/.."

db=kalix_prepared
app=kalix_prepared_app
work=$(mktemp -d)
private_pgdata=""
as_postgres=""
[ "$(id -u)" -eq 0 ] && as_postgres="runuser -u postgres --"

cleanup() {
    if [ -n "$private_pgdata" ]; then
        $as_postgres "$bindir/pg_ctl" -D "$private_pgdata" -m immediate -w -t 30 stop >/dev/null 2>&1
    else
        psql -X -q -d postgres >/dev/null 2>&1 <<SQL
DROP DATABASE IF EXISTS $db;
DROP ROLE IF EXISTS $app;
SQL
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

echo "1..6"
skip_all() {
    for i in 1 2 3 4 5 6; do echo "ok $i # SKIP $1"; done
    exit 0
}
bail() { echo "Bail out! $*"; exit 1; }

bindir=$("${PG_CONFIG:-pg_config}" --bindir)
if [ "$(psql -X -At -d postgres -c 'SHOW max_prepared_transactions' 2>/dev/null)" = 0 ]; then
    # A private server with prepared transactions enabled.
    [ -x "$bindir/initdb" ] || skip_all "max_prepared_transactions is 0 and there is no initdb"
    private_pgdata=$work/data
    [ -n "$as_postgres" ] && chown postgres "$work"
    $as_postgres "$bindir/initdb" -D "$private_pgdata" -A trust -U postgres >"$work/initdb.log" 2>&1 ||
        skip_all "max_prepared_transactions is 0 and initdb failed"
    port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    $as_postgres "$bindir/pg_ctl" -D "$private_pgdata" -l "$work/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$work' -c port=$port -c max_prepared_transactions=4" \
        start >/dev/null 2>&1 || { cat "$work/server.log" >&2; bail "the private server did not start"; }
    export PGHOST=$work PGPORT=$port PGUSER=postgres
    unset PGPASSWORD PGDATABASE
fi

psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null 2>"$work/setup.err" <<SQL || { cat "$work/setup.err" >&2; bail "setup failed"; }
DROP DATABASE IF EXISTS $db;
DROP ROLE IF EXISTS $app;
CREATE ROLE $app LOGIN PASSWORD 'unused';
ALTER ROLE $app SET kalix.account_scope = 'transaction';
GRANT SET ON PARAMETER kalix.current_login TO $app;
CREATE DATABASE $db;
\c $db
CREATE EXTENSION kalix_accounts CASCADE;
CREATE TABLE notes (id serial PRIMARY KEY, account_id uuid NOT NULL, body text NOT NULL);
CREATE INDEX ON notes (account_id);
SELECT kalix.enable_isolation('notes');
GRANT SELECT ON notes TO $app;
CREATE TABLE fixture (login_id uuid, account_id uuid);
GRANT SELECT ON fixture TO $app;
DO \$\$
DECLARE
    l uuid := kalix.create_login('prepared@example.com');
    a uuid;
BEGIN
    PERFORM set_config('kalix.current_login', l::text, true);
    a := kalix.create_account('Prepared practice');
    INSERT INTO fixture VALUES (l, a);
    INSERT INTO notes (account_id, body) SELECT a, 'secret ' || g FROM generate_series(1, 3) g;
END
\$\$;
SQL
read -r login account <<<"$(psql -X -At -F ' ' -d $db -c 'SELECT login_id, account_id FROM fixture')"

n=0
failed=0
check() { # name expected actual
    n=$((n + 1))
    if [ "$2" = "$3" ]; then
        echo "ok $n - $1"
    else
        failed=$((failed + 1))
        echo "not ok $n - $1"
        printf '# expected: %s\n# got: %s\n' "$2" "$3"
        sed 's/^/# /' "$work/err"
    fi
}

# Runs SQL as the application role; prints the unaligned results.
as_app() { PGPASSWORD=unused timeout 60 psql -X -q -At -v ON_ERROR_STOP=1 -U $app -d $db 2>"$work/err"; }

# Session-level SET inside the prepared transaction.
out=$(as_app <<SQL | tr '\n' ' '
BEGIN;
SELECT set_config('kalix.current_login', '$login', false) IS NOT NULL;
SET kalix.current_account = '$account';
SELECT count(*) FROM notes;
PREPARE TRANSACTION 'kalix_prepared_1';
SELECT count(*), kalix.current_account() IS NULL, kalix.current_login() IS NULL FROM notes;
COMMIT PREPARED 'kalix_prepared_1';
SELECT count(*), kalix.current_account() IS NULL, kalix.current_login() IS NULL FROM notes;
SQL
)
check "the prepared transaction itself saw its account's rows" "t 3" "$(echo "$out" | cut -d' ' -f1-2)"
check "after PREPARE TRANSACTION (session-level SET): no account, no login, no rows" "0|t|t" "$(echo "$out" | cut -d' ' -f3)"
check "after COMMIT PREPARED: still none" "0|t|t" "$(echo "$out" | cut -d' ' -f4)"

# SET LOCAL inside the prepared transaction, then ROLLBACK PREPARED.
out=$(as_app <<SQL | tr '\n' ' '
BEGIN;
SELECT set_config('kalix.current_login', '$login', true) IS NOT NULL;
SET LOCAL kalix.current_account = '$account';
SELECT count(*) FROM notes;
PREPARE TRANSACTION 'kalix_prepared_2';
SELECT count(*), kalix.current_account() IS NULL, kalix.current_login() IS NULL FROM notes;
ROLLBACK PREPARED 'kalix_prepared_2';
SELECT count(*), kalix.current_account() IS NULL, kalix.current_login() IS NULL FROM notes;
SQL
)
check "SET LOCAL: the prepared transaction saw its account's rows" "t 3" "$(echo "$out" | cut -d' ' -f1-2)"
check "after PREPARE TRANSACTION (SET LOCAL): no account, no login, no rows" "0|t|t" "$(echo "$out" | cut -d' ' -f3)"
check "after ROLLBACK PREPARED: still none" "0|t|t" "$(echo "$out" | cut -d' ' -f4)"

[ "$failed" -eq 0 ]
