#!/bin/sh
# build_fixtures.sh OUTDIR - builds the PDB reader's test images at test time and what
# llvm-symbolizer (the oracle) says about them:
#   OUTDIR/app-O0.exe, app-O0.pdb, app-O2.exe, app-O2.pdb   clang -gcodeview + lld-link
#   OUTDIR/app-O0.tsv, app-O2.tsv    one line per rva of .text (every other one for O0): rva,
#                                    then per frame (innermost first) function, source file base
#                                    name, line; tab-separated
#   OUTDIR/app-O2-b512.pdb ...       the O2 PDB re-blocked to 512/1024/2048-byte blocks
# Exit status 77 (ctest's skip) when a tool is missing, unless CI=true: then it is a failure.
set -eu
out=$1
src=$(cd "$(dirname "$0")" && pwd)/src
here=$(cd "$(dirname "$0")" && pwd)

# LLVM 14's llvm-symbolizer gives inline frames the line of the next range of a native PDB's
# inline site (fixed by LLVM 16, Debian's llvm-16): the oracle is llvm-symbolizer-16.
symbolizer=${HG_LLVM_SYMBOLIZER:-llvm-symbolizer-16}
missing=""
for tool in clang lld-link "$symbolizer" llvm-objdump python3; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  echo "build_fixtures: missing:$missing (scripts/deps.sh test installs them)" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 77
fi

mkdir -p "$out"
cd "$out"
sh "$src/gen_functions.sh" 200 >generated.c

build() { # build OPT: app-OPT.exe and app-OPT.pdb
  opt=$1
  objs=""
  for c in "$src/main.c" "$src/geometry.c" "$src/runtime.c" "$out/generated.c"; do
    o="$out/$(basename "$c" .c)-$opt.o"
    clang --target=x86_64-pc-windows-msvc -g -gcodeview "-$opt" -fno-builtin -c "$c" -o "$o"
    objs="$objs $o"
  done
  # shellcheck disable=SC2086
  lld-link /nologo /debug "/pdb:app-$opt.pdb" /entry:start /nodefaultlib /subsystem:console \
    "/out:app-$opt.exe" $objs
}

# Every rva of .text (every STEP-th) asked of llvm-symbolizer; its JSON answers turned into one
# line per rva.
oracle() {
  exe=$1 step=$2
  text=$(llvm-objdump -h "$exe" | awk '$2 == ".text" { print $3, $4 }')
  base=$(llvm-objdump -p "$exe" | awk '$1 == "ImageBase" { print $2 }')
  python3 -c "
import sys
size, vma = (int(v, 16) for v in '$text'.split())
for a in range(vma - int('$base', 16), vma - int('$base', 16) + size, $step):
    print(hex(a))
" | "$symbolizer" --obj="$exe" --relative-address --inlining --output-style=JSON |
    python3 -c "
import json, re, sys
for line in sys.stdin:
    answer = json.loads(line)
    fields = [answer['Address']]
    for f in answer['Symbol']:
        name = f['FunctionName'] or '??'
        fields += [name, re.split(r'[/\\\\]', f['FileName'])[-1] or '??', str(f['Line'])]
    print('\t'.join(fields))
" >"${exe%.exe}.tsv"
}

build O0
oracle app-O0.exe 2
build O2
oracle app-O2.exe 1 # every byte: inlined code changes frames often
for bs in 512 1024 2048; do
  python3 "$here/msf_reblock.py" app-O2.pdb "app-O2-b$bs.pdb" "$bs"
done
echo "build_fixtures: built in $out"
