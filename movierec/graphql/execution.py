"""The execution context of the endpoint: deferred (batched) loaders on graphql-core 3.2.14.

graphql-sync-dataloaders 0.1.1 calls ``handle_field_error(error, return_type)``, but
graphql-core 3.2.14 added a required ``path`` argument. Without this shim any exception in a
resolver (a ``BadUserInput`` included) became a ``TypeError`` that failed the whole request
as ``INTERNAL``. The path is rebuilt from the located error, which carries it as a list.
"""

from __future__ import annotations

from graphql import GraphQLError, GraphQLOutputType
from graphql.pyutils import Path
from graphql_sync_dataloaders import DeferredExecutionContext


def _path_from_error(error: GraphQLError) -> Path | None:
    path: Path | None = None
    for key in error.path or ():
        path = Path(path, key, None)
    return path


class MovierecExecutionContext(DeferredExecutionContext):
    def handle_field_error(
        self, error: GraphQLError, return_type: GraphQLOutputType, path: Path | None = None
    ) -> None:
        super().handle_field_error(
            error, return_type, path if path is not None else _path_from_error(error)
        )
