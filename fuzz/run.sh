#!/bin/sh
# Builds the libFuzzer harness of the NPI validator with address and
# undefined-behaviour sanitizers and runs it; arguments go to libFuzzer.
#   fuzz/run.sh -runs=100000          quick check (seconds; suitable for CI)
#   fuzz/run.sh -max_total_time=600   ten-minute run
# The corpus grows in fuzz/corpus/ (seeded from fuzz/seeds/); crashes are
# written as fuzz/crash-*.
set -eu
cd "$(dirname "$0")"
CC=${CC:-clang}
$CC -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I../src -o npi_fuzz npi_fuzz.c ../src/npi_parse.c
mkdir -p corpus
exec ./npi_fuzz -artifact_prefix=./ -print_final_stats=1 "$@" corpus seeds
