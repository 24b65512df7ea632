"""Django authentication backend: sign in with a username or an email, in any case."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from users.models import User
from users.selectors import user_get_by_login


class UsernameOrEmailBackend(ModelBackend):
    """What the admin login and ``django.contrib.auth.authenticate`` use."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        identifier = username or kwargs.get(User.USERNAME_FIELD)
        if not identifier or password is None:
            return None
        user = user_get_by_login(identifier=identifier)
        if user is None:
            User().set_password(password)  # same cost as a real check (ModelBackend does this)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
