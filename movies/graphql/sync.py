"""Staff-only GraphQL for the TMDb sync: the run history and a mutation that enqueues jobs."""

from __future__ import annotations

import json
from typing import Any

import graphene
from graphene_django import DjangoObjectType

from movierec.graphql.errors import BadUserInput
from movierec.graphql.pagination import CountableConnection, OrderKey, paginated_connection
from movierec.graphql.permissions import staff_required
from movies import models, selectors
from movies.sync import runs
from movies.sync.jobs import sync_enqueue

SyncKind = graphene.Enum(
    "SyncKind",
    [(kind.upper(), kind) for kind in runs.KINDS],
    description="A TMDb sync job: GENRES, TRENDING_DAY, TRENDING_WEEK, POPULAR, MOVIE (one "
    "movie in full), CHANGES (incremental, /movie/changes) or STALE (refresh old rows).",
)
SyncStatus = graphene.Enum(
    "SyncStatus",
    [(value.upper(), value) for value in models.SyncRun.Status.values],
    description="RUNNING, SUCCEEDED, PARTIAL (some movies failed), FAILED, or SKIPPED "
    "(another run of the same job held the lock).",
)


def _value(member: Any) -> Any:
    """Graphene 3 passes enum arguments as enum members; services take the plain value."""
    return getattr(member, "value", member)


class SyncErrorSample(graphene.ObjectType):
    tmdb_id = graphene.Int(description="The movie that failed; null for list-level errors.")
    error = graphene.String(required=True, description="What went wrong.")


class SyncRun(DjangoObjectType):
    class Meta:
        model = models.SyncRun
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "started_at",
            "finished_at",
            "created",
            "updated",
            "unchanged",
            "failed",
            "cursor",
            "task_id",
            "chunks_total",
        )
        description = "One run of a TMDb sync job, with what it stored and what failed."

    kind = graphene.Field(SyncKind, required=True, description="Which job ran.")
    status = graphene.Field(SyncStatus, required=True, description="How the run ended.")
    params = graphene.String(required=True, description="The job's parameters, as JSON.")
    chunks_done = graphene.Int(required=True, description="Chunks stored so far.")
    error_samples = graphene.List(
        graphene.NonNull(SyncErrorSample),
        required=True,
        description="Up to 20 failures, for diagnosis.",
    )

    @staticmethod
    def resolve_kind(root: models.SyncRun, info: graphene.ResolveInfo) -> str:
        return root.kind

    @staticmethod
    def resolve_status(root: models.SyncRun, info: graphene.ResolveInfo) -> str:
        return root.status

    @staticmethod
    def resolve_params(root: models.SyncRun, info: graphene.ResolveInfo) -> str:
        return json.dumps(root.params, sort_keys=True)

    @staticmethod
    def resolve_chunks_done(root: models.SyncRun, info: graphene.ResolveInfo) -> int:
        return len(root.chunks_done)

    @staticmethod
    def resolve_error_samples(root: models.SyncRun, info: graphene.ResolveInfo) -> list:
        return [
            SyncErrorSample(tmdb_id=s.get("tmdb_id"), error=s.get("error", ""))
            for s in root.error_samples
        ]


class SyncRunConnection(CountableConnection):
    class Meta:
        node = SyncRun
        description = "Sync runs, newest first."


class SyncQueries(graphene.ObjectType):
    sync_runs = graphene.Field(
        SyncRunConnection,
        required=True,
        first=graphene.Int(description="Page size: 20 by default, at most 100."),
        after=graphene.String(description="The endCursor of the previous page."),
        kind=graphene.Argument(SyncKind, description="Only runs of this job."),
        description="TMDb sync runs, newest first (staff only).",
    )

    @staticmethod
    @staff_required
    def resolve_sync_runs(
        root: None,
        info: graphene.ResolveInfo,
        first: int | None = None,
        after: str | None = None,
        kind: str | None = None,
    ) -> Any:
        return paginated_connection(
            SyncRunConnection,
            selectors.sync_run_list(kind=_value(kind)),
            order=[OrderKey("started_at", descending=True)],
            first=first,
            after=after,
        )


class EnqueuedSync(graphene.ObjectType):
    kind = graphene.Field(SyncKind, required=True, description="The job enqueued.")
    task_id = graphene.String(
        required=True, description="Celery task id; the run's taskId once it starts."
    )
    tmdb_id = graphene.Int(description="The movie, for MOVIE jobs.")


class SyncTmdbPayload(graphene.ObjectType):
    jobs = graphene.List(
        graphene.NonNull(EnqueuedSync), required=True, description="The jobs enqueued."
    )


MAX_MOVIES_PER_REQUEST = 100


class SyncTmdb(graphene.Mutation):
    """Enqueue TMDb sync jobs for the workers (staff only); follow them with ``syncRuns``."""

    class Arguments:
        kinds = graphene.List(
            graphene.NonNull(SyncKind), description="Jobs to run (MOVIE: use tmdbIds)."
        )
        tmdb_ids = graphene.List(
            graphene.NonNull(graphene.Int), description="Movies to sync in full, up to 100."
        )
        pages = graphene.Int(description="Popular pages (POPULAR), 1 to 500.")

    Output = SyncTmdbPayload

    @staticmethod
    @staff_required
    def mutate(
        root: None,
        info: graphene.ResolveInfo,
        kinds: list[str] | None = None,
        tmdb_ids: list[int] | None = None,
        pages: int | None = None,
    ) -> SyncTmdbPayload:
        kinds = [_value(k) for k in (kinds or []) if _value(k) != runs.KIND_MOVIE]
        tmdb_ids = tmdb_ids or []
        if not kinds and not tmdb_ids:
            raise BadUserInput("Give at least one job kind or TMDb id.", field="kinds")
        if len(tmdb_ids) > MAX_MOVIES_PER_REQUEST or any(t < 1 for t in tmdb_ids):
            raise BadUserInput("Up to 100 positive TMDb ids.", field="tmdbIds")
        if pages is not None and not 1 <= pages <= 500:
            raise BadUserInput("Pages must be between 1 and 500.", field="pages")
        jobs = sync_enqueue(kinds=kinds, tmdb_ids=tmdb_ids, pages=pages)
        return SyncTmdbPayload(
            jobs=[EnqueuedSync(kind=j.kind, task_id=j.task_id, tmdb_id=j.tmdb_id) for j in jobs]
        )


class SyncMutations(graphene.ObjectType):
    sync_tmdb = SyncTmdb.Field(description="Enqueue TMDb sync jobs (staff only).")
