"""Operators see sync runs in the admin (read-only) and edit the schedule there."""

from django.urls import reverse

from movies.models import SyncRun
from tests.factories import UserFactory


def test_sync_runs_are_listed_read_only_in_the_admin(db, client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    SyncRun.objects.create(
        kind="popular", status=SyncRun.Status.PARTIAL, created=7, chunks_total=2, chunks_done=[0]
    )

    page = client.get(reverse("admin:movies_syncrun_changelist"))

    assert page.status_code == 200
    body = page.content.decode()
    assert "1/2" in body and "Partial" in body
    assert client.get(reverse("admin:movies_syncrun_add")).status_code == 403
    schedule = client.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    assert schedule.status_code == 200
