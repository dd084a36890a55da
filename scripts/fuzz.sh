#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ against the package's sources and runs each for a
# given time, printing executions, seconds and coverage (libFuzzer's cov: edges, ft: features).
#
#   scripts/fuzz.sh [seconds] [idx] [history] [json] [images]   (default: 60 s each, all four)
#
# Every harness calls the entry points of Tests/lpomTests/FuzzTargets.swift, the same ones
# FuzzRegressionTests replays. The corpus is fuzz/corpus/<name>/ (seeds; new inputs go to
# .build-fuzz/corpus/<name>/, not into the repository); crashers are written to
# .build-fuzz/crashes/<name>/ — minimise one with `.build-fuzz/<name>-fuzz -minimize_crash=1
# -runs=10000 <crash>` and keep it in data/fuzz-regressions/<name>/. Extra libFuzzer flags:
# FUZZ_FLAGS="-jobs=2 …". The test command (scripts/test.sh) only replays, it never fuzzes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SECONDS_EACH="${1:-60}"
shift || true
NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=(idx history json images)
OUT="$ROOT/.build-fuzz"
mkdir -p "$OUT"

# Swift's argument parser: SwiftPM's checkout of the version Package.swift asks for.
AP="$ROOT/.build/checkouts/swift-argument-parser/Sources"
[ -d "$AP" ] || swift package resolve >/dev/null
# The C libraries as Package.swift finds them: module maps in Sources/C*, flags from pkg-config.
CFLAGS=()
for flag in $(pkg-config --cflags-only-I hdf5 openblas lapacke zlib ompi-c); do CFLAGS+=(-Xcc "$flag"); done
for m in CBLAS CHDF5 CLAPACKE CZlib CMPI; do CFLAGS+=(-I "Sources/$m"); done
read -r -a LIBS <<< "$(pkg-config --libs hdf5 openblas lapacke zlib ompi-c)"
SAN=(-sanitize=fuzzer,address)
# Swift traps are reported by libFuzzer; the Swift runtime's own backtracer would trip ASan.
export SWIFT_BACKTRACE=enable=no
# An impossible allocation returns NULL, as glibc's malloc does outside the fuzzer (HDF5 asks for
# sizes read from damaged files and reports the failure); libFuzzer still flags every allocation
# above -malloc_limit_mb.
export ASAN_OPTIONS="allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$ROOT/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

# Compiles one module (whole-module, -O: Swift's overflow, bounds and unwrap checks stay on)
# into $OUT/<name>.o and its .swiftmodule, unless they are newer than every source and every module
# compiled before it in the list below.
BUILT=()
module() {
    local name=$1 flags=$2; shift 2
    local obj="$OUT/$name.o" newer
    # Rebuilt when a source or a module compiled before it (a possible dependency) is newer.
    newer=$(find "$@" ${BUILT[@]+"${BUILT[@]}"} -newer "$obj" 2>/dev/null | head -n 1 || true)
    BUILT+=("$obj")
    if [ -f "$obj" ] && [ -z "$newer" ]; then return; fi
    echo "fuzz: compiling $name" >&2
    local extra=()
    [ "$flags" = instrumented ] && extra=("${SAN[@]}")
    [ "$flags" = instrumented-testable ] && extra=("${SAN[@]}" -enable-testing
        -Xfrontend -entry-point-function-name -Xfrontend lpom_main)
    [ "$flags" = swift6 ] && extra=(-swift-version 6)
    local files=()
    while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$@" -name '*.swift' -print0 | sort -z)
    swiftc -parse-as-library -module-name "$name" -wmo -O -gline-tables-only -suppress-warnings -I "$OUT" "${CFLAGS[@]}" \
        ${extra[@]+"${extra[@]}"} -emit-module -emit-module-path "$OUT/$name.swiftmodule" -c -o "$obj" "${files[@]}"
}

module ArgumentParserToolInfo swift6 "$AP/ArgumentParserToolInfo"
module ArgumentParser swift6 "$AP/ArgumentParser"
module JSONValues instrumented Sources/JSONValues
module HistoryStore instrumented Sources/HistoryStore
module ImageData instrumented Sources/ImageData
module LiftedTrain instrumented Sources/LiftedTrain
module LiftedHistory instrumented Sources/LiftedHistory
module ArchFromOpt instrumented Sources/ArchFromOpt
module Surfing plain Sources/Surfing
module MPITransport plain Sources/MPITransport
module lpom instrumented-testable Sources/lpom
OBJECTS=("$OUT"/{ArgumentParserToolInfo,ArgumentParser,JSONValues,HistoryStore,ImageData,LiftedTrain,LiftedHistory,ArchFromOpt,Surfing,MPITransport,lpom}.o)

harness_file() {
    case $1 in idx) echo fuzz/IDXFuzz.swift;; history) echo fuzz/HistoryFuzz.swift;; json) echo fuzz/JSONFuzz.swift;;
        images) echo fuzz/ImageFilesFuzz.swift;;
        *) echo "fuzz: unknown harness '$1' (expected idx, history, json or images)" >&2; exit 2;; esac
}
# Per-harness libFuzzer limits: inputs larger than the biggest seed are rarely useful; any
# allocation above the limit is reported as a crash (sizes read from input must be checked).
harness_flags() {
    case $1 in
        idx) echo "-max_len=8192 -malloc_limit_mb=256 -timeout=10";;
        images) echo "-max_len=8192 -malloc_limit_mb=256 -timeout=10";;
        # HDF5 1.10's C code can still crash or hang on some damaged files (README, "Fuzzing"):
        # the history fuzzer runs in fork mode, goes on past them, and they are sorted below.
        history) echo "-max_len=65536 -malloc_limit_mb=512 -timeout=20 -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1";;
        json) echo "-max_len=8192 -malloc_limit_mb=512 -timeout=10 -dict=fuzz/json.dict";;
    esac
}

summary=()
for name in "${NAMES[@]}"; do
    src=$(harness_file "$name")
    bin="$OUT/$name-fuzz"
    if [ ! -x "$bin" ] || [ -n "$(find "$src" Tests/lpomTests/FuzzTargets.swift "${OBJECTS[@]}" -newer "$bin" | head -n 1)" ]; then
        echo "fuzz: linking $name-fuzz" >&2
        swiftc -parse-as-library -module-name "Fuzz_$name" -O -gline-tables-only -I "$OUT" "${CFLAGS[@]}" "${SAN[@]}" \
            "$src" Tests/lpomTests/FuzzTargets.swift "${OBJECTS[@]}" "${LIBS[@]}" -o "$bin" 2> >(grep -v "Cannot export local symbol" >&2)
    fi
    corpus="$OUT/corpus/$name" crashes="$OUT/crashes/$name/"
    mkdir -p "$corpus" "$crashes"
    touch "$OUT/started-$name"
    log="$OUT/$name.log"
    echo "fuzz: running $name for $SECONDS_EACH s (log $log)" >&2
    # shellcheck disable=SC2046
    set +e
    "$bin" "$corpus" "fuzz/corpus/$name" -max_total_time="$SECONDS_EACH" -artifact_prefix="$crashes" \
        -print_final_stats=1 $(harness_flags "$name") ${FUZZ_FLAGS:-} > "$log" 2>&1
    rc=$?
    set -e
    # The last status line: "#N ... cov: C ft: F" (or "#N: cov: C ft: F ... time: Ts" in fork mode).
    last=$(grep -E "^#[0-9]+:?[[:space:]].*cov: " "$log" | tail -n 1 || true)
    runs=$(echo "$last" | grep -oE "^#[0-9]+" | tr -d '#' || true)
    secs=$(grep -oE "Done [0-9]+ runs in [0-9]+ second|exiting: [0-9]+ time: [0-9]+s" "$log" | grep -oE "[0-9]+( second|s)$" | grep -oE "[0-9]+" || true)
    cov=$(echo "$last" | grep -oE "cov: [0-9]+" | awk '{print $2}' || true)
    ft=$(echo "$last" | grep -oE "ft: [0-9]+" | awk '{print $2}' || true)
    # Crashers, sorted by where they happen: the innermost frame in lpom's code (to fix) or inside
    # libhdf5 (HDF5's own), or not reproduced when replayed alone (HDF5's wild writes can crash a
    # later input of the same fork job).
    ours=0 hdf5=0 gone=0
    while IFS= read -r -d '' f; do
        trace=$("$bin" -timeout=5 $(harness_flags "$name" | sed 's/-fork=[0-9]*//; s/-ignore_[a-z]*=1//g') "$f" 2>&1 || true)
        first=$(echo "$trace" | grep -E "^ +#[0-9]+ " | grep -E "libhdf5|$ROOT/(Sources|Tests|fuzz)/" | head -n 1 || true)
        if ! echo "$trace" | grep -qE "ERROR: |deadly signal"; then gone=$((gone + 1))
        elif echo "$first" | grep -q "libhdf5"; then hdf5=$((hdf5 + 1))
        else ours=$((ours + 1)); fi
    done < <(find "$crashes" -type f -newer "$OUT/started-$name" -print0)
    line="$name: ${runs:-?} executions in ${secs:-?} s, cov ${cov:-?}, ft ${ft:-?}; new crashers in $crashes: $ours in lpom's code, $hdf5 inside libhdf5, $gone not reproduced (exit $rc)"
    echo "$line"
    summary+=("$line")
done
echo "fuzz: done"
for l in "${summary[@]}"; do echo "  $l"; done
