"""The Reflex app: pages, their on-load events, and the backend routes."""

import reflex as rx

from bitchange import routes
from bitchange.config import check_production, get_settings
from bitchange.jobs.scheduler import lifespan_task as scheduler_lifespan
from bitchange.mail.outbox import run_forever as outbox_loop
from bitchange.pages.admin import AdminState, admin
from bitchange.pages.admin_audit import AdminAuditState, admin_audit
from bitchange.pages.admin_markets import AdminMarketsState
from bitchange.pages.admin_outbox import AdminOutboxState, admin_outbox
from bitchange.pages.admin_user import AdminUserState, admin_user
from bitchange.pages.admin_users import AdminUsersState, admin_users
from bitchange.pages.forgot_password import ForgotPasswordState, forgot_password
from bitchange.pages.home import home
from bitchange.pages.login import LoginState, login
from bitchange.pages.login_history import LoginHistoryState, login_history
from bitchange.pages.markets import markets
from bitchange.pages.not_found import not_found
from bitchange.pages.not_me import NotMeState, not_me
from bitchange.pages.reset_password import ResetPasswordState, reset_password
from bitchange.pages.security import SecurityState, security_page
from bitchange.pages.signup import SignupState, signup
from bitchange.pages.trade import trade
from bitchange.pages.verify_email import VerifyEmailState, verify_email
from bitchange.state.auth import SessionState
from bitchange.state.live import watch_markets
from bitchange.state.markets import MarketsState
from bitchange.state.trade import TradeState
from bitchange.web import api

check_production(get_settings())

app = rx.App(api_transformer=api, html_lang="en")
# Live trading screens: one market watcher per backend process (bitchange/state/live.py).
app.register_lifespan_task(watch_markets)
# One scheduler across all backend processes (outbox, backups, reconcile, cleanup).
app.register_lifespan_task(scheduler_lifespan)
if not get_settings().scheduler_enabled:
    # Without the scheduler, still deliver email: a plain loop in every backend process (the
    # outbox claims each row before sending, so several loops never send one twice).
    app.register_lifespan_task(outbox_loop,
                               interval_seconds=get_settings().outbox_interval_seconds)

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
app.add_page(verify_email, route=routes.VERIFY_EMAIL, title="Confirm email · BitChange",
             on_load=[*_chrome, VerifyEmailState.load])
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

# Trading (issue #4).
app.add_page(trade, route=routes.TRADE, title="Trade · BitChange",
             on_load=[*_chrome, TradeState.load])
