"""The schema from the gqlauth README ("Full schema features"), with its user queries."""

from __future__ import annotations

import strawberry
from gqlauth.core.middlewares import JwtSchema
from gqlauth.user import arg_mutations
from gqlauth.user.queries import UserQueries


@strawberry.type
class Query(UserQueries):
    pass


@strawberry.type
class Mutation:
    token_auth = arg_mutations.ObtainJSONWebToken.field
    register = arg_mutations.Register.field
    verify_account = arg_mutations.VerifyAccount.field
    resend_activation_email = arg_mutations.ResendActivationEmail.field
    send_password_reset_email = arg_mutations.SendPasswordResetEmail.field
    password_reset = arg_mutations.PasswordReset.field
    password_change = arg_mutations.PasswordChange.field
    update_account = arg_mutations.UpdateAccount.field
    verify_token = arg_mutations.VerifyToken.field
    refresh_token = arg_mutations.RefreshToken.field
    revoke_token = arg_mutations.RevokeToken.field


schema = JwtSchema(query=Query, mutation=Mutation)
