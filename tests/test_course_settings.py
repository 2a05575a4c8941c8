"""course.yml: the defaults, the committed file, and a clear error naming the key for each
kind of bad value (convkit.settings)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from convkit.settings import (
    LatePolicy,
    Repository,
    SettingsError,
    load_settings,
    settings_for_assignment,
    settings_path,
)

ROOT = Path(__file__).resolve().parents[1]


def write(folder: Path, data: dict, assignments: tuple[str, ...] = ("ch01", "ch02")) -> Path:
    """A course folder with ``course.yml`` holding ``data`` and a ``solutions/`` folder per
    assignment; returns the settings file."""
    for name in assignments:
        (folder / "solutions" / name).mkdir(parents=True, exist_ok=True)
    path = folder / "course.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def settings_with(tmp_path: Path, **extra: object):
    return load_settings(write(tmp_path, {"course": {"name": "A course"}, **extra}))


def test_only_the_name_is_needed_and_the_rest_defaults(tmp_path: Path) -> None:
    s = settings_with(tmp_path)
    assert s.name == "A course" and s.course_id == "convnets"
    assert s.repository == Repository(url="", branch="main")
    assert s.jupyterhub_url == "" and s.binder and s.colab
    assert s.lms_export == "canvas" and s.roster is None
    assert s.deadlines == {} and s.extensions == {}
    assert s.late_policy == LatePolicy(kind="none", percent_per_day=0, cap_percent=100)
    # no repository: no launch service at all, whatever binder/colab/jupyterhub say
    assert (s.binder_url, s.colab_url, s.hub_url) == ("", "", "")


def test_the_committed_course_yml_is_valid_and_offers_no_launch_button() -> None:
    s = load_settings(ROOT / "course.yml")
    assert s.name == "Convolutional Networks from First Principles"
    assert s.course_id == "convnets"
    assert (s.binder_url, s.colab_url, s.hub_url) == ("", "", "")


def test_a_configured_repository_and_hub_turn_the_services_on(tmp_path: Path) -> None:
    s = settings_with(
        tmp_path,
        repository={"url": "https://github.com/someone/cnn-course.git", "branch": "term/2027"},
        jupyterhub={"url": "https://hub.example.edu/"},
    )
    assert s.repository.url == "https://github.com/someone/cnn-course"  # .git dropped
    assert s.repository.owner_and_name == ("someone", "cnn-course")
    assert s.repository.branch == "term/2027"
    assert s.binder_url == "https://mybinder.org"
    assert s.colab_url == "https://colab.research.google.com"
    assert s.hub_url == "https://hub.example.edu"
    off = settings_with(
        tmp_path, repository={"url": "https://gitlab.com/a/b"}, binder=False, colab=True
    )
    assert off.binder_url == "" and off.colab_url == ""  # Colab opens GitHub only


def test_deadlines_and_extensions_are_aware_datetimes(tmp_path: Path) -> None:
    s = settings_with(
        tmp_path,
        deadlines={"ch01": "2027-01-15 23:59 UTC", "ch02": "2027-02-01 09:00 Europe/Paris"},
        extensions={"alice": {"ch01": "2027-01-17 12:00 +02:00"}},
    )
    assert s.deadlines["ch01"] == datetime(2027, 1, 15, 23, 59, tzinfo=UTC)
    assert s.deadlines["ch02"].utcoffset() == timedelta(hours=1)
    assert s.extensions["alice"]["ch01"] == datetime(2027, 1, 17, 10, 0, tzinfo=UTC)


def test_roster_with_the_columns_is_resolved_next_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text(
        "student_id,name,email,sis_user_id,sis_login_id,section\nalice,Alice,a@x.org,1,a,A\n"
    )
    assert settings_with(tmp_path, roster="roster.csv").roster == tmp_path / "roster.csv"


def test_late_policy_values(tmp_path: Path) -> None:
    s = settings_with(
        tmp_path, late_policy={"kind": "per_day", "percent_per_day": 10, "cap_percent": 50}
    )
    assert s.late_policy == LatePolicy("per_day", 10.0, 50.0, 0)


BAD_VALUES = [
    ({"course": {"name": ""}}, "course.name: must not be empty"),
    ({"course": {"title": "x"}}, "course.title: unknown key"),
    ({"course": {"name": "x", "id": "my course"}}, "course.id:"),
    ({"colour": "blue"}, "colour: unknown key"),
    ({"repository": "https://github.com/a/b"}, "repository: expected a mapping"),
    ({"repository": {"url": "git@github.com:a/b.git"}}, "repository.url: 'git@github.com"),
    ({"repository": {"url": "ftp://github.com/a/b"}}, "is not an http(s) URL"),
    ({"repository": {"url": "https://github.com/a"}}, "repository.url:"),
    ({"repository": {"url": "https://git.example.org/a/b"}}, "not on GitHub, GitLab"),
    ({"repository": {"url": 42}}, "repository.url: expected text"),
    ({"repository": {"branch": "my branch"}}, "repository.branch: 'my branch'"),
    ({"jupyterhub": {"url": "hub.example.edu"}}, "jupyterhub.url:"),
    ({"binder": "yes"}, "binder: expected true or false"),
    ({"colab": 1}, "colab: expected true or false"),
    ({"lms": {"export": "blackboard"}}, "lms.export: 'blackboard' is not one of"),
    ({"roster": "missing.csv"}, "roster: 'missing.csv' does not exist"),
    ({"deadlines": {"ch01": "2027-01-15 23:59"}}, "deadlines.ch01:"),
    ({"deadlines": {"ch01": "15/01/2027 23:59 UTC"}}, "deadlines.ch01:"),
    ({"deadlines": {"ch01": "2027-02-30 23:59 UTC"}}, "deadlines.ch01:"),
    ({"deadlines": {"ch01": "2027-01-15 23:59 Mars/Base"}}, "deadlines.ch01: unknown timezone"),
    ({"deadlines": {"ch99": "2027-01-15 23:59 UTC"}}, "deadlines.ch99: no such assignment"),
    ({"extensions": {"bob": {"ch99": "2027-01-15 23:59 UTC"}}}, "extensions.bob.ch99:"),
    ({"extensions": {"bob": {"ch01": "soon"}}}, "extensions.bob.ch01:"),
    (
        {"extensions": {"bob": {"ch01": "2027-01-15 23:59 UTC"}}},
        "extensions.bob.ch01: ch01 has no deadline to extend",
    ),
    (
        {
            "deadlines": {"ch01": "2027-01-15 23:59 UTC"},
            "extensions": {"bob": {"ch01": "2027-01-15 23:00 +02:00"}},
        },
        "extensions.bob.ch01: the extension (2027-01-15 23:00 UTC+02:00) is not after",
    ),
    ({"late_policy": {"kind": "lenient"}}, "late_policy.kind: 'lenient'"),
    ({"late_policy": {"percent_per_day": -5}}, "late_policy.percent_per_day: must not be neg"),
    ({"late_policy": {"percent_per_day": "ten"}}, "late_policy.percent_per_day: expected a nu"),
    ({"late_policy": {"cap_percent": 150}}, "late_policy.cap_percent: must be at most 100"),
    ({"late_policy": {"cutoff_days": -1}}, "late_policy.cutoff_days: must not be negative"),
    ({"late_policy": {"cutoff_days": 1.5}}, "late_policy.cutoff_days: expected a whole"),
    ({"late_policy": {"grace": 1}}, "late_policy.grace: unknown key"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_VALUES)
def test_each_bad_value_is_an_error_naming_its_key(
    tmp_path: Path, extra: dict, message: str
) -> None:
    path = write(tmp_path, {"course": {"name": "A course"}, **extra})
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)  # and the file


def test_a_roster_without_the_columns_names_them(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text("student_id,name\nalice,Alice\n")
    with pytest.raises(SettingsError, match=r"roster: 'roster.csv' lacks the column\(s\) email"):
        settings_with(tmp_path, roster="roster.csv")


def test_missing_name_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="course: expected a mapping"):
        load_settings(write(tmp_path, {"binder": True}))
    with pytest.raises(SettingsError, match=r"course\.name: must not be empty"):
        load_settings(write(tmp_path, {"course": {"id": "x"}}))
    with pytest.raises(SettingsError, match="cannot read the course settings"):
        load_settings(tmp_path / "nowhere.yml")
    (tmp_path / "broken.yml").write_text("course: [unclosed\n")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_settings(tmp_path / "broken.yml")


def test_settings_path_prefers_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONVKIT_COURSE_YML", raising=False)
    assert settings_path(tmp_path) == tmp_path / "course.yml"
    monkeypatch.setenv("CONVKIT_COURSE_YML", str(tmp_path / "other.yml"))
    assert settings_path(tmp_path) == (tmp_path / "other.yml").resolve()


def test_a_workers_copy_drops_deadlines_extensions_and_roster(tmp_path: Path) -> None:
    """A grading worker's throw-away course has no solutions/ and applies no late
    penalty: its copy of the settings validates there and names no other student."""
    path = write(
        tmp_path,
        {
            "course": {"name": "A course", "id": "cnn27"},
            "deadlines": {"ch01": "2027-01-15 23:59 UTC", "ch02": "2027-02-15 23:59 UTC"},
            "extensions": {
                "alice": {"ch01": "2027-01-16 23:59 UTC", "ch02": "2027-02-16 23:59 UTC"}
            },
        },
    )
    worker = tmp_path / "worker"
    worker.mkdir()
    write(worker, yaml.safe_load(settings_for_assignment(path, "ch02")), assignments=())
    s = load_settings(worker / "course.yml")
    assert s.course_id == "cnn27" and s.deadlines == {} and s.extensions == {}
    assert "alice" not in settings_for_assignment(path, "ch02")
