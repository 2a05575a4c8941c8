"""End to end: deadlines, a late policy, extensions, a roster, and the Canvas, Moodle and
long exports of a graded ch00 cohort; then a regrade that keeps a hand-given grade."""

from __future__ import annotations

import csv
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import copy_course, run_cli
from course_scenarios import SCENARIOS, build_submission
from nbgrader.api import Gradebook

from convkit.course.course import Course

pytestmark = pytest.mark.slow

COURSE_YML = """course:
  name: Exports under test
  id: convnets
lms:
  export: canvas
roster: roster.csv
deadlines:
  ch00: "2027-01-15 23:59 UTC"
late_policy:
  kind: per_day
  percent_per_day: 10
  cap_percent: 30
extensions:
  chen: {ch00: "2027-01-18 23:59 UTC"}
"""
# eli is in the roster and never submits; fay submits and is not in the roster.
ROSTER = """student_id,name,email,sis_user_id,sis_login_id,section
ada,Ada Lovelace,ada@uni.example,S001,alovelace,Lab A
bo,Bo Chang,bo@uni.example,S002,bchang,Lab A
chen,Chen Wei,chen@uni.example,S003,cwei,Lab B
dara,Dara Okafor,dara@uni.example,S004,dokafor,Lab B
eli,Eli Mensah,eli@uni.example,S005,emensah,Lab B
"""
SUBMITTED = {
    "ada": "2027-01-15 20:00:00 UTC",  # on time
    "bo": "2027-01-17 02:00:00 UTC",  # 1 d 2 h 1 min late: two started days, -20%
    "chen": "2027-01-17 12:00:00 UTC",  # late, but within chen's extension
    "dara": "2027-01-15 10:00:00 UTC",  # an unreadable notebook: ungraded
    "fay": "2027-01-14 09:00:00 UTC",  # on time, not in the roster
}
WRITTEN = "ch00-written-answer"


@dataclass
class Exported:
    root: Path
    files: dict[str, str] = field(default_factory=dict)
    out: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)

    def table(self, name: str) -> list[list[str]]:
        return list(csv.reader(self.files[name].splitlines()))

    def dicts(self, name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(self.files[name].splitlines()))


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _export(course: Exported, key: str, *args: str) -> None:
    course.out[key] = _ok(run_cli(course.root, "export", *args))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    root = copy_course(tmp_path_factory.mktemp("lms"))
    (root / "course.yml").write_text(COURSE_YML, encoding="utf-8")
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    _ok(run_cli(root, "generate", "ch00"))
    solution = next(s for s in SCENARIOS if s.student == "s01-solution")
    for student, stamp in SUBMITTED.items():
        folder = root / "submitted" / student / "ch00"
        build_submission(
            solution,
            root / "solutions/ch00/ch00.ipynb",
            root / "exercises/ch00/ch00.ipynb",
            folder,
        )
        (folder / "timestamp.txt").write_text(stamp, encoding="utf-8")
    (root / "submitted/dara/ch00/ch00.ipynb").write_text("{ not a notebook", encoding="utf-8")
    course = Exported(root)
    course.out["autograde"] = _ok(run_cli(root, "autograde", "ch00", "--no-progress"))
    _export(course, "canvas", "--format", "lms")  # course.yml says canvas
    _export(course, "moodle", "--format", "moodle")
    _export(course, "long", "--format", "long")
    _export(course, "grades")
    course.out["report"] = _ok(run_cli(root, "report", "ch00"))
    for name, path in {
        "canvas": "grading/export/canvas.csv",
        "canvas attention": "grading/export/canvas.attention.csv",
        "moodle": "grading/export/moodle.csv",
        "long": "grading/export/long.csv",
        "grades": "grades.csv",
        "report": "grading/report/report.html",
    }.items():
        course.files[name] = (root / path).read_text(encoding="utf-8")

    # A hand-given grade and comment on ada's written answer, then a regrade of ada alone.
    with Gradebook(Course(root).db_url, "convnets") as gb:
        gb.find_grade(WRITTEN, "ch00", "ch00", "ada").manual_score = 1.0
        gb.find_comment(WRITTEN, "ch00", "ch00", "ada").manual_comment = "Clear and right."
        gb.db.commit()
    course.out["regrade"] = _ok(
        run_cli(root, "autograde", "ch00", "--student", "ada", "--regrade", "--no-progress")
    )
    # An extension for bo granted after grading: the next export applies it, no regrade.
    with open(root / "course.yml", "a", encoding="utf-8") as handle:
        handle.write('  bo: {ch00: "2027-01-17 09:00 Europe/Paris"}\n')
    _export(course, "canvas after", "--format", "canvas", "--to", "after/canvas.csv")
    _export(course, "grades after", "--to", "after/grades.csv")
    course.out["report after"] = _ok(run_cli(root, "report", "ch00", "--out", "after/report"))
    for name, path in {
        "canvas after": "after/canvas.csv",
        "grades after": "after/grades.csv",
        "report after": "after/report/report.html",
    }.items():
        course.files[name] = (root / path).read_text(encoding="utf-8")
    return course


def _scores(course: Exported, name: str) -> dict[str, str]:
    return {r["student_id"]: r["score"] for r in course.dicts(name)}


def test_grades_csv_applies_deadlines_extensions_and_the_late_policy(exported: Exported) -> None:
    rows = {r["student_id"]: r for r in exported.dicts("grades")}
    full = float(rows["ada"]["raw_score"])
    assert full > 0 and rows["ada"]["late"] == "on time (deadline 2027-01-15 23:59 UTC)"
    bo = rows["bo"]
    assert bo["late"] == f"late by 1 d 2 h 1 min: -20% ({0.2 * full:g} points)"
    assert float(bo["score"]) == pytest.approx(0.8 * full)
    assert float(bo["late_submission_penalty"]) == pytest.approx(0.2 * full)
    assert rows["chen"]["late"] == "on time (extension 2027-01-18 23:59 UTC)"
    assert float(rows["chen"]["score"]) == full
    assert rows["dara"]["status"] == "ungraded" and rows["dara"]["score"] == ""


def test_canvas_file(exported: Exported) -> None:
    table = exported.table("canvas")
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "ch00"]
    assert table[1][0].strip() == "Points Possible"
    with Gradebook(Course(exported.root).db_url, "convnets") as gb:
        assert float(table[1][5]) == gb.find_assignment("ch00").max_score
    by_sis = {line[2]: line for line in table[2:]}
    grades = {r["student_id"]: r["score"] for r in exported.dicts("grades")}
    assert list(by_sis) == ["S001", "S002", "S003", "S004", "S005"]  # roster order
    for sis, student in (("S001", "ada"), ("S002", "bo"), ("S003", "chen")):
        assert float(by_sis[sis][5]) == pytest.approx(float(grades[student]))
    assert by_sis["S004"][5] == "" and by_sis["S005"][5] == ""  # ungraded, missing: not 0
    assert "fay" not in exported.files["canvas"]
    attention = exported.files["canvas attention"]
    assert "dara,ch00,ungraded,invalid notebook file,empty cell" in attention
    assert "eli,ch00,no submission,not in the gradebook,empty cell" in attention
    assert "fay,ch00,not in roster" in attention
    printed = exported.out["canvas"].stdout
    assert "dara ch00: ungraded: invalid notebook file (empty cell)" in printed


def test_moodle_file(exported: Exported) -> None:
    table = exported.table("moodle")
    assert table[0][:6] == [
        "First name", "Surname", "ID number", "Institution", "Department", "Email address"
    ]  # fmt: skip
    assert all(len(line) == len(table[0]) for line in table)
    by_email = {line[5]: line for line in table[1:]}
    assert by_email["ada@uni.example"][:3] == ["Ada", "Lovelace", "S001"]
    assert by_email["dara@uni.example"][6] == "" and by_email["eli@uni.example"][6] == ""
    assert float(by_email["bo@uni.example"][6]) == float(exported.table("canvas")[3][5])


def test_long_file_adds_up_to_the_exported_score(exported: Exported) -> None:
    lines = exported.dicts("long")
    scores = _scores(exported, "grades")
    for student in ("ada", "bo", "chen", "fay"):
        mine = [r for r in lines if r["student"] == student]
        total = sum(float(r["points"]) for r in mine if r["points"])
        assert total == pytest.approx(float(scores[student])), student
        assert any(r["hidden"] == "yes" for r in mine) and any(r["hidden"] == "no" for r in mine)
        written = next(r for r in mine if r["test"] == WRITTEN)
        assert written["points"] == "" and written["status"] == "needs manual grading"
    penalty = [r for r in lines if r["test"] == "late penalty"]
    assert [r["student"] for r in penalty] == ["bo"] and float(penalty[0]["points"]) < 0
    dara = [r for r in lines if r["student"] == "dara"]
    assert [(r["test"], r["status"], r["reason"]) for r in dara] == [
        ("", "ungraded", "invalid notebook file")
    ]


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_report_shows_each_submission_against_its_deadline(exported: Exported) -> None:
    page = _text(exported.files["report"])
    assert "Deadline and late submissions" in page
    assert "3 graded submission(s) on time, 1 late" in page
    assert re.search(r"bo 2027-01-17 02:00:00 2027-01-15 23:59 UTC\S* late by 1 d 2 h 1 min", page)
    assert "chen 2027-01-17 12:00:00 2027-01-18 23:59 UTC" in page
    assert "Graded again" not in page  # nothing was regraded yet


def test_regrading_one_student_keeps_manual_grades_and_is_reported(exported: Exported) -> None:
    with Gradebook(Course(exported.root).db_url, "convnets") as gb:
        grade = gb.find_grade(WRITTEN, "ch00", "ch00", "ada")
        comment = gb.find_comment(WRITTEN, "ch00", "ch00", "ada")
        assert grade.manual_score == 1.0 and comment.manual_comment == "Clear and right."
    before = _scores(exported, "grades")
    after = {r["student_id"]: r for r in exported.dicts("grades after")}
    assert float(after["ada"]["score"]) == float(before["ada"]) + 1.0
    was = f"{float(before['ada']):g} / {float(after['ada']['max_score']):g}"
    assert after["ada"]["regraded_from"] == was
    assert [s for s, r in after.items() if r["regraded_from"]] == ["ada"]
    page = _text(exported.files["report after"])
    assert re.search(r"Graded again .* student before now ada \S+ / \S+ \S+ / \S+", page)


def test_an_extension_granted_after_grading_applies_at_the_next_export(exported: Exported) -> None:
    after = {r["student_id"]: r for r in exported.dicts("grades after")}
    assert after["bo"]["late"] == "on time (extension 2027-01-17 09:00 CET)"
    assert after["bo"]["late_submission_penalty"] == "0.0"
    assert after["bo"]["score"] == after["bo"]["raw_score"]
    assert exported.table("canvas after")[3][5] == after["bo"]["score"].removesuffix(".0")
