"""The browser's side of a passkey ceremony: navigator.credentials.create / get with the
server's options (base64url fields turned into ArrayBuffers), the answer sent back as JSON
(ArrayBuffers as base64url) to an event handler. Failures (cancelled, no authenticator, no
support) come back as `{"error": "..."}`, so the handler always gets a string."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

_CEREMONY = """(async (mode, o) => {
  const buf = (s) => { const b = s.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b + "=".repeat((4 - b.length % 4) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer; };
  const b64 = (a) => btoa(String.fromCharCode(...new Uint8Array(a)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  try {
    if (!window.PublicKeyCredential)
      return JSON.stringify({error: "This browser cannot use passkeys."});
    o.challenge = buf(o.challenge);
    if (o.user) o.user.id = buf(o.user.id);
    for (const c of (o.excludeCredentials || [])) c.id = buf(c.id);
    for (const c of (o.allowCredentials || [])) c.id = buf(c.id);
    const cred = mode === "create" ? await navigator.credentials.create({publicKey: o})
                                   : await navigator.credentials.get({publicKey: o});
    const r = cred.response, response = {clientDataJSON: b64(r.clientDataJSON)};
    if (mode === "create") {
      response.attestationObject = b64(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = b64(r.authenticatorData);
      response.signature = b64(r.signature);
      response.userHandle = r.userHandle ? b64(r.userHandle) : null;
    }
    const answer = {id: cred.id, rawId: b64(cred.rawId), type: cred.type, response,
                    clientExtensionResults: cred.getClientExtensionResults()};
    if (cred.authenticatorAttachment)
      answer.authenticatorAttachment = cred.authenticatorAttachment;
    return JSON.stringify(answer);
  } catch (e) {
    return JSON.stringify({error: e && e.name === "NotAllowedError"
      ? "The passkey request was cancelled or timed out." : "The passkey could not be used."});
  }
})"""


def ceremony(mode: str, options_json: str, callback: Any) -> rx.event.EventSpec:
    """Run `create` or `get` in the browser with the server's options; the answer (a JSON
    string) goes to `callback`, an event handler taking one `str`."""
    return rx.call_script(f"{_CEREMONY}({json.dumps(mode)}, {options_json})",
                          callback=callback)


def passkey_button(state, element_id: str) -> rx.Component:  # type: ignore[no-untyped-def]
    """"Use a passkey" next to a form's 2FA code, for a user who has one (`state` is a
    `state.passkey_code.PasskeyCode`)."""
    return rx.cond(state.has_passkey, rx.button(
        rx.cond(state.passkey_ready, "Passkey ready", "Use a passkey"), type="button",
        variant="outline", on_click=state.use_passkey, id=element_id))
