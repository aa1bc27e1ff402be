#!/bin/bash
# TAP: an error while a fresh backend fills the kalix cache never takes the
# server down (issue 17 item 0).  Another session holds
# LOCK TABLE pg_catalog.pg_enum IN ACCESS EXCLUSIVE MODE, so the victim's
# first kalix call waits while it resolves the cache's catalog entries; that
# wait is ended by statement_timeout, by lock_timeout and by
# pg_cancel_backend.  After each, the victim's next calls answer (its login
# and account), and a long-lived second session is still connected: in 1.0
# the next call dereferenced a NULL hash table and the postmaster restarted
# every session.
# Runs against the server the PG* variables point to, as its superuser.
set -u
cd "$(dirname "$0")/.."

db=kalix_cache_interrupt
work=$(mktemp -d)

psql_su() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

cleanup() {
    psql_su -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

bail() { echo "Bail out! $*"; exit 1; }

/usr/bin/python3 -c 'import psycopg2' 2>/dev/null || bail "python3-psycopg2 is not installed (scripts/install-deps.sh installs it)"

psql_su -d postgres >/dev/null 2>"$work/setup.err" <<SQL || { cat "$work/setup.err" >&2; bail "setup failed"; }
DROP DATABASE IF EXISTS $db;
CREATE DATABASE $db;
\c $db
CREATE EXTENSION kalix_accounts CASCADE;
CREATE TABLE interrupt_fixture (login_id uuid, account_id uuid);
DO \$\$
DECLARE
    l uuid := kalix.create_login('interrupt@example.com');
BEGIN
    PERFORM set_config('kalix.current_login', l::text, true);
    INSERT INTO interrupt_fixture VALUES (l, kalix.create_account('Interrupt practice'));
END
\$\$;
SQL

export KALIX_INTERRUPT_DB=$db
timeout 180 /usr/bin/python3 - <<'PY'
import os
import sys
import threading
import time

import psycopg2
import psycopg2.errors

db = os.environ["KALIX_INTERRUPT_DB"]
results = []


def check(ok, name, diag=None):
    results.append(ok)
    print("%s %d - %s" % ("ok" if ok else "not ok", len(results), name))
    if not ok and diag:
        for line in str(diag).splitlines():
            print("# " + line)
    sys.stdout.flush()


def connect():
    conn = psycopg2.connect(dbname=db, connect_timeout=60)
    conn.autocommit = True
    return conn


def one(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


admin = connect()
with admin.cursor() as cur:
    cur.execute("SELECT login_id::text, account_id::text FROM interrupt_fixture")
    login, account = cur.fetchone()

keeper = connect()
keeper_pid = one(keeper, "SELECT pg_backend_pid()")
one(keeper, "SELECT kalix.current_login()")


def wait_for_lock_wait(pid):
    """Waits (at most 30 s) until the backend pid waits for a heavyweight lock."""
    deadline = time.time() + 30
    while time.time() < deadline:
        if one(admin, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
               (pid,)):
            return True
        time.sleep(0.05)
    return False


def interrupted_first_call(how):
    """A fresh backend whose first kalix call is ended by `how`; returns it and the error."""
    locker = connect()
    locker.autocommit = False
    with locker.cursor() as cur:
        cur.execute("SET lock_timeout = '60s'")
        cur.execute("LOCK TABLE pg_catalog.pg_enum IN ACCESS EXCLUSIVE MODE")
    victim = connect()
    victim_pid = one(victim, "SELECT pg_backend_pid()")
    error = None
    try:
        with victim.cursor() as cur:
            # Placeholders until the library loads with the call below.
            cur.execute("SET kalix.current_login = %s", (login,))
            cur.execute("SET kalix.current_account = %s", (account,))
            if how == "statement_timeout":
                cur.execute("SET statement_timeout = '1s'")
            elif how == "lock_timeout":
                cur.execute("SET lock_timeout = '1s'")
                cur.execute("SET statement_timeout = '60s'")
            else:
                cur.execute("SET statement_timeout = '60s'")
                canceller = threading.Thread(
                    target=lambda: wait_for_lock_wait(victim_pid) and
                    one(admin, "SELECT pg_cancel_backend(%s)", (victim_pid,)))
                canceller.start()
            try:
                cur.execute("SELECT kalix.current_account()")
            except psycopg2.Error as e:
                error = e
            if how == "pg_cancel_backend":
                canceller.join(40)
    finally:
        locker.rollback()
        locker.close()
    return victim, error


expected_error = {
    "statement_timeout": psycopg2.errors.QueryCanceled,
    "lock_timeout": psycopg2.errors.LockNotAvailable,
    "pg_cancel_backend": psycopg2.errors.QueryCanceled,
}

print("1..%d" % (3 * len(expected_error) + 1))
for how, kind in expected_error.items():
    try:
        victim, error = interrupted_first_call(how)
    except psycopg2.Error as e:  # the server went away: every check of this round fails
        for name in ("ends a fresh backend's first kalix call", "the next kalix calls answer",
                     "a long-lived session is still connected"):
            check(False, "%s: %s" % (how, name), "setting up the round failed: %r" % (e,))
        continue
    check(isinstance(error, kind),
          "%s ends a fresh backend's first kalix call while it waits for a catalog lock" % how,
          "got %r" % (error,))
    answers = None
    try:
        with victim.cursor() as cur:
            cur.execute("RESET statement_timeout")
            cur.execute("RESET lock_timeout")
            cur.execute("SELECT kalix.current_login()::text, kalix.current_account()::text, "
                        "kalix.current_account_role()::text")
            answers = cur.fetchone()
            cur.execute("SELECT kalix.current_account()::text")
            answers = answers + cur.fetchone()
    except psycopg2.Error as e:
        answers = e
    check(answers == (login, account, "owner", account),
          "after %s the backend's next kalix calls answer" % how, "got %r" % (answers,))
    # A crashed backend makes the postmaster end every session a moment
    # later: ask the long-lived one a few times over a second.
    try:
        for _ in range(10):
            alive = one(keeper, "SELECT pg_backend_pid()") == keeper_pid
            time.sleep(0.1)
    except psycopg2.Error as e:
        alive = e
    check(alive is True, "after %s a long-lived session is still connected (no restart)" % how,
          "keeper: %r" % (alive,))
    victim.close()

try:
    started = one(admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (keeper_pid,))
except psycopg2.Error as e:
    started = e
check(started == 1, "the long-lived session's backend is the one it started with",
      "pg_stat_activity rows for it: %r" % (started,))
sys.exit(0 if all(results) else 1)
PY
status=$?
[ "$status" -eq 124 ] && echo "Bail out! timed out"
exit $status
