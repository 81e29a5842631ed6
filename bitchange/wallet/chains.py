"""Blockchain address work, with bip-utils: deriving deposit addresses from the operator's
watch-only extended public keys, and validating the addresses users withdraw to.

- BTC: a BIP84 account key (zpub, or the same key serialised as xpub) -> receive chain
  m/84'/0'/a'/0/i -> bech32 P2WPKH (`bc1q...`).
- ETH and ERC-20 USDT: a BIP44 account key (xpub of m/44'/60'/a') -> m/44'/60'/a'/0/i ->
  EIP-55 checksummed address.

Only public keys ever reach this server; it cannot spend what it derives.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass

from bip_utils import (
    Bip44,
    Bip44Changes,
    Bip44Coins,
    Bip84,
    Bip84Coins,
    EthAddrDecoder,
    P2PKHAddrDecoder,
    P2SHAddrDecoder,
    SegwitBech32Decoder,
)

from bitchange.config import get_settings
from bitchange.demo import DEMO_DEPOSIT_XPUBS

# Which scheme each asset uses; an asset missing here has no deposits or withdrawals.
SCHEMES = {"BTC": "bip84", "ETH": "bip44-eth", "USDT": "bip44-eth"}
NETWORK_NAMES = {"BTC": "Bitcoin", "ETH": "Ethereum", "USDT": "Ethereum (ERC-20)"}
_HEX = frozenset(string.hexdigits)

# Public test vectors (BIP84 and BIP44 from the "abandon ... about" mnemonic): anyone can spend
# what is sent to their addresses, so they are refused in production.
PUBLIC_TEST_KEYS = {
    "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf"
    "31mGDtKsAYz2oz2AGutZYs",
    "xpub6DCoCpSuQZB2jawqnGMEPS63ePKWkwWPH4TU45Q7LPXWuNd8TMtVxRrgjtEshuqpK3mdhaWHPFsBngh5GFZaM"
    "6si3yZdUsT8ddYM3PwnATt",
    "xpub6DCoCpSuQZB2k9PnGSMK9tinTK8kx3hcv7F4BWwhs5N2wnwGiLg17r9J7j2JcYP9gkip3sC87J1F99YxeBHGu"
    "FMg6ejA8qQEKSuzzaKvqBR",
}


class AddressError(ValueError):
    """Not a valid address for the asset; the message says why."""


@dataclass(frozen=True)
class DepositKey:
    asset: str
    available: bool
    reason: str = ""  # why deposits are unavailable
    xpub: str = ""

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.xpub.encode()).hexdigest()[:16]


def _configured(asset: str) -> str:
    settings = get_settings()
    value = {"BTC": settings.deposit_xpub_btc, "ETH": settings.deposit_xpub_eth,
             "USDT": settings.deposit_xpub_usdt}.get(asset, "")
    if not value and settings.env == "development":
        value = DEMO_DEPOSIT_XPUBS.get(asset, "")
    return value.strip()


def deposit_key(asset: str) -> DepositKey:
    """The key deposits of `asset` are derived from, or why there is none."""
    if asset not in SCHEMES:
        return DepositKey(asset, False, f"{asset} deposits are not supported.")
    xpub = _configured(asset)
    if not xpub:
        return DepositKey(asset, False, f"{asset} deposits are not available yet: the operator "
                                        "has not configured a deposit key.")
    if get_settings().is_production and xpub in PUBLIC_TEST_KEYS:
        return DepositKey(asset, False, f"{asset} deposits are unavailable: the configured key "
                                        "is a public test vector.")
    try:
        derive(asset, xpub, 0)
    except Exception:
        return DepositKey(asset, False, f"{asset} deposits are unavailable: the configured key "
                                        "is not a valid account-level extended public key.")
    return DepositKey(asset, True, xpub=xpub)


def derive(asset: str, xpub: str, index: int) -> str:
    """The receive address number `index` of an account-level extended public key."""
    if not 0 <= index < 2**31:
        raise ValueError("Derivation index out of range")
    try:
        if SCHEMES[asset] == "bip84":
            ctx = Bip84.FromExtendedKey(xpub, Bip84Coins.BITCOIN)
        else:
            ctx = Bip44.FromExtendedKey(xpub, Bip44Coins.ETHEREUM)
    except Exception as exc:  # bip-utils raises its own error types
        raise ValueError(f"Not a usable extended public key: {exc}") from None
    if not ctx.IsPublicOnly():
        raise ValueError("A private extended key was given: configure the public key only")
    if ctx.Level() != 3:  # account level: m/purpose'/coin'/account'
        raise ValueError("Expected an account-level extended public key")
    return ctx.Change(Bip44Changes.CHAIN_EXT).AddressIndex(index).PublicKey().ToAddress()


# --- validation of withdrawal addresses --------------------------------------------------------

def _btc(text: str) -> str:
    if text[:3].lower() == "bc1":
        if text != text.lower() and text != text.upper():
            raise AddressError("A bech32 address must not mix upper and lower case.")
        canonical = text.lower()
        try:
            version, program = SegwitBech32Decoder.Decode("bc", canonical)
        except Exception:
            raise AddressError("This Bitcoin address has an invalid bech32 checksum or "
                               "format.") from None
        if version == 0 and len(program) in (20, 32):
            return canonical
        if version == 1 and len(program) == 32:
            return canonical
        raise AddressError("Unsupported SegWit address version.")
    for decoder, version_byte in ((P2PKHAddrDecoder, b"\x00"), (P2SHAddrDecoder, b"\x05")):
        prefix = "1" if version_byte == b"\x00" else "3"
        if text.startswith(prefix):
            try:
                decoder.DecodeAddr(text, net_ver=version_byte)
            except Exception:
                raise AddressError("This Bitcoin address has an invalid base58check checksum "
                                   "or format.") from None
            return text
    raise AddressError("Not a Bitcoin mainnet address (expected bc1..., 1... or 3...).")


def _eth(text: str) -> str:
    # ASCII hex only: int(..., 16) would also take full-width digits and underscores.
    if not text.startswith("0x") or len(text) != 42 or not set(text[2:]) <= _HEX:
        raise AddressError("An Ethereum address is 0x followed by 40 hexadecimal characters.")
    try:
        EthAddrDecoder.DecodeAddr(text)
    except Exception:
        if text[2:] == text[2:].lower() or text[2:] == text[2:].upper():
            raise AddressError("Enter the checksummed (mixed-case, EIP-55) form of the "
                               "address; it protects against typing mistakes.") from None
        raise AddressError("This Ethereum address has an invalid EIP-55 checksum.") from None
    return text


def validate_address(asset: str, address: str) -> str:
    """The canonical form of `address` if it is valid for `asset`, else AddressError."""
    text = (address or "").strip()
    if not text:
        raise AddressError("Enter an address.")
    if len(text) > 100 or any(c.isspace() for c in text):
        raise AddressError("That does not look like an address.")
    scheme = SCHEMES.get(asset)
    if scheme is None:
        raise AddressError(f"{asset} withdrawals are not supported.")
    return _btc(text) if scheme == "bip84" else _eth(text)
