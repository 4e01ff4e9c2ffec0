"""The OpenID provider over HTTP: thin Starlette glue around domain/oauth/."""
