"""Reserves set against a snapshot's liabilities: addresses the operator controls, the balance
each held, and a message signed with the address's key proving control.

The message must name the snapshot's root, so a signature made for one snapshot cannot be
shown again for a later one. BTC signatures are Bitcoin Core / BIP-137 message signatures
(legacy, nested and native SegWit addresses), checked with `bitcoinlib`; ETH and ERC-20
(USDT) addresses sign EIP-191 personal messages, recovered with `eth-account`. A signature
that does not recover the address is refused and nothing is stored. The balances are the
operator's statement, to be checked by anyone on a block explorer; the signatures are what this
server verifies.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from bitcoinlib.keys import verify_message as verify_bitcoin_message
from eth_account import Account
from eth_account.messages import encode_defunct
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from bitchange.accounts import audit
from bitchange.clock import now
from bitchange.proof.snapshot import get_snapshot
from bitchange.proof.tables import ReserveAttestation
from bitchange.wallet import chains

_reserves = ReserveAttestation.__table__
BIP137, EIP191 = "bip137", "eip191"
SCHEME_OF = {"bip84": BIP137, "bip44-eth": EIP191}  # by wallet.chains scheme


class ReserveError(ValueError):
    """A refused attestation; the message is safe to show. Nothing was stored."""


def _bitcoin_signed(address: str, message: str, signature: str) -> bool:
    try:
        return bool(verify_bitcoin_message(message, signature, address))
    except Exception as exc:  # bitcoinlib raises several types for a malformed signature
        raise ReserveError("That is not a valid Bitcoin message signature "
                           f"({type(exc).__name__}).") from None


def _ethereum_signer(message: str, signature: str) -> str:
    try:
        return Account.recover_message(encode_defunct(text=message), signature=signature)
    except Exception as exc:  # eth-account raises several types for a malformed signature
        raise ReserveError("That is not a valid Ethereum (EIP-191) signature "
                           f"({type(exc).__name__}).") from None


def check_control(asset: str, address: str, message: str, signature: str) -> str:
    """The scheme, if `signature` over `message` was made with the key of `address`; else
    ReserveError saying why."""
    scheme = SCHEME_OF.get(chains.SCHEMES.get(asset, ""))
    if scheme is None:
        raise ReserveError(f"{asset} reserves cannot be attested: no signature scheme for it.")
    signature = signature.strip()
    if not signature or len(signature) > 200:
        raise ReserveError("Paste the signature (base64 for BTC, 0x-hex for ETH).")
    if scheme == BIP137:
        if not _bitcoin_signed(address, message, signature):
            raise ReserveError(f"The signature was not made with the key of {address}: "
                               "control is not proven.")
    elif _ethereum_signer(message, signature).lower() != address.lower():
        raise ReserveError(f"The signature was not made with the key of {address}: "
                           "control is not proven.")
    return scheme


def attest(conn: Connection, admin_id: int, snapshot_id: int, *, asset: str, address: str,
           balance: int, message: str, signature: str, ip: str = "") -> int:
    snapshot = get_snapshot(conn, snapshot_id)
    if snapshot is None:
        raise ReserveError("Unknown snapshot.")
    if asset not in snapshot.codes:
        raise ReserveError(f"{asset} is not an asset of this snapshot.")
    try:
        address = chains.validate_address(asset, address)
    except chains.AddressError as exc:
        raise ReserveError(str(exc)) from None
    if type(balance) is not int or balance < 0:
        raise ReserveError("The balance must be zero or more.")
    message = (message or "").strip()
    if snapshot.root not in message:
        raise ReserveError("The signed message must contain this snapshot's root "
                           f"({snapshot.root}), so it cannot be reused for another one.")
    scheme = check_control(asset, address, message, signature)
    try:
        with conn.begin_nested():
            reserve_id = int(conn.execute(insert(_reserves).values(
                snapshot_id=snapshot_id, asset=asset, address=address, balance=balance,
                message=message, signature=signature.strip(), scheme=scheme,
                created_by=admin_id, created_at=now())).inserted_primary_key[0])
    except IntegrityError:
        raise ReserveError(f"{address} is already attested for this snapshot.") from None
    audit.record(conn, admin_id, "reserve_attest", f"snapshot {snapshot_id}", ip=ip,
                 detail=f"{asset} {address} balance {balance} ({scheme})")
    return reserve_id


@dataclass(frozen=True)
class Reserve:
    asset: str
    address: str
    balance: int
    message: str
    signature: str
    scheme: str


def reserves_by_snapshot(conn: Connection, snapshot_ids: list[int]) -> dict[int, list[Reserve]]:
    found: dict[int, list[Reserve]] = defaultdict(list)
    if not snapshot_ids:
        return found
    for r in conn.execute(select(_reserves).where(_reserves.c.snapshot_id.in_(snapshot_ids))
                          .order_by(_reserves.c.asset, _reserves.c.id)):
        found[r.snapshot_id].append(Reserve(r.asset, r.address, r.balance, r.message,
                                            r.signature, r.scheme))
    return found
