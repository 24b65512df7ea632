"""The GraphQL endpoint: JWT authentication, limits, and contract-shaped errors.

Authentication happens before anything executes: a present but unacceptable token (malformed,
forged or ``alg: none``, expired, of a logged-out session, predating a password change or
deactivation) answers 401 ``UNAUTHENTICATED`` and is never downgraded to anonymous. Then the
per-viewer request limit (users, or client IP when anonymous) may answer 429 ``RATE_LIMITED``.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBadRequest
from django.utils.module_loading import import_string
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, GraphQLError, Lexer, Source, TokenKind, parse, validate
from graphql.validation import NoSchemaIntrospectionCustomRule, specified_rules
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from movierec import durable, throttling
from movierec.graphql.dataloaders import DeferredExecutionContext
from movierec.graphql.errors import ErrorCode, format_error
from movierec.graphql.input_text import (
    UnstorableTextRule,
    unstorable_variable,
    unstorable_variable_error,
)
from movierec.graphql.middleware import MutationRollbackMiddleware, NullMeansDefaultMiddleware
from movierec.graphql.validation import query_limits_rule


@functools.cache
def _authentication() -> Any:
    """The ``GRAPHQL_AUTHENTICATION_CLASS`` instance (the users app's JWT authentication)."""
    return import_string(settings.GRAPHQL_AUTHENTICATION_CLASS)()


def _error_response(status: int, message: str, code: ErrorCode, **extra: Any) -> HttpResponse:
    body = {"errors": [{"message": message, "extensions": {"code": str(code), **extra}}]}
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _auth_failure(exc: Exception) -> HttpResponse:
    detail = getattr(exc, "detail", None)
    message, reason = "Invalid or expired token.", "invalid"
    if isinstance(detail, dict) and isinstance(detail.get("detail"), str):
        message = detail["detail"]
        code = str(detail.get("code") or "")
        reason = code.removeprefix("token_") or reason
    response = _error_response(401, message, ErrorCode.UNAUTHENTICATED, reason=reason)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _bad_request(message: str) -> HttpError:
    return HttpError(HttpResponseBadRequest(message), message)


def _token_count_exceeds(query: str, limit: int) -> bool:
    lexer = Lexer(Source(query))
    count = 0
    try:
        while lexer.advance().kind != TokenKind.EOF:
            count += 1
            if count > limit:
                return True
    except GraphQLError:
        return False
    return False


class MovierecGraphQLView(GraphQLView):
    """Reads ``Authorization: Bearer``; a bad token is an error, never anonymous.

    Before graphql-core's spec validation (whose overlapping-fields rule is quadratic in the
    number of fields) it enforces the cheap static limits: body size, token count, then depth,
    aliases and cost (:mod:`movierec.graphql.validation`). One operation per request: a JSON
    array (batch) body is refused as bad input.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "middleware", [MutationRollbackMiddleware(), NullMeansDefaultMiddleware()]
        )
        kwargs.setdefault("execution_context_class", DeferredExecutionContext)
        kwargs.setdefault("validation_rules", list(specified_rules))
        super().__init__(**kwargs)

    @property
    def validation_rules(self) -> list[Any]:
        """The spec's rules, plus no ``__schema``/``__type`` unless GRAPHQL_INTROSPECTION
        (read per request, so the setting can change without a restart of the view)."""
        rules = list(self._validation_rules or specified_rules)
        if not settings.GRAPHQL_INTROSPECTION:
            rules.append(NoSchemaIntrospectionCustomRule)
        return rules

    @validation_rules.setter
    def validation_rules(self, rules: Any) -> None:
        self._validation_rules = rules

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Session cookies (admin) must not authenticate GraphQL: the endpoint is CSRF-exempt.
        request.user = AnonymousUser()
        if request.META.get("HTTP_AUTHORIZATION", "").strip():
            try:
                result = _authentication().authenticate(request)
            except (AuthenticationFailed, InvalidToken, TokenError) as exc:
                return _auth_failure(exc)
            if result is None:
                return _error_response(
                    401, "Unsupported Authorization header; use Bearer.", ErrorCode.UNAUTHENTICATED
                )
            request.user = result[0]
        viewer_key = (
            f"user:{request.user.pk}"
            if request.user.is_authenticated
            else f"ip:{throttling.client_ip(request)}"
        )
        try:
            throttling.hit("graphql", viewer_key)
        except throttling.RateLimitExceeded as exc:
            response = _error_response(
                429, "Too many requests.", ErrorCode.RATE_LIMITED, retryAfter=exc.retry_after
            )
            response["Retry-After"] = str(exc.retry_after)
            return response
        if request.method == "POST":
            try:
                request.body  # noqa: B018 - Django enforces DATA_UPLOAD_MAX_MEMORY_SIZE on read
            except RequestDataTooBig:
                return _error_response(
                    413,
                    f"Request body exceeds {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
                    ErrorCode.BAD_USER_INPUT,
                )
        response = super().dispatch(request, *args, **kwargs)
        if (retry_after := getattr(request, "movierec_retry_after", None)) is not None:
            response["Retry-After"] = str(retry_after)
        return response

    def get_response(
        self, request: HttpRequest, data: Any, show_graphiql: bool = False
    ) -> tuple[str | None, int]:
        """A ``RATE_LIMITED`` error (e.g. ``tokenAuth`` over its limits) answers 429 with
        ``Retry-After``, as REST does, whatever else the response holds."""
        result, status = super().get_response(request, data, show_graphiql)
        if result and status < 500 and '"RATE_LIMITED"' in result:
            retry_after = [
                int(error["extensions"].get("retryAfter") or 1)
                for error in json.loads(result).get("errors") or ()
                if (error.get("extensions") or {}).get("code") == ErrorCode.RATE_LIMITED
            ]
            if retry_after:
                request.movierec_retry_after = max(retry_after)  # type: ignore[attr-defined]
                status = 429
        return result, status

    def parse_body(self, request: HttpRequest) -> Any:
        if self.get_content_type(request) == "application/json" and not self.batch:
            try:
                body = json.loads(request.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise _bad_request("POST body sent invalid JSON.") from exc
            except RecursionError as exc:  # nesting deeper than the parser's stack allows
                raise _bad_request("POST body JSON is nested too deeply.") from exc
            if isinstance(body, list):
                raise _bad_request(
                    "Batched operations are not supported; send one operation per request."
                )
            if not isinstance(body, dict):
                raise _bad_request(
                    'The body must be a JSON object {"query": ..., "variables": ...}.'
                )
            return body
        return super().parse_body(request)

    @staticmethod
    def get_graphql_params(request: HttpRequest, data: Any) -> tuple[Any, Any, Any, Any]:
        query, variables, operation_name, id_ = GraphQLView.get_graphql_params(request, data)
        if query is not None and not isinstance(query, str):
            raise _bad_request("`query` must be a string.")
        if variables is not None and not isinstance(variables, dict):
            raise _bad_request("`variables` must be a JSON object.")
        if operation_name is not None and not isinstance(operation_name, str):
            raise _bad_request("`operationName` must be a string.")
        return query, variables, operation_name, id_

    def execute_graphql_request(
        self,
        request: HttpRequest,
        data: Any,
        query: str | None,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        show_graphiql: bool = False,
    ) -> ExecutionResult | None:
        if (name := unstorable_variable(variables)) is not None:
            return ExecutionResult(data=None, errors=[unstorable_variable_error(name)])
        if query:
            if _token_count_exceeds(query, settings.GRAPHQL_MAX_TOKENS):
                error = GraphQLError(
                    f"The query has more than {settings.GRAPHQL_MAX_TOKENS} tokens.",
                    extensions={"code": str(ErrorCode.QUERY_TOO_COMPLEX)},
                )
                return ExecutionResult(data=None, errors=[error])
            try:
                document = parse(query)
            except GraphQLError as error:
                return ExecutionResult(data=None, errors=[error])
            limit_errors = validate(
                self.schema.graphql_schema,
                document,
                [query_limits_rule(variables=variables), UnstorableTextRule],
            )
            if limit_errors:
                return ExecutionResult(data=None, errors=limit_errors)
        with durable.scope():  # revocations survive the mutation's rollback
            return super().execute_graphql_request(
                request, data, query, variables, operation_name, show_graphiql
            )

    @staticmethod
    def format_error(error: Exception) -> dict[str, Any]:
        if isinstance(error, HttpError):  # malformed body, missing query, GET mutation
            return {"message": str(error), "extensions": {"code": str(ErrorCode.BAD_USER_INPUT)}}
        return format_error(error)
