#!/bin/sh
# wine_stop.sh PREFIX - ends the wineserver of the DbgHelp tests' prefix (wine_start.sh).
export WINEPREFIX="$1"
command -v wineserver >/dev/null 2>&1 || exit 0
wineserver -k >/dev/null 2>&1
exit 0
