#!/usr/bin/env bash
# dev.sh - the README's Quick start: set up, build, and run pprobe or its tests.
#
#   ./dev.sh demo   build, start a bundled CPU-burning workload, profile it for
#                   5 seconds, print the top functions and where the profile is
#   ./dev.sh test   build and run the whole test suite (normal build), then
#                   under AddressSanitizer+UndefinedBehaviorSanitizer the unit
#                   and corpus tests and the integration tests labelled asan
#   ./dev.sh soak N build, then run the integration tests N times while a CPU
#                   hog runs on every core; print each test that failed at
#                   least once, with its count (exit 1 if any did);
#                   SOAK_TESTS=REGEX runs only the tests it matches
#
# Both install missing Debian packages first (needs root, as pprobe does).
set -euo pipefail
cd "$(dirname "$0")"

# What pprobe and its demo build with, and what only the tests use (real
# clients and oracles: go tool pprof, gdb, eu-stack, perf's peers, a browser
# for the SVG, shells for the completions).
BUILD_PACKAGES=(build-essential cmake pkg-config libunwind-dev libdw-dev libelf-dev
  libprotobuf-c-dev protobuf-c-compiler zlib1g-dev libdebuginfod-dev)
TEST_PACKAGES=(golang-go python3 strace gdb elfutils chromium zsh fish groff-base tmux libc6-dbg
  musl-tools debuginfod)

deps() { # deps PACKAGE...
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "dev.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

build() { # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPPROBE_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
}

demo() {
  deps "${BUILD_PACKAGES[@]}"
  build build >/dev/null
  ./build/fixtures/burner_O2 > build/demo.ready 2>&1 &
  local pid=$!
  # Expanded now: the trap runs after this function's locals are gone.
  trap "kill $pid 2>/dev/null || true" EXIT
  for _ in $(seq 100); do grep -q ready build/demo.ready && break; sleep 0.05; done
  echo "dev.sh: profiling the demo workload (pid $pid) for 5 seconds" >&2
  ./build/pprobe -p "$pid" -seconds 5 -o build/demo.cpu.pb.gz
  echo "dev.sh: explore it with: go tool pprof -http=: build/demo.cpu.pb.gz" >&2
}

test_suite() {
  deps "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
  build build
  (cd build && ctest --output-on-failure --timeout 600)
  build build-asan -DPPROBE_SANITIZE=ON
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure --timeout 600 -LE integration &&
    ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure --timeout 600 -L asan)
}

soak() { # soak N
  local rounds=${1:-}
  if ! [[ $rounds =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: ./dev.sh soak N (N rounds, N >= 1)" >&2; exit 2
  fi
  deps "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
  build build >/dev/null
  local hogs=() log=build/soak.log i
  : > "$log"
  rm -f build/soak.failed
  # One busy loop per core, for as long as the rounds take; the trap ends
  # them however this script ends (expanded now: the array is local).
  for _ in $(seq "$(nproc)"); do
    sh -c 'while :; do :; done' &
    hogs+=($!)
  done
  trap "kill ${hogs[*]} 2>/dev/null || true" EXIT
  trap 'exit 130' INT TERM
  for i in $(seq "$rounds"); do
    echo "dev.sh: soak round $i of $rounds (integration tests, $(nproc) CPU hogs)" >&2
    # A round's failures are collected, not fatal: the next round runs.
    (cd build && ctest -L integration ${SOAK_TESTS:+-R "$SOAK_TESTS"} --output-on-failure --timeout 600) >build/soak.round 2>&1 || true
    cat build/soak.round >> "$log"
    grep -E '^[[:space:]]*[0-9]+ - .* \((Failed|Timeout|SEGFAULT|Exception|Not Run)' build/soak.round |
      sed -E 's/^[[:space:]]*[0-9]+ - ([^ ]+) .*/\1/' >> build/soak.failed || true
  done
  echo "dev.sh: soak: $rounds rounds under load; full output in $log" >&2
  if [[ -s build/soak.failed ]]; then
    echo "tests that failed at least once (failures of $rounds rounds):"
    sort build/soak.failed | uniq -c | sort -rn | awk '{ printf "  %-40s %d\n", $2, $1 }'
    rm -f build/soak.failed build/soak.round
    exit 1
  fi
  rm -f build/soak.failed build/soak.round
  echo "no test failed in $rounds rounds"
}

case "${1:-}" in
  demo) demo ;;
  test) test_suite ;;
  soak) soak "${2:-}" ;;
  *) echo "usage: ./dev.sh demo|test|soak N" >&2; exit 2 ;;
esac
