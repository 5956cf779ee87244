#!/usr/bin/env python3
"""check_dbghelp.py - the DbgHelp backend's tests: heapgate-symbolize.exe (mingw-w64) under Wine.

  check_dbghelp.py symbolize NATIVE_EXE WINDOWS_EXE FIXTURES WORKDIR
      For app-O0 and app-O2 (tests/pdb/build_fixtures.sh: clang -gcodeview, lld-link), every
      rva of .text the oracle lists is resolved by llvm-symbolizer (the oracle), the native
      heapgate-symbolize (own PDB reader), heapgate-symbolize.exe --backend dbghelp and
      heapgate-symbolize.exe --backend pdb under Wine. Native and Windows PDB backends must
      equal the oracle; DbgHelp too, except where Wine's DbgHelp (Wine 8) is known to answer
      less or otherwise, each case recognised exactly (see dbghelp_exception) and counted:
        padding   the oracle names the nearest function but has no line (bytes between
                  functions); DbgHelp names nothing
        call-line the outer frame of inlined code whose function has no line row there (the
                  oracle takes the call site's line); DbgHelp gives no line
        two-rows  the line table has two rows at one address; DbgHelp keeps the first row's
                  line for the range, the oracle the last's
      Deeper stacks are cut as the symbolizer cuts them (innermost 15 and the outermost).
  check_dbghelp.py store NATIVE_EXE WINDOWS_EXE FIXTURES WORKDIR
      app-O2's objects linked again with /pdbaltpath:%_PDB% (the image names its PDB without a
      directory), the PDB moved into a symbol store next to another build's app.pdb under its
      own key: srv*CACHE*STORE finds the right one by GUID and age and copies it into CACHE;
      a wrong age finds nothing. Then the image itself moves into a store under its
      TimeDateStamp and SizeOfImage: the module's 'timestamp' line finds it there.

Wine runs with WINEPREFIX from the environment (wine_start.sh made it). Exit 0 when all holds,
1 with the reasons otherwise."""
import os
import re
import shutil
import subprocess
import sys

BASE = 0x140000000
MAX_FRAMES = 16  # symbols/symbolizer.c keeps at most 16 frames per address
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def run_wine(cmd, work):
    """Runs cmd (a Wine command) with its output in files, not pipes: a Wine service started by
    it would hold a pipe open long after cmd ended. Gives up after 300 s."""
    out_path, err_path = os.path.join(work, "wine.out"), os.path.join(work, "wine.err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        try:
            status = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    timeout=300).returncode
        except subprocess.TimeoutExpired:
            status = -1
    text = open(out_path, errors="replace").read()
    return subprocess.CompletedProcess(cmd, status, text, open(err_path, errors="replace").read())


def wine_path(path):
    return "Z:" + os.path.abspath(path).replace("/", "\\")


def identity(exe):
    """GUID text and age of exe's CodeView record (llvm-readobj prints the bytes in memory order)."""
    out = run(["llvm-readobj", "--coff-debug-directory", exe]).stdout
    b = [int(x, 16) for x in re.search(r"PDBGUID: \(([0-9A-F ]+)\)", out).group(1).split()]
    guid = "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-" % (
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9])
    guid += "".join("%02X" % x for x in b[10:])
    return guid, int(re.search(r"PDBAge: (\d+)", out).group(1))


def store_key(guid, age):
    return guid.replace("-", "") + "%X" % age


def image_timestamp(exe):
    out = run(["llvm-readobj", "--file-headers", exe]).stdout
    return int(re.search(r"TimeDateStamp: .*\(0x([0-9A-Fa-f]+)\)", out).group(1), 16)


def image_size(exe):
    out = run(["llvm-objdump", "-p", exe]).stdout
    return int(re.search(r"SizeOfImage\s+([0-9a-fA-F]+)", out).group(1), 16)


def frames(fields):
    return [(fields[i], re.split(r"[/\\]", fields[i + 1])[-1], int(fields[i + 2]))
            for i in range(0, len(fields) - 2, 3)]


def cut(f):
    """The frames the symbolizer keeps: all, or the innermost 15 and the outermost."""
    return f if len(f) <= MAX_FRAMES else f[:MAX_FRAMES - 1] + f[-1:]


def load_oracle(tsv):
    out = {}
    for line in open(tsv):
        f = line.rstrip("\n").split("\t")
        out[int(f[0], 16)] = cut(frames(f[1:]))
    return out


def parse_output(text):
    out = {}
    for line in text.splitlines():
        f = line.rstrip("\r").split("\t")
        out[int(f[0], 16) - BASE] = frames(f[2:])
    return out


def write_list(path, image, pdb_name, guid, age, size, rvas, stamp=None):
    with open(path, "w") as f:
        f.write("# %s\nmodule 0x%x 0x%x %s\n" % (os.path.basename(path), BASE, size, image))
        f.write("pdb %s %d %s\n" % (guid, age, pdb_name))
        if stamp is not None:
            f.write("timestamp 0x%x\n" % stamp)
        for rva in rvas:
            f.write("0x%x\n" % (BASE + rva))


def symbolize(cmd, what, work):
    """Runs a heapgate-symbolize command; its answers by rva, or None (failure recorded)."""
    r = run_wine(cmd, work) if cmd[0] == "wine" else run(cmd, stdin=subprocess.DEVNULL)
    if r.returncode != 0 or not r.stdout:
        fail("%s: exit %d, stderr: %s" % (what, r.returncode, r.stderr.strip()[:2000]))
        return None
    return parse_output(r.stdout)


def two_row_ranges(pdb):
    """rva ranges [a, b) that start with two line rows at a: (a, b, first row's line)."""
    out = run(["llvm-pdbutil-16", "dump", "-l", pdb]).stdout
    ranges = []
    for block in re.findall(r"line/addr entries = \d+\n((?:\s+\d+ [0-9A-F]{8} !.*\n)+)", out):
        rows = [(int(a, 16), int(l)) for l, a in re.findall(r"(\d+) ([0-9A-F]{8}) !", block)]
        for i in range(len(rows) - 1):
            if rows[i][0] == rows[i + 1][0] and (i == 0 or rows[i - 1][0] != rows[i][0]):
                end = next((a for a, _ in rows[i:] if a > rows[i][0]), rows[i][0] + 1)
                ranges.append((0x1000 + rows[i][0], 0x1000 + end, rows[i][1]))
    return ranges


def dbghelp_exception(rva, want, got, ranges):
    """The name of the known Wine DbgHelp difference that explains got, or None."""
    if len(want) == 1 and want[0][2] == 0 and got == [("??", "??", 0)]:
        return "padding"
    if len(got) != len(want) or [f[0] for f in got] != [f[0] for f in want]:
        return None
    if len(want) > 1 and got[:-1] == want[:-1] and got[-1] == (want[-1][0], "??", 0):
        return "call-line"
    for a, b, first in ranges:
        if a <= rva < b and all(g == w or (g[0:2] == w[0:2] and g[2] == first)
                                for g, w in zip(got, want)):
            return "two-rows"
    return None


def compare(name, oracle, answers, ranges=None):
    """Counts answers equal to the oracle; with ranges, DbgHelp's known differences."""
    counts = {"equal": 0}
    shown = 0
    for rva, want in sorted(oracle.items()):
        got = answers.get(rva)
        why = "equal" if got == want else (
            dbghelp_exception(rva, want, got, ranges) if ranges is not None and got else None)
        if why is None:
            if shown < 5:
                fail("%s: rva 0x%x: oracle %s, got %s" % (name, rva, want, got))
            shown += 1
            why = "different"
        counts[why] = counts.get(why, 0) + 1
    print("%s: %d addresses: %s" % (name, len(oracle), ", ".join(
        "%s %d" % kv for kv in sorted(counts.items()))))
    if counts.get("different"):
        fail("%s: %d answers differ from llvm-symbolizer's" % (name, counts["different"]))
    if counts["equal"] < 0.9 * len(oracle):
        fail("%s: only %d of %d answers equal llvm-symbolizer's" % (
            name, counts["equal"], len(oracle)))
    return counts


def check_fixture(native, windows, fixtures, work, app):
    exe = os.path.join(fixtures, app + ".exe")
    oracle = load_oracle(os.path.join(fixtures, app + ".tsv"))
    guid, age = identity(exe)
    size = image_size(exe)
    lin_list, win_list = os.path.join(work, app + "-linux.txt"), os.path.join(work, app + "-win.txt")
    write_list(lin_list, exe, app + ".pdb", guid, age, size, sorted(oracle))
    write_list(win_list, wine_path(exe), app + ".pdb", guid, age, size, sorted(oracle))
    lin_path, win_path = ["--symbol-path", fixtures], ["--symbol-path", wine_path(fixtures)]
    results = {
        "native pdb": symbolize([native, "--backend", "pdb"] + lin_path + [lin_list], "native",
                                work),
        "windows pdb": symbolize(["wine", windows, "--backend", "pdb"] + win_path +
                                 [wine_path(win_list)], "wine pdb", work),
        "windows dbghelp": symbolize(["wine", windows, "--backend", "dbghelp"] + win_path +
                                     [wine_path(win_list)], "wine dbghelp", work),
    }
    ranges = two_row_ranges(os.path.join(fixtures, app + ".pdb"))
    for name, answers in results.items():
        if answers is not None:
            compare("%s %s" % (app, name), oracle,
                    answers, ranges if name.endswith("dbghelp") else None)


def check_backends(windows, work):
    r = run_wine(["wine", windows, "--backends"], work)
    if r.stdout.split() != ["dbghelp", "pdb"]:
        fail("heapgate-symbolize.exe --backends: %r (exit %d, %s)" % (
            r.stdout, r.returncode, r.stderr.strip()))


def main_symbolize(native, windows, fixtures, work):
    check_backends(windows, work)
    for app in ("app-O0", "app-O2"):
        check_fixture(native, windows, fixtures, work, app)


def relink(fixtures, work):
    """app-O2's objects linked into work/build/app.exe naming its PDB "app.pdb" only."""
    build = os.path.join(work, "build")
    os.makedirs(build)
    objs = [os.path.join(fixtures, n + "-O2.o") for n in ("main", "geometry", "runtime",
                                                         "generated")]
    exe, pdb = os.path.join(build, "app.exe"), os.path.join(build, "app.pdb")
    r = run(["lld-link", "/nologo", "/debug", "/pdb:" + pdb, "/pdbaltpath:%_PDB%", "/entry:start",
             "/nodefaultlib", "/subsystem:console", "/out:" + exe] + objs)
    if r.returncode != 0:
        fail("lld-link: " + r.stderr)
    return exe, pdb


def store_run(windows, list_path, sympath):
    return symbolize(["wine", windows, "--backend", "dbghelp", "--symbol-path", sympath,
                      wine_path(list_path)], "wine dbghelp " + sympath, os.path.dirname(list_path))


def main_store(native, windows, fixtures, work):
    del native
    exe, pdb = relink(fixtures, work)
    guid, age = identity(exe)
    other_guid, other_age = identity(os.path.join(fixtures, "app-O0.exe"))
    store, cache = os.path.join(work, "store"), os.path.join(work, "cache")
    key, other_key = store_key(guid, age), store_key(other_guid, other_age)
    for k, src in ((other_key, os.path.join(fixtures, "app-O0.pdb")), (key, pdb)):
        os.makedirs(os.path.join(store, "app.pdb", k))
        shutil.copy(src, os.path.join(store, "app.pdb", k, "app.pdb"))
    os.remove(pdb)  # only the store has it now
    oracle = load_oracle(os.path.join(fixtures, "app-O2.tsv"))
    rvas = sorted(oracle)
    ranges = two_row_ranges(os.path.join(store, "app.pdb", key, "app.pdb"))
    good, wrong_age = os.path.join(work, "good.txt"), os.path.join(work, "wrong-age.txt")
    write_list(good, wine_path(exe), "app.pdb", guid, age, image_size(exe), rvas)
    write_list(wrong_age, wine_path(exe), "app.pdb", guid, age + 1, image_size(exe), rvas[:50])
    sympath = "srv*%s*%s" % (wine_path(cache), wine_path(store))
    answers = store_run(windows, good, sympath)
    if answers is not None:
        compare("store dbghelp", oracle, answers, ranges)
    cached = os.path.join(cache, "app.pdb", key, "app.pdb")
    stored = os.path.join(store, "app.pdb", key, "app.pdb")
    if not os.path.isfile(cached) or open(cached, "rb").read() != open(stored, "rb").read():
        fail("the PDB was not copied from the store into %s" % cached)
    if os.path.exists(os.path.join(cache, "app.pdb", other_key)):
        fail("the other build's PDB was copied into the cache")
    answers = store_run(windows, wrong_age, sympath)
    if answers is not None and any(f != [("??", "??", 0)] for f in answers.values()):
        fail("a module whose age matches no PDB got names: %s" % list(answers.values())[:3])
    shutil.rmtree(store)
    answers = store_run(windows, good, sympath)  # the cache alone now
    if answers is not None:
        compare("cache dbghelp", oracle, answers, ranges)
    check_image_in_store(windows, work, exe, guid, age, oracle, ranges)


def check_image_in_store(windows, work, exe, guid, age, oracle, ranges):
    """The image gone from its recorded path, in a store under TimeDateStamp and SizeOfImage."""
    stamp, size = image_timestamp(exe), image_size(exe)
    store = os.path.join(work, "image-store")
    key_dir = os.path.join(store, "app.exe", "%08X%x" % (stamp, size))
    os.makedirs(key_dir)
    shutil.move(exe, os.path.join(key_dir, "app.exe"))
    listed = os.path.join(work, "image-in-store.txt")
    write_list(listed, wine_path(exe), "app.pdb", guid, age, size, sorted(oracle), stamp)
    sympath = "srv*%s*%s" % (wine_path(os.path.join(work, "cache")), wine_path(store))
    answers = store_run(windows, listed, sympath)
    if answers is not None:
        compare("image in a store dbghelp", oracle, answers, ranges)
    no_stamp = os.path.join(work, "image-no-stamp.txt")
    write_list(no_stamp, wine_path(exe), "app.pdb", guid, age, size, sorted(oracle)[:50])
    answers = store_run(windows, no_stamp, sympath)
    if answers is not None and any(f != [("??", "??", 0)] for f in answers.values()):
        fail("an image that is not at its path and has no timestamp got names (DbgHelp needs it)")


def missing_tools(fixtures):
    """What this test needs and lacks: tools, or the fixtures tests/pdb builds."""
    tools = ["wine", "lld-link", "llvm-readobj", "llvm-objdump", "llvm-pdbutil-16"]
    missing = [t for t in tools if not shutil.which(t)]
    if not os.path.isfile(os.path.join(fixtures, "app-O2.tsv")):
        missing.append("the PDB fixtures in " + fixtures)
    return missing


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ("symbolize", "store"):
        print(__doc__)
        return 2
    missing = missing_tools(sys.argv[4])
    if missing:  # skipped (77) on a developer's machine; under CI=true a failure
        print("dbghelp: missing %s (scripts/deps.sh test installs them)" % ", ".join(missing))
        return 1 if os.environ.get("CI") == "true" else 77
    work = sys.argv[5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    (main_symbolize if sys.argv[1] == "symbolize" else main_store)(*sys.argv[2:])
    print("%d checks failed" % len(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
