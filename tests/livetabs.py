"""Browser tabs without a browser, for the live watcher (`bitchange.state.live`): real state
trees with a client token, a page path and a session cookie, and an app object whose
`modify_state` opens them, as the real app does over its state manager, and whose event
namespace knows which tab's socket is in this process and keeps what is emitted on them."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import reflex as rx
from reflex.constants.state import FIELD_MARKER
from reflex.istate.data import RouterData
from reflex.utils.token_manager import LocalTokenManager, SocketRecord

from bitchange import db
from bitchange.accounts.sessions import activate_session, cookie_name, start_session


def cookie_for(user_id: int) -> str:
    with db.write() as conn:
        ticket = start_session(conn, user_id, ip="127.0.0.1", user_agent="pytest")
        token = activate_session(conn, ticket)
    return f"{cookie_name()}={token}"


def browser_tab(cls: type[rx.State], token: str, path: str,
                cookie: str = "") -> tuple[rx.State, Any]:
    """The root state of one tab on `path` (with its query) and its `cls` substate."""
    import bitchange.bitchange  # noqa: F401 - registers every state, as the app does

    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data({
        "token": token, "pathname": urlsplit(path).path, "asPath": path,
        "query": dict(parse_qsl(urlsplit(path).query)),
        "headers": {"cookie": cookie, "origin": "http://t"},
    })
    return root, root.get_substate(cls.get_full_name().split("."))


def navigate(root: rx.State, path: str) -> None:
    """The tab moved to another page (its next event carries the new path)."""
    root.router = RouterData.from_router_data({"token": root.router.session.client_token,
                                               "asPath": path, "pathname": path})


def call(state: Any, handler: str, *args: Any) -> Any:
    result = getattr(type(state), handler).fn(state, *args)
    return asyncio.run(result) if asyncio.iscoroutine(result) else result


class FakeNamespace:
    """The app's socket namespace: each tab's socket connected to this process (as Reflex's
    token manager records them), and every update emitted, with the sockets it went to."""

    def __init__(self, tokens: list[str]) -> None:
        self._token_manager = LocalTokenManager()
        for token in tokens:
            self.connect(token)
        self.emitted: list[tuple[dict[str, Any], list[str]]] = []

    def connect(self, token: str, instance_id: str = "") -> None:
        """The tab's socket, in this process (or in the worker `instance_id`)."""
        self._token_manager.token_to_socket[token] = SocketRecord(
            instance_id=instance_id or self._token_manager.instance_id, sid=f"sid-{token}")

    def close(self, token: str) -> None:
        self._token_manager.token_to_socket.pop(token)

    async def emit(self, event: str, data: Any, to: list[str]) -> None:
        assert event == "event"
        self.emitted.append((data.delta, list(to)))


class FakeApp:
    """`modify_state` over states held in memory, as the real app does over its manager."""

    def __init__(self, roots: dict[str, rx.State]) -> None:
        self.roots = roots
        self.pushed: list[str] = []
        self.event_namespace = FakeNamespace(list(roots))

    def received(self, token: str, cls: type[rx.State]) -> dict[str, Any]:
        """What the tab's socket was sent for `cls`'s vars, the newest value of each (what the
        browser shows once it applied the updates)."""
        shown: dict[str, Any] = {}
        for delta, sids in self.event_namespace.emitted:
            if f"sid-{token}" in sids:
                shown.update({name.removesuffix(FIELD_MARKER): value for name, value
                              in delta.get(cls.get_full_name(), {}).items()})
        return shown

    @contextlib.asynccontextmanager
    async def modify_state(self, token):  # type: ignore[no-untyped-def]
        self.pushed.append(token.ident)
        yield self.roots[token.ident]

    def tick(self, checked: dict[str, Any]) -> list[str]:
        """One watcher round; the tabs it pushed to, sorted."""
        from bitchange.state import live

        self.pushed.clear()
        asyncio.run(live.tick(self, checked))
        return sorted(self.pushed)
