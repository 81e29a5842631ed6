"""The account lifecycle: sign-up, verification, login (with 2FA, throttling and alerts),
password change and reset, "this wasn't me", anti-phishing code, 2FA on/off.

Every function takes the caller's connection (one transaction): the emails it queues exist only
if the change commits. Messages returned to the UI are generic where a difference would reveal
whether an account exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from bitchange import ratelimits, routes
from bitchange.accounts import (
    api_keys,
    email_change,
    email_tokens,
    history,
    passkeys,
    reauth,
    throttle,
    totp,
)
from bitchange.accounts.admin import reject_open_withdrawals
from bitchange.accounts.devices import describe
from bitchange.accounts.notices import notify
from bitchange.accounts.passwords import hash_password, unusable, verify_password
from bitchange.accounts.sessions import revoke_all_sessions, start_session
from bitchange.accounts.tables import PasswordHistory
from bitchange.accounts.users import (
    AccountError,
    authenticate,
    check_password_policy,
    check_password_usable,
    create_user,
    normalize_email,
)
from bitchange.clock import now
from bitchange.config import get_settings
from bitchange.db.models import User
from bitchange.mail.templates import Link, public_link
from bitchange.ops import metrics

_users = User.__table__
_history = PasswordHistory.__table__
PASSWORD_HISTORY = 5  # the current password and the four before it cannot be reused
GENERIC_LOGIN_FAILURE = "Incorrect email or password."
GENERIC_CODE_FAILURE = "That code is not valid. Use a new code from your app."
FROZEN_MESSAGE = ("This account is frozen for your protection. Contact support to unfreeze it.")
CLOSED_MESSAGE = "This account is closed."
ADMIN_NEEDS_PASSKEY = "Admin accounts confirm their login with a passkey."
CHECK_INBOX = ("If the address can receive email from us, a message is on its way. "
               "Check your inbox.")


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# --- sign-up and verification ----------------------------------------------------------------

def sign_up(conn: Connection, email: str, password: str, *, ip: str = "") -> str:
    """Create an account (unverified) and send the verification link.

    Raises AccountError for an invalid address or password. For an address that already has an
    account nothing is created; its owner gets a notice instead, and the caller shows the same
    "check your inbox" message, so the form does not reveal who is a customer."""
    email = normalize_email(email)
    ratelimits.check("signup", AccountError, ip=ip, account=email)
    check_password_policy(password, email)
    wait = throttle.first_blocked(conn, [("email_ip", ip)])
    if wait:
        raise AccountError(f"Too many requests. Try again in {throttle.describe_wait(wait)}.")
    throttle.hit(conn, "email_ip", ip)
    existing = conn.scalar(select(_users.c.id).where(_users.c.email == email))
    if existing is not None:
        hash_password(password)  # same cost as creating the account
        notify(conn, existing, "signup_existing", "Someone tried to sign up with your email", [
            "Someone tried to create a BitChange account with this email address, which "
            "already has one. If it was you, log in or reset your password.",
            "If it was not you, you can ignore this message.",
        ], link=Link("Reset your password", public_link(routes.FORGOT_PASSWORD)))
        return CHECK_INBOX
    user_id = create_user(conn, email, password)
    _remember_password(conn, user_id, None)
    send_verification(conn, user_id)
    return CHECK_INBOX


def send_verification(conn: Connection, user_id: int) -> None:
    token = email_tokens.issue(conn, user_id, "verify")
    notify(conn, user_id, "verify_email", "Confirm your email address", [
        "Welcome to BitChange. Confirm your email address to start trading and withdrawing.",
        "The link works once and expires in 24 hours.",
    ], link=Link("Confirm my email", public_link(routes.VERIFY_EMAIL, token=token)))


def resend_verification(conn: Connection, user_id: int, *, ip: str = "") -> str:
    row = conn.execute(select(_users.c.email, _users.c.email_verified_at).where(
        _users.c.id == user_id)).one()
    if row.email_verified_at is not None:
        return "Your email address is already confirmed."
    wait = throttle.first_blocked(conn, [("email_account", row.email), ("email_ip", ip)])
    if wait:
        return f"Too many requests. Try again in {throttle.describe_wait(wait)}."
    throttle.hit(conn, "email_account", row.email)
    throttle.hit(conn, "email_ip", ip)
    send_verification(conn, user_id)
    return "We sent you a new confirmation link."


def verify_email(conn: Connection, token: str) -> bool:
    user_id = email_tokens.consume(conn, token, "verify")
    if user_id is None:
        return False
    conn.execute(update(_users).where(_users.c.id == user_id, _users.c.email_verified_at.is_(
        None)).values(email_verified_at=now()))
    return True


# --- login -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginOutcome:
    # "ok" (ticket set) | "need_code" (user_id set) | "failed" | "throttled" | "frozen"
    status: str
    message: str = ""
    user_id: int | None = None
    ticket: str | None = None
    passkey: bool = False  # need_code: the user may answer with a passkey


def _passkey_required(conn: Connection, user_id: int) -> bool:
    """An admin whose login must be confirmed with a passkey (ADMIN_REQUIRE_PASSKEY) and who
    has one; an admin without one yet logs in with a code, and the admin pages stay shut."""
    is_admin = conn.scalar(select(_users.c.is_admin).where(_users.c.id == user_id))
    return bool(is_admin and get_settings().admin_require_passkey
                and passkeys.count(conn, user_id) > 0)


def _blocked(conn: Connection, email: str, ip: str) -> timedelta | None:
    return throttle.first_blocked(conn, [("login_account", email), ("login_ip", ip)])


def _fail(conn: Connection, user_id: int | None, email: str, ip: str, user_agent: str,
          reason: str) -> None:
    throttle.hit(conn, "login_account", email)
    throttle.hit(conn, "login_ip", ip)
    history.record(conn, user_id, success=False, reason=reason, ip=ip, user_agent=user_agent)


def _rate_limited(conn: Connection, action: str, user_id: int | None, account: object,
                  ip: str, user_agent: str) -> LoginOutcome | None:
    refusal = ratelimits.hit(action, ip=ip, account=account)
    if refusal is None:
        return None
    history.record(conn, user_id, success=False, reason="throttled", ip=ip,
                   user_agent=user_agent)
    return LoginOutcome("throttled", refusal.message)


@metrics.counts_login("password")
def login_password(conn: Connection, email: str, password: str, *, ip: str,
                   user_agent: str) -> LoginOutcome:
    """First step: the password. Same messages and the same hashing cost for unknown emails."""
    wanted = (email or "").strip().lower()
    if limited := _rate_limited(conn, "login", None, wanted, ip, user_agent):
        return limited
    wait = _blocked(conn, wanted, ip)
    if wait:
        user_id = conn.scalar(select(_users.c.id).where(_users.c.email == wanted))
        history.record(conn, user_id, success=False, reason="throttled", ip=ip,
                       user_agent=user_agent)
        return LoginOutcome("throttled", "Too many attempts. Try again in "
                                         f"{throttle.describe_wait(wait)}.")
    user = authenticate(conn, wanted, password)
    if user is None:
        user_id = conn.scalar(select(_users.c.id).where(_users.c.email == wanted))
        _fail(conn, user_id, wanted, ip, user_agent, "bad_password")
        # A password no account can have is told as such, after the same work (`authenticate`).
        return LoginOutcome("failed", unusable(password) or GENERIC_LOGIN_FAILURE)
    if user.closed:
        history.record(conn, user.id, success=False, reason="closed", ip=ip,
                       user_agent=user_agent)
        return LoginOutcome("failed", CLOSED_MESSAGE)
    if user.frozen:
        history.record(conn, user.id, success=False, reason="frozen", ip=ip,
                       user_agent=user_agent)
        return LoginOutcome("frozen", FROZEN_MESSAGE)
    if totp.is_enabled(conn, user.id):
        return LoginOutcome("need_code", user_id=user.id,
                            passkey=passkeys.count(conn, user.id) > 0)
    return LoginOutcome("ok", ticket=finish_login(conn, user.id, ip=ip, user_agent=user_agent))


@metrics.counts_login("code")
def login_code(conn: Connection, user_id: int, code: str, *, ip: str,
               user_agent: str) -> LoginOutcome:
    """Second step: a TOTP or recovery code for a user whose password was just accepted."""
    if limited := _rate_limited(conn, "two_factor", user_id, user_id, ip, user_agent):
        return limited
    """Second step: a TOTP or recovery code, or a passkey's answer, for a user whose password
    was just accepted."""
    row = conn.execute(select(_users.c.email, _users.c.frozen_at).where(
        _users.c.id == user_id)).one()
    wait = _blocked(conn, row.email, ip)
    if wait:
        history.record(conn, user_id, success=False, reason="throttled", ip=ip,
                       user_agent=user_agent)
        return LoginOutcome("throttled", "Too many attempts. Try again in "
                                         f"{throttle.describe_wait(wait)}.")
    if row.frozen_at is not None:
        return LoginOutcome("frozen", FROZEN_MESSAGE)
    with_passkey = passkeys.is_assertion(code)
    if not with_passkey and _passkey_required(conn, user_id):
        return LoginOutcome("failed", ADMIN_NEEDS_PASSKEY, user_id=user_id, passkey=True)
    if not totp.verify(conn, user_id, code):
        _fail(conn, user_id, row.email, ip, user_agent, "bad_code")
        return LoginOutcome("failed", passkeys.NOT_ACCEPTED if with_passkey
                            else GENERIC_CODE_FAILURE, user_id=user_id,
                            passkey=passkeys.count(conn, user_id) > 0)
    return LoginOutcome("ok", ticket=finish_login(conn, user_id, ip=ip, user_agent=user_agent))


def login_passkey(conn: Connection, answer: str, *, ip: str, user_agent: str) -> LoginOutcome:
    """Passwordless sign-in: a passkey's answer to a `signin` challenge, from an account whose
    owner turned passwordless sign-in on. The passkey (something owned, unlocked with the
    device's PIN or biometrics) stands for both factors."""
    wait = throttle.retry_after(conn, "login_ip", ip)
    if wait:
        return LoginOutcome("throttled", "Too many attempts. Try again in "
                                         f"{throttle.describe_wait(wait)}.")
    user_id = passkeys.verify(conn, answer, user_id=None)
    row = None if user_id is None else conn.execute(select(
        _users.c.email, _users.c.frozen_at, _users.c.closed_at, _users.c.passwordless).where(
        _users.c.id == user_id)).one()
    if row is None or row.closed_at is not None or not row.passwordless:
        throttle.hit(conn, "login_ip", ip)
        history.record(conn, user_id, success=False, reason="bad_passkey", ip=ip,
                       user_agent=user_agent)
        return LoginOutcome("failed", "That passkey cannot sign in on its own. Log in with "
                                      "your email and password.")
    if row.frozen_at is not None:
        history.record(conn, user_id, success=False, reason="frozen", ip=ip,
                       user_agent=user_agent)
        return LoginOutcome("frozen", FROZEN_MESSAGE)
    return LoginOutcome("ok", ticket=finish_login(conn, user_id, ip=ip, user_agent=user_agent))


def finish_login(conn: Connection, user_id: int, *, ip: str, user_agent: str) -> str:
    """Both factors passed: record the login, alert on a new device or IP, start the session."""
    email = conn.scalar(select(_users.c.email).where(_users.c.id == user_id))
    throttle.clear(conn, "login_account", email)
    new_place = history.is_new_device_or_ip(conn, user_id, ip, user_agent)
    history.record(conn, user_id, success=True, reason="ok", ip=ip, user_agent=user_agent)
    if new_place:
        token = email_tokens.issue(conn, user_id, "not_me")
        notify(conn, user_id, "login_alert", "New login to your BitChange account", [
            "Your account was just accessed from a device or network we have not seen before.",
            f"Time: {_fmt(now())}",
            f"IP address: {ip or 'unknown'}",
            f"Device: {describe(user_agent)}",
            "If this was you, there is nothing to do.",
        ], footer_link=Link(
            "This wasn't me: end all sessions and freeze my account",
            public_link(routes.NOT_ME, token=token)))
    return start_session(conn, user_id, ip=ip, user_agent=user_agent)


def report_not_me(conn: Connection, token: str) -> bool:
    """The "this wasn't me" link: end every session and freeze the account."""
    user_id = email_tokens.consume(conn, token, "not_me")
    if user_id is None:
        return False
    conn.execute(update(_users).where(_users.c.id == user_id).values(
        frozen_at=now(), frozen_reason="owner reported a login that was not theirs"))
    revoke_all_sessions(conn, user_id)
    reject_open_withdrawals(conn, user_id)
    api_keys.disable_all(conn, user_id, "owner reported a login that was not theirs")
    email_change.cancel_pending(conn, user_id)
    email_tokens.void_all(conn, user_id, "reset")
    notify(conn, user_id, "account_frozen", "Your account is frozen", [
        "You told us a login was not yours. We ended every session and froze your account: "
        "nobody can log in or withdraw until support unfreezes it.",
        "Contact support from the address this email was sent to.",
    ])
    return True


# --- passwords -------------------------------------------------------------------------------

def _remember_password(conn: Connection, user_id: int, old_hash: str | None) -> None:
    if old_hash:
        conn.execute(insert(_history).values(user_id=user_id, password_hash=old_hash,
                                             created_at=now()))


def _check_not_reused(conn: Connection, user_id: int, password: str, current_hash: str) -> None:
    earlier = list(conn.scalars(select(_history.c.password_hash).where(
        _history.c.user_id == user_id).order_by(_history.c.id.desc()).limit(
        PASSWORD_HISTORY - 1)))
    for stored in [current_hash, *earlier]:
        if verify_password(password, stored)[0]:
            raise AccountError(
                f"Choose a password you have not used recently (last {PASSWORD_HISTORY}).")


def _set_password(conn: Connection, user_id: int, new_password: str, why: str) -> None:
    row = conn.execute(select(_users.c.email, _users.c.password_hash).where(
        _users.c.id == user_id)).one()
    check_password_policy(new_password, row.email)
    _check_not_reused(conn, user_id, new_password, row.password_hash)
    _remember_password(conn, user_id, row.password_hash)
    conn.execute(update(_users).where(_users.c.id == user_id).values(
        password_hash=hash_password(new_password), password_changed_at=now()))
    revoke_all_sessions(conn, user_id)
    email_tokens.void_all(conn, user_id, "reset")
    notify(conn, user_id, "password_changed", "Your password was changed", [
        f"The password of your BitChange account was {why} at {_fmt(now())}.",
        "Every session was ended; log in again with the new password.",
        "If you did not do this, reset your password now and contact support.",
    ], link=Link("Reset my password", public_link(routes.FORGOT_PASSWORD)))


def change_password(conn: Connection, user_id: int, current: str, new: str) -> None:
    check_password_usable(current)
    row = conn.execute(select(_users.c.email, _users.c.password_hash).where(
        _users.c.id == user_id)).one()
    wait = throttle.retry_after(conn, "reauth", row.email)
    if wait:
        raise AccountError(f"Too many attempts. Try again in {throttle.describe_wait(wait)}.")
    if not verify_password(current, row.password_hash)[0]:
        throttle.hit(conn, "reauth", row.email)
        raise AccountError("Your current password is not correct.")
    _set_password(conn, user_id, new, "changed in the security centre")


def request_reset(conn: Connection, email: str, *, ip: str) -> str:
    """Send a reset link if the account exists. The answer is the same either way."""
    wanted = (email or "").strip().lower()
    if refusal := ratelimits.hit("reset", ip=ip, account=wanted):
        return refusal.message
    wait = throttle.first_blocked(conn, [("email_account", wanted), ("email_ip", ip)])
    if wait:
        return f"Too many requests. Try again in {throttle.describe_wait(wait)}."
    throttle.hit(conn, "email_account", wanted)
    throttle.hit(conn, "email_ip", ip)
    user_id = conn.scalar(select(_users.c.id).where(_users.c.email == wanted))
    if user_id is not None:
        token = email_tokens.issue(conn, user_id, "reset")
        notify(conn, user_id, "password_reset", "Reset your BitChange password", [
            "Someone (hopefully you) asked to reset the password of your BitChange account.",
            "The link works once and expires in 30 minutes. If you did not ask for it, ignore "
            "this message: your password stays the same.",
        ], link=Link("Choose a new password", public_link(routes.RESET_PASSWORD, token=token)))
    return CHECK_INBOX


def reset_token_valid(conn: Connection, token: str) -> bool:
    return email_tokens.peek(conn, token, "reset") is not None


def reset_password(conn: Connection, token: str, new_password: str, *, ip: str = "") -> None:
    """Set a new password from a reset link. Raises AccountError (the token stays usable when
    only the new password was refused)."""
    ratelimits.check("reset", AccountError, ip=ip)
    user_id = email_tokens.peek(conn, token, "reset")
    if user_id is None:
        raise AccountError("This reset link is invalid, used or expired. Ask for a new one.")
    row = conn.execute(select(_users.c.email).where(_users.c.id == user_id)).one()
    check_password_policy(new_password, row.email)
    if email_tokens.consume(conn, token, "reset") is None:
        raise AccountError("This reset link is invalid, used or expired. Ask for a new one.")
    _set_password(conn, user_id, new_password, "reset with an emailed link")
    api_keys.disable_all(conn, user_id, "password reset")


# --- 2FA and the anti-phishing code -----------------------------------------------------------

def confirm_two_factor(conn: Connection, user_id: int, code: str) -> list[str] | None:
    ratelimits.check("two_factor", AccountError, account=user_id)
    codes = totp.confirm_enrolment(conn, user_id, code)
    if codes is not None:
        notify(conn, user_id, "2fa_enabled", "Two-factor authentication is on", [
            f"Two-factor authentication was turned on for your account at {_fmt(now())}.",
            "If you did not do this, contact support immediately.",
        ])
    return codes


def disable_two_factor(conn: Connection, user_id: int, password: str, code: str) -> None:
    check_password_usable(password)
    if conn.scalar(select(_users.c.is_admin).where(_users.c.id == user_id)):
        raise AccountError("Admin accounts must keep two-factor authentication on.")
    if passkeys.count(conn, user_id):
        raise AccountError("Remove your passkeys first: they are a second factor too.")
    reauth.check(conn, user_id, password, code)
    totp.disable(conn, user_id)
    notify(conn, user_id, "2fa_disabled", "Two-factor authentication is off", [
        f"Two-factor authentication was turned off for your account at {_fmt(now())}.",
        "Your account is now protected by your password only. If you did not do this, "
        "reset your password and contact support immediately.",
    ])


def set_anti_phishing_code(conn: Connection, user_id: int, phrase: str) -> None:
    phrase = " ".join((phrase or "").split())
    if not 4 <= len(phrase) <= 40:
        raise AccountError("The anti-phishing code must be 4 to 40 characters.")
    conn.execute(update(_users).where(_users.c.id == user_id).values(anti_phishing_code=phrase))
    notify(conn, user_id, "anti_phishing_changed", "Your anti-phishing code was changed", [
        "From now on every email from BitChange shows the code printed above.",
        "If you did not change it, contact support.",
    ])


# --- passkeys ------------------------------------------------------------------------------

def begin_passkey(conn: Connection, user_id: int, password: str, code: str) -> str:
    """Adding a passkey starts with the password and a 2FA code; returns the options for the
    browser (the challenge they carry is what `add_passkey` requires)."""
    reauth.check(conn, user_id, password, code)
    email = conn.scalar(select(_users.c.email).where(_users.c.id == user_id))
    return passkeys.registration_options(conn, user_id, email)


def _passkey_notice(conn: Connection, user_id: int, kind: str, subject: str, what: str) -> None:
    token = email_tokens.issue(conn, user_id, "not_me")
    notify(conn, user_id, kind, subject, [
        what, f"Time: {_fmt(now())}",
        "If you did not do this, secure your account with the link below.",
    ], footer_link=Link("This wasn't me: end all sessions and freeze my account",
                        public_link(routes.NOT_ME, token=token)))


def add_passkey(conn: Connection, user_id: int, answer: str, name: str) -> None:
    passkeys.register(conn, user_id, answer, name)
    _passkey_notice(conn, user_id, "passkey_added", "A passkey was added to your account",
                    f"The passkey \u201c{' '.join(name.split())}\u201d can now confirm your "
                    "logins, withdrawals and API keys.")


def remove_passkey(conn: Connection, user_id: int, passkey_id: int) -> None:
    name = passkeys.remove(conn, user_id, passkey_id)
    _passkey_notice(conn, user_id, "passkey_removed", "A passkey was removed from your account",
                    f"The passkey \u201c{name}\u201d no longer works for your account.")


def set_passwordless(conn: Connection, user_id: int, enabled: bool) -> None:
    passkeys.set_passwordless(conn, user_id, enabled)
    _passkey_notice(conn, user_id, "passwordless", "Passwordless sign-in is "
                    + ("on" if enabled else "off"),
                    "Your passkeys can now sign you in without your password." if enabled
                    else "Signing in now needs your password again, then a second factor.")


# --- what the security centre shows -----------------------------------------------------------

@dataclass(frozen=True)
class SecurityOverview:
    email: str
    email_verified: bool
    two_factor: bool
    passwordless: bool
    two_factor_pending: bool
    recovery_codes_left: int
    anti_phishing_code: str
    password_changed_at: datetime | None
    last_login: history.LoginRecord | None
    restrictions: list[str] = field(default_factory=list)


def restrictions(email_verified: bool, frozen: bool) -> list[str]:
    """Why the user cannot trade or withdraw (empty when they can)."""
    reasons = []
    if frozen:
        reasons.append(FROZEN_MESSAGE)
    if not email_verified:
        reasons.append("Confirm your email address to trade and withdraw.")
    return reasons


def overview(conn: Connection, user_id: int) -> SecurityOverview:
    row = conn.execute(select(_users).where(_users.c.id == user_id)).one()
    return SecurityOverview(
        row.email, row.email_verified_at is not None, row.totp_enabled_at is not None,
        bool(row.passwordless), row.totp_secret is not None and row.totp_enabled_at is None,
        totp.remaining_recovery_codes(conn, user_id), row.anti_phishing_code or "",
        row.password_changed_at, history.last_success_before(conn, user_id),
        restrictions(row.email_verified_at is not None, row.frozen_at is not None))
