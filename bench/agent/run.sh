#!/usr/bin/env bash
# bench/agent/run.sh - the capture agent's cost against heaptrack's, on mallocbench.c built the
# way distributions build (-O2 -g, no forced frame pointers). In one run, alternating:
#   plain     mallocbench ROUNDS WORK
#   heapgate  heapgate run -o /dev/null -- mallocbench ROUNDS WORK  (the default mode)
#   save      the same with --save T.hgt (the trace kept, for the report times below)
#   fp        the default mode with --unwind=fp
#   heaptrack heaptrack -o H mallocbench ROUNDS WORK
# then the report time of `heapgate analyze T.hgt` against `heaptrack_print H.zst`, the
# program's peak RSS with and without the agent, heapgate's own peak RSS, and trace sizes per
# million events. Prints medians of wall and CPU (user + sys) time. Times are never asserted.
#
# Usage: bench/agent/run.sh [ROUNDS (600)] [WORK (100)] [REPEATS (5)] [BUILD_DIR]
# WORK is mallocbench's work between allocations (passes over the tokens; 0: allocations only).
# At 100 heaptrack costs about what the issue measured on its reference program (3.7x wall,
# 6.4x CPU); less work makes every tracer's ratio larger (bench/agent/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-600}
work=${2:-100}
reps=${3:-5}
build=${4:-build/bench-agent}
out=bench/out/agent
mkdir -p "$out"

for tool in heaptrack heaptrack_print /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool: scripts/deps.sh bench" >&2; exit 2; }
done
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHG_TESTS=OFF -DHG_BENCH=OFF >/dev/null
cmake --build "$build" -j2 --target heapgate heapgate-agent >/dev/null
cc -O2 -g -o "$out/mallocbench" bench/agent/mallocbench.c
hg="$build/heapgate"
prog="$out/mallocbench"
fmt="%e %U %S %M"

# one measured run: label, then the command; appends "wall cpu maxrss_kib" to $out/label.times
measure() {
  local label=$1
  shift
  if ! /usr/bin/time -o "$out/$label.last" -f "$fmt" "$@" >/dev/null 2>"$out/$label.stderr"; then
    echo "$label: failed (exit status in $out/$label.last, messages in $out/$label.stderr)" >&2
    exit 1
  fi
  awk '{printf "%s %.3f %s\n", $1, $2 + $3, $4}' "$out/$label.last" >>"$out/$label.times"
}

rm -f "$out"/*.times "$out"/*.kib "$out"/ht.*
for i in $(seq "$reps"); do
  measure plain "$prog" "$rounds" "$work"
  measure heapgate "$hg" run -o /dev/null --max-leaked-bytes 1G -- "$prog" "$rounds" "$work"
  grep -o 'peak RSS [0-9]*' "$out/heapgate.stderr" | awk '{print $3}' >>"$out/agent_rss.kib"
  measure save "$hg" run --save "$out/trace.hgt" -o /dev/null --max-leaked-bytes 1G \
    -- "$prog" "$rounds" "$work"
  measure fp "$hg" run -o /dev/null --max-leaked-bytes 1G --unwind=fp -- "$prog" "$rounds" "$work"
  measure heaptrack heaptrack -o "$out/ht.$i" "$prog" "$rounds" "$work"
done
grep -o 'peak RSS [0-9]*' "$out/plain.stderr" | awk '{print $3}' >"$out/plain_rss.kib"

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
col() { awk -v c="$2" '{print $c}' "$out/$1.times" | median; }

# report times: heapgate analyze on the saved trace, heaptrack_print on heaptrack's
ht=$(ls "$out"/ht.1.* | head -1)
for i in $(seq "$reps"); do
  measure analyze "$hg" analyze "$out/trace.hgt" -o /dev/null --max-leaked-bytes 1G
  measure htprint heaptrack_print "$ht"
done

events=$("$hg" analyze "$out/trace.hgt" --format json --max-leaked-bytes 1G |
  python3 -c 'import json, sys; j = json.load(sys.stdin); print(j["trace"]["events"], j["leaked_blocks"])')
set -- $events
nev=$1
leaks=$2
pw=$(col plain 1); pc=$(col plain 2)
echo "mallocbench $rounds rounds, work $work: $nev events ($leaks leaked blocks), $reps runs each, medians"
printf "%-10s %9s %7s %9s %7s %12s\n" mode wall_s x_plain cpu_s x_plain peak_rss_kib
for m in plain heapgate save fp heaptrack; do
  w=$(col $m 1); c=$(col $m 2); r=$(col $m 3)
  printf "%-10s %9.3f %7.2f %9.3f %7.2f %12s\n" $m "$w" "$(echo "$w / $pw" | bc -l)" "$c" \
    "$(echo "$c / $pc" | bc -l)" "$r"
done
printf "report     heapgate analyze %.3f s   heaptrack_print %.3f s (wall, median)\n" \
  "$(col analyze 1)" "$(col htprint 1)"
echo "program peak RSS: plain $(median <"$out/plain_rss.kib") KiB, under the agent $(median <"$out/agent_rss.kib") KiB"
hsz=$(stat -c %s "$out/trace.hgt")
tsz=$(stat -c %s "$ht")
printf "trace size per million events: heapgate --save %.2f MB, heaptrack %.2f MB\n" \
  "$(echo "$hsz / $nev" | bc -l)" "$(echo "$tsz / $nev" | bc -l)"
