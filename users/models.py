from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower


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
