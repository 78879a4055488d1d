"""Symbol lookups through an ELF file's `.gnu.hash` table: bloom filter, bucket, chain, a
few small reads per symbol, a chain followed at most MAX_CHAIN steps (stdlib only, the
probe)."""

from __future__ import annotations

import struct

from envlock.probe.elfread import ElfError, Reader, Section, words

MAX_CHAIN = 1024


class GnuHash:
    """Lookups through a GNU hash table: bloom filter, bucket, chain; a few reads each."""

    def __init__(
        self, r: Reader, is64: bool, end: str, table: bytes, dynsym: Section, dynstr: Section
    ) -> None:
        self.r = r
        self.is64 = is64
        self.end = end
        self.dynsym = dynsym
        self.dynstr = dynstr
        if len(table) < 16:
            raise ElfError(".gnu.hash is truncated")
        self.nbuckets, self.symoffset, bloom_size, self.shift = struct.unpack_from(
            end + "IIII", table, 0
        )
        word = 8 if is64 else 4
        self.word_bits = word * 8
        pos = 16
        if self.nbuckets == 0 or bloom_size == 0:
            raise ElfError(".gnu.hash has no buckets")
        need = pos + bloom_size * word + self.nbuckets * 4
        if need > len(table):
            raise ElfError(".gnu.hash is truncated")
        self.bloom = words(table[pos : pos + bloom_size * word], word, end)
        pos += bloom_size * word
        self.buckets = words(table[pos : pos + self.nbuckets * 4], 4, end)
        pos += self.nbuckets * 4
        self.chain = words(table[pos : len(table) - (len(table) - pos) % 4], 4, end)

    def has(self, name: str) -> bool:
        """Whether `name` is defined (exported) here."""
        raw = name.encode()
        h = 5381
        for c in raw:
            h = (h * 33 + c) & 0xFFFFFFFF
        bits = self.word_bits
        word = self.bloom[(h // bits) % len(self.bloom)]
        mask = (1 << (h % bits)) | (1 << ((h >> self.shift) % bits))
        if word & mask != mask:
            return False
        idx = self.buckets[h % self.nbuckets]
        if idx < self.symoffset:
            return False
        r, end = self.r, self.end
        entsize = 24 if self.is64 else 16
        for _step in range(MAX_CHAIN):
            if not 0 <= idx - self.symoffset < len(self.chain):
                return False
            h2 = self.chain[idx - self.symoffset]
            if h | 1 == h2 | 1:
                ent = r.read(self.dynsym.offset + idx * entsize, entsize, ".dynsym entry")
                if self.is64:
                    st_name, _info, _other, shndx = struct.unpack_from(end + "IBBH", ent, 0)
                else:
                    st_name, _v, _z, _info, _other, shndx = struct.unpack_from(
                        end + "IIIBBH", ent, 0
                    )
                if shndx != 0 and st_name + len(raw) < self.dynstr.size:
                    got = r.read(self.dynstr.offset + st_name, len(raw) + 1, ".dynstr")
                    if got == raw + b"\0":
                        return True
            if h2 & 1:
                return False
            idx += 1
        return False  # a chain longer than any real one: not found
