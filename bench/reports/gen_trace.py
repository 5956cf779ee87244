#!/usr/bin/env python3
"""gen_trace.py - writes a text trace (docs/text-format.md) with N distinct leaking stacks for
the report-writing benchmark (bench/reports/README.md).

One process, one module; stack i has six frames: its own innermost frame (so every stack is a
distinct site) and five frames shared by groups of 1000, 100, 10 and all stacks (so flame
graphs and pprof locations have real sharing). Each stack allocates twice: one block is freed,
one leaks. Usage: gen_trace.py [--sites N] > trace.txt"""
import argparse
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sites', type=int, default=100000)
    n = ap.parse_args().sites
    out = sys.stdout
    w = out.write
    w('hgtrace 1\ntrace pointer-size=8\n')
    w('process pid=100 name=bench.exe cmd="bench --leak"\n')
    w('module pid=100 base=0x400000 size=0x4000000 path=/opt/heapgate-bench/app\n')
    for i in range(1, n + 1):
        w('stack %d 0x%x 0x%x 0x%x 0x%x 0x%x 0x%x\n' % (
            i, 0x400010 + i * 0x40, 0x2800000 + (i % 1000) * 0x40, 0x2900000 + (i % 100) * 0x40,
            0x2a00000 + (i % 10) * 0x40, 0x2b00000, 0x2b00100))
    w('default pid=100 heap=0x10000\n0 start\n')
    t = 1000
    for i in range(1, n + 1):
        a = 0x10000000 + i * 0x100
        w('%dns alloc addr=0x%x size=%d stack=%d\n' % (t, a, 16 + i % 200, i))
        w('%dns alloc addr=0x%x size=64 stack=%d\n' % (t + 1, a + 0x80, i))
        w('%dns free addr=0x%x\n' % (t + 2, a + 0x80))
        t += 1000
    w('%dns end\n' % t)


if __name__ == '__main__':
    main()
