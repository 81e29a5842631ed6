"""Reserve attestations: a signature made with the address's key is accepted (BTC BIP-137 for
native SegWit and legacy addresses, ETH/USDT EIP-191); a wrong one is refused, nothing stored."""

from __future__ import annotations

import pytest
from bitcoinlib.keys import HDKey
from eth_account import Account
from eth_account.messages import encode_defunct
from sqlalchemy import func, select

from bitchange import db
from bitchange.proof import reserves
from bitchange.proof import snapshot as proof
from bitchange.proof.reserves import ReserveError
from bitchange.proof.tables import ReserveAttestation
from tests.proof.conftest import BTC, USDT, Owed


@pytest.fixture
def snapshot(owed: Owed) -> proof.Taken:
    return proof.take_snapshot()


def _attest(snapshot: proof.Taken, asset: str, address: str, message: str, signature: str,
            balance: int = 2 * BTC) -> int:
    with db.write() as conn:
        return reserves.attest(conn, 1, snapshot.snapshot_id, asset=asset, address=address,
                               balance=balance, message=message, signature=signature)


def _stored() -> int:
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(ReserveAttestation.__table__))


def _btc_signed(witness_type: str, message: str) -> tuple[str, str]:
    key = HDKey(witness_type=witness_type)
    return key.address(), key.sign_message(message).as_base64()


def _eth_signed(message: str) -> tuple[str, str]:
    account = Account.create()
    signed = account.sign_message(encode_defunct(text=message))
    return account.address, "0x" + signed.signature.hex().removeprefix("0x")


@pytest.mark.parametrize("witness_type", ["segwit", "legacy"])
def test_a_bitcoin_address_signature_is_accepted(snapshot: proof.Taken, witness_type: str) -> None:
    message = f"BitChange reserves for snapshot root {snapshot.root}"
    address, signature = _btc_signed(witness_type, message)
    _attest(snapshot, "BTC", address, message, signature)
    with db.read() as conn:
        (found,) = reserves.reserves_by_snapshot(conn, [snapshot.snapshot_id])[snapshot.snapshot_id]
    assert (found.asset, found.address, found.scheme) == ("BTC", address, "bip137")


def test_an_ethereum_and_a_usdt_address_signature_are_accepted(snapshot: proof.Taken) -> None:
    message = f"BitChange reserves {snapshot.root}"
    address, signature = _eth_signed(message)
    _attest(snapshot, "ETH", address, message, signature)
    _attest(snapshot, "USDT", address, message, signature, balance=5 * USDT)
    assert _stored() == 2


def test_wrong_signatures_are_refused(snapshot: proof.Taken) -> None:
    message = f"BitChange reserves {snapshot.root}"
    address, signature = _btc_signed("segwit", message)
    _, other_signature = _btc_signed("segwit", message)
    with pytest.raises(ReserveError, match="not made with the key of"):
        _attest(snapshot, "BTC", address, message, other_signature)
    with pytest.raises(ReserveError, match="not made with the key of"):
        _attest(snapshot, "BTC", address, message + " (edited)", signature)
    with pytest.raises(ReserveError, match="not a valid Bitcoin message signature"):
        _attest(snapshot, "BTC", address, message, "not base64!")
    eth, eth_signature = _eth_signed(message)
    with pytest.raises(ReserveError, match="not made with the key of"):
        _attest(snapshot, "ETH", eth, message.replace("reserves", "reserve"), eth_signature)
    with pytest.raises(ReserveError, match="not a valid Ethereum"):
        _attest(snapshot, "ETH", eth, message, "0x1234")
    assert _stored() == 0


def test_a_message_without_the_root_or_a_bad_address_is_refused(snapshot: proof.Taken) -> None:
    stale = "BitChange reserves, last year"
    address, signature = _btc_signed("segwit", stale)
    with pytest.raises(ReserveError, match="must contain this snapshot's root"):
        _attest(snapshot, "BTC", address, stale, signature)
    with pytest.raises(ReserveError, match="address"):
        _attest(snapshot, "BTC", "0x" + "00" * 20, f"r {snapshot.root}", signature)
    message = f"r {snapshot.root}"
    address, signature = _btc_signed("segwit", message)
    _attest(snapshot, "BTC", address, message, signature)
    with pytest.raises(ReserveError, match="already attested"):
        _attest(snapshot, "BTC", address, message, signature)
    assert _stored() == 1
