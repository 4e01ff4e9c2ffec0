"""GraphQL types of headless login and consent (domain/oauth/headless.py)."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.oauth.headless import ChallengeDetails, ChallengeStage


@strawberry.enum(name="OAuthChallengeStage")
class OAuthChallengeStageEnum(Enum):
    LOGIN = ChallengeStage.LOGIN.value
    CONSENT = ChallengeStage.CONSENT.value


@strawberry.type(description="An authorization request waiting for the login UI.")
class OAuthChallenge:
    challenge: str
    stage: OAuthChallengeStageEnum
    client_id: strawberry.ID
    client_name: str
    scopes: list[str] = strawberry.field(description="The scopes the client asks for.")
    prompts: list[str] = strawberry.field(description="The request's `prompt` values.")
    login_hint: str | None = strawberry.field(
        description=(
            "The request's `login_hint` when it is an email address (else null): pre-fill "
            "the sign-in form's email with it; it proves nothing."
        )
    )

    @classmethod
    def from_details(cls, found: ChallengeDetails) -> OAuthChallenge:
        return cls(
            challenge=found.challenge_id,
            stage=OAuthChallengeStageEnum(found.stage.value),
            client_id=strawberry.ID(found.client_id),
            client_name=found.client_name,
            scopes=found.scopes,
            prompts=found.prompts,
            login_hint=found.login_hint,
        )


@strawberry.type(description="Send the browser to `redirectTo` to continue the request.")
class OAuthChallengeAnswered:
    redirect_to: str
