"""Read-side queries for users and for deciding whether a token still stands."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, Q
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import UntypedToken

from users.exceptions import TokenRejected
from users.models import RevokedSession, User
from users.tokens import SESSION_CLAIM, VERSION_CLAIM
from users.usernames import username_fold, username_key


def user_get_by_login(*, identifier: str) -> User | None:
    """The account signed in to as ``identifier``: a username, else an email.

    Usernames match by their fold (:func:`users.usernames.username_fold`: NFKC plus casefold),
    so ``ALICE`` and fullwidth ``ａｌｉｃｅ`` sign in as ``alice``; a look-alike with other
    letters (Cyrillic ``аlice``) matches nothing. Candidates come from the indexed look-alike
    key, which equal folds share. Accounts made before look-alikes were refused may share a
    fold (``straße`` and ``STRASSE``): the exact name wins, then the same lower case, else
    none is chosen. Registration forbids ``@`` in usernames, so names and emails never
    compete; for older rows a username match still wins.
    """
    identifier = identifier.strip()
    if not identifier:
        return None
    lookup = Q(username_key=username_key(identifier))
    if "@" in identifier:
        lookup |= Q(email__iexact=identifier)
    candidates = list(User.objects.filter(lookup).order_by("pk")[:20])
    folded = username_fold(identifier)
    by_name = [user for user in candidates if username_fold(user.username) == folded]
    for same in (
        lambda user: user.username == identifier,
        lambda user: user.username.lower() == identifier.lower(),
    ):
        if chosen := [user for user in by_name if same(user)]:
            return chosen[0]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        return None
    by_email = [user for user in candidates if user.email.lower() == identifier.lower()]
    return by_email[0] if "@" in identifier and by_email else None


def user_get_public(*, username: str) -> User | None:
    """A public profile: active accounts only, so deactivated ones look absent."""
    return User.objects.filter(username__iexact=username, is_active=True).first()


def user_get_active(*, user_id: int) -> User:
    """An active account by pk; ``User.DoesNotExist`` for an unknown or deactivated one."""
    return User.objects.get(pk=user_id, is_active=True)


def user_id_by_username(username: str) -> int | None:
    """The pk of the account named exactly ``username`` (active or not), or None."""
    return User.objects.filter(username=username).values_list("pk", flat=True).first()


def users_by_ids(*, user_ids: Iterable[int]) -> dict[int, User]:
    """Users by primary key in one query (for ``owner`` / ``user`` relation loaders)."""
    return User.objects.in_bulk(list(user_ids))


def favorite_genre_ids(*, user_id: int) -> tuple[int, ...]:
    """The user's favorite genres' ids, ascending (one query, no join to genres)."""
    through = User.favorite_genres.through.objects.filter(user_id=user_id).order_by("genre_id")
    return tuple(through.values_list("genre_id", flat=True))


def user_for_token_payload(payload: dict[str, Any]) -> User:
    """The active user a verified token speaks for, or :class:`TokenRejected`.

    The session's revocation record is read from the database in the same query as the user
    (an ``EXISTS`` on the unique ``sid``), so no extra round trip and no second source of
    truth: a Redis copy that was flushed, restarted empty or unreachable once let revoked
    sessions live again.
    """
    user_id = payload.get(api_settings.USER_ID_CLAIM)
    sid = payload.get(SESSION_CLAIM)
    user = None
    if user_id is not None:
        users = User.objects.filter(pk=user_id)
        if sid:
            users = users.annotate(
                session_revoked=Exists(RevokedSession.objects.filter(sid=str(sid)))
            )
        user = users.first()
    if user is None or not user.is_active:
        raise TokenRejected("User not found or inactive.", reason="user_inactive")
    if payload.get(VERSION_CLAIM, 0) != user.token_version:
        raise TokenRejected(
            "Token predates a password change or deactivation; sign in again.",
            reason="outdated",
        )
    if sid and user.session_revoked:
        raise TokenRejected("Session has been revoked; sign in again.", reason="revoked")
    return user


def decode_token(raw: str, token_class: type = UntypedToken) -> Any:
    """Decode and verify signature, algorithm, expiry and type; errors as TokenRejected."""
    try:
        return token_class(raw)
    except ExpiredTokenError as exc:
        raise TokenRejected("Token is expired.", reason="expired") from exc
    except TokenError as exc:
        if str(exc) == "Token is blacklisted":
            raise TokenRejected("Token is blacklisted.", reason="blacklisted") from exc
        raise TokenRejected("Token is invalid.", reason="invalid") from exc


def auth_token_verify(*, token: str) -> User:
    """Would this access or refresh token be accepted now? Returns its user, else raises."""
    decoded = decode_token(token)
    if decoded.get(api_settings.TOKEN_TYPE_CLAIM) == "refresh":
        jti = decoded.get(api_settings.JTI_CLAIM)
        if BlacklistedToken.objects.filter(token__jti=jti).exists():
            raise TokenRejected("Token is blacklisted.", reason="blacklisted")
    return user_for_token_payload(decoded.payload)
