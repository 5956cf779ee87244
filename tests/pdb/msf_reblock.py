#!/usr/bin/env python3
"""msf_reblock.py IN OUT BLOCK_SIZE - rewrites the MSF container of a PDB with another block
size (512, 1024, 2048 or 4096), keeping every stream's bytes: lld-link writes only 4096-byte
blocks, the PDB reader must read all of them.

Layout written (LLVM, llvm/docs/PDB/MsfFile.md): block 0 superblock; blocks 1 and 2 of every
interval of BLOCK_SIZE blocks are free block maps; stream data; the stream directory; the block
holding the list of the directory's blocks. Streams are laid out in reverse order so their
blocks are not in stream order."""
import struct
import sys

MAGIC = b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0"


def read_streams(data):
    bs, _fpm, _nblocks, dir_bytes, _unknown, map_addr = struct.unpack_from("<6I", data, 32)
    ndir = (dir_bytes + bs - 1) // bs
    dir_blocks = struct.unpack_from("<%dI" % ndir, data, map_addr * bs)
    directory = b"".join(data[b * bs:(b + 1) * bs] for b in dir_blocks)[:dir_bytes]
    nstreams = struct.unpack_from("<I", directory, 0)[0]
    sizes = struct.unpack_from("<%dI" % nstreams, directory, 4)
    pos, streams = 4 + 4 * nstreams, []
    for size in sizes:
        n = 0 if size == 0xFFFFFFFF else (size + bs - 1) // bs
        blocks = struct.unpack_from("<%dI" % n, directory, pos)
        pos += 4 * n
        body = b"".join(data[b * bs:(b + 1) * bs] for b in blocks)
        streams.append((size, body[:0 if size == 0xFFFFFFFF else size]))
    return streams


class Writer:
    def __init__(self, bs):
        self.bs, self.blocks = bs, [b"", b"", b""]  # superblock, FPM1, FPM2

    def alloc(self, chunk):
        while len(self.blocks) % self.bs in (1, 2):  # free block maps of later intervals
            self.blocks.append(b"\xff" * self.bs)
        self.blocks.append(chunk.ljust(self.bs, b"\0"))
        return len(self.blocks) - 1

    def put(self, payload):
        return [self.alloc(payload[i:i + self.bs]) for i in range(0, len(payload), self.bs)]


def main():
    src, dst, bs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    streams = read_streams(open(src, "rb").read())
    w = Writer(bs)
    lists = [None] * len(streams)
    for i in reversed(range(len(streams))):
        lists[i] = w.put(streams[i][1])
    directory = struct.pack("<I", len(streams))
    directory += b"".join(struct.pack("<I", size) for size, _ in streams)
    directory += b"".join(struct.pack("<%dI" % len(l), *l) for l in lists)
    dir_blocks = w.put(directory)
    map_addr = w.alloc(struct.pack("<%dI" % len(dir_blocks), *dir_blocks))
    w.blocks[0] = MAGIC + struct.pack("<6I", bs, 1, len(w.blocks), len(directory), 0, map_addr)
    w.blocks[1] = w.blocks[2] = b"\xff" * bs
    with open(dst, "wb") as f:
        f.write(b"".join(b.ljust(bs, b"\0") for b in w.blocks))


if __name__ == "__main__":
    main()
