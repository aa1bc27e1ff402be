#!/bin/bash
# TAP: tables isolated under 1.0 get 1.1's isolation from ALTER EXTENSION
# kalix_accounts UPDATE: the policies 1.1 defines (kalix_permit depending on
# the extension, so that a later DROP EXTENSION ... CASCADE fails closed, as
# review item 2 requires of upgraded databases too), the partitions 1.0 left
# open isolated, the owner's own policies kept, and the DDL guard in force.
# Runs as superuser against the server the PG* variables point to.
set -u
cd "$(dirname "$0")/.."

db=kalix_isolation_upgrade
owner=kalix_iso_upgrade_owner
tenant=kalix_iso_upgrade_tenant
work=$(mktemp -d)

psql_su() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
value() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$@"; }

drop_objects() {
    psql_su -d postgres >/dev/null 2>&1 <<SQL
DROP DATABASE IF EXISTS $db;
DROP ROLE IF EXISTS $owner;
DROP ROLE IF EXISTS $tenant;
SQL
}
cleanup() {
    drop_objects
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

. test/lib/tap.sh

echo "1..6"
drop_objects
psql_su -d postgres -c "CREATE DATABASE $db" -c "CREATE ROLE $owner" -c "CREATE ROLE $tenant" >/dev/null ||
    bail "cannot create the database and roles"

# A 1.0 install: a private table, a partitioned inherited one with one
# partition isolated by hand (as 1.0's lint advised) and one left open, and
# a policy of the owner's own.
psql_su -d "$db" >/dev/null 2>"$work/fill.err" <<SQL || { cat "$work/fill.err"; bail "cannot fill the 1.0 install"; }
SET client_min_messages = warning;
CREATE EXTENSION kalix_accounts VERSION '1.0' CASCADE;
CREATE TABLE notes (id int, account_id uuid NOT NULL, body text, PRIMARY KEY (account_id, id));
CREATE TABLE visits (id int, account_id uuid NOT NULL) PARTITION BY RANGE (id);
CREATE INDEX ON visits (account_id);
CREATE TABLE visits_0 PARTITION OF visits FOR VALUES FROM (0) TO (100);
CREATE TABLE visits_1 PARTITION OF visits FOR VALUES FROM (100) TO (200);
ALTER TABLE notes OWNER TO $owner;
ALTER TABLE visits OWNER TO $owner;
ALTER TABLE visits_0 OWNER TO $owner;
ALTER TABLE visits_1 OWNER TO $owner;
INSERT INTO notes VALUES (1, '00000000-0000-4000-8000-00000000000a', 'a'), (2, '00000000-0000-4000-8000-00000000000b', 'b');
INSERT INTO visits VALUES (1, '00000000-0000-4000-8000-00000000000a'), (150, '00000000-0000-4000-8000-00000000000b');
GRANT SELECT ON notes, visits, visits_0, visits_1 TO $tenant;
SELECT kalix.enable_isolation('notes');
SELECT kalix.enable_isolation('visits', inherited => true);
SELECT kalix.enable_isolation('visits_1', inherited => true);
CREATE POLICY own_rule ON notes FOR SELECT USING (id > 0);
SQL

value "$db" -c "CREATE EXTENSION kalix_npi" -c "ALTER EXTENSION kalix_accounts UPDATE" >/dev/null 2>"$work/update.err"
check $? "ALTER EXTENSION kalix_accounts UPDATE with isolated tables" "$work/update.err"

# Each table's kalix policies are what 1.1's enable_isolation creates: lint
# compares them with the C definitions and finds nothing.
value "$db" -c "SELECT object || ': ' || problem FROM kalix.lint()" >"$work/lint.txt" 2>&1
[ $? -eq 0 ] && ! [ -s "$work/lint.txt" ]
check $? "after the update, lint finds nothing: policies as 1.1 defines them, every partition isolated" "$work/lint.txt"

value "$db" >"$work/registry.txt" 2>&1 <<'SQL'
SELECT string_agg(format('%s %s', tbl, inherited), ', ' ORDER BY tbl::text) FROM kalix.isolated_tables;
SQL
[ "$(cat "$work/registry.txt")" = "notes f, visits t, visits_0 t, visits_1 t" ]
check $? "every partition is registered as its parent is ($(cat "$work/registry.txt"))" "$work/registry.txt"

[ "$(value "$db" -c "SELECT count(*) FROM pg_policy WHERE polrelid = 'notes'::regclass AND polname = 'own_rule'")" = 1 ]
check $? "the owner's own policy is kept"

value "$db" >"$work/guard.txt" 2>&1 <<SQL
SET ROLE $owner;
ALTER POLICY kalix_select ON notes USING (true);
SQL
grep -q 'is isolated by kalix_accounts' "$work/guard.txt"
check $? "the owner's ALTER POLICY on a table isolated under 1.0 is refused" "$work/guard.txt"

# Review item 2 on an upgraded database: no kalix policy survives the drop,
# and the tenant (no account) and the owner read nothing.  (A permissive
# policy of the owner's own would stay and decide alone, as the README says;
# it goes first.)
value "$db" >"$work/drop.txt" 2>&1 <<SQL
SET client_min_messages = warning;
DROP POLICY own_rule ON notes;
DROP EXTENSION kalix_accounts CASCADE;
SELECT 'policies ' || count(*) FROM pg_policy WHERE polname LIKE 'kalix%';
SET ROLE $tenant;
SELECT 'tenant sees ' || (SELECT count(*) FROM notes) || ' ' || (SELECT count(*) FROM visits) || ' ' || (SELECT count(*) FROM visits_0);
RESET ROLE;
SET ROLE $owner;
SELECT 'owner sees ' || (SELECT count(*) FROM notes) || ' ' || (SELECT count(*) FROM visits_1);
SQL
[ "$(tr '\n' ';' <"$work/drop.txt")" = "policies 0;tenant sees 0 0 0;owner sees 0 0;" ]
check $? "DROP EXTENSION ... CASCADE after the update fails closed ($(tr '\n' ';' <"$work/drop.txt"))" "$work/drop.txt"

exit $((failed > 0))
