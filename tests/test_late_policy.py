"""Late penalties: the rule, nbgrader's plugin, and the gradebook's deadlines and extensions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from traitlets.config import Config

from convkit.course.late import (
    SECONDS_PER_DAY,
    CourseLatePolicy,
    LateStatus,
    apply_late_policy,
    format_duration,
    penalty_percent,
    sync_deadlines,
)
from convkit.settings import LatePolicy, Settings

HOUR = 3600
PER_DAY = LatePolicy("per_day", percent_per_day=10, cap_percent=30)
CUTOFF = LatePolicy("cutoff", cutoff_days=2)


@pytest.mark.parametrize(
    ("policy", "seconds", "percent"),
    [
        (PER_DAY, 0, 0),
        (PER_DAY, 1, 10),  # one second late is a started day
        (PER_DAY, SECONDS_PER_DAY, 10),
        (PER_DAY, SECONDS_PER_DAY + 1, 20),
        (PER_DAY, 26 * HOUR, 20),
        (PER_DAY, 10 * SECONDS_PER_DAY, 30),  # the cap
        (CUTOFF, 1, 0),
        (CUTOFF, 2 * SECONDS_PER_DAY, 0),  # up to the cutoff: nothing
        (CUTOFF, 2 * SECONDS_PER_DAY + 1, 100),
        (LatePolicy("cutoff", cutoff_days=0), 1, 100),
        (LatePolicy("none"), 10 * SECONDS_PER_DAY, 0),
    ],
)
def test_penalty_percent(policy: LatePolicy, seconds: float, percent: float) -> None:
    assert penalty_percent(policy, seconds) == percent


def test_penalty_percent_refuses_negative_lateness() -> None:
    with pytest.raises(ValueError, match="negative"):
        penalty_percent(PER_DAY, -1)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1, "1 min"), (60, "1 min"), (61, "2 min"), (HOUR, "1 h"), (26 * HOUR + 60, "1 d 2 h 1 min"),
     (2 * SECONDS_PER_DAY, "2 d")],
)  # fmt: skip
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_plugin_takes_the_share_of_the_score_from_its_configuration() -> None:
    config = Config()
    config.CourseLatePolicy.kind = "per_day"
    config.CourseLatePolicy.percent_per_day = 10.0
    config.CourseLatePolicy.cap_percent = 30.0
    plugin = CourseLatePolicy(config=config)
    assert plugin.late_submission_penalty("bo", 9.0, 26 * HOUR) == pytest.approx(1.8)
    assert plugin.late_submission_penalty("bo", 9.0, 30 * SECONDS_PER_DAY) == pytest.approx(2.7)
    assert plugin.late_submission_penalty("bo", 9.0, 0) is None


def test_the_plugin_defaults_to_no_penalty() -> None:
    assert CourseLatePolicy().late_submission_penalty("bo", 9.0, 99 * SECONDS_PER_DAY) is None


def test_descriptions() -> None:
    due = datetime(2027, 1, 15, 23, 59, tzinfo=UTC)
    on_time = LateStatus("ch00", "ada", due, False, due - timedelta(hours=1), 0, 0, 0)
    assert on_time.describe() == "on time (deadline 2027-01-15 23:59 UTC)"
    late = LateStatus("ch00", "bo", due, False, due + timedelta(hours=26), 26 * HOUR, 20, 1.8)
    assert late.describe() == "late by 1 d 2 h: -20% (1.8 points)"
    extended = LateStatus("ch00", "cy", due, True, due + timedelta(minutes=5), 300, 0, 0)
    assert extended.describe() == "late by 5 min (after an extension): no penalty"
    assert LateStatus("ch00", "d", None, False, None, 0, 0, 0).describe() == "no deadline"


def _gradebook(tmp_path: Path) -> Gradebook:
    """A gradebook with ch00 (one notebook, one 10-point autograded cell) and three
    submissions scoring 8: ada on time, bo 26 h late, cy 26 h late with an extension."""
    gb = Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}")
    gb.add_assignment("ch00")
    gb.add_notebook("ch00", "ch00")
    gb.add_grade_cell("answer", "ch00", "ch00", max_score=10, cell_type="code")
    due = datetime(2027, 1, 15, 23, 59)
    for student, hours in (("ada", -1), ("bo", 26), ("cy", 26)):
        gb.add_student(student)
        gb.add_submission("ch00", student, timestamp=due + timedelta(hours=hours))
        grade = gb.find_grade("answer", "ch00", "ch00", student)
        grade.auto_score = 8.0
    gb.db.commit()
    return gb


def _settings(**kw: object) -> Settings:
    base: dict[str, object] = {
        "name": "t",
        "deadlines": {"ch00": datetime(2027, 1, 15, 23, 59, tzinfo=UTC)},
        "late_policy": PER_DAY,
    }
    return Settings(**(base | kw))  # type: ignore[arg-type]


def _course_config(policy: LatePolicy) -> Config:
    config = Config()
    config.AssignLatePenalties.plugin_class = "convkit.course.late.CourseLatePolicy"
    config.CourseLatePolicy.kind = policy.kind
    config.CourseLatePolicy.percent_per_day = policy.percent_per_day
    config.CourseLatePolicy.cap_percent = policy.cap_percent
    config.CourseLatePolicy.cutoff_days = policy.cutoff_days
    return config


def test_deadlines_and_extensions_reach_nbgraders_own_lateness(tmp_path: Path) -> None:
    extension = datetime(2027, 1, 17, 9, 0, tzinfo=UTC)
    with _gradebook(tmp_path) as gb:
        sync_deadlines(gb, _settings(extensions={"cy": {"ch00": extension}}), "ch00")
        assert gb.find_assignment("ch00").duedate == datetime(2027, 1, 15, 23, 59)
        late = {s.student.id: s.total_seconds_late for s in gb.find_assignment("ch00").submissions}
        assert late == {"ada": 0, "bo": 26 * HOUR, "cy": 0}
        # Taken out of course.yml: taken out of the gradebook.
        sync_deadlines(gb, _settings(deadlines={}), "ch00")
        assert gb.find_assignment("ch00").duedate is None
        assert gb.find_submission("ch00", "cy").extension is None


def test_apply_late_policy_updates_penalties_to_the_current_settings(tmp_path: Path) -> None:
    config = _course_config(PER_DAY)
    with _gradebook(tmp_path) as gb:
        statuses = apply_late_policy(gb, config, _settings(), "ch00")
        penalties = {
            s.student.id: s.late_submission_penalty for s in gb.find_assignment("ch00").submissions
        }
        assert penalties == pytest.approx({"ada": 0.0, "bo": 1.6, "cy": 1.6})  # 20% of 8
        assert statuses["bo"].describe() == "late by 1 d 2 h: -20% (1.6 points)"
        assert statuses["ada"].on_time
        # An extension granted after grading: the next export owes nothing.
        extended = _settings(extensions={"cy": {"ch00": datetime(2027, 1, 17, 9, tzinfo=UTC)}})
        statuses = apply_late_policy(gb, config, extended, "ch00")
        assert gb.find_submission("ch00", "cy").late_submission_penalty == 0.0
        assert statuses["cy"].describe() == "on time (extension 2027-01-17 09:00 UTC)"
        assert gb.find_submission("ch00", "cy").score == 8.0  # the raw score is untouched


def test_apply_late_policy_uses_whatever_plugin_the_course_configures(tmp_path: Path) -> None:
    """nbgrader's own plugin (penalty_method 'zero') works through the same path."""
    config = Config()
    config.LateSubmissionPlugin.penalty_method = "zero"
    with _gradebook(tmp_path) as gb:
        statuses = apply_late_policy(gb, config, _settings(), "ch00")
        assert gb.find_submission("ch00", "bo").late_submission_penalty == 8.0
        assert statuses["bo"].penalty_percent == 100.0
        assert gb.find_submission("ch00", "ada").late_submission_penalty == 0.0
