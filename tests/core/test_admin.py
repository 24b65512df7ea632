"""Every model of ours is in the admin, and its pages answer with data present."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.factories import (
    CreditFactory,
    PlaylistItemFactory,
    RatingFactory,
    UserFactory,
    WatchlistEntryFactory,
)

pytestmark = pytest.mark.django_db

OUR_APPS = ("users", "movies", "ratings", "playlists", "recs")
MODELS = [m for app in OUR_APPS for m in apps.get_app_config(app).get_models()]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_every_model_is_registered(model):
    assert model in admin.site._registry


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    CreditFactory()
    RatingFactory()
    WatchlistEntryFactory()
    PlaylistItemFactory()
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_changelist_and_search_answer(admin_client, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert admin_client.get(url).status_code == 200
    if admin.site._registry[model].search_fields:
        assert admin_client.get(url, {"q": "1"}).status_code == 200
    obj = model.objects.first()
    if obj is not None:
        change = reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk]
        )
        assert admin_client.get(change).status_code == 200
