"""Hyper-parameter dataclasses that are stored with a model version as JSON."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, Self


class StoredParams:
    """Mixin for a parameters dataclass saved in a version's JSON.

    ``from_dict`` ignores keys the class does not know, so a version written by an older or
    newer release still loads (a field added later takes its default).
    """

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})
