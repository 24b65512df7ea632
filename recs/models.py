from django.db import models


class ModelVersionQuerySet(models.QuerySet):
    def active(self) -> "ModelVersionQuerySet":
        """The version serving now (at most one: ``modelversion_single_active``)."""
        return self.filter(status=ModelVersion.Status.ACTIVE)


class ModelVersion(models.Model):
    """One trained hybrid (ALS + EASE) model: how it was made, how it scored, whether it
    serves."""

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        READY = "ready", "Ready (evaluated, not serving)"
        ACTIVE = "active", "Active (serving)"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected by the promotion gate"
        RETIRED = "retired", "Retired"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TRAINING)
    params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    baseline_metrics = models.JSONField(default=dict, blank=True)
    data_counts = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    artifact_path = models.CharField(max_length=500, blank=True)
    note = models.TextField(blank=True, default="", help_text="Why it was promoted or not.")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    # Feedback newer than this was not in the training data (drives "retrain when enough new").
    data_cutoff = models.DateTimeField(null=True, blank=True)
    tuning_run = models.ForeignKey(
        "TuningRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="versions"
    )
    validation = models.JSONField(
        default=dict, blank=True, help_text="Validation scores of the tuned parameters."
    )

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="active"),
                name="modelversion_single_active",
            )
        ]

    def __str__(self) -> str:
        return f"model v{self.pk} ({self.status})"


class TuningRun(models.Model):
    """One hyper-parameter search. The newest run's winner is the default for training
    (``recs.services.recs_params_default``) unless ``RECS_USE_TUNED_PARAMS`` is off."""

    best_params = models.JSONField(default=dict)
    best_ndcg = models.FloatField(help_text="Validation NDCG@10 of the winner.")
    validation = models.JSONField(default=dict, blank=True, help_text="The winner's scores.")
    trials = models.JSONField(default=list, blank=True, help_text="One row per tried combination.")
    data_counts = models.JSONField(default=dict, blank=True)
    seconds = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"tuning run {self.pk} (ndcg@10 {self.best_ndcg:.4f})"
