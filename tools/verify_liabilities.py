#!/usr/bin/env python3
"""Verify a BitChange proof of liabilities: that your balances are counted in the published
total. Standard library only; the format is docs/proof-of-liabilities.md.

    python3 verify_liabilities.py proof.json [--root HEX]

Pass `--root` with the root you read on the exchange's /proof page (or elsewhere it was
published): the proof must lead to it. Exits 0 when the proof holds, 1 with the reason when it
does not, 2 when the file cannot be read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from decimal import Decimal

FORMAT = "bitchange-proof-of-liabilities/1"
SUM_BYTES = 16
MAX_SUM = 2 ** (8 * SUM_BYTES)
MAX_AMOUNT = 2**63
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_DIGITS = re.compile(r"^(0|[1-9][0-9]*)$")


class Invalid(Exception):
    """The proof does not hold; the message says where."""


def _amount(text: object, what: str, limit: int = MAX_SUM) -> int:
    if not isinstance(text, str) or not _DIGITS.match(text):
        raise Invalid(f"{what} is not a non-negative whole number: {text!r}")
    value = int(text)
    if value >= limit:
        raise Invalid(f"{what} is out of range: {text}")
    return value


def _vector(values: object, width: int, what: str, limit: int = MAX_SUM) -> list[int]:
    if not isinstance(values, list) or len(values) != width:
        raise Invalid(f"{what} must list one amount per asset ({width})")
    return [_amount(v, f"{what}[{i}]", limit) for i, v in enumerate(values)]


def _hash(text: object, what: str) -> bytes:
    if not isinstance(text, str) or not _HEX64.match(text):
        raise Invalid(f"{what} is not a 32-byte hex hash")
    return bytes.fromhex(text)


def _sums(values: list[int]) -> bytes:
    return b"".join(v.to_bytes(SUM_BYTES, "big") for v in values)


def leaf_hash(nonce: bytes, user_id: int, part: int, parts: int, amounts: list[int]) -> bytes:
    return hashlib.sha256(b"\x00" + nonce + user_id.to_bytes(8, "big") + part.to_bytes(4, "big")
                          + parts.to_bytes(4, "big") + _sums(amounts)).digest()


def node_hash(left: bytes, left_sums: list[int], right: bytes, right_sums: list[int]) -> bytes:
    return hashlib.sha256(b"\x01" + left + _sums(left_sums) + right + _sums(right_sums)).digest()


def shown(amount: int, decimals: int) -> str:
    return f"{Decimal(amount).scaleb(-decimals):,.{decimals}f}"


def verify(proof: dict, expected_root: str | None = None) -> str:
    """The report line if the proof holds; raises `Invalid` otherwise."""
    if not isinstance(proof, dict) or proof.get("format") != FORMAT:
        raise Invalid(f"not a {FORMAT} proof")
    snapshot, account, leaves = proof.get("snapshot"), proof.get("account"), proof.get("leaves")
    if not isinstance(snapshot, dict) or not isinstance(account, dict) \
            or not isinstance(leaves, list) or not leaves:
        raise Invalid("the proof needs a snapshot, an account and at least one leaf")
    assets = snapshot.get("assets")
    if not isinstance(assets, list) or not assets or not all(
            isinstance(a, dict) and isinstance(a.get("code"), str)
            and isinstance(a.get("decimals"), int) for a in assets):
        raise Invalid("the snapshot's asset list is malformed")
    width = len(assets)
    root = _hash(snapshot.get("root"), "the snapshot root")
    if expected_root is not None and snapshot.get("root") != expected_root.strip().lower():
        raise Invalid(f"the proof is for root {snapshot.get('root')}, not the root "
                      f"{expected_root} you expected")
    totals = _vector(snapshot.get("totals"), width, "the snapshot totals")
    leaf_count = snapshot.get("leaf_count")
    if not isinstance(leaf_count, int) or leaf_count < 2 or leaf_count & (leaf_count - 1):
        raise Invalid("the leaf count must be a power of two, at least 2")
    depth = leaf_count.bit_length() - 1
    user_id = account.get("user_id")
    if not isinstance(user_id, int) or not 0 < user_id < 2**63:
        raise Invalid("the account id is malformed")
    nonce = _hash(account.get("nonce"), "the account nonce")
    claimed = _vector(account.get("balances"), width, "the account balances", MAX_AMOUNT)

    counted = [0] * width
    seen_positions: set[int] = set()
    parts_seen: set[int] = set()
    parts_total = None
    for n, leaf in enumerate(leaves):
        if not isinstance(leaf, dict):
            raise Invalid(f"leaf {n} is malformed")
        position, part, parts = leaf.get("position"), leaf.get("part"), leaf.get("parts")
        if not isinstance(position, int) or not 0 <= position < leaf_count:
            raise Invalid(f"leaf {n}: position out of the tree")
        if position in seen_positions:
            raise Invalid(f"leaf {n}: position {position} given twice")
        seen_positions.add(position)
        if not isinstance(parts, int) or not isinstance(part, int) or not 0 <= part < parts \
                or parts >= 2**32 or (parts_total is not None and parts != parts_total):
            raise Invalid(f"leaf {n}: part numbering is inconsistent")
        parts_total = parts
        parts_seen.add(part)
        amounts = _vector(leaf.get("amounts"), width, f"leaf {n} amounts", MAX_AMOUNT)
        path = leaf.get("path")
        if not isinstance(path, list) or len(path) != depth:
            raise Invalid(f"leaf {n}: the path must have {depth} steps (one per level)")
        node, node_sums = leaf_hash(nonce, user_id, part, parts, amounts), amounts
        index = position
        for level, step in enumerate(path):
            if not isinstance(step, dict):
                raise Invalid(f"leaf {n}: path step {level} is malformed")
            sibling = _hash(step.get("hash"), f"leaf {n}: path step {level} hash")
            sibling_sums = _vector(step.get("sums"), width, f"leaf {n}: path step {level} sums")
            if index % 2 == 0:
                node = node_hash(node, node_sums, sibling, sibling_sums)
            else:
                node = node_hash(sibling, sibling_sums, node, node_sums)
            node_sums = [a + b for a, b in zip(node_sums, sibling_sums, strict=True)]
            if any(v >= MAX_SUM for v in node_sums):
                raise Invalid(f"leaf {n}: sums overflow at level {level}")
            index //= 2
        if node != root:
            raise Invalid(f"leaf {n} (position {position}) does not lead to the root "
                          f"{root.hex()}: this proof does not include it")
        if node_sums != totals:
            raise Invalid(f"leaf {n}: the path's sums at the root differ from the published "
                          "totals")
        counted = [a + b for a, b in zip(counted, amounts, strict=True)]
    if parts_seen != set(range(parts_total or 0)) or len(leaves) != parts_total:
        raise Invalid("some of the account's leaves are missing from the proof")
    if counted != claimed:
        raise Invalid("the leaves do not add up to the account balances the proof states")

    nonzero = [(v, a) for v, a in zip(claimed, assets, strict=True) if v]
    mine = (" and ".join(f"{shown(v, a['decimals'])} {a['code']}" for v, a in nonzero)
            if nonzero else "a zero balance")
    totals_text = ", ".join(f"{a['code']} {shown(v, a['decimals'])}"
                            for v, a in zip(totals, assets, strict=True))
    return (f"Validated {mine} for your account (#{user_id}) under root {root.hex()} "
            f"(snapshot {snapshot.get('id')}, taken {snapshot.get('taken_at')}, "
            f"{len(leaves)} leaves); total liabilities {totals_text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("proof", help="the JSON proof downloaded from the exchange")
    parser.add_argument("--root", help="the published root the proof must lead to")
    args = parser.parse_args(argv)
    try:
        with open(args.proof, encoding="utf-8") as handle:
            proof = json.load(handle)
    except (OSError, ValueError) as exc:
        print(f"Cannot read {args.proof}: {exc}", file=sys.stderr)
        return 2
    try:
        print(verify(proof, args.root))
    except Invalid as exc:
        print(f"INVALID proof: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
