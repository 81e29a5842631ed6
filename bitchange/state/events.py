"""The one way a state declares an event handler: `@event` instead of `@rx.event`.

The browser can call any public handler with any JSON, so before a handler runs its arguments are
checked against its annotations (a forged type is refused and changes nothing). A plain `def`
handler then runs in a worker thread: handlers reach the database, and a handler waiting on a
write lock must not hold up the worker's event loop (every other tab and the live pushes).
`async def` handlers run on the loop and pass their database work to `off_loop`. A storage
fault (disk full, read-only database, no connection) is answered with a plain message.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx

from bitchange.db import STORAGE_UNAVAILABLE, is_storage_fault

log = logging.getLogger(__name__)

NOT_UNDERSTOOD = "That request was not understood; nothing was changed."
T = TypeVar("T")
# What a form may carry: Reflex sends field values as text, checkboxes as booleans.
_FORM_VALUE = (str, bool, int, float, type(None))


async def off_loop(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run database or service work in a worker thread and wait for it."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def conforms(value: Any, hint: Any) -> bool:
    """Whether an event argument has the type its handler declares (JSON-sized checks only)."""
    if hint is Any or hint is inspect.Parameter.empty:
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, arg) for arg in typing.get_args(hint))
    if hint is type(None) or hint is None:
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint is dict or origin is dict:
        return isinstance(value, dict) and all(
            isinstance(k, str) and (isinstance(v, _FORM_VALUE)
                                    or (isinstance(v, list) and all(isinstance(x, str) for x in v)))
            for k, v in value.items())
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return isinstance(value, list) and all(conforms(x, item) for x in value)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return False


def _arguments_conform(signature: inspect.Signature, hints: dict[str, Any],
                       args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError:
        return False
    return all(conforms(value, hints.get(name, Any))
               for name, value in list(bound.arguments.items())[1:])


def _refused(fn: Callable[..., Any], why: str) -> rx.event.EventSpec:
    log.warning("event %s refused: %s", fn.__qualname__, why)
    return rx.toast.error(why)


def event(fn: Callable[..., Any]) -> Any:
    """Declare a state's event handler: checked arguments, off the loop, storage faults told."""
    signature = inspect.signature(fn)
    hints = typing.get_type_hints(fn)
    is_async = inspect.iscoroutinefunction(fn)

    @functools.wraps(fn)
    async def handler(self: rx.State, *args: Any, **kwargs: Any) -> Any:
        if not _arguments_conform(signature, hints, args, kwargs):
            return _refused(fn, NOT_UNDERSTOOD)
        try:
            if is_async:
                return await fn(self, *args, **kwargs)
            return await off_loop(fn, self, *args, **kwargs)
        except Exception as exc:
            if is_storage_fault(exc):
                log.error("event %s: storage fault: %s", fn.__qualname__, exc)
                return _refused(fn, STORAGE_UNAVAILABLE)
            raise

    return rx.event(handler)
