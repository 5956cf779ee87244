#!/bin/sh
# build_windows.sh SOURCE_DIR BUILD_DIR - cross-builds heapgate-symbolize.exe for the DbgHelp
# tests with the mingw preset (cmake/toolchain-mingw64.cmake) into BUILD_DIR. A missing
# mingw-w64 compiler skips (exit 77), or fails under CI=true (scripts/deps.sh test installs it).
set -eu
src=$1
out=$2
if ! command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1; then
  echo "dbghelp: missing x86_64-w64-mingw32-gcc (scripts/deps.sh test installs gcc-mingw-w64-x86-64)" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 77
fi
cd "$src"
cmake --preset mingw -B "$out" >"$out.configure.log" 2>&1 || {
  cat "$out.configure.log" >&2
  exit 1
}
cmake --build "$out" -j 2 --target heapgate-symbolize
test -f "$out/heapgate-symbolize.exe"
echo "dbghelp: built $out/heapgate-symbolize.exe"
