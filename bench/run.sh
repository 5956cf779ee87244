#!/usr/bin/env bash
# bench/run.sh - heapgate's benchmarks (bench/README.md).
#
#   bench/run.sh                     the foundation's workloads A, B and C (what `make bench` runs)
#   bench/run.sh foundation [a|b|c]...   the same, or only the parts named
#   bench/run.sh AREA [ARGS...]      runs bench/AREA/run.sh (etl, symbols, ...) when it exists
#   bench/run.sh all                 the foundation, then every bench/*/run.sh
#
# The foundation's benchmark builds a Release tree of its own (build/bench), generates the
# workloads of bench/workload.c into bench/out (git-ignored) and prints its figures, which it
# also keeps in bench/out/foundation.txt (key=value). Every time is wall-clock and CPU
# (user + sys) from GNU time, with the maximum RSS; comparisons alternate the two programs in
# the same run and take medians, since the machine may be shared and noisy.
# Environment: REPS (repetitions of A, default 5), BENCH_BUILD (build directory),
# BENCH_OUT (output directory), C_ROUNDS (rounds of the large trace instead of workload c's).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${BENCH_BUILD:-$root/build/bench}
out=${BENCH_OUT:-$here/out}
reps=${REPS:-5}
c_rounds=${C_ROUNDS:-}
c_small_rounds=2000000
results=$out/foundation.txt

die() {
  echo "bench: $*" >&2
  exit 2
}

areas() {
  local d
  for d in "$here"/*/; do
    [[ -x $d/run.sh ]] && basename "$d"
  done
  return 0
}

# ---- measuring --------------------------------------------------------------------------------

# measure LABEL CMD... : runs CMD under GNU time, its output discarded; exit status 0 or 1 is
# success (heapgate's gate may fail on the leaks the workloads contain). Appends
# "LABEL wall cpu maxrss_kb" to $out/times.txt.
measure() {
  local label=$1 tf rc=0
  shift
  tf=$(mktemp)
  /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >/dev/null 2>"$out/last.stderr" || rc=$?
  if [[ $rc -gt 1 ]]; then
    cat "$out/last.stderr" >&2
    rm -f "$tf"
    die "$label: '$*' exited with status $rc"
  fi
  awk -v l="$label" 'END { printf "%s %.2f %.2f %d\n", l, $1, $2 + $3, $4 }' "$tf" \
    >>"$out/times.txt"
  rm -f "$tf"
}

# median LABEL COLUMN : the median of a column (2 wall, 3 cpu, 4 rss) over LABEL's runs.
median() {
  awk -v l="$1" -v c="$2" '$1 == l { print $c }' "$out/times.txt" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) exit 1
           print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

keep() { echo "$1=$2" >>"$results"; }

# ---- building and generating ------------------------------------------------------------------

build_tools() {
  echo "== build (Release, link-time optimisation) in $build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHG_TESTS=OFF -DHG_BENCH=ON \
    -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=ON >/dev/null
  cmake --build "$build" -j "$(nproc)" --target heapgate hgbench_gen hgbench_mem workload_a \
    >/dev/null
}

# What determines a generated trace: the workload, its rounds and the code that writes it.
trace_stamp() {
  echo "$1 rounds=$2"
  cat "$here/workload.c" "$here/workload.h" "$here/simheap.c" "$here/hgbench_gen.c" \
    "$root"/tracker/formats/hgt_encode.c "$root"/tracker/formats/hgt_write.c \
    "$root"/tracker/formats/hgt_codec.h | sha256sum | cut -d' ' -f1
}

# gen WORKLOAD FILE [ROUNDS] : writes the trace unless FILE exists with the same stamp.
gen() {
  local w=$1 f=$2 rounds=${3:-} args=()
  [[ -n $rounds ]] && args=(--rounds "$rounds")
  local stamp
  stamp=$(trace_stamp "$w" "${rounds:-default}")
  if [[ -f $f && -f $f.stamp && $(cat "$f.stamp") == "$stamp" ]]; then
    echo "   $f: reused (same workload, rounds and generator)"
    return
  fi
  rm -f "$f" "$f.stamp"
  "$build/bench/hgbench_gen" "$w" "$f" "${args[@]}" | sed 's/^/   /'
  echo "$stamp" >"$f.stamp"
}

# ---- A: heapgate analyze against heaptrack_print ----------------------------------------------

part_a() {
  echo "== A (typical): workload a, $reps alternated runs of each"
  gen a "$out/a.hgt"
  rm -f "$out"/heaptrack.a.*
  echo "   recording workload_a with heaptrack"
  (cd "$out" && heaptrack -o "$out/heaptrack.a" "$build/bench/workload_a" a >/dev/null 2>&1) ||
    die "heaptrack failed to record workload_a"
  local ht
  ht=$(ls "$out"/heaptrack.a.*)
  keep a_heaptrack_trace_bytes "$(stat -c %s "$ht")"
  keep a_hgt_bytes "$(stat -c %s "$out/a.hgt")"
  for ((i = 1; i <= reps; i++)); do
    if ((i % 2)); then # alternate which goes first, so drift hits both alike
      measure a_heaptrack_print heaptrack_print --print-leaks=1 "$ht"
      measure a_heapgate "$build/heapgate" analyze "$out/a.hgt"
    else
      measure a_heapgate "$build/heapgate" analyze "$out/a.hgt"
      measure a_heaptrack_print heaptrack_print --print-leaks=1 "$ht"
    fi
  done
  local tw gw tc gc
  tw=$(median a_heaptrack_print 2) gw=$(median a_heapgate 2)
  tc=$(median a_heaptrack_print 3) gc=$(median a_heapgate 3)
  keep a_heaptrack_print_wall_s "$tw"
  keep a_heapgate_wall_s "$gw"
  keep a_heaptrack_print_cpu_s "$tc"
  keep a_heapgate_cpu_s "$gc"
  keep a_heaptrack_print_rss_kb "$(median a_heaptrack_print 4)"
  keep a_heapgate_rss_kb "$(median a_heapgate 4)"
  keep a_ratio_wall "$(ratio "$gw" "$tw")"
  keep a_ratio_cpu "$(ratio "$gc" "$tc")"
  printf '   heaptrack_print  median %6.2f s wall %6.2f s cpu\n' "$tw" "$tc"
  printf '   heapgate analyze median %6.2f s wall %6.2f s cpu\n' "$gw" "$gc"
  echo "   ratio heapgate/heaptrack_print: $(ratio "$gw" "$tw") (wall), $(ratio "$gc" "$tc") (cpu);" \
    "target <= 1.00, goal 0.50"
}

# ---- B: large live set ------------------------------------------------------------------------

part_b() {
  echo "== B (large live set): workload b"
  gen b "$out/b.hgt"
  local tf probe
  tf=$(mktemp)
  probe=$(/usr/bin/time -f '%M' -o "$tf" "$build/bench/hgbench_mem" "$out/b.hgt") ||
    die "hgbench_mem failed on b.hgt"
  echo "$probe" | sed 's/^/   /'
  echo "$probe" | sed 's/^/b_/' >>"$results"
  keep b_probe_rss_kb "$(cat "$tf")"
  rm -f "$tf"
  measure b_heapgate "$build/heapgate" analyze "$out/b.hgt"
  keep b_heapgate_wall_s "$(median b_heapgate 2)"
  keep b_heapgate_cpu_s "$(median b_heapgate 3)"
  keep b_heapgate_rss_kb "$(median b_heapgate 4)"
  local bpl
  bpl=$(echo "$probe" | sed -n 's/^bytes_per_live_block=//p')
  echo "   heapgate analyze: $(median b_heapgate 2) s wall, max RSS $(median b_heapgate 4) KB"
  echo "   bytes per live block: $bpl; target <= 48"
}

# ---- C: scale ---------------------------------------------------------------------------------

part_c() {
  echo "== C (scale): workload c, ${c_rounds:-its} rounds against $c_small_rounds, same live set"
  gen c "$out/c.hgt" "$c_rounds"
  gen c "$out/c_small.hgt" "$c_small_rounds"
  local big small
  big=$(stat -c %s "$out/c.hgt") small=$(stat -c %s "$out/c_small.hgt")
  ((big >= 1000000000)) || die "c.hgt is $big bytes, under 1 GB: raise C_ROUNDS"
  keep c_bytes "$big"
  keep c_small_bytes "$small"
  measure c_small_heapgate "$build/heapgate" analyze "$out/c_small.hgt"
  measure c_heapgate "$build/heapgate" analyze "$out/c.hgt"
  local k
  for k in c c_small; do
    keep "${k}_wall_s" "$(median ${k}_heapgate 2)"
    keep "${k}_cpu_s" "$(median ${k}_heapgate 3)"
    keep "${k}_rss_kb" "$(median ${k}_heapgate 4)"
  done
  printf '   %-12s %6d MB  %8.2f s wall %8.2f s cpu  max RSS %7d KB\n' \
    c.hgt $((big / 1000000)) "$(median c_heapgate 2)" "$(median c_heapgate 3)" \
    "$(median c_heapgate 4)" \
    c_small.hgt $((small / 1000000)) "$(median c_small_heapgate 2)" \
    "$(median c_small_heapgate 3)" "$(median c_small_heapgate 4)"
  echo "   file size ratio $(ratio "$big" "$small"), RSS ratio" \
    "$(ratio "$(median c_heapgate 4)" "$(median c_small_heapgate 4)")"
}

# ---- the foundation's run ---------------------------------------------------------------------

foundation() {
  local parts=("$@")
  [[ ${#parts[@]} -gt 0 ]] || parts=(a b c)
  local p
  for p in "${parts[@]}"; do
    [[ $p == a || $p == b || $p == c ]] || die "unknown part '$p' (a, b or c)"
  done
  if ! command -v heaptrack_print >/dev/null || ! command -v heaptrack >/dev/null ||
    [[ ! -x /usr/bin/time ]]; then
    die "heaptrack and GNU time are needed: scripts/deps.sh bench"
  fi
  mkdir -p "$out"
  : >"$out/times.txt"
  : >"$results"
  build_tools
  keep date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  keep cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  keep cores "$(nproc)"
  keep load "$(cut -d' ' -f1-3 /proc/loadavg)"
  keep heaptrack "$(heaptrack --version 2>/dev/null | head -1)"
  for p in "${parts[@]}"; do
    "part_$p"
  done
  echo "== figures kept in $results"
}

case "${1:-foundation}" in
foundation)
  shift $(($# > 0 ? 1 : 0))
  foundation "$@"
  ;;
all)
  foundation
  for a in $(areas); do
    echo "== area $a"
    "$here/$a/run.sh"
  done
  ;;
*)
  [[ -x $here/$1/run.sh ]] || die "no benchmark area '$1' (areas: foundation $(areas | tr '\n' ' '))"
  area=$1
  shift
  exec "$here/$area/run.sh" "$@"
  ;;
esac
