#!/usr/bin/env bash
# Installs, with apt-get, every Debian 12 package heapgate needs that this machine lacks.
#   scripts/deps.sh build   what building heapgate needs
#   scripts/deps.sh test    build + what the test suite, sanitizer and fuzz presets need
#   scripts/deps.sh bench   test + what the benchmarks compare against (heaptrack)
# Packages already installed are not touched; nothing is installed when all are present.
set -euo pipefail

want=${1:-build}

build_pkgs=(cmake make gcc pkg-config libjudy-dev zlib1g-dev libjansson-dev
            libdw-dev libelf-dev libcurl4-openssl-dev libunwind-dev)
test_pkgs=(libcriterion-dev clang libclang-rt-14-dev lld llvm llvm-16 python3 g++ binutils
           chromium gdb gcc-mingw-w64-x86-64 wine wine64)
# chromium: the HTML test; gdb: attach; mingw-w64 + Wine: the DbgHelp tests
bench_pkgs=(heaptrack time)

pkgs=("${build_pkgs[@]}")
case "$want" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac
if [[ "$want" != build ]]; then
  # node and npm for the pprof decoder test: Debian's packages unless a node is already here
  command -v node >/dev/null || pkgs+=(nodejs)
  command -v npm >/dev/null || pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -gt 0 ]]; then
  echo "deps: installing ${missing[*]}" >&2
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  # libunwind-dev (the agent's unwinder, libunwind 1.6) and LLVM's libunwind-14-dev conflict
  # (the latter declares Conflicts and Provides: libunwind-dev; both ship libunwind.h). heapgate
  # needs the former; of LLVM's packages only libc++-14-dev needs the latter, and nothing here
  # installs it, so it is removed first when it stands in the way.
  if [[ " ${missing[*]} " == *" libunwind-dev "* ]] &&
     dpkg-query -W -f='${Status}' libunwind-14-dev 2>/dev/null | grep -q "install ok installed"; then
    echo "deps: removing libunwind-14-dev (conflicts with libunwind-dev)" >&2
    "${sudo[@]}" apt-get remove -y libunwind-14-dev
  fi
  if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

# The node packages the report tests use (pinned by tests/reports/node/package-lock.json).
node_dir="$(dirname "$0")/../tests/reports/node"
if [[ "$want" != build && ! -d "$node_dir/node_modules/pprof-format" ]]; then
  echo "deps: npm ci in tests/reports/node" >&2
  (cd "$node_dir" && npm ci --no-audit --no-fund)
fi
