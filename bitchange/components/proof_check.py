"""The in-page proof-of-liabilities check (`proof_verify.js`, beside this module): it defines
`window.bitchangeProof.verify(text)`, which the state calls with `rx.call_script`."""

from __future__ import annotations

import reflex as rx

_VERIFY_JS = rx.asset("proof_verify.js", shared=True)


def proof_check_script() -> rx.Component:
    return rx.script(src=_VERIFY_JS)
