"""Write-side operations on accounts and sessions; GraphQL and REST both call these."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.contrib.auth import password_validation, user_logged_in, user_login_failed
from django.contrib.auth.models import update_last_login
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import datetime_from_epoch

from movierec import throttling
from movierec.durable import durable
from movierec.events import feedback_changed, user_deleting
from movies import selectors as movie_selectors
from users import auth_state
from users.exceptions import InvalidCredentials, TokenRejected
from users.models import RevokedSession, User
from users.selectors import (
    decode_token,
    user_for_token_payload,
    user_get_by_login,
)
from users.tokens import SESSION_CLAIM, BlacklistedTokenError, RefreshToken, TokenPair
from users.usernames import username_fold, username_key

_USERNAME_TAKEN = "A user with that username already exists."
_USERNAME_LOOKALIKE = "A user with a username that looks the same already exists."
_EMAIL_TAKEN = "A user with that email address already exists."


# --- Accounts ---------------------------------------------------------------------------------
def _password_errors(password: str, user: User) -> list[str]:
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def username_available_check(username: str, *, exclude_pk: int | None = None) -> None:
    """Refuse a name taken in any case, or looking like a taken one (``аlice`` with a Cyrillic
    а next to ``alice``, ``STRASSE`` next to ``straße``): see :mod:`users.usernames`.

    Run inside the transaction that saves the name: a transaction-scoped advisory lock on the
    key makes two concurrent look-alike registrations queue, so the second one sees the first.
    """
    key = username_key(username)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"username:{key}"])
    others = User.objects.exclude(pk=exclude_pk) if exclude_pk else User.objects.all()
    if others.filter(username__iexact=username).exists():
        raise ValidationError({"username": _USERNAME_TAKEN})
    if others.filter(username_key=key).exists():
        raise ValidationError({"username": _USERNAME_LOOKALIKE})


@transaction.atomic
def user_register(*, username: str, email: str, password: str, ip: str | None = None) -> User:
    """Create an account; every bad field is reported (username, email, password order).

    Uniqueness is case-insensitive (checked here for clear messages, enforced by the
    ``user_*_ci_unique`` constraints against races). ``ip`` enables the per-IP limit.
    """
    if ip is not None:
        throttling.hit("register_ip", ip)
    username = User.normalize_username(username.strip())
    email = User.objects.normalize_email(email.strip())
    user = User(username=username, email=email)
    errors: dict[str, list[str]] = {}
    try:
        user.clean_fields(exclude=["password"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if "username" not in errors:
        if "@" in username:
            errors["username"] = ["Usernames may not contain '@' (it marks an email at sign-in)."]
        else:
            try:
                username_available_check(username)
            except ValidationError as exc:
                errors["username"] = exc.message_dict["username"]
    if "email" not in errors:
        if not email:
            errors["email"] = ["An email address is required."]
        elif User.objects.filter(email__iexact=email).exists():
            errors["email"] = [_EMAIL_TAKEN]
    if password_errors := _password_errors(password, user):
        errors["password"] = password_errors
    if errors:
        order = ["username", "email", "password"]
        raise ValidationError(
            {
                k: errors[k]
                for k in sorted(errors, key=lambda k: order.index(k) if k in order else 9)
            }
        )
    user.set_password(password)
    user.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent registration won the race
        field = "email" if "email" in str(exc) else "username"
        raise ValidationError(
            {field: _EMAIL_TAKEN if field == "email" else _USERNAME_TAKEN}
        ) from exc
    return user


@transaction.atomic
def user_favorite_genres_set(*, user: User, genres: Sequence[str]) -> User:
    """Replace the cold-start genres; names are forgiving (``movies.selectors.genre_resolve``)."""
    user.favorite_genres.set(movie_selectors.genre_resolve(genres, field="genres"))
    feedback_changed(user_id=user.pk, movie_id=None)
    return user


# --- Password reset by email -------------------------------------------------------------------
_RESET_INVALID = "The password reset link is invalid or has expired."


def password_reset_request(*, email: str, ip: str | None = None) -> None:
    """Email a one-time reset link (``PASSWORD_RESET_URL``) to the account with ``email``.

    Answers the same whether or not the address has an account (no enumeration); inactive
    accounts and ones without a usable password (imported users) get no mail. Throttled per IP
    and per address, so the endpoint cannot flood a mailbox.
    """
    address = email.strip()
    if ip is not None:
        throttling.hit("password_reset_ip", ip)
    throttling.hit("password_reset_email", address.lower())
    user = User.objects.filter(email__iexact=address, is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = settings.PASSWORD_RESET_URL.format(
        uid=uid, token=default_token_generator.make_token(user)
    )
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    send_mail(
        subject="Reset your movierec password",
        message=(
            f"Hello {user.username},\n\nSomeone asked to reset your movierec password. If it "
            f"was you, open this link within {minutes} minutes:\n\n{link}\n\n"
            "If it was not you, ignore this email: your password stays as it is.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link; every older token (and the link) stops working."""
    try:
        pk = int(urlsafe_base64_decode(uid).decode())
        user = User.objects.select_for_update().get(pk=pk, is_active=True)
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError, User.DoesNotExist):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        raise ValidationError({"token": _RESET_INVALID})
    return _password_replace(user, new_password)


def _password_replace(user: User, new_password: str) -> User:
    """Validate and store a new password, then retire every token issued before it: the end
    of both a reset and a change."""
    if errors := _password_errors(new_password, user):
        raise ValidationError({"new_password": errors})
    user.set_password(new_password)
    user.save(update_fields=["password"])
    _bump_token_version(user)
    return user


def _bump_token_version(user: User) -> None:
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    auth_state.user_changed(user.pk)  # an UPDATE sends no post_save
    user.refresh_from_db(fields=["token_version"])


def password_verify(*, user: User | None, password: str, account: str, client: str) -> bool:
    """The one password check: sign-in, changePassword and deleteAccount all go through it.

    A client that keeps failing on an account waits growing delays (``RateLimitExceeded``)
    before its next try is even checked; see :mod:`movierec.throttling`. ``user`` None (an
    unknown sign-in name) costs the same hashing time, so it does not reveal the account.
    """
    throttling.login_attempt_check(account, client)
    if user is None:
        User().set_password(password)
        ok = False
    else:
        ok = user.check_password(password)
    if ok:
        throttling.login_success_record(account, client)
    else:
        throttling.login_failure_record(account, client)
    return ok


def _client(ip: str | None) -> str:
    return ip or "unknown"


@transaction.atomic
def user_password_change(
    *, user: User, old_password: str, new_password: str, ip: str | None = None
) -> User:
    """Set a new password; every token issued before stops working (token_version bump).

    The old password goes through :func:`password_verify`, so a stolen access token cannot
    be used to guess it faster than sign-in allows.
    """
    if not password_verify(
        user=user, password=old_password, account=f"user:{user.pk}", client=_client(ip)
    ):
        raise ValidationError({"old_password": "Your old password was entered incorrectly."})
    return _password_replace(user, new_password)


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """Deactivate and sign out everywhere; reactivating later does not revive old tokens."""
    User.objects.filter(pk=user.pk).update(is_active=False, token_version=F("token_version") + 1)
    auth_state.user_changed(user.pk)  # an UPDATE sends no post_save
    user.refresh_from_db(fields=["is_active", "token_version"])
    return user


@transaction.atomic
def user_delete(*, user: User, password: str, ip: str | None = None) -> None:
    """Delete the account with its ratings, watchlist, playlists and sessions, all or nothing.

    The password goes through :func:`password_verify` (throttled like sign-in).
    """
    if not password_verify(
        user=user, password=password, account=f"user:{user.pk}", client=_client(ip)
    ):
        raise ValidationError({"password": "Incorrect password."})
    # Receivers of ``user_deleting`` run first (ratings leave the community averages); the
    # watchlist, favorites, playlists (and their items) cascade in this transaction; outstanding
    # tokens are kept (user set NULL) but name a user that no longer exists.
    user_deleting.send(sender=User, user=user)
    user.delete()


# --- Sessions and tokens ----------------------------------------------------------------------
def auth_tokens_issue(*, user: User) -> TokenPair:
    """Start a new session for ``user`` (a fresh ``sid``)."""
    return TokenPair.from_refresh(RefreshToken.for_user(user))


@transaction.atomic
def auth_login(*, identifier: str, password: str, ip: str | None = None) -> tuple[User, TokenPair]:
    """Sign in by username or email.

    Every attempt counts against the client's IP window; wrong passwords slow down the
    client that sends them on that account (:func:`password_verify`). When several limits
    refuse, ``retry_after`` is the longest. The account is keyed by its id when it exists,
    so alternating between its username and email does not double the attempts.
    """
    user = user_get_by_login(identifier=identifier)
    # Unknown names are keyed by their fold too, so case or width variants share one limit.
    account = f"user:{user.pk}" if user else f"login:{username_fold(identifier)}"
    client = _client(ip)
    throttling.enforce_all(
        lambda: throttling.hit("login_ip", ip) if ip is not None else None,
        lambda: throttling.login_attempt_check(account, client),
    )
    ok = password_verify(user=user, password=password, account=account, client=client)
    if user is None or not ok or not user.is_active:
        user_login_failed.send(sender=__name__, credentials={"username": identifier})
        raise InvalidCredentials()
    if api_settings.UPDATE_LAST_LOGIN:
        update_last_login(None, user)
    user_logged_in.send(sender=user.__class__, request=None, user=user)
    return user, auth_tokens_issue(user=user)


def auth_tokens_refresh(*, refresh: str) -> tuple[User, TokenPair]:
    """Rotate: the given refresh token is blacklisted and a successor issued (same session).

    Reuse detection: a refresh token presented again after its rotation means two parties
    hold the session (a thief and the owner), so the whole session family ends, the
    successor tokens included, and that end survives the request's rollback. Two concurrent
    refreshes with one token count as such a reuse (the blacklist row is unique).
    """
    try:
        with transaction.atomic():
            token = decode_token(refresh, RefreshToken)
            user = user_for_token_payload(token.payload)
            _, created = token.blacklist()
            if not created:
                raise TokenRejected("Token is blacklisted.", reason="blacklisted") from (
                    BlacklistedTokenError(token.payload)
                )
            token.rotate(user)
            return user, TokenPair.from_refresh(token)
    except TokenRejected as exc:
        cause = exc.__cause__
        if isinstance(cause, BlacklistedTokenError):
            _session_end_on_reuse(cause.payload)
            raise TokenRejected(
                "Refresh token reused after rotation; the session has been ended.",
                reason="blacklisted",
            ) from exc
        raise


def _session_family_expiry(payload: dict) -> datetime:
    """When no token of the session can be valid any more: a successor rotated from the token
    seen may expire up to one refresh lifetime from now, later than the token itself."""
    latest_successor = timezone.now() + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    return max(datetime_from_epoch(payload["exp"]), latest_successor)


def _session_end_on_reuse(payload: dict) -> None:
    sid = payload.get(SESSION_CLAIM)
    if not sid:
        return
    user_id = payload.get(api_settings.USER_ID_CLAIM)

    def write() -> None:
        session_revoke(
            sid=sid,
            user=User.objects.filter(pk=user_id).first(),
            reason=RevokedSession.Reason.REUSE,
            expires_at=_session_family_expiry(payload),
        )

    durable(write)


@transaction.atomic
def auth_token_revoke(*, refresh: str) -> None:
    """Log out: blacklist the refresh token and end its session, access tokens included.

    A refresh token already rotated away still belongs to the session, so it ends it too:
    a client that lost track of its latest token can still sign out.
    """
    try:
        token = decode_token(refresh, RefreshToken)
        payload = token.payload
        token.blacklist()
    except TokenRejected as exc:
        cause = exc.__cause__
        if not isinstance(cause, BlacklistedTokenError):
            raise
        payload = cause.payload
    user_id = payload.get(api_settings.USER_ID_CLAIM)
    user = User.objects.filter(pk=user_id).first()
    if sid := payload.get(SESSION_CLAIM):
        session_revoke(
            sid=sid,
            user=user,
            reason=RevokedSession.Reason.LOGOUT,
            expires_at=_session_family_expiry(payload),
        )


def session_revoke(
    *, sid: str, user: User | None, reason: str, expires_at: datetime
) -> RevokedSession:
    """Record the session as ended, in the database (what every token check reads); rows
    whose tokens have all expired are pruned."""
    now = timezone.now()
    RevokedSession.objects.filter(expires_at__lt=now).delete()
    session, _ = RevokedSession.objects.get_or_create(
        sid=sid, defaults={"user": user, "reason": reason, "expires_at": expires_at}
    )
    return session


__all__ = [
    "auth_login",
    "auth_token_revoke",
    "auth_tokens_issue",
    "auth_tokens_refresh",
    "password_verify",
    "session_revoke",
    "user_deactivate",
    "user_delete",
    "user_favorite_genres_set",
    "user_password_change",
    "user_register",
    "username_available_check",
]


def user_ensure(*, username: str, email: str, password: str) -> tuple[User, bool]:
    """(the account named ``username``, whether it was created with this email and password
    now). For fixed accounts such as the demo user: an existing one is left as it is, and
    the password skips the validators (it is a published demo password)."""
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user, created


@transaction.atomic
def users_bulk_ensure(*, usernames: Sequence[str]) -> tuple[dict[str, int], int]:
    """(username -> pk for every name, how many were created): missing accounts are created
    without a usable password, in the order given (so their pks follow it).

    For bulk imports (MovieLens users): the accounts exist to own ratings and cannot sign in
    until someone sets a password. Existing accounts (matched case-insensitively, like every
    username) are reused as they are. Set-based: the names go in by COPY and one INSERT ...
    SELECT creates the missing ones, so 160k users cost seconds, not an ORM object each.
    """
    from django.contrib.auth.hashers import make_password

    unusable = make_password(None)  # "!" + random: no password can ever match it
    names = list(dict.fromkeys(usernames))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE user_bulk_names "
            "(pos integer, username varchar(150), username_key varchar(600)) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY user_bulk_names FROM STDIN") as copy:
            for pos, name in enumerate(names):
                copy.write_row((pos, name, username_key(name)))
        cursor.execute(
            """
            INSERT INTO users_user (password, is_superuser, username, username_key, first_name,
                                    last_name, email, is_staff, is_active, date_joined,
                                    token_version)
            SELECT %s, false, n.username, n.username_key, '', '', '', false, true, now(), 0
              FROM user_bulk_names n
             WHERE NOT EXISTS (SELECT 1 FROM users_user u
                                WHERE lower(u.username) = lower(n.username))
             ORDER BY n.pos
            ON CONFLICT DO NOTHING
            """,
            [unusable],
        )
        created = cursor.rowcount
        cursor.execute(
            "SELECT n.username, u.id FROM user_bulk_names n "
            "JOIN users_user u ON lower(u.username) = lower(n.username)"
        )
        mapping = dict(cursor.fetchall())
        cursor.execute("DROP TABLE user_bulk_names")
    return mapping, created
