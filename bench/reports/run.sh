#!/usr/bin/env bash
# bench/reports/run.sh [BUILD_DIR] [SITES]: is writing every report format for a report of SITES
# (default 100,000) leak sites faster than analysing the trace that produced it?
#   1. bench/reports/gen_trace.py writes a text trace with SITES distinct leaking stacks
#   2. heapgate analyze TRACE --format json -o /dev/null, best of 3 (the analysis)
#   3. heapgate analyze TRACE -o report.json (the report every writer gets)
#   4. write_bench report.json: each writer timed on the report in memory
# Outputs go to bench/out/reports/ (not kept in git).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/dev}
sites=${2:-100000}
out=bench/out/reports
mkdir -p "$out"
heapgate="$build/heapgate"
writer="$build/bench/reports/write_bench"
[[ -x "$heapgate" && -x "$writer" ]] || { echo "build first: cmake --build $build" >&2; exit 2; }

python3 bench/reports/gen_trace.py --sites "$sites" > "$out/trace.txt"
echo "trace: $sites leaking stacks, $(wc -c < "$out/trace.txt") bytes, $(wc -l < "$out/trace.txt") lines"

best=""
for i in 1 2 3; do
  start=$EPOCHREALTIME
  "$heapgate" analyze "$out/trace.txt" --progress never --format json -o /dev/null || [[ $? -eq 1 ]]
  best=$(awk -v s="$start" -v e="$EPOCHREALTIME" -v b="$best" \
         'BEGIN { t = e - s; print (b == "" || t < b) ? t : b }')
done
printf 'analyze to /dev/null (json), best of 3: %.3f s\n' "$best"

"$heapgate" analyze "$out/trace.txt" --progress never -o "$out/report.json" || [[ $? -eq 1 ]]
"$writer" "$out/report.json" "$out"
