"""Sign-ins per OpenID client, from the audit trail: the grants issued to each client
(a code handed over, ``oauth.grant_issued``) and exchanged by it (its first tokens,
``oauth.grant_exchanged``), both written by domain/oauth/grants.py with ``client_id``.
One ``$match``/``$group`` over the stored ``day`` for every client asked at once (the
FerretDB subset; an admin's list of clients is one query, not one per client)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.audit.documents import AuditEvent
from domain.oauth.grants import GRANT_EXCHANGED, GRANT_ISSUED

MAX_WINDOW_DAYS = 400  # as long as the analytics keep anything (service.KEEP_DAYS)


@dataclass(frozen=True, slots=True)
class ClientSignIns:
    days: int
    issued: int  # authorization codes handed to the client
    exchanged: int  # of those (and device grants), exchanged for tokens: sign-ins completed


async def count_client_sign_ins(
    client_ids: list[str], since: date, days: int
) -> dict[str, ClientSignIns]:
    pipeline: list[dict[str, Any]] = [
        {
            "$match": {
                "day": {"$gte": since.isoformat()},
                "event": {"$in": [GRANT_ISSUED, GRANT_EXCHANGED]},
                "details.client_id": {"$in": client_ids},
            }
        },
        {
            "$group": {
                "_id": {"client": "$details.client_id", "event": "$event"},
                "count": {"$sum": 1},
            }
        },
    ]
    counts: dict[tuple[str, str], int] = {}
    async for row in await AuditEvent.get_pymongo_collection().aggregate(pipeline):
        counts[(str(row["_id"]["client"]), str(row["_id"]["event"]))] = int(row["count"])
    return {
        client: ClientSignIns(
            days, counts.get((client, GRANT_ISSUED), 0), counts.get((client, GRANT_EXCHANGED), 0)
        )
        for client in client_ids
    }
