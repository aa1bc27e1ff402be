#!/bin/bash
# TAP: every released version of kalix_accounts updates to the default
# version with ALTER EXTENSION ... UPDATE, and the updated install equals a
# fresh one: functions (signature, volatility, strictness, parallel safety,
# security, settings, ACL, body), tables, columns, constraints, indexes,
# policies, triggers, event triggers, types, operators, casts, ACLs and the
# pg_extension_config_dump registrations.  Needs no edit when versions are
# added: the versions and paths come from pg_available_extension_versions and
# pg_extension_update_paths.  Then the NPIs of a filled 1.0 database through
# the documented update (CREATE EXTENSION kalix_npi; ALTER EXTENSION
# kalix_accounts UPDATE): refused without kalix_npi and while a user column
# still has the type kalix.npi, whose conversion command the error names;
# after that command every NPI and primary flag is there as npi.  Runs as
# superuser against the PG* server.
set -u
cd "$(dirname "$0")/.."

ext=kalix_accounts
fresh_db=kalix_upgrade_fresh
path_db=kalix_upgrade_path
npi_db=kalix_upgrade_npi
work=$(mktemp -d)

value() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $fresh_db" -c "DROP DATABASE IF EXISTS $path_db" \
        -c "DROP DATABASE IF EXISTS $npi_db" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

. test/lib/tap.sh

# One line per property of every object of the extension, sorted.
cat >"$work/snapshot.sql" <<'SQL'
WITH ext AS (
    SELECT oid, extnamespace FROM pg_extension WHERE extname = 'kalix_accounts'
), members AS (
    SELECT d.classid, d.objid, d.objsubid
    FROM pg_depend d JOIN ext ON d.refobjid = ext.oid
    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
), rels AS (
    SELECT c.* FROM pg_class c JOIN ext ON c.relnamespace = ext.extnamespace
)
SELECT line FROM (
    SELECT 'member ' || pg_describe_object(classid, objid, objsubid) FROM members
    UNION ALL
    SELECT format('function %s(%s) returns %s language %s volatility %s strict %s parallel %s security_definer %s leakproof %s config %s acl %s cost %s rows %s body %s comment %s',
                  p.oid::regproc, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), l.lanname,
                  p.provolatile, p.proisstrict, p.proparallel, p.prosecdef, p.proleakproof, p.proconfig,
                  p.proacl, p.procost, p.prorows, md5(p.prosrc || coalesce(p.probin, '')),
                  obj_description(p.oid, 'pg_proc'))
    FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
    JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    UNION ALL
    SELECT format('relation %s kind %s rls %s forced %s acl %s options %s comment %s',
                  c.oid::regclass, c.relkind, c.relrowsecurity, c.relforcerowsecurity, c.relacl,
                  c.reloptions, obj_description(c.oid, 'pg_class'))
    FROM rels c
    UNION ALL
    SELECT format('column %s.%s #%s %s not_null %s default %s acl %s comment %s',
                  a.attrelid::regclass, a.attname,
                  row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
                  format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(ad.adbin, ad.adrelid), a.attacl, col_description(a.attrelid, a.attnum))
    FROM pg_attribute a JOIN rels c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
    UNION ALL
    SELECT format('constraint %s on %s: %s deferrable %s deferred %s',
                  co.conname, co.conrelid::regclass, pg_get_constraintdef(co.oid),
                  co.condeferrable, co.condeferred)
    FROM pg_constraint co JOIN rels c ON c.oid = co.conrelid
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN rels c ON c.oid = i.indrelid
    UNION ALL
    SELECT format('sequence %s %s increment %s min %s max %s cache %s cycle %s',
                  s.seqrelid::regclass, s.seqtypid::regtype, s.seqincrement, s.seqmin, s.seqmax,
                  s.seqcache, s.seqcycle)
    FROM pg_sequence s JOIN rels c ON c.oid = s.seqrelid
    UNION ALL
    SELECT format('view %s: %s', c.oid::regclass, pg_get_viewdef(c.oid))
    FROM rels c WHERE c.relkind IN ('v', 'm')
    UNION ALL
    SELECT format('policy %s on %s for %s permissive %s to %s using %s with check %s',
                  po.polname, po.polrelid::regclass, po.polcmd, po.polpermissive,
                  (SELECT array_agg(CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END ORDER BY 1)
                   FROM unnest(po.polroles) r),
                  pg_get_expr(po.polqual, po.polrelid), pg_get_expr(po.polwithcheck, po.polrelid))
    FROM pg_policy po JOIN rels c ON c.oid = po.polrelid
    UNION ALL
    SELECT format('trigger %s enabled %s', pg_get_triggerdef(t.oid), t.tgenabled)
    FROM pg_trigger t JOIN rels c ON c.oid = t.tgrelid
    WHERE NOT t.tgisinternal
    UNION ALL
    SELECT format('event trigger %s on %s function %s enabled %s tags %s',
                  e.evtname, e.evtevent, e.evtfoid::regprocedure, e.evtenabled, e.evttags)
    FROM pg_event_trigger e JOIN members m ON m.classid = 'pg_event_trigger'::regclass AND m.objid = e.oid
    UNION ALL
    SELECT format('type %s kind %s len %s byval %s align %s storage %s in %s out %s recv %s send %s category %s acl %s labels %s comment %s',
                  t.oid::regtype, t.typtype, t.typlen, t.typbyval, t.typalign, t.typstorage,
                  t.typinput, t.typoutput, t.typreceive, t.typsend, t.typcategory, t.typacl,
                  (SELECT string_agg(en.enumlabel, ',' ORDER BY en.enumsortorder)
                   FROM pg_enum en WHERE en.enumtypid = t.oid),
                  obj_description(t.oid, 'pg_type'))
    FROM pg_type t JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
    UNION ALL
    SELECT format('operator %s code %s restrict %s join %s commutator %s negator %s merges %s hashes %s',
                  o.oid::regoperator, o.oprcode, o.oprrest, o.oprjoin, o.oprcom::regoperator,
                  o.oprnegate::regoperator, o.oprcanmerge, o.oprcanhash)
    FROM pg_operator o JOIN members m ON m.classid = 'pg_operator'::regclass AND m.objid = o.oid
    UNION ALL
    SELECT format('operator class %s using %s for %s default %s family %s',
                  oc.opcname, am.amname, oc.opcintype::regtype, oc.opcdefault, f.opfname)
    FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod JOIN pg_opfamily f ON f.oid = oc.opcfamily
    JOIN members m ON m.classid = 'pg_opclass'::regclass AND m.objid = oc.oid
    UNION ALL
    SELECT format('operator family %s: %s', f.opfname, pg_describe_object('pg_amop'::regclass, ao.oid, 0))
    FROM pg_opfamily f JOIN pg_amop ao ON ao.amopfamily = f.oid
    JOIN members m ON m.classid = 'pg_opfamily'::regclass AND m.objid = f.oid
    UNION ALL
    SELECT format('operator family %s: %s', f.opfname, pg_describe_object('pg_amproc'::regclass, ap.oid, 0))
    FROM pg_opfamily f JOIN pg_amproc ap ON ap.amprocfamily = f.oid
    JOIN members m ON m.classid = 'pg_opfamily'::regclass AND m.objid = f.oid
    UNION ALL
    SELECT format('cast %s context %s method %s', pg_describe_object('pg_cast'::regclass, ca.oid, 0),
                  ca.castcontext, ca.castmethod)
    FROM pg_cast ca JOIN members m ON m.classid = 'pg_cast'::regclass AND m.objid = ca.oid
    UNION ALL
    SELECT format('config dump %s where %s', x.tbl::regclass, quote_literal(x.cond))
    FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x (tbl, cond)
    WHERE e.extname = 'kalix_accounts'
    UNION ALL
    SELECT format('schema %s acl %s comment %s', n.nspname, n.nspacl, obj_description(n.oid, 'pg_namespace'))
    FROM pg_namespace n JOIN ext ON n.oid = ext.extnamespace
) AS snapshot (line)
ORDER BY line COLLATE "C";
SQL

snapshot() {  # snapshot DB FILE
    value -d "$1" -f "$work/snapshot.sql" >"$2" 2>&1
}
fresh_db_with() {  # fresh_db_with DB [VERSION]
    psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null &&
        value -d "$1" -c "SET client_min_messages = warning" -c "CREATE EXTENSION $ext${2:+ VERSION '$2'} CASCADE" >/dev/null
}
# What an update needs first (1.1 requires kalix_npi; 1.0 did not).
update_prerequisites="CREATE EXTENSION IF NOT EXISTS kalix_npi"

default=$(value -d postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = '$ext'")
[ -n "$default" ] || bail "extension $ext is not installed"
versions=$(value -d postgres -c "SELECT version FROM pg_available_extension_versions WHERE name = '$ext'" | sort -V)
oldest=$(echo "$versions" | head -n 1)
fresh_db_with "$fresh_db" || bail "CREATE EXTENSION $ext failed"
sources=$(value -d "$fresh_db" -c "SELECT source FROM pg_extension_update_paths('$ext')
                                   WHERE target = '$default' AND path IS NOT NULL" | sort -V)
npaths=$(echo "$sources" | grep -c . || true)
chain=$(echo "$versions" | awk -v d="$default" '{ v[NR] = $0 } $0 == d { last = NR } END { for (i = 1; i <= last; i++) print v[i] }')
nsteps=$(($(echo "$chain" | grep -c .) - 1))

echo "1..$((3 + (npaths > 0 ? npaths : 1) + 1 + 8))"
echo "# versions: $(echo $versions); default $default; oldest $oldest; $npaths update paths to $default"

snapshot "$fresh_db" "$work/fresh.txt"
stats=$(value -d "$fresh_db" -c "SELECT format('%s member objects, %s functions, %s policies, %s config tables',
    count(*), count(*) FILTER (WHERE classid = 'pg_proc'::regclass),
    (SELECT count(*) FROM pg_policy WHERE polrelid::regclass::text LIKE 'kalix.%'),
    (SELECT cardinality(extconfig) FROM pg_extension WHERE extname = '$ext'))
    FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
      AND refobjid = (SELECT oid FROM pg_extension WHERE extname = '$ext')")
grep -q '^function ' "$work/fresh.txt" && grep -q '^policy ' "$work/fresh.txt" && grep -q '^config dump ' "$work/fresh.txt"
check $? "fresh install of $default described ($stats, $(wc -l <"$work/fresh.txt") lines)" "$work/fresh.txt"

# (The schema itself stays: CREATE EXTENSION made it, but it is no member.)
value -d "$fresh_db" >"$work/drop.txt" 2>&1 <<SQL
DROP EXTENSION $ext;
SELECT 'left behind: ' || x FROM (
    SELECT oid::regclass::text FROM pg_class WHERE relnamespace = 'kalix'::regnamespace
    UNION ALL SELECT oid::regprocedure::text FROM pg_proc WHERE pronamespace = 'kalix'::regnamespace
    UNION ALL SELECT oid::regtype::text FROM pg_type WHERE typnamespace = 'kalix'::regnamespace
    UNION ALL SELECT evtname FROM pg_event_trigger WHERE evtname LIKE 'kalix%'
) AS objects (x);
SQL
[ $? -eq 0 ] && ! [ -s "$work/drop.txt" ]
check $? "DROP EXTENSION leaves no object in schema kalix" "$work/drop.txt"

value -d "$fresh_db" -c "CREATE EXTENSION $ext CASCADE" >/dev/null 2>"$work/again.err"
snapshot "$fresh_db" "$work/again.txt"
diff "$work/fresh.txt" "$work/again.txt" >"$work/again.diff" 2>&1
check $? "CREATE EXTENSION after DROP EXTENSION gives the same objects" "$work/again.diff"

if [ "$npaths" -eq 0 ]; then
    skip "no update path to $default: only version $(echo $versions) is available, 0 paths tested"
else
    for v in $sources; do
        path=$(value -d "$fresh_db" -c "SELECT path FROM pg_extension_update_paths('$ext') WHERE source = '$v' AND target = '$default'")
        {
            fresh_db_with "$path_db" "$v" &&
                value -d "$path_db" -c "$update_prerequisites" -c "ALTER EXTENSION $ext UPDATE" >/dev/null &&
                snapshot "$path_db" "$work/path.txt" &&
                diff "$work/fresh.txt" "$work/path.txt"
        } >"$work/path.diff" 2>&1
        check $? "$v updated to $default ($path) equals a fresh install" "$work/path.diff"
    done
fi

if [ "$nsteps" -le 0 ]; then
    skip "no release before $default: step-by-step update from the oldest version not tested"
else
    {
        prev=""
        fresh_db_with "$path_db" "$oldest" &&
            for v in $chain; do
                [ "$v" = "$oldest" ] && continue
                value -d "$path_db" -c "$update_prerequisites" -c "ALTER EXTENSION $ext UPDATE TO '$v'" >/dev/null || exit 1
            done &&
            snapshot "$path_db" "$work/chain.txt" &&
            diff "$work/fresh.txt" "$work/chain.txt"
    } >"$work/chain.diff" 2>&1
    check $? "$oldest updated one release at a time to $default ($nsteps steps) equals a fresh install" "$work/chain.diff"
fi

# ---------------------------------------------------------------- NPIs
# A 1.0 database with NPIs in kalix.account_npis (primary flags on two
# accounts) and in a user table (a kalix.npi column with its index, a
# kalix.npi[] column) and a user function over kalix.npi, updated the
# documented way.
{
    fresh_db_with "$npi_db" 1.0 &&
        value -d "$npi_db" <<'SQL'
SELECT kalix.create_login('npi-owner@upgrade.example', 'Owner') AS owner \gset
SELECT set_config('kalix.current_login', :'owner', false) IS NOT NULL;
SELECT kalix.create_account('Upgrade Clinic') AS clinic \gset
SELECT kalix.create_account('Upgrade Lab') AS lab \gset
SELECT kalix.add_npi(:'clinic', '1234567893', 'Group NPI', true);
SELECT kalix.add_npi(:'clinic', '1245319599', 'Dr. Ben');
SELECT kalix.add_npi(:'clinic', '808401000000004', NULL, true);
SELECT kalix.add_npi(:'lab', '1234567893', 'Group NPI', true);
SELECT kalix.add_npi(:'lab', '0000000006');
CREATE TABLE public.claims (id int PRIMARY KEY, npi kalix.npi NOT NULL, also_billed kalix.npi[]);
CREATE INDEX claims_npi ON public.claims (npi);
INSERT INTO public.claims
SELECT g, (ARRAY['1234567893', '1245319599', '1000000004', '0000000006'])[g % 4 + 1]::kalix.npi,
       CASE WHEN g % 10 = 0 THEN '{9999999995, 1234567893}'::kalix.npi[] END
FROM generate_series(1, 200) AS g;
CREATE FUNCTION public.claim_label(n kalix.npi) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT ''NPI '' || n::text';
SQL
} >"$work/npi_fill.txt" 2>&1 || bail "filling the 1.0 database with NPIs failed: $(cat "$work/npi_fill.txt")"
npi_rows="SELECT account_id, npi::text, label, is_primary FROM kalix.account_npis ORDER BY 1, 2"
claim_rows="SELECT id, npi::text, also_billed::text FROM public.claims ORDER BY id"
value -d "$npi_db" -c "$npi_rows" >"$work/npi_before.txt" 2>&1 &&
    value -d "$npi_db" -c "$claim_rows" >"$work/claims_before.txt" 2>&1 || bail "reading the 1.0 NPIs failed"

value -d "$npi_db" -c "ALTER EXTENSION $ext UPDATE" >"$work/npi_required.txt" 2>&1
[ $? -ne 0 ] && grep -q 'required extension "kalix_npi" is not installed' "$work/npi_required.txt" &&
    [ "$(value -d "$npi_db" -c "SELECT extversion FROM pg_extension WHERE extname = '$ext'")" = 1.0 ]
check $? "without kalix_npi the update is refused and 1.0 stays" "$work/npi_required.txt"

value -d "$npi_db" -c "CREATE EXTENSION kalix_npi" -c "ALTER EXTENSION $ext UPDATE" >"$work/npi_refused.txt" 2>&1
status=$?
commands=$(sed -n 's/^HINT: .*UPDATE again: //p' "$work/npi_refused.txt")
[ $status -ne 0 ] &&
    grep -q '^ERROR:  type kalix.npi is still used by function public.claim_label(kalix.npi), column public.claims.npi, column public.claims.also_billed$' "$work/npi_refused.txt" &&
    [ "$commands" = "ALTER TABLE public.claims ALTER COLUMN also_billed TYPE public.npi[] USING also_billed::pg_catalog.int8[]::public.npi[]; ALTER TABLE public.claims ALTER COLUMN npi TYPE public.npi USING npi::pg_catalog.int8::public.npi;" ] &&
    [ "$(value -d "$npi_db" -c "SELECT extversion FROM pg_extension WHERE extname = '$ext'")" = 1.0 ] &&
    value -d "$npi_db" -c "$npi_rows" | diff "$work/npi_before.txt" - >>"$work/npi_refused.txt" 2>&1
check $? "user columns of kalix.npi stop the update, which names them and the exact ALTER TABLE commands; nothing changed" "$work/npi_refused.txt"

# Until the update, kalix.npi is served by kalix_accounts.so; npi by kalix_npi.so.
value -d "$npi_db" >"$work/npi_both.txt" 2>&1 <<'SQL'
SELECT '1234567893'::kalix.npi::text, kalix.npi_is_valid('1234567890'),
       (SELECT count(*) FROM public.claims WHERE npi OPERATOR(kalix.=) '1234567893'),
       '808401245319599'::npi::text, npi_is_valid('1234567893'), 1000000004::npi;
SQL
[ "$(cat "$work/npi_both.txt")" = "1234567893|f|50|1245319599|t|1000000004" ]
check $? "one session uses the 1.0 type kalix.npi and kalix_npi's npi side by side" "$work/npi_both.txt"

{
    echo "$commands" | value -d "$npi_db" && ! value -d "$npi_db" -c "ALTER EXTENSION $ext UPDATE"
} >"$work/npi_function.txt" 2>&1 &&
    grep -q '^ERROR:  type kalix.npi is still used by function public.claim_label(kalix.npi)$' "$work/npi_function.txt" &&
    grep -q '^HINT:  Drop those objects or define them over npi, then run ALTER EXTENSION kalix_accounts UPDATE again.$' "$work/npi_function.txt"
check $? "after the named commands a user function over kalix.npi still stops the update, named, with what to do" "$work/npi_function.txt"

{
    value -d "$npi_db" -c "DROP FUNCTION public.claim_label(kalix.npi)" &&
        value -d "$npi_db" -c "ALTER EXTENSION $ext UPDATE" &&
        value -d "$npi_db" -c "$npi_rows" | diff "$work/npi_before.txt" - &&
        value -d "$npi_db" -c "$claim_rows" | diff "$work/claims_before.txt" -
} >"$work/npi_update.txt" 2>&1
check $? "then the update keeps every NPI, label and primary flag, and every claim" "$work/npi_update.txt"

value -d "$npi_db" >"$work/npi_types.txt" 2>&1 <<'SQL'
SELECT a.attrelid::regclass, a.attname, format_type(a.atttypid, NULL)
FROM pg_attribute a
WHERE a.attrelid IN ('kalix.account_npis'::regclass, 'public.claims'::regclass) AND a.attname IN ('npi', 'also_billed')
ORDER BY a.attrelid::regclass::text, a.attname;
SELECT 'left: ' || x FROM (
    SELECT to_regtype('kalix.npi')::text
    UNION ALL SELECT oid::regoperator::text FROM pg_operator WHERE oprnamespace = 'kalix'::regnamespace
    UNION ALL SELECT oid::regprocedure::text FROM pg_proc
              WHERE pronamespace = 'kalix'::regnamespace AND proname LIKE 'npi%'
) AS t (x) WHERE x IS NOT NULL;
SQL
[ "$(cat "$work/npi_types.txt")" = "claims|also_billed|npi[]
claims|npi|npi
kalix.account_npis|npi|npi" ]
check $? "the columns are of npi and no kalix.npi object is left" "$work/npi_types.txt"

value -d "$npi_db" >"$work/npi_use.txt" 2>&1 <<'SQL'
SELECT set_config('kalix.current_login', (SELECT id::text FROM kalix.logins WHERE email = 'npi-owner@upgrade.example'), false) IS NOT NULL;
SELECT a.name, n.npi, n.is_primary, count(c.id) AS claims
FROM kalix.account_npis n JOIN kalix.accounts a ON a.id = n.account_id
LEFT JOIN claims c ON c.npi = n.npi
WHERE n.npi IN ('1234567893', '1000000004') GROUP BY 1, 2, 3 ORDER BY 1, 2;
SELECT kalix.primary_npi(id) FROM kalix.accounts ORDER BY name;
SELECT kalix.add_npi(id, '1999999992', 'after the update', true) FROM kalix.accounts WHERE name = 'Upgrade Lab';
SELECT kalix.primary_npi(id) FROM kalix.accounts WHERE name = 'Upgrade Lab';
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM claims WHERE npi = '1234567893';
SQL
[ "$(sed -n '2,8p' "$work/npi_use.txt")" = "Upgrade Clinic|1000000004|t|50
Upgrade Clinic|1234567893|f|50
Upgrade Lab|1234567893|t|50
1000000004
1234567893

1999999992" ] && grep -q 'Index.*claims_npi' "$work/npi_use.txt"
check $? "the updated NPIs work: joins with the converted table, primary_npi, add_npi, the rebuilt index" "$work/npi_use.txt"

snapshot "$npi_db" "$work/npi_snapshot.txt" && diff "$work/fresh.txt" "$work/npi_snapshot.txt" >"$work/npi_snapshot.diff" 2>&1
check $? "the filled 1.0 database updated to $default equals a fresh install" "$work/npi_snapshot.diff"

echo "# $npaths update paths tested"
exit $((failed > 0))
