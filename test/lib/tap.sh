# TAP helpers shared by the test/*.sh scripts (sourced, not run by prove):
# a counter, check STATUS NAME [DIAGNOSTIC FILE], skip REASON and bail.
n=0
failed=0

# Prints one test line: ok when STATUS is 0, else not ok with the file's
# first lines as diagnostics.
check() {  # check STATUS NAME [DIAGNOSTIC FILE]
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        failed=$((failed + 1))
        echo "not ok $n - $2"
        [ -n "${3:-}" ] && [ -s "$3" ] && sed 's/^/# /' "$3" | head -60
    fi
}

# Prints a test line that was skipped, with the reason.
skip() {  # skip REASON
    n=$((n + 1))
    echo "ok $n # SKIP $1"
}

# Stops the whole run: its set-up failed.
bail() { echo "Bail out! $*"; exit 1; }
