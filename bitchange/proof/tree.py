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

FORMAT = "bitchange-proof-of-liabilities/1"
LEAF_TAG = b"\x00"
NODE_TAG = b"\x01"
SUM_BYTES = 16  # u128: sums of 64-bit balances over any number of leaves never overflow
BLOCK_HEIGHT = 10  # subtree roots stored at this height: a proof rebuilds one 1,024-leaf block

Sums = tuple[int, ...]
_sha256 = hashlib.sha256


def encode_sums(sums: Sequence[int]) -> bytes:
    return b"".join(value.to_bytes(SUM_BYTES, "big") for value in sums)


def user_nonce(salt: bytes, user_id: int) -> bytes:
    return hmac.new(salt, b"bitchange-pol-v1/user/%d" % user_id, _sha256).digest()


def padding_hash(salt: bytes, position: int) -> bytes:
    return hmac.new(salt, b"bitchange-pol-v1/pad/%d" % position, _sha256).digest()


def leaf_hash(nonce: bytes, user_id: int, part: int, parts: int, sums: Sequence[int]) -> bytes:
    return _sha256(LEAF_TAG + nonce + user_id.to_bytes(8, "big") + part.to_bytes(4, "big")
                   + parts.to_bytes(4, "big") + encode_sums(sums)).digest()


def node_hash(left: bytes, left_sums: Sequence[int], right: bytes,
              right_sums: Sequence[int]) -> bytes:
    return _sha256(NODE_TAG + left + encode_sums(left_sums) + right
                   + encode_sums(right_sums)).digest()


@dataclass(frozen=True, slots=True)
class Leaf:
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


def _level_up(hashes: list[bytes], sums: list[Sums]) -> tuple[list[bytes], list[Sums]]:
    """One level of the tree from the one below (pairs (2i, 2i+1))."""
    up_hashes: list[bytes] = []
    up_sums: list[Sums] = []
    encoded = [h + encode_sums(s) for h, s in zip(hashes, sums, strict=True)]
    for i in range(0, len(hashes), 2):
        left, right = sums[i], sums[i + 1]
        up_hashes.append(_sha256(NODE_TAG + encoded[i] + encoded[i + 1]).digest())
        up_sums.append(tuple(a + b for a, b in zip(left, right, strict=True)))
    return up_hashes, up_sums


def leaf_level(salt: bytes, leaves: Sequence[Leaf], start: int, count: int,
               width: int) -> tuple[list[bytes], list[Sums]]:
    """Hashes and sums of the leaves at positions [start, start+count): `leaves` are the real
    ones among them (any order); every other position is padding."""
    zero = (0,) * width
    hashes = [b""] * count
    sums: list[Sums] = [zero] * count
    nonces: dict[int, bytes] = {}
    for leaf in leaves:
        nonce = nonces.get(leaf.user_id)
        if nonce is None:
            nonce = nonces[leaf.user_id] = user_nonce(salt, leaf.user_id)
        index = leaf.position - start
        hashes[index] = leaf_hash(nonce, leaf.user_id, leaf.part, leaf.parts, leaf.amounts)
        sums[index] = leaf.amounts
    for index, value in enumerate(hashes):
        if not value:
            hashes[index] = padding_hash(salt, start + index)
    return hashes, sums


def subtree_root(hashes: list[bytes], sums: list[Sums]) -> tuple[bytes, Sums]:
    while len(hashes) > 1:
        hashes, sums = _level_up(hashes, sums)
    return hashes[0], sums[0]


def path_in(hashes: list[bytes], sums: list[Sums], index: int) -> tuple[list[Step], bytes, Sums]:
    """The siblings from leaf `index` of this (sub)tree up to its root, and the root."""
    steps: list[Step] = []
    while len(hashes) > 1:
        sibling = index ^ 1
        steps.append(Step(hashes[sibling], sums[sibling]))
        hashes, sums = _level_up(hashes, sums)
        index //= 2
    return steps, hashes[0], sums[0]


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
    return [subtree_root(*leaf_level(salt, members, block * size, size, width))
            for block, members in enumerate(by_block)]
