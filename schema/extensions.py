"""Schema extensions of our own."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension


class OperationNameRecorder(SchemaExtension):
    """Leave the operation's name where the access log can read it."""

    def on_operation(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        name = ctx.operation_name
        if name is None and ctx.graphql_document is not None:
            try:
                name = f"<{ctx.operation_type.value}>"
            except RuntimeError:
                name = None
        request = getattr(ctx.context, "request", None)
        if request is not None and name:
            request.scope.setdefault("state", {})["graphql_operation"] = name[:100]
