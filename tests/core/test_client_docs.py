"""docs/clients.md stays true: its examples are the tested files, and it names every code/reason."""

from __future__ import annotations

import re
from pathlib import Path

from movierec.graphql.errors import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "clients.md").read_text()


def test_every_embedded_example_is_the_tested_file() -> None:
    blocks = re.findall(r"<!-- file: (\S+) -->\n```\w+\n(.*?)```\n", DOC, flags=re.S)
    assert {path for path, _ in blocks} == {
        "tools/clients/apollo.mjs",
        "tools/clients/urql.mjs",
        "tools/clients/gql_example.py",
        "tools/clients/codegen.ts",
        "tools/clients/src/recommendations.ts",
    }
    for path, text in blocks:
        assert text == (ROOT / path).read_text(), f"docs/clients.md is out of date for {path}"


def test_every_error_code_is_documented() -> None:
    for code in ErrorCode:
        assert f"| `{code}` |" in DOC, code


def test_every_unauthenticated_reason_is_documented() -> None:
    sources = [*ROOT.joinpath("users").rglob("*.py"), ROOT / "movierec/graphql/views.py"]
    reasons = {
        reason for path in sources for reason in re.findall(r'reason="(\w+)"', path.read_text())
    }
    assert {"credentials", "blacklisted", "expired", "revoked", "outdated"} <= reasons
    for reason in reasons:
        assert f"| `{reason}` |" in DOC, reason
