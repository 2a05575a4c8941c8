"""The Canvas and Moodle import layouts and the roster, checked against their documented
examples and read back the way each system reads them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from convkit.course.export import GradeRow
from convkit.course.lms import (
    CANVAS_IDENTITY,
    MOODLE_IDENTITY,
    RosterEntry,
    RosterError,
    canvas_lines,
    moodle_lines,
    read_roster,
)

# Canvas's gradebook export, the file its import reads back (Canvas Instructor Guide,
# "How do I import grades in the Gradebook?"): the identity columns, then one column per
# assignment; the second line holds each assignment's points possible.
CANVAS_DOCUMENTED = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Assignment 1\n"
    "    Points Possible,,,,,10\n"
    '"Lovelace, Ada",101,S001,alovelace,Lab A,9\n'
)
# Moodle's CSV grade import (gradeimport_csv, its load_data test): the identity columns
# of Moodle's export, then the grade items; every line has the header's number of cells.
MOODLE_DOCUMENTED = (
    '"First name",Surname,"ID number",Institution,Department,"Email address",'
    '"Assignment: Assignment for grape group"\n'
    'Anne,Able,,"Moodle HQ","Rock on!",student7@example.com,56.00\n'
)

ROSTER = [
    RosterEntry("ada", "Ada Lovelace", "ada@uni.example", "S001", "alovelace", "Lab A"),
    RosterEntry("bo", "Bo Chang", "bo@uni.example", "S002", "bchang", "Lab A", canvas_id="77"),
    RosterEntry("dara", "Dara Okafor", "dara@uni.example", "S004", "dokafor", "Lab B"),
    RosterEntry("eli", "Eli", "eli@uni.example", "S005", "eli", "Lab B"),  # never submitted
]


def _row(student: str, assignment: str, status: str, score: float | None, **kw) -> GradeRow:
    fields = dict(
        reason="", max_score=10.0, raw_score=score, late_submission_penalty=0.0,
        needs_manual_grading="no", timestamp="", detail="",
    )  # fmt: skip
    return GradeRow(assignment, student, status, score=score, **(fields | kw))


ROWS = [
    _row("ada", "ch00", "graded", 9.0),
    _row("ada", "ch01", "graded", 6.5),
    _row("bo", "ch00", "graded", 7.2, raw_score=9.0, late_submission_penalty=1.8),
    _row("bo", "ch01", "no submission", None),
    _row("dara", "ch00", "ungraded", None, reason="kernel died"),
    _row("dara", "ch01", "graded", 2 / 3),
    _row("fay", "ch00", "graded", 10.0),  # not in the roster
    _row("fay", "ch01", "no submission", None),
]
POINTS = {"ch00": 10.0, "ch01": 10.0}


def _read(lines: list[list[str]]) -> list[list[str]]:
    """Written as CSV and read back (quoting included)."""
    out = io.StringIO()
    csv.writer(out).writerows(lines)
    return list(csv.reader(io.StringIO(out.getvalue())))


def canvas_import(table: list[list[str]]) -> tuple[dict[str, float], dict[str, dict]]:
    """Read a Canvas import file as Canvas's documented layout says: (points possible,
    {SIS User ID: {assignment: score or None}})."""
    header = table[0]
    documented = next(csv.reader(io.StringIO(CANVAS_DOCUMENTED)))
    assert header[:5] == documented[:5]
    assignments = header[5:]
    assert table[1][0].strip() == "Points Possible" and table[1][1:5] == ["", "", "", ""]
    points = {a: float(v) for a, v in zip(assignments, table[1][5:], strict=True)}
    grades = {}
    for line in table[2:]:
        assert len(line) == len(header)
        values = [None if v == "" else float(v) for v in line[5:]]  # a number or nothing
        grades[line[2]] = dict(zip(assignments, values, strict=True))
    return points, grades


def moodle_import(table: list[list[str]], key: str = "Email address") -> dict[str, dict]:
    """Read a Moodle import file as its CSV import does, mapping users on ``key``."""
    header = table[0]
    documented = next(csv.reader(io.StringIO(MOODLE_DOCUMENTED)))
    assert header[:6] == [h.strip() for h in documented[:6]]
    grades = {}
    for line in table[1:]:
        assert len(line) == len(header)  # Moodle refuses a file whose lines differ
        values = [None if v == "" else float(v) for v in line[6:]]
        grades[line[header.index(key)]] = dict(zip(header[6:], values, strict=True))
    return grades


def test_the_documented_examples_read_back() -> None:
    """The readers below accept the documented examples themselves."""
    points, grades = canvas_import(list(csv.reader(io.StringIO(CANVAS_DOCUMENTED))))
    assert points == {"Assignment 1": 10.0} and grades == {"S001": {"Assignment 1": 9.0}}
    moodle = moodle_import(list(csv.reader(io.StringIO(MOODLE_DOCUMENTED))))
    assert moodle == {"student7@example.com": {"Assignment: Assignment for grape group": 56.0}}


def test_canvas_layout_round_trips_the_roster() -> None:
    lines, attention = canvas_lines(ROWS, ROSTER, ["ch00", "ch01"], POINTS)
    table = _read(lines)
    assert table[0] == [*CANVAS_IDENTITY, "ch00", "ch01"]
    points, grades = canvas_import(table)
    assert points == POINTS
    # Every roster student, in roster order; the extra student (fay) is not written.
    assert [line[0] for line in table[2:]] == [e.name for e in ROSTER]
    assert grades == {
        "S001": {"ch00": 9.0, "ch01": 6.5},
        "S002": {"ch00": 7.2, "ch01": None},  # after its late penalty; no submission: empty
        "S004": {"ch00": None, "ch01": pytest.approx(2 / 3, abs=1e-4)},  # ungraded: empty
        "S005": {"ch00": None, "ch01": None},  # in the roster, never in the gradebook
    }
    assert table[3][1] == "77"  # Canvas's own user id when the roster has it
    found = {(a.student, a.assignment): (a.status, a.in_file) for a in attention}
    assert found == {
        ("bo", "ch01"): ("no submission", "empty cell"),
        ("dara", "ch00"): ("ungraded", "empty cell"),
        ("eli", "ch00"): ("no submission", "empty cell"),
        ("eli", "ch01"): ("no submission", "empty cell"),
        ("fay", "ch00"): ("not in roster", "not written"),
    }
    assert next(a.reason for a in attention if a.student == "dara") == "kernel died"


def test_moodle_layout_round_trips_the_roster() -> None:
    lines, attention = moodle_lines(ROWS, ROSTER, ["ch00", "ch01"])
    table = _read(lines)
    assert table[0] == [*MOODLE_IDENTITY, "ch00", "ch01"]
    by_email = moodle_import(table)
    by_id_number = moodle_import(table, key="ID number")
    assert by_email["ada@uni.example"] == by_id_number["S001"] == {"ch00": 9.0, "ch01": 6.5}
    assert by_email["dara@uni.example"]["ch00"] is None  # ungraded: no grade, never 0
    assert by_email["eli@uni.example"] == {"ch00": None, "ch01": None}
    assert "fay" not in "".join(",".join(line) for line in table)
    assert table[1][:2] == ["Ada", "Lovelace"] and table[4][:2] == ["Eli", ""]
    assert {a.student for a in attention} == {"bo", "dara", "eli", "fay"}


def test_a_score_still_missing_its_hand_graded_part_is_pointed_out() -> None:
    rows = [_row("ada", "ch00", "graded", 9.0, needs_manual_grading="yes")]
    _, attention = canvas_lines(rows, ROSTER[:1], ["ch00"], {"ch00": 10.0})
    assert [(a.status, a.in_file) for a in attention] == [
        ("needs manual grading", "the automatic part of the score")
    ]


def test_read_roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        "\ufeffstudent_id,name,email,sis_user_id,sis_login_id,section,canvas_id\n"
        "ada, Ada Lovelace ,ada@uni.example,S001,alovelace,Lab A,101\n"
        "eli,Eli,,,,,\n",
        encoding="utf-8",
    )  # a spreadsheet's byte-order mark and stray spaces are fine
    assert read_roster(path) == [
        RosterEntry("ada", "Ada Lovelace", "ada@uni.example", "S001", "alovelace", "Lab A", "101"),
        RosterEntry("eli", "Eli"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("student_id,name,email\nada,Ada,a@x\n", "lacks the column(s) sis_user_id"),
        (
            "student_id,name,email,sis_user_id,sis_login_id,section\n,Ada,,,,\n",
            "line 2: empty student_id",
        ),
        (
            "student_id,name,email,sis_user_id,sis_login_id,section\nada,A,,,,\nada,B,,,,\n",
            "line 3: student_id 'ada' again (first on line 2)",
        ),
    ],
)
def test_bad_rosters_are_refused_naming_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RosterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_roster(path)


def test_canvas_and_moodle_need_the_roster_and_say_so_first(tmp_path: Path) -> None:
    """Without ``roster:`` the export stops before it touches the gradebook."""
    import shutil

    from convkit.course.course import Course
    from convkit.course.lms import export_lms

    repo = Path(__file__).resolve().parents[1]
    shutil.copy(repo / "nbgrader_config.py", tmp_path)
    (tmp_path / "course.yml").write_text("course: {name: A course}\n", encoding="utf-8")
    for layout in ("canvas", "moodle"):
        with pytest.raises(RosterError, match=f"the {layout} export matches students through"):
            export_lms(Course(tmp_path), layout, tmp_path / "out.csv")
    assert not (tmp_path / "gradebook.db").exists() and not (tmp_path / "out.csv").exists()
