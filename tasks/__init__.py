"""Every background job, each a thin wrapper over a service. The Celery app is movierec.celery."""
