#!/bin/bash
# TAP: the README cannot drift from what the code does.
#   - Every ```sql block of README.md is marked (docs/testing.md, "The README's
#     snippets"): "<!-- test -->" blocks run in order, in one psql session, in
#     a database of their own, with ON_ERROR_STOP; a "<!-- test error SQLSTATE
#     -->" block must raise exactly one error, with that SQLSTATE, and the
#     "-- ERROR:", "-- DETAIL:" and "-- HINT:" lines it shows must be what the
#     server said ("…" stands for any text); "<!-- no test: why -->" says why a
#     block cannot run here.
#   - A "<!-- excerpt FILE -->" block (Python, JavaScript) is a piece of FILE:
#     its lines appear there in the same order ("..." skips).
#   - The Reference's error table is src/errors.c's catalogue: every message
#     there, and expected/errors.out's rows (sql/errors.sql) exactly.
#   - Every kalix function not commented as internal is in the Reference.
#   - The README names no SPEC file (it does not ship).
#   - examples/demo.sql, what `make demo` runs, runs with ON_ERROR_STOP.
# Runs as superuser against the PG* server; drops its databases and the
# roles the snippets and the demo create.
set -u
cd "$(dirname "$0")/.."

db=kalix_readme
demo_db=kalix_readme_demo
work=$(mktemp -d)
# The roles README.md's snippets and examples/demo.sql create.
roles=$(grep -ohE '^CREATE ROLE [a-z_]+' README.md examples/demo.sql | awk '{print $3}' | sort -u | tr '\n' ' ')

drop_all() {
    psql -X -q -d postgres >/dev/null 2>&1 <<SQL
DROP DATABASE IF EXISTS $db WITH (FORCE);
DROP DATABASE IF EXISTS $demo_db WITH (FORCE);
DO \$\$
DECLARE
    r name;
BEGIN
    FOR r IN SELECT rolname FROM pg_roles WHERE rolname = ANY (string_to_array('$roles', ' ')) LOOP
        EXECUTE format('REVOKE SET ON PARAMETER kalix.current_login FROM %I', r);
        EXECUTE format('DROP ROLE %I', r);
    END LOOP;
END
\$\$;
SQL
}
cleanup() {
    drop_all
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

. test/lib/tap.sh

drop_all
createdb "$db" 2>"$work/setup.err" || bail "createdb failed: $(head -3 "$work/setup.err")"

# Reads README.md's marked blocks: writes the psql script of the SQL ones
# and the list of what each must do; checks markers and excerpts.
/usr/bin/python3 - README.md "$work" <<'PY'
import json, re, sys

readme, work = sys.argv[1], sys.argv[2]
lines = open(readme, encoding="utf-8").read().split("\n")
blocks, problems = [], []
marker = None
i = 0
while i < len(lines):
    line = lines[i]
    m = re.match(r"^<!-- (test|test error [0-9A-Z]{5}|no test: .+|excerpt \S+) -->\s*$", line)
    if m:
        marker = (m.group(1), i + 1)
        i += 1
        continue
    m = re.match(r"^(\s*)```(\w*)\s*$", line)
    if m:
        indent, lang, start, body = m.group(1), m.group(2), i + 1, []
        i += 1
        while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        if marker and marker[1] != start - 1:
            problems.append(f"line {marker[1]}: marker not directly above a block")
            marker = None
        if marker is None:
            if lang == "sql":
                problems.append(f"line {start}: ```sql block without a marker (test, test error, no test)")
            continue
        kind = marker[0]
        marker = None
        if kind.startswith("excerpt "):
            blocks.append({"kind": "excerpt", "line": start, "file": kind.split(" ", 1)[1], "body": body})
        elif kind.startswith("no test"):
            pass
        elif lang != "sql":
            problems.append(f"line {start}: a test marker above a ```{lang} block")
        elif kind == "test":
            blocks.append({"kind": "test", "line": start, "sql": "\n".join(body)})
        else:
            expect = [(t, s) for t, s in (re.match(r"^\s*-- (ERROR|DETAIL|HINT):\s+(.*)$", b).groups()
                      for b in body if re.match(r"^\s*-- (ERROR|DETAIL|HINT):", b))]
            blocks.append({"kind": "error", "line": start, "sql": "\n".join(body),
                           "sqlstate": kind.split()[-1], "expect": expect})
        continue
    i += 1
if marker:
    problems.append(f"line {marker[1]}: marker not directly above a block")

# The psql script: each block announced on stderr, where errors go too.
with open(f"{work}/snippets.sql", "w") as out:
    out.write("\\set ON_ERROR_STOP 1\n\\set VERBOSITY verbose\n\\set SHOW_CONTEXT never\n")
    for n, b in enumerate(blocks):
        if b["kind"] == "excerpt":
            continue
        out.write(f"\\warn '@@block {n}'\n")
        if b["kind"] == "error":
            out.write("\\set ON_ERROR_STOP 0\n")
        out.write(b["sql"] + "\n")
        if b["kind"] == "error":
            out.write("\\set ON_ERROR_STOP 1\n")
    out.write("\\warn '@@end'\n")

# Excerpts: every line, trimmed, in the file in the same order.
excerpts = []
for b in blocks:
    if b["kind"] != "excerpt":
        continue
    try:
        have = [l.strip() for l in open(b["file"], encoding="utf-8")]
    except OSError as e:
        excerpts.append(f"line {b['line']}: {e}")
        continue
    pos = 0
    for l in b["body"]:
        l = l.strip()
        if not l or l in ("...", "# ...", "// ..."):
            continue
        try:
            pos = have.index(l, pos) + 1
        except ValueError:
            excerpts.append(f"line {b['line']}: not in {b['file']} (in this order): {l}")
            break
json.dump({"blocks": blocks, "problems": problems, "excerpts": excerpts},
          open(f"{work}/blocks.json", "w"))
PY
[ $? -eq 0 ] || bail "could not read README.md"

# Prints the problems of list $1 of blocks.json.
listed() { /usr/bin/python3 -c 'import json,sys; sys.stdout.write("".join(p + "\n" for p in json.load(open(sys.argv[1]))[sys.argv[2]]))' "$work/blocks.json" "$1"; }

echo "1..8"
listed problems >"$work/problems"
[ ! -s "$work/problems" ]; check $? "every sql block of README.md is marked (test, test error, no test)" "$work/problems"

psql -X -q -d "$db" -f "$work/snippets.sql" >"$work/stdout" 2>"$work/stderr"
echo "psql exit $?" >>"$work/stderr"
# KALIX_README_OUT=DIR keeps what the snippets printed, to read their results.
[ -z "${KALIX_README_OUT:-}" ] || cp "$work/stdout" "$work/stderr" "$KALIX_README_OUT"

# Compares what each block raised with what it should.
/usr/bin/python3 - "$work" >"$work/verdict" <<'PY'
import json, re, sys

work = sys.argv[1]
blocks = json.load(open(f"{work}/blocks.json"))["blocks"]
err = open(f"{work}/stderr", encoding="utf-8", errors="replace").read().split("\n")
seen, current = {}, None
for l in err:
    m = re.match(r"^@@block (\d+)$", l)
    if m:
        current = int(m.group(1))
        seen[current] = []
        continue
    if l == "@@end":
        current = "end"
        continue
    if current is not None and current != "end":
        seen[current].append(l)
bad = []
for n, b in enumerate(blocks):
    if b["kind"] == "excerpt":
        continue
    where = f"README.md line {b['line']}"
    if n not in seen:
        bad.append(f"{where}: never ran; psql ended with: " + " / ".join(l for l in err[-8:] if l))
        break
    out = seen[n]
    errors = [re.match(r"^(?:psql:[^ ]*: )?ERROR:  ([0-9A-Z]{5}): (.*)$", l) for l in out]
    errors = [e for e in errors if e]
    if b["kind"] == "test":
        if errors or any(re.search(r"\bERROR:", l) for l in out):
            bad.append(f"{where}: " + " / ".join(out[:6]))
        continue
    if len(errors) != 1:
        bad.append(f"{where}: expected one error {b['sqlstate']}, got {len(errors)}: " + " / ".join(out[:6]))
        continue
    if errors[0].group(1) != b["sqlstate"]:
        bad.append(f"{where}: SQLSTATE {errors[0].group(1)}, the README says {b['sqlstate']}: {errors[0].group(2)}")
    said = {"ERROR": errors[0].group(2)}
    for l in out:
        m = re.match(r"^(DETAIL|HINT):  (.*)$", l)
        if m:
            said[m.group(1)] = m.group(2)
    if not b["expect"]:
        bad.append(f"{where}: an error block shows no -- ERROR: line")
    for kind, text in b["expect"]:
        pattern = "^" + ".*?".join(re.escape(p) for p in text.split("…")) + "$"
        if not re.match(pattern, said.get(kind, "")):
            bad.append(f"{where}: {kind} is {said.get(kind)!r}, the README says {text!r}")
if not bad and (current != "end" or "psql exit 0" not in err):
    bad.append("psql did not run the script to its end: " + " / ".join(l for l in err[-5:] if l))
sys.stdout.write("".join(b + "\n" for b in bad))
PY
[ ! -s "$work/verdict" ]; check $? "README.md's SQL blocks run in order and raise exactly the errors they show" "$work/verdict"

listed excerpts >"$work/excerpts"
[ ! -s "$work/excerpts" ]; check $? "README.md's Python and JavaScript blocks are excerpts of the examples they name" "$work/excerpts"

# The error table of the Reference against the catalogue's frozen output.
/usr/bin/python3 - >"$work/catalogue" <<'PY'
import re

uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
rows, on = set(), False
for l in open("expected/errors.out", encoding="utf-8"):
    l = l.rstrip("\n")
    if re.match(r"^condition \| (sqlstate|code) \|", l):
        on = True
        continue
    if on and re.match(r"^(ROLLBACK|COMMIT);", l):
        on = False
    if on:
        cells = [uuid.sub("…", c.strip()) for c in l.split(" | ")]
        rows.add(tuple(cells[1:5] + [""] * (4 - len(cells[1:5]))))
text = open("README.md", encoding="utf-8").read()
section = re.search(r"^### Errors\n(.*?)(?=^#)", text, re.S | re.M)
table = set()
for l in (section.group(1) if section else "").split("\n"):
    cells = [c.strip().strip("`") for c in l.strip().strip("|").split("|")]
    if len(cells) == 5 and re.match(r"^[0-9A-Z]{5}$", cells[1]):
        table.add(tuple(cells[1:5]))
for r in sorted(rows - table):
    print("missing from README.md: " + " | ".join(r))
# The conditions errors.out does not show: each part matches src/errors.c's
# format strings ("%s" for any text), and every message there is in the table.
source = open("src/errors.c", encoding="utf-8").read()
def formats(call):
    found = re.findall(call + r'\("((?:[^"\\]|\\.)*)"', source)
    return [re.compile("^" + ".*".join(re.escape(p.replace('\\"', '"')) for p in re.split(r"%[a-z]+", f)) + "$")
            for f in found]
known = {"msg": formats("errmsg"), "detail": formats("errdetail"), "hint": formats("errhint")}
plain = lambda t: t.replace("…", "x")
for r in sorted(table - rows):
    for part, text in zip(("msg", "detail", "hint"), r[1:]):
        if text and not any(k.match(plain(text)) for k in known[part]):
            print(f"not in expected/errors.out, and its {part} is not in src/errors.c: " + " | ".join(r))
for k in known["msg"]:
    if not any(k.match(plain(r[1])) for r in table):
        print("a message of src/errors.c missing from README.md: " + k.pattern)
PY
[ ! -s "$work/catalogue" ]; check $? "the Reference's error table is src/errors.c's catalogue (expected/errors.out's rows exactly)" "$work/catalogue"

psql -X -At -d "$db" -c "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'kalix'::regnamespace
    AND coalesce(obj_description(p.oid, 'pg_proc'), '') NOT LIKE 'internal: %' ORDER BY 1" >"$work/functions" 2>&1
sed -n '/^## Reference/,/^## [^R]/p' README.md >"$work/reference"
while read -r f; do grep -q "$f(" "$work/reference" || echo "$f"; done <"$work/functions" >"$work/undocumented"
[ -s "$work/functions" ] && [ ! -s "$work/undocumented" ]
check $? "every kalix function not commented as internal is in the Reference" "$work/undocumented"

grep -n "SPEC" README.md >"$work/spec"
[ ! -s "$work/spec" ]; check $? "README.md names no SPEC file" "$work/spec"

psql -X -q -d postgres -c "DROP DATABASE $db" >/dev/null 2>&1
drop_all
createdb "$demo_db" &&
    psql -X -q -d "$demo_db" -v ON_ERROR_STOP=1 -f examples/demo.sql >"$work/demo.out" 2>&1
check $? "examples/demo.sql (make demo) runs to its end" "$work/demo.out"

grep -c "^DETAIL:\|^HINT:" "$work/demo.out" >"$work/demo.count"
[ "$(cat "$work/demo.count")" -gt 0 ]
check $? "make demo shows the DETAIL and HINT of its errors ($(cat "$work/demo.count") lines)" "$work/demo.out"
[ "$failed" -eq 0 ]
