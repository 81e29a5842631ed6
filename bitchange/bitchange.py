"""The Reflex app: pages, their on-load events, and the backend routes."""

import reflex as rx
from reflex._upload import upload
from reflex.utils import exec as reflex_exec
from reflex_base import constants
from reflex_base.config import get_config
from reflex_base.environment import environment
from reflex_base.event import resolve_upload_handler_param
from reflex_base.registry import RegistrationContext
from reflex_base.utils.exceptions import UploadTypeError, UploadValueError
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bitchange import routes
from bitchange.api.streams import watch_streams
from bitchange.config import check_production, get_settings
from bitchange.jobs.scheduler import lifespan_task as scheduler_lifespan
from bitchange.mail.outbox import run_forever as outbox_loop
from bitchange.ops.cpu_pinning import pin_backend_process
from bitchange.pages.admin import admin
from bitchange.pages.admin_audit import admin_audit
from bitchange.pages.admin_deposits import admin_deposits
from bitchange.pages.admin_outbox import admin_outbox
from bitchange.pages.admin_rate_limits import admin_rate_limits
from bitchange.pages.admin_user import admin_user
from bitchange.pages.admin_users import admin_users
from bitchange.pages.admin_withdrawals import admin_withdrawals
from bitchange.pages.deposit import deposit_page
from bitchange.pages.forgot_password import forgot_password
from bitchange.pages.history import history_page
from bitchange.pages.home import home
from bitchange.pages.login import login
from bitchange.pages.login_history import login_history
from bitchange.pages.markets import markets
from bitchange.pages.not_found import not_found
from bitchange.pages.not_me import not_me
from bitchange.pages.orders import orders_page
from bitchange.pages.reset_password import reset_password
from bitchange.pages.security import security_page
from bitchange.pages.signup import signup
from bitchange.pages.trade import trade
from bitchange.pages.transfer import transfer_page
from bitchange.pages.verify_email import verify_email
from bitchange.pages.wallet import wallet_page
from bitchange.pages.withdraw import address_confirm_page, withdraw_confirm_page, withdraw_page
from bitchange.state.admin.audit import AdminAuditState
from bitchange.state.admin.deposits import AdminDepositsState
from bitchange.state.admin.markets import AdminMarketsState
from bitchange.state.admin.outbox import AdminOutboxState
from bitchange.state.admin.overview import AdminState
from bitchange.state.admin.rate_limits import AdminRateLimitsState
from bitchange.state.admin.user import AdminUserState
from bitchange.state.admin.users import AdminUsersState
from bitchange.state.admin.withdrawals import AdminWithdrawalsState
from bitchange.state.alerts import AlertsState, AlertToastState
from bitchange.state.auth import SessionState
from bitchange.state.deposit import DepositState
from bitchange.state.history import HistoryState
from bitchange.state.live import watch_markets
from bitchange.state.login import LoginState
from bitchange.state.markets import MarketsState
from bitchange.state.orders import OrdersState
from bitchange.state.password_reset import ForgotPasswordState, ResetPasswordState
from bitchange.state.security import LoginHistoryState, NotMeState, SecurityState
from bitchange.state.signup import SignupState, VerifyEmailState
from bitchange.state.trade import TradeState
from bitchange.state.transfer import TransferState
from bitchange.state.wallet import WalletState
from bitchange.state.withdraw import AddressConfirmState, WithdrawConfirmState, WithdrawState
from bitchange.web import api

check_production(get_settings())

app = rx.App(api_transformer=api, html_lang="en")


def _bad_upload(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=400)


_reflex_upload = upload(app)


async def checked_upload(request: Request) -> Response:
    """Reflex's `/_upload`, answering 400 instead of 500 when the request names a handler that
    takes no files or sends `files` as text (Reflex raises on both). The parsed form is cached
    on the request, so Reflex reads the same one."""
    name = request.headers.get("reflex-event-handler", "")
    registered = RegistrationContext.get().event_handlers.get(name)
    if registered is None:
        return _bad_upload("Unknown upload handler.")
    try:
        resolve_upload_handler_param(registered.handler)
    except (UploadTypeError, UploadValueError):
        return _bad_upload("That handler does not take files.")
    form = await request.form()
    if not all(isinstance(part, StarletteUploadFile) for part in form.getlist("files")):
        return _bad_upload("Files must be sent as files.")
    return await _reflex_upload(request)


# Before the Reflex app, which the transformer mounts after these routes.
api.add_route(routes.UPLOAD, checked_upload, methods=["POST"])
# Each backend process on a CPU of its own: its threads hand the GIL over on one CPU.
app.register_lifespan_task(pin_backend_process)
# Live trading screens: one market watcher per backend process (bitchange/state/live.py).
app.register_lifespan_task(watch_markets)
# API market streams: one watcher per backend process (bitchange/api/streams.py).
app.register_lifespan_task(watch_streams)
# One scheduler across all backend processes (outbox, backups, reconcile, cleanup).
app.register_lifespan_task(scheduler_lifespan)
if not get_settings().scheduler_enabled:
    # Without the scheduler, still deliver email: a plain loop in every backend process (the
    # outbox claims each row before sending, so several loops never send one twice).
    app.register_lifespan_task(outbox_loop,
                               interval_seconds=get_settings().outbox_interval_seconds)


def serve(host: str, port: int, *, backend_only: bool = False) -> None:
    """Serve the frontend compiled by `python -m bitchange build` with the backend on one port
    (or, `backend_only`, the backend alone), compiling nothing (`python -m bitchange serve`
    runs this in a process of its own)."""
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    get_config()._set_persistent(frontend_port=port, backend_port=port)
    reflex_exec.run_backend_prod(host, port, constants.LogLevel.INFO,
                                 mount_frontend_compiled_app=not backend_only)


_chrome = [SessionState.refresh, MarketsState.load]
app.add_page(home, route=routes.HOME, title="BitChange — spot crypto exchange",
             on_load=_chrome)
app.add_page(markets, route=routes.MARKETS, title="Markets · BitChange", on_load=_chrome)
app.add_page(login, route=routes.LOGIN, title="Log in · BitChange",
             on_load=[*_chrome, LoginState.clear])
app.add_page(admin, route=routes.ADMIN, title="Admin · BitChange",
             on_load=[*_chrome, AdminState.load, AdminMarketsState.load])
app.add_page(not_found, route=routes.NOT_FOUND, title="Not found · BitChange", on_load=_chrome)

# Accounts and security (issue #3).
app.add_page(signup, route=routes.SIGNUP, title="Sign up · BitChange",
             on_load=[*_chrome, SignupState.clear])
# Confirm first, then the chrome: its "confirm your email" banner reads the new state.
app.add_page(verify_email, route=routes.VERIFY_EMAIL, title="Confirm email · BitChange",
             on_load=[VerifyEmailState.load, *_chrome])
app.add_page(forgot_password, route=routes.FORGOT_PASSWORD, title="Reset password · BitChange",
             on_load=[*_chrome, ForgotPasswordState.clear])
app.add_page(reset_password, route=routes.RESET_PASSWORD, title="New password · BitChange",
             on_load=[*_chrome, ResetPasswordState.load])
app.add_page(not_me, route=routes.NOT_ME, title="Secure my account · BitChange",
             on_load=[*_chrome, NotMeState.load])
app.add_page(security_page, route=routes.SECURITY, title="Security · BitChange",
             on_load=[*_chrome, SecurityState.load])
app.add_page(login_history, route=routes.LOGIN_HISTORY, title="Login history · BitChange",
             on_load=[*_chrome, LoginHistoryState.load])
app.add_page(admin_users, route=routes.ADMIN_USERS, title="Users · Admin · BitChange",
             on_load=[*_chrome, AdminUsersState.load])
app.add_page(admin_user, route=routes.ADMIN_USER, title="User · Admin · BitChange",
             on_load=[*_chrome, AdminUserState.load])
app.add_page(admin_audit, route=routes.ADMIN_AUDIT, title="Audit log · Admin · BitChange",
             on_load=[*_chrome, AdminAuditState.load])
app.add_page(admin_outbox, route=routes.ADMIN_OUTBOX, title="Outbox · Admin · BitChange",
             on_load=[*_chrome, AdminOutboxState.load])
app.add_page(admin_rate_limits, route=routes.ADMIN_RATE_LIMITS,
             title="Rate limits · Admin · BitChange",
             on_load=[*_chrome, AdminRateLimitsState.load])

# Trading (issue #4).
app.add_page(trade, route=routes.TRADE, title="Trade · BitChange",
             on_load=[*_chrome, TradeState.load, AlertToastState.load])
app.add_page(orders_page, route=routes.ORDERS, title="Orders · BitChange",
             on_load=[*_chrome, OrdersState.load])

# Passkeys' neighbours: email change, data export, closure, price alerts (issue #17).
from bitchange.pages.account import account_page, confirm_email_change  # noqa: E402
from bitchange.pages.alerts import alerts_page  # noqa: E402
from bitchange.state.account import AccountState, ConfirmEmailChangeState  # noqa: E402

app.add_page(account_page, route=routes.ACCOUNT, title="Account · BitChange",
             on_load=[*_chrome, AccountState.load])
# Confirm first, then the chrome (it shows the new address).
app.add_page(confirm_email_change, route=routes.CONFIRM_EMAIL_CHANGE,
             title="New email address · BitChange",
             on_load=[ConfirmEmailChangeState.load, *_chrome])
app.add_page(alerts_page, route=routes.ALERTS, title="Price alerts · BitChange",
             on_load=[*_chrome, AlertsState.load, AlertToastState.load])

# Trader API keys (issue #13).
from bitchange.pages.api_keys import api_keys_page  # noqa: E402
from bitchange.state.api_keys import ApiKeysState  # noqa: E402

app.add_page(api_keys_page, route=routes.API_KEYS, title="API keys · BitChange",
             on_load=[*_chrome, ApiKeysState.load])

# Verification, staking, support, promo codes (issue #7).
from bitchange.pages.admin_kyc import admin_kyc  # noqa: E402
from bitchange.pages.admin_promos import admin_promos  # noqa: E402
from bitchange.pages.admin_staking import admin_staking  # noqa: E402
from bitchange.pages.admin_support import admin_support, admin_support_ticket  # noqa: E402
from bitchange.pages.promos import promos_page  # noqa: E402
from bitchange.pages.staking import staking_page  # noqa: E402
from bitchange.pages.support import support_page, support_ticket  # noqa: E402
from bitchange.pages.verification import verification  # noqa: E402
from bitchange.state.admin.kyc import AdminKycState  # noqa: E402
from bitchange.state.admin.promos import AdminPromosState  # noqa: E402
from bitchange.state.admin.staking import AdminStakingState  # noqa: E402
from bitchange.state.admin.support import AdminSupportState, AdminTicketState  # noqa: E402
from bitchange.state.promos import PromosState  # noqa: E402
from bitchange.state.staking import StakingState  # noqa: E402
from bitchange.state.support import SupportState, TicketState  # noqa: E402
from bitchange.state.verification import VerificationState  # noqa: E402

app.add_page(verification, route=routes.VERIFICATION, title="Verification · BitChange",
             on_load=[*_chrome, VerificationState.load])
app.add_page(staking_page, route=routes.STAKING, title="Staking · BitChange",
             on_load=[*_chrome, StakingState.load])
app.add_page(support_page, route=routes.SUPPORT, title="Support · BitChange",
             on_load=[*_chrome, SupportState.load])
app.add_page(support_ticket, route=routes.SUPPORT_TICKET, title="Ticket · BitChange",
             on_load=[*_chrome, TicketState.load])
app.add_page(promos_page, route=routes.PROMOS, title="Promo codes · BitChange",
             on_load=[*_chrome, PromosState.load])
app.add_page(admin_kyc, route=routes.ADMIN_KYC, title="Verification · Admin · BitChange",
             on_load=[*_chrome, AdminKycState.load])
app.add_page(admin_staking, route=routes.ADMIN_STAKING, title="Staking · Admin · BitChange",
             on_load=[*_chrome, AdminStakingState.load])
app.add_page(admin_support, route=routes.ADMIN_SUPPORT, title="Support · Admin · BitChange",
             on_load=[*_chrome, AdminSupportState.load])
app.add_page(admin_support_ticket, route=routes.ADMIN_SUPPORT_TICKET,
             title="Ticket · Admin · BitChange", on_load=[*_chrome, AdminTicketState.load])
app.add_page(admin_promos, route=routes.ADMIN_PROMOS, title="Promo codes · Admin · BitChange",
             on_load=[*_chrome, AdminPromosState.load])

# Wallet (issue #5).
app.add_page(wallet_page, route=routes.WALLET, title="Wallet · BitChange",
             on_load=[*_chrome, WalletState.load])
app.add_page(deposit_page, route=routes.DEPOSIT, title="Deposit · BitChange",
             on_load=[*_chrome, DepositState.load])
app.add_page(withdraw_page, route=routes.WITHDRAW, title="Withdraw · BitChange",
             on_load=[*_chrome, WithdrawState.load])
app.add_page(address_confirm_page, route=routes.ADDRESS_CONFIRM,
             title="Confirm address · BitChange", on_load=[*_chrome, AddressConfirmState.load])
app.add_page(withdraw_confirm_page, route=routes.WITHDRAW_CONFIRM,
             title="Confirm withdrawal · BitChange",
             on_load=[*_chrome, WithdrawConfirmState.load])
app.add_page(transfer_page, route=routes.TRANSFER, title="Transfer · BitChange",
             on_load=[*_chrome, TransferState.load])
app.add_page(history_page, route=routes.HISTORY, title="History · BitChange",
             on_load=[*_chrome, HistoryState.load])
app.add_page(admin_deposits, route=routes.ADMIN_DEPOSITS, title="Deposits · Admin · BitChange",
             on_load=[*_chrome, AdminDepositsState.load])
app.add_page(admin_withdrawals, route=routes.ADMIN_WITHDRAWALS,
             title="Withdrawals · Admin · BitChange",
             on_load=[*_chrome, AdminWithdrawalsState.load])

# Proof of liabilities and reserves (issue #16).
from bitchange.pages.proof import admin_proof, proof_page  # noqa: E402
from bitchange.state.proof import AdminProofState, ProofState  # noqa: E402

app.add_page(proof_page, route=routes.PROOF, title="Proof of reserves · BitChange",
             on_load=[*_chrome, ProofState.load])
app.add_page(admin_proof, route=routes.ADMIN_PROOF, title="Proof of reserves · Admin · BitChange",
             on_load=[*_chrome, AdminProofState.load])
