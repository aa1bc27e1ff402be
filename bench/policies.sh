#!/bin/bash
# Times the reads of the extension's own tables that row-level security
# filters, as an ordinary role with a login, under the 1.1 policies (a key
# column compared with kalix.member_accounts(), admin_accounts() or
# team_logins(): index conditions) and under 1.0's (kalix.member_role() per
# row, an EXISTS in the logins policy), swapped in within a transaction that
# is rolled back.  Prints a Markdown table of the median of 5 runs per query.
#
#   pg_virtualenv -t bench/policies.sh          N=100000 accounts and logins
#   N=1000000 pg_virtualenv -t bench/policies.sh
#
# Runs against the server the PG* variables point to, as superuser.
set -eu
N=${N:-100000}
RUNS=${RUNS:-5}
db=kalix_bench_policies
reader=kalix_bench_reader
work=$(mktemp -d)
trap 'rm -rf "$work"; psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS $reader" >/dev/null 2>&1' EXIT

psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $db;
DROP ROLE IF EXISTS $reader;
CREATE ROLE $reader;
CREATE DATABASE $db;
SQL

# N logins, each the owner of its own account (in trees of 10: one root and
# nine children), an NPI and an audit row per account; the reader's login
# owns 5 accounts and is a member of 5 more.
start=$(date +%s)
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
CREATE EXTENSION kalix_accounts CASCADE;
SET session_replication_role = replica;  -- a bulk load, without the triggers
INSERT INTO kalix.logins (id, email, db_role)
SELECT md5('login ' || g)::uuid, format('login%s@bench.test', g), CASE WHEN g = 1 THEN '$reader' END
FROM generate_series(1, $N) g;
INSERT INTO kalix.accounts (id, name, parent_id, created_by)
SELECT md5('account ' || g)::uuid, 'Account ' || g,
       CASE WHEN g % 10 <> 1 THEN md5('account ' || (g - (g - 1) % 10))::uuid END,
       md5('login ' || g)::uuid
FROM generate_series(1, $N) g;
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT md5('account ' || g)::uuid, md5('login ' || g)::uuid, 'owner' FROM generate_series(1, $N) g
UNION ALL
SELECT md5('account ' || g)::uuid, md5('login 1')::uuid, CASE WHEN g <= 6 THEN 'owner' ELSE 'member' END::kalix.account_role
FROM generate_series(2, 10) g;
INSERT INTO kalix.account_npis (account_id, npi)
SELECT md5('account ' || g)::uuid, '1234567893' FROM generate_series(1, $N) g;
INSERT INTO kalix.audit_log (login_id, account_id, action)
SELECT md5('login ' || g)::uuid, md5('account ' || g)::uuid, 'bench' FROM generate_series(1, $N) g;
RESET session_replication_role;
VACUUM ANALYZE kalix.logins, kalix.accounts, kalix.memberships, kalix.account_npis, kalix.audit_log;
SQL
loaded=$(($(date +%s) - start))

queries=(
    "SELECT count(*) FROM kalix.account_tree"
    "SELECT count(*) FROM kalix.logins"
    "SELECT count(*) FROM kalix.memberships"
    "SELECT count(*) FROM kalix.accounts"
    "SELECT count(*) FROM kalix.account_npis"
    "SELECT count(*) FROM kalix.audit_log"
)

# 1.0's policies and view, as kalix_accounts--1.0.sql declares them.
old_policies="
ALTER POLICY accounts_of_member ON kalix.accounts USING (kalix.member_role(id) IS NOT NULL);
ALTER POLICY memberships_of_member ON kalix.memberships USING (kalix.member_role(account_id) IS NOT NULL);
ALTER POLICY logins_self_and_team ON kalix.logins
    USING (id OPERATOR(pg_catalog.=) kalix.current_login()
           OR EXISTS (SELECT 1 FROM kalix.memberships m WHERE m.login_id OPERATOR(pg_catalog.=) logins.id));
ALTER POLICY audit_log_of_admin ON kalix.audit_log
    USING (kalix.member_role(account_id) OPERATOR(pg_catalog.>=) 'admin'::kalix.account_role);
ALTER POLICY account_npis_of_member ON kalix.account_npis USING (kalix.member_role(account_id) IS NOT NULL);
CREATE OR REPLACE VIEW kalix.account_tree WITH (security_barrier) AS
    SELECT a.id AS account_id, a.name, a.parent_id,
           pg_catalog.cardinality(kalix.lineage(a.id)) OPERATOR(pg_catalog.-) 1 AS depth,
           (SELECT pg_catalog.string_agg(CASE WHEN kalix.member_role(p.id) IS NULL THEN '...'
                                              ELSE p.name END,
                                         ' / ' ORDER BY l.ord DESC)
            FROM pg_catalog.unnest(kalix.lineage(a.id)) WITH ORDINALITY AS l(id, ord)
            JOIN kalix.accounts p ON p.id OPERATOR(pg_catalog.=) l.id) AS path
    FROM kalix.accounts a
    WHERE a.archived_at IS NULL AND kalix.member_role(a.id) IS NOT NULL;"

# times POLICIES: runs every query RUNS times as the reader (after one
# warm-up run) and prints "query<TAB>median ms<TAB>rows" per query.
times() {
    {
        echo "BEGIN;"
        echo "$1"
        echo "SET ROLE $reader;"
        for q in "${queries[@]}"; do
            echo "$q;"
            echo "\\timing on"
            for _ in $(seq "$RUNS"); do echo "$q;"; done
            echo "\\timing off"
        done
        echo "ROLLBACK;"
    } | psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" >"$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }
    # One line per query: its RUNS times, then its row count.
    awk -v runs="$RUNS" '
        /^Time: / { line = line " " $2; if (++n == runs) { print rows line; n = 0; line = "" }; next }
        /^[0-9]+$/ { rows = $1 }
    ' "$work/out" | while read -r rows ts; do
        printf '%s\t%s\n' "$(printf '%s\n' $ts | sort -n | sed -n "$(((RUNS + 1) / 2))p")" "$rows"
    done
}

times "" >"$work/new"
times "$old_policies" >"$work/old"

echo "$N accounts (in trees of 10), $N logins, $N NPIs, $N audit rows; the reader belongs to 10 accounts (owner of 6). Loaded in ${loaded}s. Median of $RUNS runs, ms:"
echo
echo "| query (as the reader) | rows | 1.0 policies | 1.1 policies | speed-up |"
echo "|---|---:|---:|---:|---:|"
for i in "${!queries[@]}"; do
    new=$(sed -n "$((i + 1))p" "$work/new")
    old=$(sed -n "$((i + 1))p" "$work/old")
    awk -v q="${queries[$i]}" -v n="$new" -v o="$old" 'BEGIN {
        split(n, a, "\t"); split(o, b, "\t");
        printf "| `%s` | %s | %.2f | %.2f | %.0f× |\n", q, a[2], b[1], a[1], (a[1] > 0 ? b[1] / a[1] : 0)
    }'
done
