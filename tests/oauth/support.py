"""GraphQL documents for OAuth client management, shared by the provider's tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.identity_ops import call

CLIENT_FIELDS = """
  id name clientType redirectUris grantTypes scopes firstParty audience
  accessTokenTtlSeconds refreshTokenTtlSeconds disabledAt secretRotatedAt
  idTokenSignedResponseAlg
"""
ERRORS = """
  ... on ValidationFailed { fieldErrors { field code } }
  ... on NotFound { message }
"""
CREATE = f"""
mutation($type: OAuthClientType!, $client: OAuthClientInput!) {{
  createOAuthClient(clientType: $type, client: $client) {{
    __typename ... on OAuthClientCreated {{ clientSecret client {{ {CLIENT_FIELDS} }} }}
    ... on ValidationFailed {{ fieldErrors {{ field code }} }}
  }}
}}"""
UPDATE = f"""
mutation($id: ID!, $client: OAuthClientInput!) {{
  updateOAuthClient(id: $id, client: $client) {{
    __typename ... on OAuthClientSaved {{ client {{ {CLIENT_FIELDS} }} }} {ERRORS}
  }}
}}"""
ROTATE = f"""
mutation($id: ID!) {{
  rotateOAuthClientSecret(id: $id) {{
    __typename ... on OAuthClientSecretRotated {{ clientSecret client {{ id }} }} {ERRORS}
  }}
}}"""
DISABLE = """
mutation($id: ID!) {
  disableOAuthClient(id: $id) {
    __typename ... on OAuthClientSaved { client { id disabledAt } }
    ... on NotFound { message }
  }
}"""
LIST = f"{{ oauthClients {{ {CLIENT_FIELDS} }} }}"


async def create_client(
    http: httpx.AsyncClient, token: str, client_type: str, **spec: Any
) -> dict[str, Any]:
    body = await call(http, CREATE, {"type": client_type, "client": spec}, token=token)
    result: dict[str, Any] = body["data"]["createOAuthClient"]
    return result
