"""docs/clients.md's GraphQL Code Generator set-up, run as the guide says: ``npx graphql-codegen``
with tools/clients/codegen.ts on the committed schema.graphql and the sample operation, then
``npx tsc --noEmit`` over the generated types."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.clients.conftest import CLIENTS, node_installed

ROOT = CLIENTS.parents[1]


def _npx(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    npx = shutil.which("npx")
    assert npx is not None, "npx comes with Node.js"
    # --no: never download; only the pinned packages of tools/clients run.
    return subprocess.run(
        [npx, "--no", "--", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_codegen_types_the_sample_operation_and_tsc_accepts_them(tmp_path: Path) -> None:
    node_installed()
    # A copy laid out like the repository, so codegen.ts's relative schema path holds and
    # nothing is generated into the checkout.
    work = tmp_path / "tools" / "clients"
    work.mkdir(parents=True)
    for name in ("codegen.ts", "tsconfig.json"):
        shutil.copy(CLIENTS / name, work / name)
    shutil.copytree(CLIENTS / "src", work / "src", ignore=shutil.ignore_patterns("gql"))
    (work / "node_modules").symlink_to(CLIENTS / "node_modules")
    shutil.copy(ROOT / "schema.graphql", tmp_path / "schema.graphql")

    generated = _npx(["graphql-codegen", "--config", "codegen.ts"], work)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    types = (work / "src" / "gql" / "graphql.ts").read_text()
    assert "export type RecommendationsQuery = " in types
    assert "releaseDate: string | null" in types  # the Date scalar mapping of codegen.ts
    assert "RecSource" in types

    checked = _npx(["tsc", "--noEmit", "-p", "tsconfig.json"], work)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # The check has teeth: reading a field the query did not select is a type error.
    sample = work / "src" / "recommendations.ts"
    sample.write_text(sample.read_text().replace("// @ts-expect-error", "// (unchecked)"))
    wrong = _npx(["tsc", "--noEmit", "-p", "tsconfig.json"], work)
    assert wrong.returncode != 0
    assert "Property 'overview' does not exist" in wrong.stdout


def test_an_operation_the_schema_does_not_have_fails_generation(tmp_path: Path) -> None:
    node_installed()
    work = tmp_path / "tools" / "clients"
    (work / "src").mkdir(parents=True)
    shutil.copy(CLIENTS / "codegen.ts", work / "codegen.ts")
    (work / "node_modules").symlink_to(CLIENTS / "node_modules")
    shutil.copy(ROOT / "schema.graphql", tmp_path / "schema.graphql")
    (work / "src" / "bad.ts").write_text(
        'import { graphql } from "./gql";\n'
        "export const Bad = graphql(`query Bad { recommendations { rating } }`);\n"
    )
    failed = _npx(["graphql-codegen", "--config", "codegen.ts"], work)
    assert failed.returncode != 0
    assert "rating" in failed.stdout + failed.stderr
