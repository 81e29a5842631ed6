"""Junk from the browser: every public handler of every state, called as the event processor
calls it with arbitrary JSON values, by an anonymous visitor, a trader and an admin.

Two properties. Arguments that do not have the declared types are refused and change nothing
(neither the database nor the state). Arguments of the declared types but junk content (huge
numbers, odd text, strange form fields) never let an exception escape.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import inspect
import typing
from typing import Any

import pytest
import reflex as rx
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reflex_base.event.processor.base_state_processor import _prepare_event_payload
from sqlalchemy import MetaData, select

import bitchange.bitchange  # noqa: F401 - registers every page's state
from bitchange import db, ledger
from bitchange.accounts import totp
from bitchange.accounts.sessions import activate_session, start_session
from bitchange.accounts.users import create_user
from bitchange.state.events import conforms
from tests.accounts.test_handlers import state_of

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _states() -> list[type[rx.State]]:
    found, todo = [], [rx.State]
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        if cls.__module__.startswith("bitchange."):
            found.append(cls)
    return sorted(found, key=lambda c: c.get_full_name())


def _handlers() -> list[tuple[type[rx.State], str]]:
    return [(cls, name) for cls in _states() for name, handler in cls.event_handlers.items()
            if not name.startswith("_") and handler.fn.__module__.startswith("bitchange.")]


HANDLERS = _handlers()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=8,
)
# Text that trips naive parsing: huge and non-ASCII digits, separators, exponents, blanks.
tricky_text = st.sampled_from([
    "", " ", "0", "-1", "1,5", "1e999999", "1e-999999999", "99999999999999999999",
    "\uff11\uff12", "\u0661\u0662", "NaN", "inf", "0x10", "1_000", "\x00", "<script>",
    "a" * 5000, "9" * 40, "BTC", "BTC-USDT",
]) | st.text(max_size=20)
form_values = st.dictionaries(
    st.sampled_from(["email", "password", "code", "amount", "price", "total", "asset", "address",
                     "label", "id", "user_id", "note", "subject", "body", "query", "vout",
                     "txid", "reason", "name", "product", "symbol", "status", "limit"])
    | st.text(max_size=8),
    tricky_text | st.booleans(), max_size=6)


def _hints(cls: type[rx.State], name: str) -> tuple[inspect.Signature, dict[str, Any]]:
    fn = inspect.unwrap(cls.event_handlers[name].fn)
    return inspect.signature(fn), typing.get_type_hints(fn)


def _typed_value(hint: Any) -> st.SearchStrategy[Any]:
    """Values of the declared type with junk content."""
    if hint is str:
        return tricky_text
    if hint is int:
        return st.integers() | st.sampled_from([2**63, -(2**63) - 1, 10**30])
    if hint is bool:
        return st.booleans()
    if hint is dict or typing.get_origin(hint) is dict:
        return form_values
    return json_values


def _payloads(cls: type[rx.State], name: str, *, typed: bool) -> st.SearchStrategy[dict]:
    signature, hints = _hints(cls, name)
    params = [p for p in list(signature.parameters)[1:]]
    if typed:
        return st.fixed_dictionaries({p: _typed_value(hints.get(p, Any)) for p in params})
    # Arguments of any JSON type (the test keeps those that do not conform), an unknown one,
    # or none where one is required.
    unknown = st.just({"unexpected": 1})
    required = [p for p in params if signature.parameters[p].default is inspect.Parameter.empty]
    missing = st.just({}) if required else unknown
    return st.fixed_dictionaries({p: json_values for p in params}) | missing | unknown


def _conforming(cls: type[rx.State], name: str, payload: dict) -> bool:
    signature, hints = _hints(cls, name)
    try:
        signature.bind(None, **payload)
    except TypeError:
        return False
    return all(conforms(v, hints.get(k, Any)) for k, v in payload.items())


def _snapshot() -> str:
    """A digest of every row of every table: 'nothing changed' means this is equal."""
    digest = hashlib.sha256()
    with db.read() as conn:
        for table in _tables(conn):
            for row in conn.execute(select(table).order_by(*table.primary_key.columns)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


@functools.cache
def _reflected(url: str) -> MetaData:
    metadata = MetaData()
    with db.read() as conn:
        metadata.reflect(conn)
    return metadata


def _tables(conn: Any) -> list[Any]:
    return _reflected(db.current_url()).sorted_tables


def _transformed(cls: type[rx.State], name: str, payload: dict) -> dict:
    """What the event processor makes of a payload before the handler sees it."""
    return _prepare_event_payload(cls.event_handlers[name], payload)


def _call(cls: type[rx.State], name: str, token: str, payload: dict) -> Any:
    """As the event processor does: the transformed payload to the handler."""
    proxy = state_of(cls, token)
    result = cls.event_handlers[name].fn(proxy.state, **payload)
    return asyncio.run(result), proxy.state


def _token(user_id: int) -> str:
    with db.write() as conn:
        return activate_session(conn, start_session(conn, user_id))


@pytest.fixture(scope="module")
def callers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One database for the module (hypothesis runs many examples per test): a funded trader
    and an admin with 2FA, each with a session."""
    from bitchange.config import reload_settings
    from bitchange.setup import prepare_database

    monkeypatch = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("fuzz")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp / 'fuzz.db'}")
    monkeypatch.setenv("DATA_DIR", str(tmp))
    reload_settings()
    db.dispose()
    prepare_database()
    with db.write() as conn:
        trader = create_user(conn, "trader@example.com", "correct horse battery", verified=True)
        account = ledger.account_for_user(conn, trader)
        for asset, amount in {"BTC": 10**8, "USDT": 10**10}.items():
            ledger.credit_deposit(conn, account, asset, amount)
        admin = create_user(conn, "admin@example.com", "correct horse battery", is_admin=True,
                            verified=True)
        totp.enable_with_secret(conn, admin, SECRET)
    yield {"anonymous": "", "trader": _token(trader), "admin": _token(admin)}
    db.dispose()
    monkeypatch.undo()
    reload_settings()


_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much, HealthCheck.too_slow]
# Refusals compare a digest of the whole database per example, so they get fewer examples.
REFUSALS = settings(max_examples=10, deadline=None, database=None, suppress_health_check=_QUIET)
JUNK = settings(max_examples=60, deadline=None, database=None, suppress_health_check=_QUIET)


def test_every_public_handler_is_covered():
    assert len(HANDLERS) > 100  # the app's states, not an empty discovery


@pytest.mark.parametrize(("cls", "name"), HANDLERS,
                         ids=[f"{c.__name__}.{n}" for c, n in HANDLERS])
def test_wrong_argument_types_are_refused_and_change_nothing(cls, name, callers):
    @REFUSALS
    @given(payload=_payloads(cls, name, typed=False), who=st.sampled_from(sorted(callers)))
    def check(payload: dict, who: str) -> None:
        payload = _transformed(cls, name, payload)
        assume(not _conforming(cls, name, payload))
        before = _snapshot()
        result, state = _call(cls, name, callers[who], payload)
        assert isinstance(result, rx.event.EventSpec)  # the "not understood" toast
        assert not state.dirty_vars
        assert _snapshot() == before

    check()


@pytest.mark.parametrize(("cls", "name"), HANDLERS,
                         ids=[f"{c.__name__}.{n}" for c, n in HANDLERS])
def test_junk_of_the_right_type_never_raises(cls, name, callers):
    @JUNK
    @given(payload=_payloads(cls, name, typed=True), who=st.sampled_from(sorted(callers)))
    def check(payload: dict, who: str) -> None:
        _call(cls, name, callers[who], _transformed(cls, name, payload))  # nothing may raise

    check()
