"""Address derivation against published BIP test vectors, and address validation with valid and
corrupted addresses."""

from __future__ import annotations

import pytest
from bip_utils import Bip39SeedGenerator, Bip44, Bip44Coins, Bip84, Bip84Coins

from bitchange.config import reload_settings
from bitchange.wallet import chains
from bitchange.wallet.chains import AddressError, derive, validate_address

MNEMONIC = ("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
            "abandon about")
# BIP84 (github.com/bitcoin/bips/blob/master/bip-0084.mediawiki, "Test vectors").
BIP84_ZPUB = ("zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868R"
              "vUUkgDKf31mGDtKsAYz2oz2AGutZYs")
BIP84_FIRST = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"  # m/84'/0'/0'/0/0
BIP84_SECOND = "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g"  # m/84'/0'/0'/0/1
# The same mnemonic's first Ethereum account address at m/44'/60'/0'/0/0, as published by
# widely used wallets' test suites (e.g. ethers.js, Ian Coleman's BIP39 tool).
ETH_FIRST = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"


def test_bip84_vectors_from_the_zpub():
    assert derive("BTC", BIP84_ZPUB, 0) == BIP84_FIRST
    assert derive("BTC", BIP84_ZPUB, 1) == BIP84_SECOND


def test_bip84_account_key_from_the_mnemonic_is_the_published_zpub():
    seed = Bip39SeedGenerator(MNEMONIC).Generate()
    account = Bip84.FromSeed(seed, Bip84Coins.BITCOIN).Purpose().Coin().Account(0)
    assert account.PublicKey().ToExtended() == BIP84_ZPUB


def test_bip44_ethereum_vector():
    seed = Bip39SeedGenerator(MNEMONIC).Generate()
    xpub = Bip44.FromSeed(seed, Bip44Coins.ETHEREUM).Purpose().Coin().Account(0) \
        .PublicKey().ToExtended()
    assert derive("ETH", xpub, 0) == ETH_FIRST
    # ERC-20 USDT lives on Ethereum addresses: same scheme.
    assert derive("USDT", xpub, 0) == ETH_FIRST


def test_derivation_refuses_a_non_account_level_key():
    seed = Bip39SeedGenerator(MNEMONIC).Generate()
    root = Bip84.FromSeed(seed, Bip84Coins.BITCOIN).PublicKey().ToExtended()
    with pytest.raises(ValueError):
        derive("BTC", root, 0)


def test_derivation_refuses_a_private_key():
    seed = Bip39SeedGenerator(MNEMONIC).Generate()
    account = Bip84.FromSeed(seed, Bip84Coins.BITCOIN).Purpose().Coin().Account(0)
    with pytest.raises(ValueError, match="private"):
        derive("BTC", account.PrivateKey().ToExtended(), 0)


@pytest.mark.parametrize(("asset", "address", "canonical"), [
    ("BTC", BIP84_FIRST, BIP84_FIRST),
    ("BTC", BIP84_FIRST.upper(), BIP84_FIRST),  # all upper case is valid bech32
    ("BTC", "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
     "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"),  # P2WSH (BIP173)
    ("BTC", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
     "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"),  # taproot (BIP350)
    ("BTC", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
    ("BTC", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
    ("ETH", ETH_FIRST, ETH_FIRST),
    # EIP-55's own examples
    ("ETH", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
     "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
    ("USDT", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
     "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"),
    ("ETH", f"  {ETH_FIRST} ", ETH_FIRST),
])
def test_valid_addresses(asset, address, canonical):
    assert validate_address(asset, address) == canonical


@pytest.mark.parametrize(("asset", "address", "why"), [
    ("BTC", BIP84_FIRST[:-1] + "v", "checksum"),  # one character changed
    ("BTC", "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyU", "mix"),  # mixed case
    # BIP350: a v1 program with a bech32 (not bech32m) checksum is invalid
    ("BTC", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "checksum"),
    ("BTC", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "mainnet"),  # testnet
    ("BTC", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", "base58check"),  # corrupted
    ("BTC", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz", "base58check"),
    ("BTC", ETH_FIRST, "mainnet"),
    ("ETH", "0x9858EfFD232B4033E47d90003D41EC34EcaEda95", "checksum"),  # last digit changed
    ("ETH", "0x9858EFFD232B4033E47d90003D41EC34EcaEda94", "checksum"),  # case flipped
    ("ETH", ETH_FIRST.lower(), "checksummed"),  # no checksum at all: refused
    ("ETH", ETH_FIRST[:-1], "40 hexadecimal"),
    ("ETH", "0x" + "g" * 40, "40 hexadecimal"),
    ("ETH", "0x" + "\uff11" * 40, "40 hexadecimal"),  # full-width digits: int(, 16) took them
    ("ETH", "0x" + "ab_" * 13 + "a", "40 hexadecimal"),  # and underscores
    ("USDT", BIP84_FIRST, "40 hexadecimal"),
    ("ETH", "", "Enter an address"),
    ("ETH", "0x12 34", "does not look"),
    ("DOGE", "D" * 34, "not supported"),
])
def test_invalid_addresses_are_refused_with_a_reason(asset, address, why):
    with pytest.raises(AddressError, match=why):
        validate_address(asset, address)


def test_deposit_key_unavailable_without_configuration(monkeypatch):
    monkeypatch.setenv("BITCHANGE_ENV", "test")
    monkeypatch.setenv("DEPOSIT_XPUB_BTC", "")
    reload_settings()
    try:
        key = chains.deposit_key("BTC")
        assert not key.available and "not configured" in key.reason
        monkeypatch.setenv("DEPOSIT_XPUB_BTC", "xpub-garbage")
        reload_settings()
        key = chains.deposit_key("BTC")
        assert not key.available and "not a valid" in key.reason
        monkeypatch.setenv("DEPOSIT_XPUB_BTC", BIP84_ZPUB)
        reload_settings()
        assert chains.deposit_key("BTC").available
        # The public test vector is refused in production: anyone could spend from it.
        monkeypatch.setenv("BITCHANGE_ENV", "production")
        reload_settings()
        key = chains.deposit_key("BTC")
        assert not key.available and "public test vector" in key.reason
    finally:
        reload_settings()


def test_development_falls_back_to_the_demo_keys(monkeypatch):
    monkeypatch.setenv("BITCHANGE_ENV", "development")
    monkeypatch.setenv("DEPOSIT_XPUB_ETH", "")
    reload_settings()
    try:
        key = chains.deposit_key("ETH")
        assert key.available
        assert derive("ETH", key.xpub, 0) == ETH_FIRST
    finally:
        reload_settings()
