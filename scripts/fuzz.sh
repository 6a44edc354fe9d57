#!/usr/bin/env bash
# Builds and runs every cargo-fuzz target in fuzz/ (docs/protocol.md, "Fuzzing") for a while each:
#
#   scripts/fuzz.sh [seconds-per-target]      # default 30
#
# Installs cargo-fuzz from crates.io when it is missing. Works on the stable toolchain:
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address, coverage instrumentation), which
# RUSTC_BOOTSTRAP=1 allows. Builds go to $FUZZ_TARGET_DIR (default
# ~/.cache/switchboard/fuzz-target), never to the workspace's target directory: the instrumented
# builds would otherwise throw away its cache. On a busy machine set CARGO_BUILD_JOBS=1.
#
# Every target runs even when an earlier one crashed; the script then exits 1 and lists where
# libFuzzer saved each crashing input (fuzz/artifacts/<target>/) with the command that replays it.
# Inputs that find new coverage are added to fuzz/corpus/<target>/ (ignored by git except seed-*).
set -euo pipefail

seconds="${1:-30}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [seconds-per-target]   (a positive integer, default 30)" >&2
    exit 64
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
targets=(frame_parse frame_roundtrip session_sequence)
# Largest input tried: a little more than SWITCHBOARD_WS_MAX_FRAME_BYTES (65536).
max_len=70000

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    # A tool, not part of the build: let cargo install use its own temporary target directory.
    env -u CARGO_TARGET_DIR cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/switchboard/fuzz-target}"
logs="$CARGO_TARGET_DIR/fuzz-logs"
mkdir -p "$logs"
cd "$root"

started=$SECONDS
# -a: debug assertions on, so integer overflow in gateway code is a crash, not a wrap.
fuzz_flags=(--fuzz-dir fuzz --debug-assertions)
echo "fuzz: building ${targets[*]} (target dir $CARGO_TARGET_DIR)" >&2
cargo fuzz build "${fuzz_flags[@]}"
echo "fuzz: built in $((SECONDS - started)) s" >&2

failed=()
for target in "${targets[@]}"; do
    echo "fuzz: running $target for ${seconds} s" >&2
    log="$logs/$target.log"
    if cargo fuzz run "${fuzz_flags[@]}" "$target" -- \
        -max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1 \
        >"$log" 2>&1; then
        # The last status line: executions, coverage (cov), features (ft), corpus size, exec/s.
        grep -E '^#[0-9]+' "$log" | tail -n 1 >&2 || true
        grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" >&2 || true
    else
        failed+=("$target")
        # The panic (or sanitizer report); a build or harness error has neither, so show the end.
        report=$(grep -E -A4 'panicked at|==ERROR|^SUMMARY' "$log" || true)
        if [[ -n "$report" ]]; then head -n 30 <<<"$report" >&2; else tail -n 30 "$log" >&2; fi
        echo "fuzz: $target FAILED (full log: $log)" >&2
    fi
done

echo "fuzz: done in $((SECONDS - started)) s" >&2
if ((${#failed[@]} > 0)); then
    for target in "${failed[@]}"; do
        artifacts=$(grep -oE 'Test unit written to [^ ]+' "$logs/$target.log" | sed 's/^Test unit written to //' || true)
        if [[ -n "$artifacts" ]]; then
            while read -r artifact; do
                echo "fuzz: $target crashing input saved to $artifact" >&2
                echo "      replay (from $root): RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$CARGO_TARGET_DIR cargo fuzz run ${fuzz_flags[*]} $target $artifact" >&2
            done <<<"$artifacts"
        else
            echo "fuzz: $target failed without a saved input (build or harness error); see $logs/$target.log" >&2
        fi
    done
    exit 1
fi
