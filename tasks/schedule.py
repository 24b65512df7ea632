"""The default beat schedule. django-celery-beat copies it into the database at start,
where operators can edit it in the admin (Periodic tasks)."""

from celery.schedules import crontab

BEAT_SCHEDULE: dict = {
    "recs-retrain-nightly": {
        "task": "tasks.training.recs_model_train",
        "schedule": crontab(hour=5, minute=0),  # daily, after the night's TMDb syncs
    },
    "recs-retrain-if-needed": {
        "task": "tasks.training.recs_retrain_if_needed",
        "schedule": crontab(minute=50),  # hourly
    },
}
