"""Events that cross apps: the owner of the data fires them, other apps subscribe.

``user_feedback_changed`` says a user's feedback changed: a rating, the watchlist, a favorite,
a playlist item (``movie_id`` set) or their favorite genres / a deleted playlist (``movie_id``
None). The ratings, playlists and users services fire it with :func:`feedback_changed`;
recs subscribes in ``RecsConfig.ready()`` to drop the user's cached recommendations. The owners
never import their subscribers, so the dependency graph keeps pointing one way.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

#: Sent once the writing transaction commits, never on rollback; kwargs ``user_id``, ``movie_id``.
user_feedback_changed = Signal()


def feedback_changed(*, user_id: int, movie_id: int | None) -> None:
    """Send :data:`user_feedback_changed` after the current transaction commits.

    Each receiver runs on its own: a failing one is logged and neither breaks the write nor
    keeps the others from running.
    """

    def send() -> None:
        results = user_feedback_changed.send_robust(sender=None, user_id=user_id, movie_id=movie_id)
        for receiver, result in results:
            if isinstance(result, Exception):
                logger.error(
                    "user_feedback_changed receiver %s failed",
                    getattr(receiver, "__qualname__", receiver),
                    exc_info=result,
                )

    transaction.on_commit(send)


#: Sent inside the deleting transaction just before a user row is deleted, kwarg ``user``.
#: Receivers clean up what a plain cascade would get wrong (ratings leave the community
#: averages); an exception in one aborts the deletion.
user_deleting = Signal()
