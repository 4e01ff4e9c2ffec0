"""MongoDB client, Beanie initialisation and idempotent index creation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from beanie import Document, init_beanie
from loguru import logger
from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from domain.core.database_flavour import (
    DatabaseFlavour,
    FlavourSetting,
    bind_flavour,
    resolve_flavour,
)
from domain.core.settings import Settings

MongoDocument = dict[str, Any]


def create_mongo_client(settings: Settings) -> AsyncMongoClient[MongoDocument]:
    return AsyncMongoClient(
        settings.mongodb_url.get_secret_value(),
        maxPoolSize=settings.mongodb_max_pool_size,
        minPoolSize=settings.mongodb_min_pool_size,
        maxIdleTimeMS=settings.mongodb_max_idle_ms,
        serverSelectionTimeoutMS=settings.mongodb_server_selection_timeout_ms,
        connectTimeoutMS=settings.mongodb_connect_timeout_ms,
        socketTimeoutMS=settings.mongodb_socket_timeout_ms,
        tz_aware=True,
        appname=settings.service_name,
    )


def _declared_indexes(model: type[Document]) -> list[IndexModel]:
    declared: list[IndexModel] = []
    for item in model.get_settings().indexes or []:
        index = item.index if hasattr(item, "index") else item
        if not isinstance(index, IndexModel):
            raise TypeError(f"{model.__name__}: declare indexes as pymongo IndexModel")
        declared.append(index)
    return declared


async def ensure_indexes(models: Sequence[type[Document]]) -> list[str]:
    """Create each missing index on its own; return the names created.

    FerretDB 1.24 crashes when one ``createIndexes`` re-sends several existing
    indexes, and MongoDB rejects a changed definition under an old name; sending
    only the missing ones, one at a time, keeps restarts safe on both (on every
    flavour: the few extra round trips at start-up cost MongoDB nothing worth a branch).
    """
    created: list[str] = []
    for model in models:
        collection = model.get_pymongo_collection()
        existing = set((await collection.index_information()).keys())
        for index in _declared_indexes(model):
            name = str(index.document["name"])
            if name in existing:
                continue
            await collection.create_indexes([index])
            created.append(f"{collection.name}.{name}")
    if created:
        logger.info("created indexes {}", ", ".join(created))
    return created


async def init_database(
    database: AsyncDatabase[MongoDocument],
    models: Sequence[type[Document]],
    flavour: FlavourSetting = FlavourSetting.AUTO,
) -> DatabaseFlavour:
    """Bind the documents to ``database``, add missing indexes, and return (and bind)
    the database's flavour (see ``domain.core.database_flavour``)."""
    await init_beanie(database=database, document_models=list(models), skip_indexes=True)
    await ensure_indexes(models)
    resolved = await resolve_flavour(database, flavour)
    bind_flavour(resolved)
    return resolved
