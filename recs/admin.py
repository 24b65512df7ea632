from django.contrib import admin

from recs.models import ModelVersion, TuningRun


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "created_at", "activated_at", "ndcg", "validation_ndcg", "note")
    list_filter = ("status",)
    readonly_fields = (
        "params", "validation", "tuning_run", "metrics", "baseline_metrics", "data_counts",
        "timings",
        "artifact_path", "created_at", "finished_at", "activated_at", "data_cutoff", "error",
    )  # fmt: skip

    @admin.display(description="NDCG@10")
    def ndcg(self, obj: ModelVersion) -> str:
        value = (obj.metrics or {}).get("ndcg@10")
        return f"{value:.4f}" if isinstance(value, int | float) else "-"

    @admin.display(description="Validation NDCG@10")
    def validation_ndcg(self, obj: ModelVersion) -> str:
        value = (obj.validation or {}).get("ndcg@10")
        return f"{value:.4f}" if isinstance(value, int | float) else "-"


@admin.register(TuningRun)
class TuningRunAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "best_ndcg", "best_params")
    readonly_fields = (
        "best_params",
        "best_ndcg",
        "validation",
        "trials",
        "data_counts",
        "seconds",
        "created_at",
    )
