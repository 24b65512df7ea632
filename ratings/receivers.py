"""What ratings does when other apps' events fire (connected in ``RatingsConfig.ready()``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ratings.services import rating_delete_all_for_user

if TYPE_CHECKING:
    from users.models import User


def ratings_delete_with_user(sender: Any, *, user: User, **kwargs: Any) -> None:
    """``user_deleting``: the user's ratings leave the community averages before the user row
    (and, by cascade, their watchlist and favorites) goes."""
    rating_delete_all_for_user(user=user)
