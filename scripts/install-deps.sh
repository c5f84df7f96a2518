#!/usr/bin/env bash
# Installs every Debian package the project needs to build, test and benchmark.
# Single source of truth for dependencies (used by README and .ci/run). Idempotent:
# it runs `apt-get update` at most once per machine boot-day and installs only what is missing.
set -euo pipefail

packages=(
  # toolchain, and the house rules' checkers (scripts/lint.sh)
  build-essential cmake pkg-config git ca-certificates ccache clang-format clang-tidy shellcheck
  # the fuzzers and the ASan/UBSan build (scripts/fuzz.sh): clang 14, its runtimes (libFuzzer,
  # the sanitizers) and llvm-symbolizer for readable sanitizer stacks
  clang libclang-rt-dev llvm
  # libraries
  libsqlite3-dev nlohmann-json3-dev libcli11-dev libcpp-httplib-dev libfmt-dev
  libssh-dev libssl-dev libtomlplusplus-dev libzip-dev
  libavformat-dev libavcodec-dev libavfilter-dev libavutil-dev libswscale-dev
  libgtest-dev libgmock-dev
  # real services and tools used by tests and benchmarks
  ffmpeg sqlite3 openssh-server openssh-client python3 python3-pytest procps hyperfine
  # the real torch.load that tests/integration/test_weight_tensor.py reads our .pt files with
  python3-torch
  # jq: the --help examples that pipe --json into it run in tests/integration/test_examples.py
  jq
  # a private dockerd for the docker runtime test (tests/unit/runtime/docker_runtime_test.cpp)
  docker.io
  # a private single-node Slurm cluster for the slurm tests (tests/integration/slurm_cluster.py)
  slurmctld slurmd slurm-client munge
  # headless browser for the web UI's end-to-end tests and screenshots (tests/e2e)
  chromium
  # a real Prometheus that scrapes /metrics in tests/integration/test_metrics.py
  prometheus
  # the shells whose completion scripts tests/integration/test_completion.py checks
  zsh fish
  # the clean Debian 12 root scripts/release.sh installs the package into (docs/release.md)
  debootstrap
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js + npm drive playwright-core in tests/e2e; any node >= 20 already on PATH will do.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

# tests/e2e's npm packages (playwright-core only, pinned by package-lock.json; it uses the
# system Chromium, no browser download). Skipped when node_modules already matches the lock
# file, so a machine without network that installed once keeps working.
install_e2e_modules() {
  local dir tests_lock stamp
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/e2e"
  tests_lock="$dir/package-lock.json"
  stamp="$dir/node_modules/.cosmos-lock.json"
  [ -f "$tests_lock" ] || return 0
  if [ -f "$stamp" ] && cmp -s "$tests_lock" "$stamp"; then
    echo "install-deps: tests/e2e node_modules current"
    return 0
  fi
  echo "install-deps: npm ci --prefix tests/e2e"
  if npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error; then
    cp "$tests_lock" "$stamp"
  else
    echo "install-deps: npm ci failed; the web UI's browser test will be skipped" >&2
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  install_e2e_modules
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
stamp=/var/tmp/cosmos-apt-updated
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +720 2>/dev/null)" ]; then
  $SUDO apt-get update -q
  $SUDO touch "$stamp" 2>/dev/null || true
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
install_e2e_modules
