#!/usr/bin/env bash
# Run the default project's own `make test` many times in a row, to catch flaky tests.
#
#   tests/stress_generated_suite.sh                 10 runs on SQLite
#   tests/stress_generated_suite.sh --runs 3        3 runs
#   tests/stress_generated_suite.sh --with-load     10 runs while a second bake runs its own
#                                                   `make test` over and over (on SQLite), so
#                                                   the two suites fight for the CPU
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/stress tests/stress_generated_suite.sh --runs 1
#                                                   the runs on PostgreSQL (the load stays on SQLite)
#
# It bakes the default answers once (with this template's .venv, `make install` first),
# installs the project, then runs `make test` up to N times and stops at the first failure,
# naming the run and its log. Every run's output is kept in the work folder (a new one under
# /tmp unless --dir is given; --keep leaves it there after a success too). Not collected by
# pytest: a run takes minutes, and it is for chasing flakiness, not for every `make test`.

set -euo pipefail

TEMPLATE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=10
WITH_LOAD=0
KEEP=0
WORK=""
RUN_TIMEOUT=1800

usage() {
    sed -n '2,16s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
    echo "Options: --runs N (10)  --with-load  --dir DIR  --keep  --timeout SECONDS per run (1800)"
}

while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --with-load) WITH_LOAD=1; shift ;;
        --dir) WORK="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --timeout) RUN_TIMEOUT="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "Unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$RUNS" in ''|*[!0-9]*|0) echo "--runs needs a positive number, not '$RUNS'" >&2; exit 2 ;; esac

if [ -z "$WORK" ]; then
    WORK="$(mktemp -d /tmp/stress-generated-suite.XXXXXX)"
else
    mkdir -p "$WORK"
    WORK="$(cd "$WORK" && pwd)"
fi
# The generated Makefiles use uv when it is on PATH, as `make test` of the template does.
export PATH="$TEMPLATE_DIR/.venv/bin:$PATH"

LOAD_PID=""
stop_load() {
    if [ -n "$LOAD_PID" ]; then
        # The load runs in a session of its own: end its whole process group.
        kill -TERM -- "-$LOAD_PID" 2>/dev/null || true
        wait "$LOAD_PID" 2>/dev/null || true
        LOAD_PID=""
    fi
}
trap stop_load EXIT
trap 'exit 130' INT TERM

bake() {  # bake <folder>: the default project in <folder>/realtime_site, installed
    rm -rf "$1"
    "$TEMPLATE_DIR/.venv/bin/cookiecutter" --no-input --output-dir "$1" "$TEMPLATE_DIR" >/dev/null
    make -C "$1/realtime_site" install browser >"$1.install.log" 2>&1 || {
        echo "Installing the project baked in $1 failed; see $1.install.log" >&2
        exit 1
    }
}

make -C "$TEMPLATE_DIR" install >/dev/null
echo "Work folder: $WORK"
echo "Database: ${DATABASE_URL:-SQLite (DATABASE_URL not set)}"
bake "$WORK/bake"
PROJECT="$WORK/bake/realtime_site"

if [ "$WITH_LOAD" = 1 ]; then
    bake "$WORK/load"
    # Its own `make test` over and over, on SQLite whatever DATABASE_URL says (two suites
    # must not share one PostgreSQL test database). Its results are counted, not judged.
    # shellcheck disable=SC2016  # $1 and $2 are the inner script's arguments
    setsid env -u DATABASE_URL bash -c '
        cd "$1"; n=0
        while :; do
            n=$((n + 1))
            if make test >"$2/load-run-$n.log" 2>&1; then echo "load run $n: passed"; else echo "load run $n: FAILED"; fi >>"$2/load.txt"
        done' load "$WORK/load/realtime_site" "$WORK" &
    LOAD_PID=$!
    echo "Load: a second bake's make test in a loop (process group $LOAD_PID, results in $WORK/load.txt)"
fi

load_tally() {  # "<passed> run(s) passed, <failed> failed" from load.txt
    local passed=0 failed=0
    if [ -f "$WORK/load.txt" ]; then
        passed=$(grep -c ': passed$' "$WORK/load.txt" || true)
        failed=$(grep -c ': FAILED$' "$WORK/load.txt" || true)
    fi
    echo "$passed run(s) passed, $failed failed"
}

summary() {  # the last line pytest printed, e.g. "=== 705 passed in 120.5s ==="
    grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' "$1" | tail -n 1 || true
}

for run in $(seq 1 "$RUNS"); do
    log="$WORK/run-$run.log"
    started=$SECONDS
    status=0
    timeout "$RUN_TIMEOUT" make -C "$PROJECT" test >"$log" 2>&1 || status=$?
    elapsed=$((SECONDS - started))
    if [ "$status" != 0 ]; then
        echo "run $run/$RUNS: FAILED (exit $status$([ "$status" = 124 ] && echo ", timed out") after ${elapsed}s): $(summary "$log")"
        grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/    /' || true
        echo "Log: $log"
        if [ "$WITH_LOAD" = 1 ]; then echo "Load meanwhile: $(load_tally)"; fi
        exit 1
    fi
    echo "run $run/$RUNS: passed in ${elapsed}s: $(summary "$log")"
done

echo "All $RUNS runs passed."
if [ "$WITH_LOAD" = 1 ]; then
    stop_load
    echo "Load meanwhile: $(load_tally) (the unfinished one not counted)"
fi
if [ "$KEEP" = 1 ]; then
    echo "Kept: $WORK"
else
    rm -rf "$WORK"
fi
