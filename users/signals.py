"""Model signals that keep :mod:`users.auth_state` honest for every write path (services,
admin, shell): a save or delete that can change whether a token stands marks its proof."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from users import auth_state
from users.models import RevokedSession, User

#: Fields a token check reads; a save naming none of them (``last_login``) changes nothing.
_CHECKED_FIELDS = frozenset({"is_active", "token_version", "password"})


def _user_saved(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if created or (fields is not None and not _CHECKED_FIELDS.intersection(fields)):
        return
    auth_state.user_changed(instance.pk)


def _user_deleted(sender: Any, instance: User, **kwargs: Any) -> None:
    auth_state.user_changed(instance.pk)


def _session_revoked(sender: Any, instance: RevokedSession, **kwargs: Any) -> None:
    auth_state.session_changed(instance.sid)


def connect() -> None:
    post_save.connect(_user_saved, sender=User, dispatch_uid="auth_state.user_saved")
    post_delete.connect(_user_deleted, sender=User, dispatch_uid="auth_state.user_deleted")
    post_save.connect(
        _session_revoked, sender=RevokedSession, dispatch_uid="auth_state.session_revoked"
    )
