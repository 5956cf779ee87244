#!/bin/sh
# wine_start.sh PREFIX - a fresh Wine prefix for the DbgHelp tests (WINEDEBUG=-all) and a
# wineserver that stays up while they run: Wine's first start in a prefix costs 10 to 30 s, a
# later one under the same server under a second. wine_stop.sh ends the server. Missing Wine
# skips (exit 77), or fails under CI=true; a Wine that is there but cannot start fails.
set -u
prefix=$1
export WINEPREFIX="$prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
for tool in wine wineserver wineboot; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "dbghelp: missing $tool (scripts/deps.sh test installs wine and wine64)" >&2
    [ "${CI:-}" = "true" ] && exit 1
    exit 77
  fi
done
fail() {
  echo "dbghelp: Wine cannot start: $1 (log: $prefix.log)" >&2
  cat "$prefix.log" >&2 2>/dev/null
  exit 1
}
wineserver -k >/dev/null 2>&1 # a server left over from an interrupted run
rm -rf "$prefix"
mkdir -p "$prefix"
# the server and Wine's services must not hold ctest's output pipe: all output goes to the log
wineserver -p 900 </dev/null >"$prefix.log" 2>&1 || fail "wineserver exited with $?"
wineboot -i </dev/null >>"$prefix.log" 2>&1 || fail "wineboot exited with $?"
wine cmd /c echo wine-started </dev/null >"$prefix.echo" 2>>"$prefix.log" ||
  fail "'wine cmd' exited with $?"
grep -q wine-started "$prefix.echo" || fail "'wine cmd /c echo' printed nothing"
echo "dbghelp: Wine prefix ready in $prefix ($(wine --version))"
