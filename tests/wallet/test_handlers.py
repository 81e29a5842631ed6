"""The wallet's Reflex handlers, invoked directly as a forged websocket event would invoke them:
anonymous callers get nothing, a trader cannot act on another user's withdrawal or use the
admin handlers, and admins are re-checked on every event."""

from __future__ import annotations

from sqlalchemy import func, select

from bitchange import db, ledger
from bitchange.state.admin.deposits import AdminDepositsState
from bitchange.state.admin.user import AdminUserState
from bitchange.state.admin.withdrawals import AdminWithdrawalsState
from bitchange.state.deposit import DepositState
from bitchange.state.history import HistoryState
from bitchange.state.transfer import TransferState
from bitchange.state.wallet import WalletState
from bitchange.state.wallet_controls import WithdrawalSwitchState
from bitchange.state.withdraw import WithdrawState
from bitchange.wallet import controls, withdrawals
from bitchange.wallet.tables import Deposit, DepositAddress, Withdrawal
from tests.accounts.test_handlers import session_for, state_of
from tests.wallet.conftest import ADMIN_SECRET, BTC, ETH, USDT, set_price
from tests.wallet.test_chains import BIP84_FIRST, BIP84_ZPUB
from tests.wallet.test_withdrawals import confirm_by_email, ready_address

TXID = "9f" * 32


def _status(withdrawal_id: int) -> str:
    with db.read() as conn:
        table = Withdrawal.__table__
        return conn.scalar(select(table.c.status).where(table.c.id == withdrawal_id))


def test_wallet_handlers(world):
    w = world
    set_price("BTC-USDT", 60_000 * USDT)
    address_id = ready_address(w, w.alice, "BTC", "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu")
    withdrawal_id = withdrawals.request(w.alice.user_id, address_id, BTC // 10,
                                        w.clock.code())
    confirm_by_email(w)
    alice_token = session_for(w.alice.email, w.clock.code())
    bob_token = session_for(w.bob.email, w.clock.code())
    admin_token = session_for(w.admin.email, w.clock.code(ADMIN_SECRET))

    # Anonymous: nothing loads, nothing changes.
    for cls in (WalletState, WithdrawState, HistoryState, TransferState):
        anonymous = state_of(cls)
        anonymous.load()
        assert anonymous.access == "denied"
    anonymous = state_of(WithdrawState)
    anonymous.cancel(str(withdrawal_id))
    anonymous.request({"address_id": str(address_id), "amount": "0.1", "code": "123456"})
    assert anonymous.rows == [] and _status(withdrawal_id) == "pending_review"

    # Bob cannot cancel Alice's withdrawal by sending its id.
    bob = state_of(WithdrawState, bob_token, query="?asset=BTC")
    bob.load()
    assert bob.access == "ok" and bob.rows == []
    bob.cancel(str(withdrawal_id))
    assert bob.error == "No such withdrawal."
    assert _status(withdrawal_id) == "pending_review"
    bob.cancel("not-a-number")
    assert bob.error == "No such withdrawal."

    # A trader calling the admin handlers is refused and nothing changes.
    for cls, calls in (
        (AdminWithdrawalsState, [("approve", {"id": str(withdrawal_id)}),
                                 ("reject", {"id": str(withdrawal_id), "reason": "x"})]),
        (AdminDepositsState, [("record", {"asset": "BTC", "target": w.bob.email,
                                          "amount": "5", "txid": TXID, "vout": "0",
                                          "confirmations": "6"})]),
        (WithdrawalSwitchState, [("toggle", {"scope": "*"})]),
    ):
        trader = state_of(cls, bob_token)
        for name, form in calls:
            getattr(trader, name)(form)
    assert _status(withdrawal_id) == "pending_review"
    with db.read() as conn:
        assert conn.scalar(select(Deposit.__table__.c.id)) is None
        assert controls.paused_reason(conn, "BTC") is None

    # The admin can; Alice sees her withdrawal and its status.
    admin = state_of(AdminWithdrawalsState, admin_token)
    admin.load()
    assert admin.access == "admin" and [r["id"] for r in admin.rows] == [str(withdrawal_id)]
    admin.approve({"id": str(withdrawal_id)})
    admin.mark_sent({"id": str(withdrawal_id), "txid": TXID})
    assert _status(withdrawal_id) == "sent", admin.error
    alice = state_of(WithdrawState, alice_token, query="?asset=BTC")
    alice.load()
    assert [(r["status"], r["txid"]) for r in alice.rows] == [("sent", TXID)]
    switches = state_of(WithdrawalSwitchState, admin_token)
    switches.toggle({"scope": "BTC", "reason": "node upgrade"})
    with db.read() as conn:
        assert "node upgrade" in controls.paused_reason(conn, "BTC")
    history = state_of(HistoryState, alice_token)
    history.load()
    csv_event = history.export()
    assert csv_event is not None
    history.apply({"type": "withdrawal", "asset": "", "start": "bad", "end": ""})
    assert "YYYY-MM-DD" in history.error


def test_withdraw_form_refuses_an_address_of_another_asset(world):
    w = world
    set_price("BTC-USDT", 60_000 * USDT)
    usdt_address = ready_address(w, w.alice, "USDT", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    alice = state_of(WithdrawState, session_for(w.alice.email, w.clock.code()),
                     query="?asset=BTC")
    alice.load()
    # A forged form: the BTC page's amount (8 decimals) with a USDT (6 decimals) address.
    alice.request({"address_id": str(usdt_address), "amount": "100", "code": w.clock.code()})
    assert alice.error == "That address is a USDT address; choose one of your BTC addresses."
    with db.read() as conn:
        assert conn.scalar(select(Withdrawal.__table__.c.id)) is None


# Past 2^63: SQLite's driver raised OverflowError and PostgreSQL DataError for ids like this.
PAST_THE_COLUMNS = "99999999999999999999"


def _records() -> tuple[int, int]:
    with db.read() as conn:
        return (conn.scalar(select(func.count()).select_from(Deposit.__table__)),
                conn.scalar(select(func.count()).select_from(Withdrawal.__table__)))


def test_amounts_are_never_guessed_and_ids_past_the_columns_are_not_found(world):
    w = world
    set_price("BTC-USDT", 60_000 * USDT)
    address_id = ready_address(w, w.alice, "BTC", "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu")
    alice_token = session_for(w.alice.email, w.clock.code())
    admin_token = session_for(w.admin.email, w.clock.code(ADMIN_SECRET))
    before = (w.alice.balance("USDT"), w.bob.balance("USDT"), w.alice.balance("BTC"), _records())

    transfer = state_of(TransferState, alice_token)
    transfer.load()
    not_a_number = "Amount must be a number: digits 0-9 and at most one dot, e.g. 1.5"
    for amount, message in (("1,5", "Amount: use a dot for decimals, e.g. 1.5"),
                            ("\uff11\uff12", not_a_number),  # full-width 12
                            ("1e999999", not_a_number)):
        transfer.send({"asset": "USDT", "email": w.bob.email, "amount": amount, "note": "",
                       "code": w.clock.code()})
        assert transfer.error == message and transfer.notice == ""

    withdraw = state_of(WithdrawState, alice_token, query="?asset=BTC")
    withdraw.load()
    withdraw.request({"address_id": str(address_id), "amount": "1e999999",
                      "code": w.clock.code()})
    assert withdraw.error == not_a_number
    withdraw.request({"address_id": PAST_THE_COLUMNS, "amount": "0.1", "code": w.clock.code()})
    assert withdraw.error == "Choose an address from your address book."
    withdraw.cancel(PAST_THE_COLUMNS)
    assert withdraw.error == "No such withdrawal."
    withdraw.remove_address(PAST_THE_COLUMNS)
    assert withdraw.error == "No such address in your address book."

    admin_withdrawals = state_of(AdminWithdrawalsState, admin_token)
    admin_withdrawals.approve({"id": PAST_THE_COLUMNS})
    assert admin_withdrawals.error == "No such withdrawal."
    deposits = state_of(AdminDepositsState, admin_token)
    deposits.record({"asset": "BTC", "target": w.bob.email, "amount": "1", "txid": TXID,
                     "vout": PAST_THE_COLUMNS, "confirmations": "6"})
    assert deposits.error == "The output index must be at most 2147483647"
    deposits.record({"asset": "BTC", "target": w.bob.email, "amount": "1", "txid": TXID,
                     "vout": "\u0661", "confirmations": "6"})  # Arabic-Indic 1
    assert deposits.error == "The output index must be a whole number written with the digits 0-9"
    deposits.approve(PAST_THE_COLUMNS)
    assert deposits.error == "No such deposit."
    assert (w.alice.balance("USDT"), w.bob.balance("USDT"), w.alice.balance("BTC"),
            _records()) == before


def test_an_asset_reads_the_same_on_every_screen(world):
    """One display rule: an asset's display decimals, more only when the amount has them."""
    w = world
    with db.write() as conn:
        ledger.credit_deposit(conn, w.alice.account, "ETH", 3 * ETH // 2, ref_type="test")
        ledger.credit_deposit(conn, w.alice.account, "USDT", 50_000 * USDT, ref_type="test")
    alice_token = session_for(w.alice.email, w.clock.code())
    admin_token = session_for(w.admin.email, w.clock.code(ADMIN_SECRET))

    def screens() -> tuple[dict[str, str], dict[str, str], str]:
        wallet = state_of(WalletState, alice_token)
        wallet.load()
        admin = state_of(AdminUserState, admin_token, query=f"?id={w.alice.user_id}")
        admin.load()
        withdraw = state_of(WithdrawState, alice_token, query="?asset=USDT")
        withdraw.load()
        return ({r["asset"]: r["available"] for r in wallet.rows},
                {b["asset"]: b["available"] for b in admin.balances}, withdraw.available)

    on_wallet, on_admin, withdrawable = screens()
    assert on_wallet == on_admin == {"BTC": "2.00000000", "ETH": "1.500000",
                                     "USDT": "150,000.00"}
    assert withdrawable == "150,000.00"
    # A last satoshi-sized digit is shown, never cut off, on both screens.
    with db.write() as conn:
        ledger.credit_deposit(conn, w.alice.account, "ETH", 1, ref_type="test")
    on_wallet, on_admin, _ = screens()
    assert on_wallet["ETH"] == on_admin["ETH"] == "1.50000001"


def test_the_deposit_page_reads_and_asks_for_the_address_by_its_own_event(world, settings):
    settings(DEPOSIT_XPUB_BTC=BIP84_ZPUB)
    table = DepositAddress.__table__

    def addresses() -> int:
        with db.read() as conn:
            return conn.scalar(select(func.count()).select_from(table))

    page = state_of(DepositState, session_for(world.alice.email, world.clock.code()),
                    query="?asset=btc")
    follow_up = page.load()
    assert (page.access, page.asset, page.address, addresses()) == ("ok", "BTC", "", 0)
    assert follow_up is DepositState.assign_address  # the page asks for one, once
    page.assign_address()
    assert page.address == BIP84_FIRST and page.qr and page.error == ""
    assert addresses() == 1
    assert page.load() is None and page.address == BIP84_FIRST  # assigned: nothing to ask

    anonymous = state_of(DepositState)
    anonymous.assign_address()
    assert anonymous.access == "denied" and addresses() == 1
