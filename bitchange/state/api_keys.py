"""The API keys page's state: resolve the user, call `bitchange.accounts.api_keys`, assign the
list it built. A new HMAC secret is shown once, until the page is left or reloaded."""

from __future__ import annotations

import reflex as rx

from bitchange import db
from bitchange.accounts import api_keys
from bitchange.accounts.api_keys import ApiKeyError
from bitchange.state.auth import client_ip, current_user
from bitchange.state.events import event
from bitchange.state.passkey_code import PasskeyCode


class ApiKeysState(PasskeyCode, rx.State):
    access: str = "loading"  # loading | ok | denied
    keys: list[dict[str, str]] = []
    # The key just created: its secret is shown this once (never stored in the clear).
    new_key: str = ""
    new_secret: str = ""

    def _reload(self) -> int | None:
        user = current_user(self)
        if user is None:
            self.access, self.keys = "denied", []
            return None
        self.access = "ok"
        with db.read() as conn:
            self.keys = api_keys.key_rows(conn, user.user_id)
        self._has_passkey(user.user_id)
        return user.user_id

    @event
    def load(self) -> None:
        self.notice = self.error = self.new_key = self.new_secret = ""
        self._reload()

    @event
    def create(self, form: dict) -> None:
        """The form: label, kind, scopes (checkboxes), allowlist, expiry in days, public key
        (Ed25519) and a fresh 2FA code."""
        user_id = self._reload()
        if user_id is None:
            return
        scopes = [s for s in api_keys.SCOPES if form.get(f"scope_{s}")]
        code = self._code(form)
        try:
            with db.write() as conn:
                created = api_keys.create_key(
                    conn, user_id, label=str(form.get("label") or "")[:64],
                    kind=str(form.get("kind") or "hmac")[:8], scopes=scopes,
                    allowlist=str(form.get("allowlist") or "")[:2000],
                    expires_at=api_keys.expiry_after(str(form.get("expiry_days") or "")[:4]),
                    public_key=str(form.get("public_key") or "")[:2000],
                    code=code, ip=client_ip(self))
        except ApiKeyError as exc:
            self.error, self.notice = str(exc), ""
            return
        self.error = ""
        self.new_key, self.new_secret = created.api_key, created.secret or ""
        self.notice = "API key created." + (" Copy the secret now: it is shown only once."
                                            if created.secret else "")
        self._reload()

    def _passkey_user(self) -> int | None:
        return self._reload()

    def _passkey_ready_notice(self) -> str:
        return "Passkey ready: create the key (leave the code empty)."

    def _revoke(self, key_id: str | None) -> None:
        user_id = self._reload()
        if user_id is None:
            return
        try:
            with db.write() as conn:
                if key_id is None:
                    count = api_keys.revoke_all(conn, user_id, ip=client_ip(self))
                    self.notice = f"{count} key{'s' if count != 1 else ''} revoked."
                else:
                    number = int(key_id) if key_id.isascii() and key_id.isdigit() \
                        and len(key_id) <= 18 else 0
                    api_keys.revoke(conn, user_id, number, ip=client_ip(self))
                    self.notice = "API key revoked."
            self.error = ""
        except ApiKeyError as exc:
            self.error, self.notice = str(exc), ""
        self.new_key = self.new_secret = ""
        self._reload()

    @event
    def revoke(self, key_id: str) -> None:
        self._revoke(key_id)

    @event
    def revoke_all(self) -> None:
        self._revoke(None)
