"""Optional error reporting to Sentry (``SENTRY_DSN``), configured so secrets stay here.

What could carry one is kept out rather than trusted to key-based scrubbing: request bodies
(a GraphQL document may spell a password inline, not only in ``variables``) and stack-frame
locals are never sent; headers such as ``Authorization`` and ``Cookie`` are filtered
(``send_default_pii=False``), and the event scrubber walks nested data for the names in its
deny list plus this API's own (``oldPassword``, ``refresh``, ...).
"""

from __future__ import annotations

#: Field names of this API that hold secrets, on top of sentry_sdk's DEFAULT_DENYLIST.
SECRET_FIELDS = [
    "old_password",
    "oldpassword",
    "new_password",
    "newpassword",
    "refresh",
    "access",
    "jwt_signing_key",
    "secret_key",
]


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    """Start the SDK (Django, logging and Celery integrations are enabled automatically)."""
    import sentry_sdk
    from sentry_sdk.integrations.logging import ignore_logger
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        event_scrubber=EventScrubber(denylist=[*DEFAULT_DENYLIST, *SECRET_FIELDS], recursive=True),
    )
    # Resolver errors are sent by report_exception with their traceback; the log line that
    # accompanies them would be a second, poorer event.
    ignore_logger("movierec.graphql.errors")


def report_exception(exc: BaseException) -> None:
    """Send an exception that was handled (answered ``INTERNAL``) but is still a bug."""
    import sentry_sdk

    sentry_sdk.capture_exception(exc)
