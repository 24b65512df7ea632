"""Staff-only GraphQL for the sync: the run history and the enqueue mutation."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from movies.models import Movie, SyncRun

RUNS = """
query ($first: Int, $after: String, $kind: SyncKind) {
  syncRuns(first: $first, after: $after, kind: $kind) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id kind status params created updated unchanged failed taskId
                   chunksTotal chunksDone startedAt finishedAt errorSamples { tmdbId error } } }
  }
}
"""
SYNC = """
mutation ($kinds: [SyncKind!], $tmdbIds: [Int!], $pages: Int) {
  syncTmdb(kinds: $kinds, tmdbIds: $tmdbIds, pages: $pages) { jobs { kind taskId tmdbId } }
}
"""


def _runs(count: int, kind: str = "popular") -> list[SyncRun]:
    return [
        SyncRun.objects.create(
            kind=kind,
            status=SyncRun.Status.PARTIAL,
            params={"pages": 2},
            created=i,
            failed=1,
            error_samples=[{"tmdb_id": 7, "error": "boom"}],
        )
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("viewer", "code"), [("api_client", "UNAUTHENTICATED"), ("user_api_client", "FORBIDDEN")]
)
def test_sync_runs_are_staff_only(db, request, viewer, code):
    _runs(1)
    error = request.getfixturevalue(viewer).error(RUNS)
    assert error["extensions"]["code"] == code


def test_staff_list_runs_newest_first_and_filter_by_kind(staff_api_client):
    popular = _runs(3)
    _runs(2, kind="changes")

    data = staff_api_client.data(RUNS, {"first": 2, "kind": "POPULAR"})["syncRuns"]

    assert data["totalCount"] == 3
    nodes = [e["node"] for e in data["edges"]]
    assert [n["created"] for n in nodes] == [2, 1]
    assert nodes[0]["kind"] == "POPULAR" and nodes[0]["status"] == "PARTIAL"
    assert nodes[0]["params"] == '{"pages": 2}'
    assert nodes[0]["errorSamples"] == [{"tmdbId": 7, "error": "boom"}]
    rest = staff_api_client.data(
        RUNS, {"first": 2, "kind": "POPULAR", "after": data["pageInfo"]["endCursor"]}
    )
    assert [e["node"]["created"] for e in rest["syncRuns"]["edges"]] == [popular[0].created]
    assert staff_api_client.data(RUNS)["syncRuns"]["totalCount"] == 5


def test_sync_runs_query_count_does_not_grow_with_page_size(staff_api_client):
    _runs(60)

    def count(first: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            staff_api_client.data(RUNS, {"first": first})
        return len(ctx.captured_queries)

    assert count(5) == count(50)


@pytest.mark.parametrize(
    ("viewer", "code"), [("api_client", "UNAUTHENTICATED"), ("user_api_client", "FORBIDDEN")]
)
def test_sync_mutation_is_staff_only(db, request, viewer, code):
    error = request.getfixturevalue(viewer).error(SYNC, {"kinds": ["GENRES"]})
    assert error["extensions"]["code"] == code
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({}, "kinds"),
        ({"tmdbIds": [0]}, "tmdbIds"),
        ({"tmdbIds": list(range(1, 102))}, "tmdbIds"),
        ({"kinds": ["POPULAR"], "pages": 501}, "pages"),
    ],
)
def test_sync_mutation_validates_input(staff_api_client, variables, field):
    error = staff_api_client.error(SYNC, variables)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


def test_staff_enqueue_syncs_that_run_on_commit(
    staff_api_client, tmdb_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        data = staff_api_client.data(SYNC, {"kinds": ["GENRES"], "tmdbIds": [603]})

    jobs = data["syncTmdb"]["jobs"]
    assert [(j["kind"], j["tmdbId"]) for j in jobs] == [("GENRES", None), ("MOVIE", 603)]
    runs = {r.task_id: r for r in SyncRun.objects.all()}
    assert set(runs) == {j["taskId"] for j in jobs}
    assert {r.status for r in runs.values()} == {SyncRun.Status.SUCCEEDED}
    assert Movie.objects.get(tmdb_id=603).title == "The Matrix"
