"""The Merkle sum tree of proof of liabilities: pure hashing, no database (format:
docs/proof-of-liabilities.md, which `tools/verify_liabilities.py` checks independently).

Every node carries a vector of per-asset sums (unsigned integers of minor units, in the
snapshot's fixed asset order) and commits to BOTH children's hashes and sums:

    leaf  = SHA-256(0x00 || nonce || u64(user id) || u32(part) || u32(parts) || sums)
    node  = SHA-256(0x01 || left hash || left sums || right hash || right sums)
    sums  = u128 big-endian per asset;  a node's sums = left sums + right sums

so no node can state a total below its children's (the fix of Maxwell's original tree). A
user's nonce is HMAC-SHA256(snapshot salt, "bitchange-pol-v1/user/<id>"): a leaf cannot be
linked to the same user in another snapshot. Padding leaves (zero sums) carry
HMAC-SHA256(salt, "bitchange-pol-v1/pad/<position>"), indistinguishable from real ones.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

FORMAT = "bitchange-proof-of-liabilities/1"
LEAF_TAG = b"\x00"
NODE_TAG = b"\x01"
SUM_BYTES = 16  # u128: sums of 64-bit balances over any number of leaves never overflow
LANE = 8 * SUM_BYTES
BLOCK_HEIGHT = 10  # subtree roots stored at this height: a proof rebuilds one 1,024-leaf block

Sums = tuple[int, ...]
_sha256 = hashlib.sha256


# A sums vector is handled packed into one int, one 128-bit lane per asset, first asset in the
# highest lane: adding two packed vectors adds them lane by lane (no lane can carry: every sum
# stays far below 2**128), and the packed int's big-endian bytes ARE the encoding above.

def pack(sums: Sequence[int]) -> int:
    packed = 0
    for value in sums:
        packed = (packed << LANE) | value
    return packed


def unpack(packed: int, width: int) -> Sums:
    mask = (1 << LANE) - 1
    return tuple((packed >> (LANE * (width - 1 - i))) & mask for i in range(width))


def user_nonce(salt: bytes, user_id: int) -> bytes:
    return hmac.new(salt, b"bitchange-pol-v1/user/%d" % user_id, _sha256).digest()


def padding_hash(salt: bytes, position: int) -> bytes:
    return hmac.new(salt, b"bitchange-pol-v1/pad/%d" % position, _sha256).digest()


class Leaf(NamedTuple):
    """One real leaf: a part of one user's balances."""

    position: int
    user_id: int
    part: int
    parts: int
    amounts: Sums


@dataclass(frozen=True, slots=True)
class Step:
    """The sibling at one level of a path, leaf level first."""

    hash: bytes
    sums: Sums


def _level_up(hashes: list[bytes], sums: list[int], size: int) -> tuple[list[bytes], list[int]]:
    """One level of the tree from the one below (pairs (2i, 2i+1)); `size` bytes of sums."""
    up_hashes: list[bytes] = []
    up_sums: list[int] = []
    for i in range(0, len(hashes), 2):
        left, right = sums[i], sums[i + 1]
        up_hashes.append(_sha256(NODE_TAG + hashes[i] + left.to_bytes(size, "big")
                                 + hashes[i + 1] + right.to_bytes(size, "big")).digest())
        up_sums.append(left + right)
    return up_hashes, up_sums


@dataclass
class Level:
    """Hashes and packed sums of consecutive nodes of one level."""

    hashes: list[bytes]
    sums: list[int]
    width: int

    def root(self) -> tuple[bytes, Sums]:
        hashes, sums, size = self.hashes, self.sums, SUM_BYTES * self.width
        while len(hashes) > 1:
            hashes, sums = _level_up(hashes, sums, size)
        return hashes[0], unpack(sums[0], self.width)

    def path(self, index: int) -> tuple[list[Step], bytes, Sums]:
        """The siblings from node `index` up to the root of these nodes, and the root."""
        hashes, sums, size = self.hashes, self.sums, SUM_BYTES * self.width
        steps: list[Step] = []
        while len(hashes) > 1:
            sibling = index ^ 1
            steps.append(Step(hashes[sibling], unpack(sums[sibling], self.width)))
            hashes, sums = _level_up(hashes, sums, size)
            index //= 2
        return steps, hashes[0], unpack(sums[0], self.width)


def nodes(roots: Sequence[tuple[bytes, Sums]], width: int) -> Level:
    """A level made of known nodes (e.g. block roots)."""
    return Level([h for h, _ in roots], [pack(s) for _, s in roots], width)


def leaf_level(salt: bytes, leaves: Sequence[Leaf], start: int, count: int,
               width: int) -> Level:
    """The leaves at positions [start, start+count): `leaves` are the real ones among them
    (any order); every other position is padding."""
    size = SUM_BYTES * width
    hashes = [b""] * count
    sums = [0] * count
    nonces: dict[int, bytes] = {}
    for leaf in leaves:
        nonce = nonces.get(leaf.user_id)
        if nonce is None:
            nonce = nonces[leaf.user_id] = user_nonce(salt, leaf.user_id)
        packed = pack(leaf.amounts)
        index = leaf.position - start
        hashes[index] = _sha256(LEAF_TAG + nonce + leaf.user_id.to_bytes(8, "big")
                                + leaf.part.to_bytes(4, "big") + leaf.parts.to_bytes(4, "big")
                                + packed.to_bytes(size, "big")).digest()
        sums[index] = packed
    for index, value in enumerate(hashes):
        if not value:
            hashes[index] = padding_hash(salt, start + index)
    return Level(hashes, sums, width)


def block_height(leaf_count: int) -> int:
    return min(BLOCK_HEIGHT, leaf_count.bit_length() - 1)


def padded_size(real_leaves: int) -> int:
    """The smallest power of two holding the leaves (at least 2: a root has two children)."""
    return max(2, 1 << (real_leaves - 1).bit_length())


def build_blocks(salt: bytes, leaves: Sequence[Leaf], leaf_count: int,
                 width: int) -> list[tuple[bytes, Sums]]:
    """The roots of every block (subtree of 2**block_height leaves), left to right. Builds one
    block at a time, so memory stays that of one block plus the leaf list."""
    size = 1 << block_height(leaf_count)
    by_block: list[list[Leaf]] = [[] for _ in range(leaf_count // size)]
    for leaf in leaves:
        by_block[leaf.position // size].append(leaf)
    return [leaf_level(salt, members, block * size, size, width).root()
            for block, members in enumerate(by_block)]
