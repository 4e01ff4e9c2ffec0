"""One route: the GraphQL endpoint (Strawberry's Django view; gqlauth resolvers are sync)."""

from __future__ import annotations

from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from peer_schema import schema
from strawberry.django.views import GraphQLView

urlpatterns = [path("graphql", csrf_exempt(GraphQLView.as_view(schema=schema, graphql_ide=None)))]
