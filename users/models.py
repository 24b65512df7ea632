from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower

from users.usernames import username_key


class CaseInsensitiveUserManager(UserManager):
    """Usernames and emails are unique regardless of case, so look them up that way too."""

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(username__iexact=username)


class User(AbstractUser):
    email = models.EmailField("email address", blank=True)
    favorite_genres = models.ManyToManyField(
        "movies.Genre", blank=True, related_name="fans", help_text="Cold-start preferences."
    )
    # Bumped on password change / deactivation: tokens carrying an older value are refused.
    token_version = models.PositiveIntegerField(default=0)
    # users.usernames.username_key(username): names with one key look alike (set on save).
    username_key = models.CharField(max_length=600, db_index=True, editable=False, default="")

    objects = CaseInsensitiveUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_ci_unique",
                condition=~models.Q(email=""),
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.username_key = username_key(self.username)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "username_key"}
        super().save(*args, **kwargs)


class RevokedSession(models.Model):
    """A sign-in session ended early (logout, or a rotated refresh token used again).

    Every token of one sign-in carries the same ``sid`` claim through refresh rotations, so one
    row kills the session's current refresh token and its access tokens together. Rows are
    useless once ``expires_at`` (the latest refresh expiry) has passed and are pruned then.
    """

    class Reason(models.TextChoices):
        LOGOUT = "LOGOUT", "Logged out"
        REUSE = "REUSE", "Rotated refresh token reused"

    sid = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="revoked_sessions"
    )
    reason = models.CharField(max_length=8, choices=Reason.choices)
    revoked_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.sid} ({self.reason})"
