"""movierec from Python with gql: sign in, query, and refresh an expired access token once."""

from __future__ import annotations

from typing import Any

from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport

SIGN_IN = gql(
    """mutation SignIn($username: String!, $password: String!) {
         tokenAuth(username: $username, password: $password) { access refresh }
       }"""
)
REFRESH = gql(
    """mutation Refresh($refresh: String!) {
         refreshToken(refresh: $refresh) { access refresh }
       }"""
)


def _expired(error: TransportQueryError) -> bool:
    return any(
        (e.get("extensions") or {}).get("code") == "UNAUTHENTICATED"
        and (e.get("extensions") or {}).get("reason") == "expired"
        for e in error.errors or []
    )


class Movierec:
    """A signed-in session: keeps the token pair and rotates it when the access token expires."""

    def __init__(self, url: str) -> None:
        self.url = url  # e.g. "https://api.example.com/graphql/"
        self.tokens: dict[str, str] = {}

    def _client(self, *, signed_in: bool = True) -> Client:
        access = self.tokens.get("access") if signed_in else None
        headers = {"Authorization": f"Bearer {access}"} if access else {}
        transport = RequestsHTTPTransport(url=self.url, headers=headers, timeout=10)
        return Client(transport=transport, fetch_schema_from_transport=False)

    def sign_in(self, username: str, password: str) -> None:
        request = GraphQLRequest(
            SIGN_IN, variable_values={"username": username, "password": password}
        )
        self.tokens = self._client(signed_in=False).execute(request)["tokenAuth"]

    def execute(self, document: Any, **variables: Any) -> dict[str, Any]:
        request = GraphQLRequest(document, variable_values=variables)
        try:
            return self._client().execute(request)
        except TransportQueryError as error:
            if not _expired(error):
                raise  # error.errors[0]["extensions"]["code"] says what went wrong
        refresh = GraphQLRequest(REFRESH, variable_values={"refresh": self.tokens["refresh"]})
        self.tokens = self._client(signed_in=False).execute(refresh)["refreshToken"]
        return self._client().execute(request)
