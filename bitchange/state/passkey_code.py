"""A form's second factor by passkey, in place of a typed 2FA code: `use_passkey` runs the
browser's ceremony on a challenge issued for the signed-in user; its answer is the code of
the form's next submit (`_code`). The services accept it wherever they take a 2FA code
(`accounts.totp.verify`)."""

from __future__ import annotations

import reflex as rx

from bitchange import db
from bitchange.accounts import passkeys
from bitchange.components.passkeys import ceremony
from bitchange.state.auth import current_user
from bitchange.state.events import event


class PasskeyCode(rx.State, mixin=True):
    has_passkey: bool = False
    passkey_ready: bool = False
    notice: str = ""
    error: str = ""
    # A passkey's answer to this user's challenge, used by the next submit in place of a code.
    _passkey_answer: str = ""

    def _passkey_ready_notice(self) -> str:
        """What the page says once the passkey answered (each form names its button)."""
        return "Passkey ready: submit the form (leave the code empty)."

    def _passkey_user(self) -> int | None:
        """Who asks for a challenge: the signed-in user (a page may also refresh itself)."""
        user = current_user(self)
        return None if user is None else user.user_id

    def _has_passkey(self, user_id: int) -> None:
        with db.read() as conn:
            self.has_passkey = passkeys.count(conn, user_id) > 0

    def _code(self, form: dict) -> str:
        """The form's typed code, else the passkey's answer; either is used only once."""
        code = str(form.get("code") or "")[:32] or self._passkey_answer
        self._passkey_answer, self.passkey_ready = "", False
        return code

    @event
    def use_passkey(self) -> rx.event.EventSpec | None:
        """Confirm the next submit with a passkey instead of typing a code."""
        user_id = self._passkey_user()
        if user_id is None:
            return None
        with db.write() as conn:
            options = passkeys.assertion_options(conn, user_id)
        return ceremony("get", options, type(self).passkey_answer)

    @event
    def passkey_answer(self, answer: str) -> None:
        if len(answer) > 8000 or '"error"' in answer[:12]:
            self.error, self.notice = passkeys.NOT_ACCEPTED, ""
            return
        self._passkey_answer, self.passkey_ready = answer, True
        self.error, self.notice = "", self._passkey_ready_notice()
