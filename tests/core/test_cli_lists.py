"""Command-line conventions of every management command: list options take space-separated
values and accumulate when the flag is repeated (a repeat never silently replaces)."""

from __future__ import annotations

import argparse

import pytest
from django.core.management import CommandError, get_commands, load_command_class

PROJECT_APPS = ("movies", "movierec", "ratings", "recs", "playlists", "users")


def _parser(name: str) -> argparse.ArgumentParser:
    app = get_commands()[name]
    return load_command_class(app, name).create_parser("manage.py", name)


def _project_commands() -> list[str]:
    return sorted(name for name, app in get_commands().items() if app in PROJECT_APPS)


def test_every_list_option_of_every_project_command_accumulates():
    list_options = []
    for name in _project_commands():
        for action in _parser(name)._actions:
            if action.nargs in ("+", "*") and action.option_strings:
                list_options.append(f"{name} {action.option_strings[0]}")
                assert isinstance(action, argparse._ExtendAction), (name, action.option_strings)
    # The inventory this test guards: a new list option joins it, accumulating.
    assert set(list_options) >= {
        "sync_tmdb --movie",
        "sync_tmdb --discover",
        "tune_model --factors",
        "tune_model --regularization",
        "tune_model --alpha",
    }


@pytest.mark.parametrize(
    "argv",
    [
        ["--movie", "550", "--movie", "87421"],
        ["--movie", "550", "87421"],
        ["--movie", "550", "--genres", "--movie", "87421"],
    ],
)
def test_sync_tmdb_movie_ids(argv):
    assert _parser("sync_tmdb").parse_args(argv).movie == [550, 87421]


def test_sync_tmdb_discover_filters():
    parser = _parser("sync_tmdb")
    both = ["with_genres=28", "year=1999"]
    assert parser.parse_args(["--discover", *both]).discover == both
    assert parser.parse_args(["--discover", both[0], "--discover", both[1]]).discover == both
    assert parser.parse_args(["--discover"]).discover == []
    assert parser.parse_args([]).discover is None


@pytest.mark.parametrize(
    "argv",
    [
        ["--factors", "32,64,128"],
        ["--factors", "32", "64", "128"],
        ["--factors", "32,64", "--factors", "128"],
        ["--factors", "32", "--alpha", "5", "--factors", "64,128"],
    ],
)
def test_tune_model_grid_values(argv):
    from recs.management.commands.tune_model import _flat

    assert _flat(_parser("tune_model").parse_args(argv).factors) == [32.0, 64.0, 128.0]


def test_tune_model_rejects_a_non_number():
    with pytest.raises(CommandError, match="not a number list: '1,x'"):
        _parser("tune_model").parse_args(["--alpha", "1,x"])
