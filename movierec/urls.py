from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from movierec.graphql.views import MovierecGraphQLView
from movierec.health import healthz, livez, readyz
from movierec.metrics import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("graphql/", csrf_exempt(MovierecGraphQLView.as_view(graphiql=True))),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("api/", include("users.api.urls")),
]
