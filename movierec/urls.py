from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from movierec.graphql.views import MovierecGraphQLView
from movierec.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("graphql/", csrf_exempt(MovierecGraphQLView.as_view(graphiql=True))),
    path("healthz", healthz, name="healthz"),
    path("api/", include("users.api.urls")),
]
