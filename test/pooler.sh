#!/bin/bash
# TAP: kalix_accounts behind PgBouncer in transaction pooling mode, two
# pools of one server connection each (default_pool_size = 1), so that
# consecutive transactions of different clients share one backend.
#   - with kalix.account_scope = 'transaction' for the application role, an
#     account chosen by a session-level SET never reaches another client, and
#     the per-request pattern (BEGIN; set_config('kalix.current_login', ...,
#     true); kalix.switch_account(..., true); ...; COMMIT) keeps many
#     interleaved clients apart;
#   - with 'session', what goes wrong: the next client sees the account.
# Runs against the server the PG* variables point to (unix socket or TCP
# with a password), as root too (PgBouncer then runs as postgres).
set -u
cd "$(dirname "$0")/.."

db=kalix_pooler
txn_role=kalix_pooler_txn
sess_role=kalix_pooler_sess
work=$(mktemp -d)
pgb_pid=""

psql_su() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

cleanup() {
    if [ -n "$pgb_pid" ]; then
        kill "$pgb_pid" 2>/dev/null
        wait "$pgb_pid" 2>/dev/null
    fi
    psql_su -d postgres >/dev/null 2>&1 <<SQL
DROP DATABASE IF EXISTS $db;
REVOKE SET ON PARAMETER kalix.current_login FROM $txn_role, $sess_role;
DROP ROLE IF EXISTS $txn_role;
DROP ROLE IF EXISTS $sess_role;
SQL
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

bail() { echo "Bail out! $*"; exit 1; }

command -v pgbouncer >/dev/null || bail "pgbouncer is not installed (scripts/install-deps.sh installs it)"
/usr/bin/python3 -c 'import psycopg2' 2>/dev/null || bail "python3-psycopg2 is not installed (scripts/install-deps.sh installs it)"

password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

# The database, two application roles and four logins with an account each.
psql_su -d postgres >/dev/null 2>"$work/setup.err" <<SQL || { cat "$work/setup.err" >&2; bail "setup failed"; }
DROP DATABASE IF EXISTS $db;
DROP ROLE IF EXISTS $txn_role;
DROP ROLE IF EXISTS $sess_role;
CREATE ROLE $txn_role LOGIN PASSWORD '$password';
CREATE ROLE $sess_role LOGIN PASSWORD '$password';
ALTER ROLE $txn_role SET kalix.account_scope = 'transaction';
ALTER ROLE $sess_role SET kalix.account_scope = 'session';
GRANT SET ON PARAMETER kalix.current_login TO $txn_role, $sess_role;
CREATE DATABASE $db;
\c $db
CREATE EXTENSION kalix_accounts CASCADE;
CREATE TABLE notes (id serial PRIMARY KEY, account_id uuid NOT NULL, body text NOT NULL);
CREATE INDEX ON notes (account_id);
SELECT kalix.enable_isolation('notes');
GRANT SELECT, INSERT ON notes TO $txn_role, $sess_role;
GRANT USAGE ON SEQUENCE notes_id_seq TO $txn_role, $sess_role;
CREATE TABLE pooler_logins (n int PRIMARY KEY, login_id uuid, account_id uuid);
DO \$\$
DECLARE
    l uuid;
    a uuid;
BEGIN
    FOR i IN 1..4 LOOP
        l := kalix.create_login(format('pooler%s@example.com', i));
        PERFORM set_config('kalix.current_login', l::text, true);
        a := kalix.create_account(format('Pooler practice %s', i));
        INSERT INTO pooler_logins VALUES (i, l, a);
        INSERT INTO notes (account_id, body)
        SELECT a, format('seed %s of %s', g, a) FROM generate_series(1, 5 * i) g;
    END LOOP;
END
\$\$;
SQL

# PgBouncer on a free loopback port, in front of the server of the PG* variables.
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server_host=${PGHOST:-/var/run/postgresql}
server_port=${PGPORT:-5432}
cat >"$work/userlist.txt" <<INI
"$txn_role" "$password"
"$sess_role" "$password"
INI
cat >"$work/pgbouncer.ini" <<INI
[databases]
kalix_txn = host=$server_host port=$server_port dbname=$db user=$txn_role password=$password
kalix_sess = host=$server_host port=$server_port dbname=$db user=$sess_role password=$password

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = 1
max_client_conn = 100
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
ignore_startup_parameters = extra_float_digits,options
INI
as_user=""
if [ "$(id -u)" -eq 0 ]; then
    as_user="-u postgres"
    chown -R postgres "$work"
fi
pgbouncer $as_user "$work/pgbouncer.ini" >"$work/pgbouncer.out" 2>&1 &
pgb_pid=$!

export KALIX_POOLER_PORT=$port KALIX_POOLER_DB=$db \
    KALIX_POOLER_TXN_ROLE=$txn_role KALIX_POOLER_SESS_ROLE=$sess_role
timeout 300 /usr/bin/python3 - <<'PY'
import os
import sys
import threading
import time

import psycopg2

port = os.environ["KALIX_POOLER_PORT"]
txn_role = os.environ["KALIX_POOLER_TXN_ROLE"]
sess_role = os.environ["KALIX_POOLER_SESS_ROLE"]
results = []


def check(ok, name, diag=None):
    results.append(ok)
    print("%s %d - %s" % ("ok" if ok else "not ok", len(results), name))
    if not ok and diag:
        for line in str(diag).splitlines():
            print("# " + line)
    sys.stdout.flush()


def pooled(alias, role, autocommit=True):
    conn = psycopg2.connect(host="127.0.0.1", port=port, dbname=alias, user=role,
                            sslmode="disable", connect_timeout=10)
    conn.autocommit = autocommit
    return conn


def one(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


# The server directly, as superuser (the PG* variables).
admin = psycopg2.connect(dbname=os.environ["KALIX_POOLER_DB"], connect_timeout=10)
admin.autocommit = True
with admin.cursor() as cur:
    cur.execute("SELECT n, login_id::text, account_id::text FROM pooler_logins ORDER BY n")
    logins = cur.fetchall()
    cur.execute("SELECT account_id::text, count(*) FROM notes GROUP BY 1")
    seeded = dict(cur.fetchall())

deadline = time.time() + 15
while True:
    try:
        pooled("kalix_txn", txn_role).close()
        break
    except psycopg2.OperationalError as e:
        if time.time() > deadline:
            print("Bail out! PgBouncer did not accept connections: %s" % e)
            sys.exit(1)
        time.sleep(0.2)

print("1..10")
_, login1, account1 = logins[0]
_, login2, account2 = logins[1]

# --- transaction scope ---------------------------------------------------
c1 = pooled("kalix_txn", txn_role)
c2 = pooled("kalix_txn", txn_role)
check(one(c1, "SELECT pg_backend_pid()") == one(c2, "SELECT pg_backend_pid()"),
      "two clients of the pool share one server connection")
check(one(c2, "SHOW kalix.account_scope") == "transaction",
      "the application role has kalix.account_scope = 'transaction'")

with c1.cursor() as cur:
    cur.execute("SELECT set_config('kalix.current_login', %s, false)", (login1,))
    cur.execute("SET kalix.current_account = %s", (account1,))
own = one(c1, "SELECT count(*) FROM notes")
seen = one(c2, "SELECT count(*) FROM notes")
setting = one(c2, "SELECT current_setting('kalix.current_account')")
check(seen == 0 and setting == "",
      "a session-level SET kalix.current_account of client 1 shows client 2 no rows",
      "client 2 saw %s rows, kalix.current_account = %r" % (seen, setting))
check(own == 0, "... nor client 1 itself in its next transaction", "client 1 saw %s rows" % own)

# The login is transaction-scoped too: a session-level current_login of
# client 1 is not in force when client 2 uses the server connection.
leaked = one(c2, "SELECT kalix.current_login()::text")
check(leaked is None,
      "a session-level kalix.current_login of client 1 is not in force for client 2",
      "client 2 acts as login %s" % leaked)
with c1.cursor() as cur:
    cur.execute("RESET kalix.current_login")
    cur.execute("RESET kalix.current_account")
c1.close()
c2.close()

# Many interleaved clients, each request in its own transaction.
CLIENTS, REQUESTS = 20, 50
stats = {"cross": 0, "own_missing": 0, "leaked_after": 0, "wrong_current": 0,
         "done": 0, "errors": []}
lock = threading.Lock()


def client(k):
    _, login, account = logins[k % len(logins)]
    try:
        conn = pooled("kalix_txn", txn_role, autocommit=False)
        for r in range(REQUESTS):
            with conn.cursor() as cur:
                cur.execute("SELECT set_config('kalix.current_login', %s, true)", (login,))
                cur.execute("SELECT kalix.switch_account(%s, true)", (account,))
                cur.execute("SELECT kalix.current_account()::text")
                current = cur.fetchone()[0]
                cur.execute("SELECT account_id::text, count(*) FROM notes GROUP BY 1")
                rows = dict(cur.fetchall())
                cur.execute("INSERT INTO notes (account_id, body) VALUES (%s, %s)",
                            (account, "client %d request %d for %s" % (k, r, account)))
            conn.commit()
            # The next transaction, on whatever server connection, has no account.
            with conn.cursor() as cur:
                cur.execute("SELECT count(*), current_setting('kalix.current_account') FROM notes")
                after, after_setting = cur.fetchone()
            conn.commit()
            with lock:
                stats["cross"] += sum(n for a, n in rows.items() if a != account)
                stats["own_missing"] += rows.get(account, 0) < seeded[account]
                stats["wrong_current"] += current != account
                stats["leaked_after"] += after + (after_setting != "")
                stats["done"] += 1
        conn.close()
    except Exception as e:  # reported as a failed test below
        with lock:
            stats["errors"].append("client %d: %s" % (k, e))


threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check(stats["done"] == CLIENTS * REQUESTS and not stats["errors"],
      "%d clients x %d requests completed through the pool" % (CLIENTS, REQUESTS),
      "%d done; %s" % (stats["done"], "\n".join(stats["errors"][:5])))
check(stats["cross"] == 0 and stats["wrong_current"] == 0 and stats["own_missing"] == 0,
      "per-request pattern: 0 rows of another account seen in %d requests" % stats["done"],
      "cross-account rows: %(cross)s, wrong current account: %(wrong_current)s, "
      "requests missing own rows: %(own_missing)s" % stats)
check(stats["leaked_after"] == 0,
      "per-request pattern: no account carried into the next transaction",
      "leaks: %(leaked_after)s" % stats)
with admin.cursor() as cur:
    cur.execute("SELECT count(*) FROM notes WHERE body NOT LIKE '%%' || account_id::text")
    misfiled = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM notes WHERE body LIKE 'client %%'")
    written = cur.fetchone()[0]
check(misfiled == 0 and written == CLIENTS * REQUESTS,
      "every row written through the pool landed in its own account",
      "%d rows in another account, %d of %d written" % (misfiled, written, CLIENTS * REQUESTS))

# --- session scope: what goes wrong --------------------------------------
s1 = pooled("kalix_sess", sess_role)
s2 = pooled("kalix_sess", sess_role)
with s1.cursor() as cur:
    cur.execute("SELECT set_config('kalix.current_login', %s, false)", (login1,))
    cur.execute("SET kalix.current_account = %s", (account1,))
same = one(s1, "SELECT pg_backend_pid()") == one(s2, "SELECT pg_backend_pid()")
with s2.cursor() as cur:
    cur.execute("SELECT count(*), count(*) FILTER (WHERE account_id = %s) FROM notes", (account1,))
    total, of_account1 = cur.fetchone()
with admin.cursor() as cur:
    cur.execute("SELECT count(*) FROM notes WHERE account_id = %s", (account1,))
    real = cur.fetchone()[0]
check(same and total == of_account1 == real > 0,
      "with account_scope = 'session', client 2 sees all %d rows of client 1's account" % real,
      "same backend: %s, client 2 saw %s rows (%s of account 1, which has %s)"
      % (same, total, of_account1, real))
s1.close()
s2.close()
admin.close()
sys.exit(0 if all(results) else 1)
PY
status=$?
[ "$status" -eq 124 ] && echo "Bail out! timed out"
exit $status
