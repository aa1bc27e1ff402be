#!/bin/bash
# TAP: the property check of the npi type (extension kalix_npi), out of
# pg_regress because it takes seconds: for 100,000 random 9-digit stems
# exactly one of the ten candidate last digits is valid; it is the Luhn digit
# computed in SQL independently of the C code; the type accepts it (and
# prints it back unchanged) and rejects the other nine, and npi_is_valid()
# agrees with the type on all ten.  fuzz/run.sh checks the same promises on
# the C validator alone.  Runs as superuser against the PG* server, in a
# database of its own without kalix_accounts.
set -u
cd "$(dirname "$0")/.."

db=kalix_npi_property
stems=100000
work=$(mktemp -d)

value() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP


. test/lib/tap.sh

echo "1..3"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>"$work/setup.err" &&
    value -d "$db" -c "CREATE EXTENSION kalix_npi" >/dev/null 2>>"$work/setup.err" ||
    { cat "$work/setup.err" >&2; bail "setup failed"; }

value -d "$db" >"$work/functions.err" 2>&1 <<'SQL'
CREATE FUNCTION npi_test_luhn(stem bigint) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT (10 - (24 + sum(CASE WHEN i % 2 = 1
                                THEN (2 * d) / 10 + (2 * d) % 10
                                ELSE d END)) % 10) % 10
    FROM (SELECT i, substr(lpad(stem::text, 9, '0'), 10 - i, 1)::integer AS d
          FROM generate_series(1, 9) AS i) AS digits
$$;
CREATE FUNCTION npi_test_property(stems integer)
RETURNS TABLE (stems_tested integer, exactly_one_valid integer, luhn_agrees integer,
               type_accepts integer, type_rejects integer)
LANGUAGE plpgsql AS $$
DECLARE
    stem bigint;
    candidate text;
    valid_digit integer;
    nvalid integer;
    v npi;
BEGIN
    stems_tested := 0; exactly_one_valid := 0; luhn_agrees := 0;
    type_accepts := 0; type_rejects := 0;
    FOR stem IN SELECT floor(random() * 1000000000)::bigint FROM generate_series(1, stems)
    LOOP
        stems_tested := stems_tested + 1;
        nvalid := 0;
        FOR d IN 0..9 LOOP
            candidate := lpad(stem::text, 9, '0') || d;
            IF npi_is_valid(candidate) THEN
                nvalid := nvalid + 1;
                valid_digit := d;
            END IF;
            BEGIN
                v := candidate::npi;
                IF v::text = candidate AND npi_is_valid(candidate) THEN
                    type_accepts := type_accepts + 1;
                END IF;
            EXCEPTION WHEN invalid_text_representation THEN
                IF NOT npi_is_valid(candidate) THEN
                    type_rejects := type_rejects + 1;
                END IF;
            END;
        END LOOP;
        IF nvalid = 1 THEN
            exactly_one_valid := exactly_one_valid + 1;
            IF valid_digit = npi_test_luhn(stem) THEN
                luhn_agrees := luhn_agrees + 1;
            END IF;
        END IF;
    END LOOP;
    RETURN NEXT;
END
$$;
SQL
[ $? -eq 0 ] || { cat "$work/functions.err" >&2; bail "creating the property functions failed"; }

oracle=$(value -d "$db" -c "SELECT npi_test_luhn(123456789)" 2>&1)
[ "$oracle" = 3 ] && [ "$(value -d "$db" -c "SELECT npi_is_valid('1234567893')")" = t ]
check $? "the SQL oracle knows the published example: 123456789 has check digit 3 (got $oracle)"

value -d "$db" -F ' ' -c "SELECT setseed(0.2024)" -c "SELECT * FROM npi_test_property($stems)" >"$work/property.txt" 2>&1
read -r tested one agrees accepts rejects <<EOF
$(tail -n 1 "$work/property.txt")
EOF
[ "${tested:-}" = "$stems" ] && [ "${one:-}" = "$stems" ] && [ "${agrees:-}" = "$stems" ]
check $? "$stems random stems: exactly one valid last digit each, the Luhn digit of the SQL oracle ($(tail -n 1 "$work/property.txt"))" "$work/property.txt"
[ "${accepts:-}" = "$stems" ] && [ "${rejects:-}" = "$((9 * stems))" ]
check $? "the type accepts the $stems valid candidates and rejects the $((9 * stems)) others, as npi_is_valid() says" "$work/property.txt"

exit $((failed > 0))
