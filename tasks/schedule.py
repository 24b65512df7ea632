"""The default beat schedule. django-celery-beat copies it into the database at start,
where operators can edit it in the admin."""

BEAT_SCHEDULE: dict = {}
