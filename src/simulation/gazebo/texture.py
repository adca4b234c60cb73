"""Indexed-colour PNG textures written byte-for-byte deterministically (for committed, regenerated files).

The image data is stored in uncompressed deflate blocks: every zlib implementation and version writes
(and reads) those identically, so a regenerated texture is byte-identical to the committed one. Indexed
colour at 1, 2, 4 or 8 bits per pixel keeps the files small without compression (a 600 × 400 two-colour
field texture is 30 kB).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

import numpy as np

from sanqin.simulation.gazebo.errors import TwinError


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _stored_zlib(data: bytes) -> bytes:
    """A zlib stream of uncompressed (stored) deflate blocks."""
    out = bytearray(b"\x78\x01")
    block = 65535
    for start in range(0, max(len(data), 1), block):
        piece = data[start:start + block]
        final = 1 if start + block >= len(data) else 0
        out += struct.pack("<BHH", final, len(piece), len(piece) ^ 0xFFFF) + piece
    out += struct.pack(">I", zlib.adler32(data) & 0xFFFFFFFF)
    return bytes(out)


def indexed_png(indices: np.ndarray, palette: Sequence[tuple[int, int, int]]) -> bytes:
    """PNG bytes of a (rows, cols) array of palette indices; row 0 is the top of the image."""
    idx = np.asarray(indices)
    if idx.ndim != 2 or idx.size == 0:
        raise TwinError("a texture needs a non-empty 2-D index array")
    if not 1 <= len(palette) <= 256 or int(idx.min()) < 0 or int(idx.max()) >= len(palette):
        raise TwinError(f"indices must address the {len(palette)}-colour palette")
    depth = next(d for d in (1, 2, 4, 8) if len(palette) <= 1 << d)
    rows, cols = idx.shape
    per_byte = 8 // depth
    padded = np.zeros((rows, -(-cols // per_byte) * per_byte), dtype=np.uint8)
    padded[:, :cols] = idx.astype(np.uint8)
    groups = padded.reshape(rows, -1, per_byte)
    shifts = (8 - depth * (np.arange(per_byte) + 1)).astype(np.uint8)
    packed = np.bitwise_or.reduce(groups << shifts, axis=2).astype(np.uint8)
    raw = np.concatenate([np.zeros((rows, 1), np.uint8), packed], axis=1).tobytes()  # filter 0 per row
    header = struct.pack(">IIBBBBB", cols, rows, depth, 3, 0, 0, 0)
    plte = b"".join(struct.pack("BBB", *c) for c in palette)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"PLTE", plte)
            + _chunk(b"IDAT", _stored_zlib(raw)) + _chunk(b"IEND", b""))
