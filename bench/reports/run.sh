#!/usr/bin/env bash
# bench/reports/run.sh [BUILD_DIR] [SITES]: is writing every report format for a report of SITES
# (default 100,000) leak sites faster than analysing the trace that produced it?
#   1. bench/reports/gen_trace.py writes a text trace with SITES distinct leaking stacks
#   2. heapgate analyze TRACE --format json -o /dev/null, best of 3 (the analysis)
#   3. heapgate analyze TRACE -o report.json (the report every writer gets)
#   4. write_bench report.json: each writer timed on the report in memory, to /dev/null like
#      step 2 (best of 3 rounds, as step 2), then once to files for the output sizes
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

# wall-clock and CPU (user + system) seconds of a command, best of 3 by CPU
python3 - "$heapgate" "$out/trace.txt" <<'PY'
import os, subprocess, sys, time
best = None
for _ in range(3):
    t0 = time.monotonic()
    p = subprocess.Popen([sys.argv[1], 'analyze', sys.argv[2], '--progress', 'never',
                          '--format', 'json', '-o', '/dev/null'])
    _, status, ru = os.wait4(p.pid, 0)
    run = (time.monotonic() - t0, ru.ru_utime + ru.ru_stime, ru.ru_maxrss)
    best = run if best is None or run[1] < best[1] else best
print('analyze to /dev/null (json), best of 3: %.3f s wall, %.3f s CPU, %d MiB peak RSS'
      % (best[0], best[1], best[2] // 1024))
PY

"$heapgate" analyze "$out/trace.txt" --progress never -o "$out/report.json" || [[ $? -eq 1 ]]
echo "== every writer to /dev/null (compare with the analyze line above)"
"$writer" "$out/report.json" /dev/null 3
echo "== every writer to files in $out (sizes)"
"$writer" "$out/report.json" "$out"
