"""One route: graphene-django's stock ``GraphQLView`` over a one-field schema."""

import graphene
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView


class Query(graphene.ObjectType):
    ok = graphene.Boolean(default_value=True)


schema = graphene.Schema(query=Query)

urlpatterns = [path("graphql/", csrf_exempt(GraphQLView.as_view(schema=schema)))]
