"""The GraphQL endpoint: JWT authentication, limits, and contract-shaped errors.

Authentication happens before anything executes: a present but unacceptable token (malformed,
forged or ``alg: none``, expired, of a logged-out session, predating a password change or
deactivation) answers 401 ``UNAUTHENTICATED`` and is never downgraded to anonymous. Then the
per-viewer request limit (users, or client IP when anonymous) may answer 429 ``RATE_LIMITED``.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections import OrderedDict
from typing import Any

import orjson
import structlog
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBadRequest, HttpResponseNotAllowed
from django.utils.module_loading import import_string
from graphene_django.constants import MUTATION_ERRORS_FLAG
from graphene_django.settings import graphene_settings
from graphene_django.views import GraphQLView, HttpError, set_rollback
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    Lexer,
    OperationDefinitionNode,
    OperationType,
    Source,
    TokenKind,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from graphql.validation import (
    ASTValidationRule,
    NoSchemaIntrospectionCustomRule,
    specified_rules,
)
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from movierec import durable, metrics, throttling
from movierec.graphql import response_cache
from movierec.graphql.dataloaders import DeferredExecutionContext
from movierec.graphql.errors import ErrorCode, format_error
from movierec.graphql.input_text import (
    UnstorableTextRule,
    unstorable_variable,
    unstorable_variable_error,
)
from movierec.graphql.middleware import (
    MUTATION_MIDDLEWARE,
    MutationRollbackMiddleware,
    apply_null_defaults,
)
from movierec.graphql.persisted import PersistedQueryError, persisted_query_resolve
from movierec.graphql.validation import query_limits_rule
from movierec.middleware import is_dependency_outage, service_unavailable_response


@functools.cache
def _authentication() -> Any:
    """The ``GRAPHQL_AUTHENTICATION_CLASS`` instance (the users app's JWT authentication)."""
    return import_string(settings.GRAPHQL_AUTHENTICATION_CLASS)()


def _tagged_rule(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    """``rule``, reporting its errors with ``code: GRAPHQL_VALIDATION_FAILED``."""

    def report_error(self: ASTValidationRule, error: GraphQLError) -> None:
        error.extensions = {
            "code": str(ErrorCode.GRAPHQL_VALIDATION_FAILED),
            **(error.extensions or {}),
        }
        rule.report_error(self, error)

    return type(rule.__name__, (rule,), {"report_error": report_error})


# The specification's rules; their errors say the document does not fit the schema.
VALIDATION_RULES = [_tagged_rule(rule) for rule in specified_rules]


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


_OUTAGE_FLAG = "_movierec_dependency_outage"
_LABEL_ATTR = "_movierec_operation_label"


def _operation_label(document: DocumentNode, operation_name: str | None) -> str:
    """``<type>:<first root field>`` of the operation that runs: bounded by the schema, unlike
    client-chosen operation names, so it is safe as a metrics label."""
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name and (definition.name is None or definition.name.value != operation_name):
            continue
        fields = [
            sel.name.value
            for sel in definition.selection_set.selections
            if hasattr(sel, "name") and not sel.name.value.startswith("__")
        ]
        return f"{definition.operation.value}:{fields[0] if fields else '__typename'}"
    return "invalid"


def _error_response(status: int, message: str, code: ErrorCode, **extra: Any) -> HttpResponse:
    metrics.ERRORS.labels(code=str(code)).inc()
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


class RequestError(HttpError):
    """A request refused before execution (400), with its contract ``code``."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.BAD_USER_INPUT) -> None:
        super().__init__(HttpResponseBadRequest(message), message)
        self.code = code


def _bad_request(message: str) -> HttpError:
    return RequestError(message)


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


_OPERATION_ATTR = "_graphql_operation"


class _Prepared:
    """A parsed document and its spec-validation errors (None until validated); for a
    document without variables, also its limit errors under the limits they were checked
    against (nothing in them can change from one request to the next)."""

    __slots__ = ("document", "errors", "static", "limits")

    def __init__(self, document: DocumentNode) -> None:
        self.document = document
        self.errors: list[GraphQLError] | None = None
        self.static = not any(
            getattr(definition, "variable_definitions", None) for definition in document.definitions
        )
        self.limits: tuple[tuple[int, ...], list[GraphQLError]] | None = None


class _DocumentCache:
    """LRU of prepared documents by query text (and schema and rules): clients send the same
    few queries, and parsing plus spec validation cost more than executing a small one."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple, _Prepared] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> _Prepared | None:
        with self._lock:
            prepared = self._items.get(key)
            if prepared is not None:
                self._items.move_to_end(key)
            return prepared

    def put(self, key: tuple, prepared: _Prepared) -> None:
        with self._lock:
            self._items[key] = prepared
            while len(self._items) > settings.GRAPHQL_DOCUMENT_CACHE_SIZE:
                self._items.popitem(last=False)


_documents = _DocumentCache()


class MovierecGraphQLView(GraphQLView):
    """Reads ``Authorization: Bearer``; a bad token is an error, never anonymous.

    Before graphql-core's spec validation (whose overlapping-fields rule is quadratic in the
    number of fields) it enforces the cheap static limits: body size, token count, then depth,
    aliases and cost (:mod:`movierec.graphql.validation`). One operation per request: a JSON
    array (batch) body is refused as bad input.
    """

    # graphene-django's page, with its pinned assets served from our static files.
    graphiql_template = "movierec/graphiql.html"

    def __init__(self, **kwargs: Any) -> None:
        # Extra middleware only: the rollback rule is added for mutations (see get_middleware).
        kwargs.setdefault("middleware", [])
        kwargs.setdefault("execution_context_class", DeferredExecutionContext)
        kwargs.setdefault("validation_rules", list(VALIDATION_RULES))
        super().__init__(**kwargs)
        apply_null_defaults(self.schema.graphql_schema)

    def get_middleware(self, request: HttpRequest) -> Any:
        """No middleware around query resolvers (it would cost a call per field); mutations
        get the rollback rule, in one manager shared across requests."""
        extra = self.middleware
        if getattr(request, _OPERATION_ATTR, None) != OperationType.MUTATION:
            return extra or None
        if not extra:
            return MUTATION_MIDDLEWARE
        return [MutationRollbackMiddleware(), *extra]

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
        started = time.perf_counter()
        response = self._dispatch(request, *args, **kwargs)
        if getattr(request, _OUTAGE_FLAG, False):
            # A resolver lost PostgreSQL: one retryable answer, whatever else succeeded.
            response = service_unavailable_response()
        operation = getattr(request, _LABEL_ATTR, "unparsed")
        metrics.REQUEST_SECONDS.labels(operation=operation).observe(time.perf_counter() - started)
        # GraphQL over HTTP: clients that accept application/graphql-response+json get it, so
        # they may trust the status codes (4xx: nothing executed; 200: see `errors`).
        if GRAPHQL_RESPONSE_JSON in request.headers.get("Accept", "") and response.get(
            "Content-Type", ""
        ).startswith("application/json"):
            response["Content-Type"] = GRAPHQL_RESPONSE_JSON
        return response

    def _dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Session cookies (admin) must not authenticate GraphQL: the endpoint is CSRF-exempt.
        request.user = AnonymousUser()
        authentication = _authentication()
        token = None
        if request.META.get("HTTP_AUTHORIZATION", "").strip():
            try:
                token = authentication.validated_token(request)
            except (AuthenticationFailed, InvalidToken, TokenError) as exc:
                return _auth_failure(exc)
            if token is None:
                return _error_response(
                    401, "Unsupported Authorization header; use Bearer.", ErrorCode.UNAUTHENTICATED
                )
        if token is not None:
            # The viewer's rate limit and the proof that its session still stands, in one
            # Redis round trip; without that proof, the user row and the session's revocation
            # record in one SQL query (the database is the truth for revocations).
            retry_after, state = throttling.hit_and_read(
                "graphql",
                f"user:{authentication.user_id(token)}",
                authentication.state_keys(token),
            )
            try:
                request.user = authentication.get_viewer(token, state)
            except AuthenticationFailed as exc:
                return _auth_failure(exc)
        else:
            retry_after, _ = throttling.hit_and_read(
                "graphql", f"ip:{throttling.client_ip(request)}", []
            )
        if retry_after is not None:
            response = _error_response(
                429, "Too many requests.", ErrorCode.RATE_LIMITED, retryAfter=retry_after
            )
            response["Retry-After"] = str(retry_after)
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
    ) -> tuple[str | bytes | None, int]:
        """graphene-django's, plus the whole-response cache for anonymous queries; a
        ``RATE_LIMITED`` error (e.g. ``tokenAuth`` over its limits) answers 429 with
        ``Retry-After``, as REST does, whatever else the response holds."""
        query, variables, operation_name, _ = self.get_graphql_params(request, data)
        cache_key = versions = viewer_id = None
        if response_cache.enabled() and not show_graphiql and isinstance(query, str):
            if not request.user.is_authenticated:
                cache_key = response_cache.entry_key(query, variables, operation_name)
                body, versions = response_cache.lookup(cache_key)
            elif (roots := self._query_root_fields(query, operation_name)) is not None and (
                response_cache.viewer_cacheable(roots)
            ):
                viewer_id = request.user.pk
                cache_key = response_cache.entry_key(
                    query, variables, operation_name, viewer=viewer_id
                )
                body, versions = response_cache.lookup(cache_key, viewer=viewer_id)
            if cache_key is not None and body is not None:
                return body, 200
        result = self.execute_graphql_request(
            request, data, query, variables, operation_name, show_graphiql
        )
        if getattr(request, MUTATION_ERRORS_FLAG, False) is True:
            set_rollback()
        if result is None:
            return None, 200
        response: dict[str, Any] = {}
        status = 200
        if result.errors:
            set_rollback()
            response["errors"] = [self.format_error(e) for e in result.errors]
            if any(not getattr(e, "path", None) for e in result.errors):
                status = 400
        if status == 200:
            response["data"] = result.data
        retry_after = [
            int(error["extensions"].get("retryAfter") or 1)
            for error in response.get("errors") or ()
            if (error.get("extensions") or {}).get("code") == ErrorCode.RATE_LIMITED
        ]
        if retry_after and status < 500:
            request.movierec_retry_after = max(retry_after)  # type: ignore[attr-defined]
            status = 429
        body = self.json_encode(request, response, pretty=show_graphiql)
        if (
            cache_key is not None
            and not result.errors
            and getattr(request, _OPERATION_ATTR, None) == OperationType.QUERY
        ):
            response_cache.store(cache_key, versions, body, viewer=viewer_id)
        return body, status

    def _query_root_fields(
        self, query: str, operation_name: str | None
    ) -> list[tuple[str, frozenset[str]]] | None:
        """(name, argument names) of the root fields of a query operation, from a document
        already parsed and validated without errors; None otherwise (not cacheable per viewer:
        first sight, errors, a mutation, or fragments at the root)."""
        rules = self.validation_rules
        prepared = _documents.get((query, id(self.schema.graphql_schema), tuple(rules or ())))
        if prepared is None or prepared.errors is None or prepared.errors:
            return None
        operation = get_operation_ast(prepared.document, operation_name)
        if operation is None or operation.operation != OperationType.QUERY:
            return None
        roots = []
        for selection in operation.selection_set.selections:
            if not isinstance(selection, FieldNode):
                return None
            names = frozenset(argument.name.value for argument in selection.arguments or ())
            roots.append((selection.name.value, names))
        return roots

    def json_encode(self, request: HttpRequest, d: Any, pretty: bool = False) -> str | bytes:
        if pretty or self.pretty:
            return super().json_encode(request, d, pretty=True)
        return orjson.dumps(d)

    @classmethod
    def can_display_graphiql(cls, request: HttpRequest, data: Any) -> bool:
        """GraphiQL only where ``GRAPHIQL_ENABLED`` (default: ``DEBUG``), read per request."""
        enabled = settings.GRAPHIQL_ENABLED
        if enabled is None:
            enabled = settings.DEBUG
        return bool(enabled) and super().can_display_graphiql(request, data)

    def parse_body(self, request: HttpRequest) -> Any:
        if request.method == "GET":  # parameters are in the URL; clients may still send a
            return {}  # Content-Type (Apollo's GET for persisted queries does)
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
        extensions = request.GET.get("extensions") or data.get("extensions")
        if isinstance(extensions, str):
            try:
                extensions = json.loads(extensions)
            except ValueError as exc:
                raise _bad_request("`extensions` must be a JSON object.") from exc
        if extensions is not None and not isinstance(extensions, dict):
            raise _bad_request("`extensions` must be a JSON object.")
        if extensions and "persistedQuery" in extensions:
            try:
                query = persisted_query_resolve(query, extensions["persistedQuery"])
            except PersistedQueryError as exc:
                raise RequestError(exc.message, exc.code) from exc
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
        """graphene-django's, on a cached parse and spec validation of the document.

        The static limits (tokens, then depth, aliases, cost against this request's
        variables, unstorable text) run before spec validation on first sight of a document,
        and again on every request that has variables (``first: $n`` costs what ``$n`` is).
        """
        if (name := unstorable_variable(variables)) is not None:
            return ExecutionResult(data=None, errors=[unstorable_variable_error(name)])
        if not query:
            if show_graphiql:
                return None
            raise _bad_request("Must provide query string.")
        schema = self.schema.graphql_schema
        rules = self.validation_rules
        cache_key = (query, id(schema), tuple(rules or ()))
        prepared = _documents.get(cache_key)
        if prepared is None:
            if _token_count_exceeds(query, settings.GRAPHQL_MAX_TOKENS):
                error = GraphQLError(
                    f"The query has more than {settings.GRAPHQL_MAX_TOKENS} tokens.",
                    extensions={"code": str(ErrorCode.QUERY_TOO_COMPLEX)},
                )
                return ExecutionResult(data=None, errors=[error])
            try:
                document = parse(query)
            except GraphQLError as error:
                error.extensions = {"code": str(ErrorCode.GRAPHQL_PARSE_FAILED)}
                return ExecutionResult(data=None, errors=[error])
            prepared = _Prepared(document)
        setattr(request, _LABEL_ATTR, _operation_label(prepared.document, operation_name))
        structlog.contextvars.bind_contextvars(
            operation=operation_name or getattr(request, _LABEL_ATTR)
        )
        limits = (
            settings.GRAPHQL_MAX_DEPTH,
            settings.GRAPHQL_MAX_COMPLEXITY,
            settings.GRAPHQL_MAX_ALIASES,
        )
        if prepared.static and prepared.limits is not None and prepared.limits[0] == limits:
            limit_errors = prepared.limits[1]
        else:
            limit_errors = validate(
                schema,
                prepared.document,
                [query_limits_rule(variables=variables), UnstorableTextRule],
            )
            if prepared.static:
                prepared.limits = (limits, limit_errors)
        if limit_errors:
            return ExecutionResult(data=None, errors=limit_errors)
        if prepared.errors is None:
            prepared.errors = validate(
                schema, prepared.document, rules, graphene_settings.MAX_VALIDATION_ERRORS
            )
            _documents.put(cache_key, prepared)
        operation = get_operation_ast(prepared.document, operation_name)
        if operation is not None:
            setattr(request, _OPERATION_ATTR, operation.operation)
        if (
            request.method.lower() == "get"
            and operation is not None
            and operation.operation != OperationType.QUERY
        ):
            if show_graphiql:
                return None
            raise HttpError(
                HttpResponseNotAllowed(
                    ["POST"],
                    f"Can only perform a {operation.operation.value} operation via POST.",
                )
            )
        if prepared.errors:
            return ExecutionResult(data=None, errors=prepared.errors)
        options: dict[str, Any] = {
            "root_value": self.get_root_value(request),
            "context_value": self.get_context(request),
            "variable_values": variables,
            "operation_name": operation_name,
            "middleware": self.get_middleware(request),
            "execution_context_class": self.execution_context_class,
        }
        result = self._execute(request, schema, prepared.document, operation, options)
        if any(
            is_dependency_outage(error.original_error if isinstance(error, GraphQLError) else error)
            for error in result.errors or ()
        ):
            setattr(request, _OUTAGE_FLAG, True)
        return result

    @staticmethod
    def _execute(
        request: HttpRequest,
        schema: Any,
        document: DocumentNode,
        operation: OperationDefinitionNode | None,
        options: dict[str, Any],
    ) -> ExecutionResult:
        with durable.scope():  # revocations survive the mutation's rollback
            try:
                if (
                    operation is not None
                    and operation.operation == OperationType.MUTATION
                    and graphene_settings.ATOMIC_MUTATIONS
                ):
                    with transaction.atomic():
                        result = execute(schema, document, **options)
                        if getattr(request, MUTATION_ERRORS_FLAG, False) is True:
                            transaction.set_rollback(True)
                    return result
                return execute(schema, document, **options)
            except Exception as exc:  # graphene-django's contract: any failure is an error
                return ExecutionResult(errors=[exc])

    @staticmethod
    def format_error(error: Exception) -> dict[str, Any]:
        if isinstance(error, HttpError):  # malformed body, missing query, GET mutation, APQ
            code = getattr(error, "code", ErrorCode.BAD_USER_INPUT)
            formatted = {"message": str(error), "extensions": {"code": str(code)}}
        else:
            formatted = format_error(error)
        metrics.ERRORS.labels(code=formatted.get("extensions", {}).get("code", "INTERNAL")).inc()
        return formatted
