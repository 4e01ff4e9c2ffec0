"""Running an authlib endpoint on the event loop, its storage questions answered first.

authlib is synchronous, so most provider calls run on a worker thread and each storage
hook hops back to the loop (domain/oauth/server.py ``on_loop``): two thread switches per
hook. Introspection is the hot path of every resource server and its questions are known
from the request alone (the client the credentials name, the token presented), so the
provider reads those first, then runs authlib inline with the answers in a context
variable. A question nobody answered gets ``None`` (no such client, no such token): the
request is refused rather than answered from a guess.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from anyio import from_thread

T = TypeVar("T")
Question = tuple[str, tuple[Any, ...]]

_ANSWERS: ContextVar[dict[Question, Any] | None] = ContextVar("oauth_answers", default=None)


@contextmanager
def answers(table: dict[Question, Any]) -> Iterator[None]:
    """Within the block, authlib's hooks read ``table`` instead of hopping to the loop."""
    token = _ANSWERS.set(table)
    try:
        yield
    finally:
        _ANSWERS.reset(token)


def ask(kind: str, call: Callable[..., Awaitable[T]], *args: Any) -> T | None:
    """The prepared answer to ``kind(*args)`` when running inline, else ``call(*args)``
    on the event loop from authlib's worker thread."""
    table = _ANSWERS.get()
    if table is not None:
        answer: T | None = table.get((kind, args))
        return answer
    return from_thread.run(call, *args)  # type: ignore[arg-type]
