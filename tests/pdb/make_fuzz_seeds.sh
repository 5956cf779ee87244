#!/bin/sh
# make_fuzz_seeds.sh - rebuilds fuzz/corpus/pdb/, the PDB reader's seed corpus: a small image
# (geometry.c and runtime.c of the tests, optimized with inline sites and unoptimized) linked
# by lld-link, its PDB kept at 4096-byte blocks and re-blocked to 512 and 1024 (msf_reblock.py).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../../fuzz/corpus/pdb
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for opt in O0 O2; do
  for c in geometry runtime; do
    clang --target=x86_64-pc-windows-msvc -g -gcodeview "-$opt" -fno-builtin \
      -c "$here/src/$c.c" -o "$tmp/$c-$opt.o"
  done
  (cd "$tmp" && lld-link /nologo /debug "/pdb:seed-$opt.pdb" /entry:walk /nodefaultlib \
    /subsystem:console "/out:seed-$opt.exe" "geometry-$opt.o" "runtime-$opt.o")
done
mkdir -p "$out"
cp "$tmp/seed-O2.pdb" "$out/seed-O2-b4096.pdb"
python3 "$here/msf_reblock.py" "$tmp/seed-O2.pdb" "$out/seed-O2-b512.pdb" 512
python3 "$here/msf_reblock.py" "$tmp/seed-O0.pdb" "$out/seed-O0-b1024.pdb" 1024
ls -l "$out"
