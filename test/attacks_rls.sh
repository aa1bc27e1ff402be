#!/bin/bash
# TAP: the row-lock attacks of the 1.0 review (issue 13) that need two
# sessions at once, so a regress file cannot run them.  A child account's
# member sees its parent's inherited rows, but may not lock them:
#   - while the parent's owner holds a row lock, the child's member's
#     FOR UPDATE / FOR SHARE NOWAIT and UPDATE neither wait nor fail (the
#     parent's row is filtered out before any lock is tried: no lock-wait
#     oracle);
#   - while the child's member has run FOR UPDATE / FOR NO KEY UPDATE /
#     FOR SHARE / FOR KEY SHARE over the parent's rows in an open
#     transaction, the parent's owner updates and deletes them at once (no
#     denial of service);
#   - the child's own rows are locked for real (a second session of the
#     child's member cannot take them NOWAIT), so the checks above measure
#     the policies, not an absent lock.
# Runs against the server the PG* variables point to; the tenants are
# superuser connections that SET ROLE.
set -u
cd "$(dirname "$0")/.."

db=kalix_attacks_rls
work=$(mktemp -d)

psql_su() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

cleanup() {
    psql_su -d postgres >/dev/null 2>&1 <<SQL
DROP DATABASE IF EXISTS $db;
DROP ROLE IF EXISTS atk_rls_carol;
DROP ROLE IF EXISTS atk_rls_dave;
SQL
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

bail() { echo "Bail out! $*"; exit 1; }

/usr/bin/python3 -c 'import psycopg2' 2>/dev/null || bail "python3-psycopg2 is not installed (scripts/install-deps.sh installs it)"

# Parent (Carol's) with its child Child (Dave's); an inherited table with
# three rows of each.
psql_su -d postgres >/dev/null 2>"$work/setup.err" <<SQL || { cat "$work/setup.err" >&2; bail "setup failed"; }
DROP DATABASE IF EXISTS $db;
DROP ROLE IF EXISTS atk_rls_carol;
DROP ROLE IF EXISTS atk_rls_dave;
CREATE ROLE atk_rls_carol;
CREATE ROLE atk_rls_dave;
CREATE DATABASE $db;
\c $db
CREATE EXTENSION kalix_accounts CASCADE;
SELECT kalix.create_login('carol@atk-rls.test', 'Carol', 'atk_rls_carol') AS carol \gset
SELECT kalix.create_login('dave@atk-rls.test', 'Dave', 'atk_rls_dave') AS dave \gset
INSERT INTO kalix.accounts (id, name) VALUES ('a7100000-0000-4000-8000-000000000001', 'Parent');
INSERT INTO kalix.accounts (id, name, parent_id)
    VALUES ('a7100000-0000-4000-8000-000000000002', 'Child', 'a7100000-0000-4000-8000-000000000001');
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('a7100000-0000-4000-8000-000000000001', :'carol', 'owner'),
    ('a7100000-0000-4000-8000-000000000002', :'dave', 'member');
CREATE TABLE shared (
    id         int NOT NULL,
    account_id uuid NOT NULL,
    body       text NOT NULL,
    PRIMARY KEY (account_id, id)
);
INSERT INTO shared VALUES
    (1, 'a7100000-0000-4000-8000-000000000001', 'parent 1'),
    (2, 'a7100000-0000-4000-8000-000000000001', 'parent 2'),
    (3, 'a7100000-0000-4000-8000-000000000001', 'parent 3'),
    (11, 'a7100000-0000-4000-8000-000000000002', 'child 11'),
    (12, 'a7100000-0000-4000-8000-000000000002', 'child 12'),
    (13, 'a7100000-0000-4000-8000-000000000002', 'child 13');
SELECT kalix.enable_isolation('shared', inherited => true);
GRANT SELECT, INSERT, UPDATE, DELETE ON shared TO atk_rls_carol, atk_rls_dave;
SQL

export KALIX_ATK_DB=$db
timeout 120 /usr/bin/python3 - <<'PY'
import os
import sys

import psycopg2

PARENT = "a7100000-0000-4000-8000-000000000001"
CHILD = "a7100000-0000-4000-8000-000000000002"
results = []


def check(ok, name, diag=None):
    results.append(ok)
    print("%s %d - %s" % ("ok" if ok else "not ok", len(results), name))
    if not ok and diag:
        for line in str(diag).splitlines():
            print("# " + line)
    sys.stdout.flush()


def tenant(role, account):
    """A session of role in account (session scope), in an open transaction
    that fails after 2 s of waiting for a lock."""
    conn = psycopg2.connect(dbname=os.environ["KALIX_ATK_DB"], connect_timeout=10)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SET ROLE " + role)
        cur.execute("SELECT kalix.switch_account(%s)", (account,))
        cur.execute("SET lock_timeout = '2s'")
    conn.autocommit = False
    return conn


def ids(conn, sql):
    """The ids a statement returns, or the error it raised (its transaction
    then rolled back to a savepoint, so the session's locks stay)."""
    with conn.cursor() as cur:
        cur.execute("SAVEPOINT s")
        try:
            cur.execute(sql)
            rows = sorted(r[0] for r in cur.fetchall())
            cur.execute("RELEASE SAVEPOINT s")
            return rows
        except psycopg2.Error as e:
            cur.execute("ROLLBACK TO SAVEPOINT s")
            return "error: %s" % e.pgerror.strip()


print("1..11")
carol = tenant("atk_rls_carol", PARENT)
dave = tenant("atk_rls_dave", CHILD)
dave2 = tenant("atk_rls_dave", CHILD)

check(ids(dave, "SELECT id FROM shared") == [1, 2, 3, 11, 12, 13],
      "the child's member reads the parent's inherited rows and its own")

# --- the parent holds a row lock: the child neither waits nor learns of it
got = ids(carol, "SELECT id FROM shared WHERE id = 1 FOR UPDATE")
check(got == [1], "the parent's owner locks its row 1", got)
got = ids(dave, "SELECT id FROM shared WHERE id IN (1, 11) FOR UPDATE NOWAIT")
check(got == [11], "child: FOR UPDATE NOWAIT over the parent's locked row returns only its own row, no error", got)
got = ids(dave, "SELECT id FROM shared WHERE id IN (1, 12) FOR SHARE NOWAIT")
check(got == [12], "child: FOR SHARE NOWAIT likewise", got)
got = ids(dave, "UPDATE shared SET body = 'changed' WHERE id = 1 RETURNING id")
check(got == [], "child: UPDATE of the parent's locked row changes nothing, without waiting", got)
carol.rollback()
dave.rollback()

# --- the child "locks" the parent's rows: the parent is not blocked
got = [ids(dave, "SELECT id FROM shared WHERE account_id = '%s' FOR %s" % (PARENT, strength))
       for strength in ("UPDATE", "NO KEY UPDATE", "SHARE", "KEY SHARE")]
check(got == [[], [], [], []],
      "child: FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE of the parent's rows return none", got)
got = ids(dave, "SELECT id FROM shared WHERE id IN (1, 2, 3, 11) FOR UPDATE")
check(got == [11], "child: FOR UPDATE over the parent's rows and its row 11 locks row 11 only", got)
got = ids(carol, "UPDATE shared SET body = body || ' (updated)' WHERE id IN (1, 2) RETURNING id")
check(got == [1, 2], "the parent's owner updates its rows at once while the child's transaction is open", got)
got = ids(carol, "DELETE FROM shared WHERE id = 3 RETURNING id")
check(got == [3], "... and deletes one", got)

# --- the child's own row is locked for real
got = ids(dave2, "SELECT id FROM shared WHERE id = 11 FOR UPDATE NOWAIT")
check(isinstance(got, str) and "could not obtain lock on row" in got,
      "a second session of the child's member cannot take the child's locked row 11 NOWAIT", got)
dave2.rollback()
dave.rollback()
carol.rollback()

admin = psycopg2.connect(dbname=os.environ["KALIX_ATK_DB"], connect_timeout=10)
with admin.cursor() as cur:
    cur.execute("SELECT count(*) FROM shared WHERE body LIKE '%changed%' OR body LIKE '%updated%'")
    changed = cur.fetchone()[0]
check(changed == 0, "everything rolled back: no row was changed by the child", changed)
for conn in (admin, carol, dave, dave2):
    conn.close()
sys.exit(0 if all(results) else 1)
PY
