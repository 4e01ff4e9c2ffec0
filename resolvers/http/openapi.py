"""The OpenAPI document of the plain REST routes, served at ``/api/openapi.json``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.core.version import VERSION
from resolvers.http.oauth.openapi import oauth_paths

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def build_openapi() -> dict[str, Any]:
    health_ref = {"$ref": "#/components/schemas/Health"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Gatehouse REST",
            "version": VERSION,
            "description": "Operator routes beside the GraphQL API at /graphql.",
        },
        "paths": {
            "/api/health": {
                "get": {
                    "operationId": "health",
                    "summary": "Check MongoDB, Redis, the email transport and the job queue.",
                    "responses": {
                        "200": _json(health_ref, "Every dependency is up."),
                        "503": _json(health_ref, "At least one dependency is down."),
                    },
                }
            },
            "/api/status": {
                "get": {
                    "operationId": "status",
                    "summary": "Version, git revision, uptime, environment and schema hash.",
                    "responses": {"200": _json({"$ref": "#/components/schemas/Status"}, "OK")},
                }
            },
            "/livez": {
                "get": {
                    "operationId": "livez",
                    "summary": "The process is alive (no dependency is checked).",
                    "responses": {"200": _json({"$ref": "#/components/schemas/Ok"}, "Alive")},
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "summary": "Prometheus metrics: requests, latency, queue depths.",
                    "responses": {
                        "200": {
                            "description": "Prometheus text exposition format.",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "summary": "MongoDB and Redis answer: the instance can take traffic.",
                    "responses": {
                        "200": _json(health_ref, "Ready."),
                        "503": _json(health_ref, "Not ready."),
                    },
                }
            },
            "/api/privacy/export": {
                "get": {
                    "operationId": "downloadDataExport",
                    "summary": "The emailed data-export link: the archive, once.",
                    "parameters": [
                        {
                            "name": "token",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": _json({"type": "object"}, "The JSON archive (an attachment)."),
                        "404": _json(_ERROR, "Unknown, used or expired link (EXPORT_UNAVAILABLE)."),
                    },
                }
            },
            **oauth_paths(),
        },
        "components": {
            "schemas": {
                "Ok": {
                    "type": "object",
                    "required": ["status"],
                    "properties": {"status": {"type": "string", "enum": ["ok"]}},
                },
                "Component": {
                    "type": "object",
                    "required": ["status", "latencyMs"],
                    "properties": {
                        "status": {"type": "string", "enum": ["up", "down"]},
                        "latencyMs": {"type": "number"},
                        "details": {"type": "object"},
                        "error": {"type": "string"},
                    },
                },
                "Health": {
                    "type": "object",
                    "required": ["status", "checks"],
                    "properties": {
                        "status": {"type": "string", "enum": ["ok", "unavailable"]},
                        "checks": {
                            "type": "object",
                            "additionalProperties": {"$ref": "#/components/schemas/Component"},
                        },
                        "failing": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "Status": {
                    "type": "object",
                    "required": [
                        "service",
                        "version",
                        "apiVersion",
                        "environment",
                        "uptimeSeconds",
                        "schemaHash",
                    ],
                    "properties": {
                        "service": {"type": "string"},
                        "version": {"type": "string"},
                        "apiVersion": {"type": "string"},
                        "gitRevision": {"type": ["string", "null"]},
                        "environment": {"type": "string"},
                        "uptimeSeconds": {"type": "number"},
                        "schemaHash": {"type": "string"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error", "message", "code", "statusCode", "timestamp"],
                    "properties": {
                        "error": {"type": "string"},
                        "message": {"type": "string"},
                        "code": {"type": "string"},
                        "statusCode": {"type": "integer"},
                        "timestamp": {"type": "string"},
                        "requestId": {"type": ["string", "null"]},
                        "details": {},
                    },
                },
            }
        },
    }


_DOCUMENT = build_openapi()


async def openapi(request: Request) -> Response:
    return JSONResponse(_DOCUMENT)
