"""REST body parsing that turns every malformed body into a 400, never a 500."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, plus: JSON nested past the parser's stack is bad input.

    ``json.loads`` raises ``RecursionError`` (not ``ValueError``) on ~1,000 nested arrays,
    which DRF does not catch.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc
