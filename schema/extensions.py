"""Schema extensions of our own."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension


class OperationNameRecorder(SchemaExtension):
    """Leave the operation's name for the access log and count it (with the caller)."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        ctx = self.execution_context
        name = ctx.operation_name
        if name is None and ctx.graphql_document is not None:
            try:
                name = f"<{ctx.operation_type.value}>"
            except RuntimeError:
                name = None
        context = ctx.context
        request = getattr(context, "request", None)
        if request is not None and name:
            request.scope.setdefault("state", {})["graphql_operation"] = name[:100]
        state = getattr(context, "state", None)
        if state is not None:
            principal = getattr(context, "principal", None)
            state.analytics.note_activity(
                principal.user_id if principal else None, name[:100] if name else None
            )
