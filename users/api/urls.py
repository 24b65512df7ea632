"""REST endpoints for mobile and web sign-in; the same tokens as GraphQL."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from users.api import views

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="register"),
    path("auth/token/", views.TokenObtainView.as_view(), name="token_obtain"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="token_refresh"),
    path("auth/token/verify/", views.TokenVerifyView.as_view(), name="token_verify"),
    path("auth/token/blacklist/", views.TokenBlacklistView.as_view(), name="token_blacklist"),
    # Web apps that keep the refresh token in an httpOnly cookie (users/api/cookies.py).
    path("auth/cookie/token/", views.CookieTokenObtainView.as_view(), name="cookie_token"),
    path("auth/cookie/refresh/", views.CookieTokenRefreshView.as_view(), name="cookie_refresh"),
    path("auth/cookie/logout/", views.CookieLogoutView.as_view(), name="cookie_logout"),
    path("auth/password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "auth/password/reset/confirm/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="openapi_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="openapi_schema"), name="swagger_ui"),
]
