"""Cursor pagination (Relay-style connections) shared by list fields."""

from __future__ import annotations

from typing import Generic, TypeVar

import strawberry

Node = TypeVar("Node")

MAX_PAGE_SIZE = 100


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[Node]):
    cursor: str
    node: Node


def page_size(first: int | None, default: int = 20) -> int:
    """Clamp the requested page size into 1..MAX_PAGE_SIZE."""
    if first is None:
        return default
    return max(1, min(first, MAX_PAGE_SIZE))
