"""Fast unit tests of convkit.course's pure logic (no nbgrader run, no kernel)."""

from __future__ import annotations

import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from convkit.course.autograde import review_notes
from convkit.course.course import Course
from convkit.course.feedback import find_leaks
from convkit.course.feedback_filter import (
    PLACEHOLDER,
    REMOVED_LINE,
    hide_hidden_tests,
    split_hidden,
)
from convkit.course.kernel_launcher import parse_size, split_arguments
from convkit.course.outcomes import (
    REVIEW_NOTE,
    Outcome,
    Reason,
    Status,
    classify_failure,
    format_summary,
)
from convkit.course.restore_cells import insertion_index

TEST_CELL = """check_function(f, ref, visible_cases)
### BEGIN HIDDEN TESTS
secret = random_cases("f", n=25, seed=4242)
check_function(f, ref, secret)
### END HIDDEN TESTS"""


def test_split_hidden_keeps_visible_part() -> None:
    shown, hidden = split_hidden(TEST_CELL)
    assert shown == "check_function(f, ref, visible_cases)\n" + PLACEHOLDER
    assert 'secret = random_cases("f", n=25, seed=4242)' in hidden
    assert any("BEGIN HIDDEN TESTS" in line for line in hidden)


def test_split_hidden_unterminated_region_hides_the_rest() -> None:
    shown, hidden = split_hidden("a = 1\n    ### BEGIN HIDDEN TESTS\n    b = 2")
    assert shown == "a = 1\n    " + PLACEHOLDER
    assert "    b = 2" in hidden


def _autograded_nb() -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(TEST_CELL)
    cell.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="GradingFailure",
            evalue="conv2d differs at [0, 1]",
            traceback=[
                "\x1b[0;31mGradingFailure\x1b[0m  Traceback (most recent call last)",
                "Cell In[3], line 4\n      2 ### BEGIN HIDDEN TESTS\n"
                '      3 secret = random_cases("f", n=25, seed=4242)\n'
                "\x1b[0;32m----> 4\x1b[0m check_function(f, ref, secret)\n",
                "File convkit/grading/compare.py:80, in check_function\n"
                "     80 raise GradingFailure(msg)",
            ],
        ),
        nbformat.v4.new_output(
            "stream",
            name="stdout",
            text='checking secret = random_cases("f", n=25, seed=4242)\nok\n',
        ),
    ]
    other = nbformat.v4.new_code_cell("check_function(f, ref, visible_cases)")
    return nbformat.v4.new_notebook(cells=[other, cell])


def test_hide_hidden_tests_scrubs_source_and_tracebacks() -> None:
    nb = _autograded_nb()
    assert hide_hidden_tests(nb) == 1
    cell = nb.cells[1]
    assert "seed=4242" not in cell.source and "HIDDEN" not in cell.source
    text = nbformat.writes(nb)
    assert "seed=4242" not in text and "BEGIN HIDDEN" not in text
    assert "check_function(f, ref, secret)" not in text
    error = cell.outputs[0]
    assert error.evalue == "conv2d differs at [0, 1]"  # the student-facing message stays
    assert any(REMOVED_LINE in entry for entry in error.traceback)
    assert any("in check_function" in entry for entry in error.traceback)  # other frames stay
    assert cell.outputs[1].text.endswith("ok\n")
    assert nb.cells[0].source == "check_function(f, ref, visible_cases)"  # visible cell untouched


def test_find_leaks_reads_through_html_markup() -> None:
    page = '<span class="n">secret</span> <span class="o">=</span> random_cases(&quot;f&quot;)'
    assert find_leaks(page, {'secret = random_cases("f")'}) == ['secret = random_cases("f")']
    assert find_leaks("<p>nothing here</p>", {'secret = random_cases("f")'}) == []


@pytest.mark.parametrize(
    ("log", "reason"),
    [
        (
            "[AutogradeApp | ERROR] Kernel died while waiting for execute reply.\n"
            "nbclient.exceptions.DeadKernelError: Kernel died",
            Reason.KERNEL_DIED,
        ),
        (
            'raise RuntimeError("Inconsistent checksums for cell {}".format(x))\n'
            "RuntimeError: Inconsistent checksums for cell ch01-conv1d-visible",
            Reason.CHECKSUM_MISMATCH,
        ),
        (
            "[AutogradeApp | WARNING] Cell with id 'a' exists multiple times!\n"
            "KeyError: 'grade_id'",
            Reason.CORRUPTED_METADATA,
        ),
        (
            "the kernel became unresponsive and we could not interrupt it",
            Reason.KERNEL_UNRESPONSIVE,
        ),
        (
            "Traceback...\nOSError: disk full\n[AutogradeApp | ERROR] There was an error",
            Reason.AUTOGRADE_ERROR,
        ),
        (  # the kernel killed for its output: nbclient also logs that it died
            "[AutogradeApp | ERROR] Kernel died while waiting for execute reply.\n"
            "convkit.course.limited_execute.OutputLimitExceeded: the notebook's output passed"
            " 33554432 characters (in cell 3)",
            Reason.OUTPUT_LIMIT,
        ),
        (
            "[AutogradeApp | ERROR] Kernel died while waiting for execute reply.\n"
            "convkit.course.limited_execute.KernelTampered: code that raises came back",
            Reason.KERNEL_TAMPERED,
        ),
    ],
)
def test_classify_failure(log: str, reason: Reason) -> None:
    got, detail = classify_failure(log)
    assert got is reason
    if reason is Reason.CHECKSUM_MISMATCH:
        assert detail == "cell ch01-conv1d-visible"
    if reason is Reason.AUTOGRADE_ERROR:
        assert detail == "OSError: disk full"


def test_outcome_never_scores_an_ungraded_submission() -> None:
    with pytest.raises(ValueError, match="must not carry a score"):
        Outcome("ch01", "bob", Status.UNGRADED, score=0.0, reason=Reason.KERNEL_DIED)
    with pytest.raises(ValueError, match="needs a score"):
        Outcome("ch01", "bob", Status.GRADED)
    with pytest.raises(ValueError, match="needs a reason"):
        Outcome("ch01", "bob", Status.UNGRADED)
    ungraded = Outcome("ch01", "bob", Status.UNGRADED, reason=Reason.KERNEL_DIED)
    graded = Outcome("ch01", "amy", Status.GRADED, score=7.5, max_score=9.0)
    table = format_summary([graded, ungraded])
    assert "amy  7.5 / 9" in table and "bob  UNGRADED: kernel died" in table
    assert Outcome(**ungraded.to_json()) == ungraded


def test_insertion_index_follows_the_nearest_present_source_cell() -> None:
    source = ["imports", "answer", "test-a", "test-b"]
    assert insertion_index([None, "imports", "answer", "test-b"], source, "test-a") == 3
    assert insertion_index([None, "imports", None], source, "test-a") == 2  # answer deleted too
    assert insertion_index([None, None], source, "imports") == 0


@pytest.mark.parametrize(
    ("text", "size"), [("4GiB", 4 << 30), ("512M", 512 << 20), ("2g", 2 << 30), ("1024", 1024)]
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_split_arguments_takes_out_the_cap() -> None:
    limit, rest = split_arguments(
        ["-f", "conn.json", "--memory-limit=1GiB", "--memory-limit", "3G"]
    )
    assert limit == 3 << 30 and rest == ["-f", "conn.json"]
    with pytest.raises(ValueError):
        parse_size("lots")


def test_launcher_caps_the_kernel_address_space() -> None:
    """kernel_launcher.main caps the process it then turns into the kernel (exec faked)."""
    code = (
        "import os, sys\n"
        "from convkit.course import kernel_launcher as k\n"
        "def fake_exec(exe, argv):\n"
        "    import numpy as np\n"
        "    try:\n        np.zeros(30 * 2**30 // 8)\n"
        "    except MemoryError:\n        print('capped', argv[1:])\n"
        "    print(os.environ['OMP_NUM_THREADS'], os.environ['CONVKIT_THREADS'])\n"
        "    sys.exit(0)\n"
        "os.execv = fake_exec\n"
        "k.main(['--memory-limit=1GiB', '-f', 'conn.json'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines() == [
        "capped ['-m', 'ipykernel_launcher', '-f', 'conn.json']",
        "1 1",  # student code runs single-threaded
    ], out.stderr
    assert resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY  # not this process


def _register_many(root: str, students: list[str]) -> int:
    from nbgrader.api import Gradebook

    from convkit.course.course import Course
    from convkit.course.record import register_student

    course = Course(Path(root))
    for student in students:
        with Gradebook(course.db_url, course.course_id) as gb:
            register_student(gb, student)
    return len(students)


def test_register_student_survives_concurrent_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four processes registering the same 30 students at once: no UNIQUE failure."""
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")

    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'race'\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{tmp_path / 'gradebook.db'}?timeout=60'\n"
    )
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}", "race"):
        pass  # the gradebook exists before the race, as after ``generate``
    students = [f"student{i:02d}" for i in range(30)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        done = pool.starmap(_register_many, [(str(tmp_path), students)] * 4)
    assert done == [30] * 4
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}", "race") as gb:
        assert sorted(s.id for s in gb.students) == students


def _course_with_submission(root: Path, student: str, extra_cells: list[str]) -> Course:
    """A minimal course: ch01's source notebook, and one student's submission of the
    release notebook with ``extra_cells`` (code the student added) at the end."""
    repo = Path(__file__).resolve().parents[2]
    (root / "solutions" / "ch01").mkdir(parents=True)
    shutil.copy(repo / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copy(repo / "course.yml", root / "course.yml")  # nbgrader_config.py reads it
    shutil.copy(repo / "solutions" / "ch01" / "ch01.ipynb", root / "solutions" / "ch01")
    nb = nbformat.read(repo / "exercises" / "ch01" / "ch01.ipynb", as_version=4)
    nb.cells.extend(nbformat.v4.new_code_cell(source) for source in extra_cells)
    target = root / "submitted" / student / "ch01"
    target.mkdir(parents=True)
    nbformat.write(nb, target / "ch01.ipynb")
    return Course(root)


def test_review_notes_quote_code_aimed_at_the_grader(tmp_path: Path) -> None:
    attack = [
        "import convkit.grading as g\ng.check_function = lambda *a, **k: None",
        "import sys\nsys.modules['torch'] = None",
        "# sys.modules is mentioned in a comment only",
        "import threading\nthreading.Thread(target=print).start()",
    ]
    course = _course_with_submission(tmp_path, "mallory", attack)
    [note] = review_notes(course, "ch01", "mallory")
    assert note.startswith(REVIEW_NOTE + ": touches the grader (convkit.grading)")
    assert "line 1: import convkit.grading as g" in note
    assert "edits the module table (sys.modules)" in note
    assert "starts threads or processes" in note
    assert note.endswith("; and 1 more line(s)")  # 4 lines flagged (both threading ones), 3 quoted


def test_review_notes_leave_an_honest_submission_alone(tmp_path: Path) -> None:
    course = _course_with_submission(tmp_path, "alice", ["import numpy as np\nprint(np.ones(3))"])
    assert review_notes(course, "ch01", "alice") == []


def test_a_seeded_gradebook_has_the_schema_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scratch gradebook is seeded from the course's: the same tables and schema
    version, no row of any assignment, student or grade, and nbgrader opens it
    without asking alembic (the 3 s the seeding saves)."""
    import sqlite3

    import nbgrader.api
    from nbgrader.api import Gradebook

    from convkit.course.generate import seed_gradebook, sqlite_path

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    course_db = tmp_path / "gradebook.db"
    with Gradebook(f"sqlite:///{course_db}", "seed") as gb:
        gb.add_student("ann", first_name="Ann")
        gb.add_assignment("ch01")
    seeded = tmp_path / "scratch" / "gradebook.db"
    seeded.parent.mkdir()
    assert sqlite_path(f"sqlite:///{course_db}?timeout=60") == course_db
    assert sqlite_path("postgresql://host/db") is None
    assert seed_gradebook(seeded, course_db)

    def tables(path: Path) -> dict[str, int]:
        with sqlite3.connect(path) as db:
            names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return {n: db.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}

    def version(path: Path) -> list[tuple[str]]:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT version_num FROM alembic_version").fetchall()

    assert set(tables(seeded)) == set(tables(course_db))
    assert version(seeded) == version(course_db)
    assert {n: c for n, c in tables(seeded).items() if n != "alembic_version"} == dict.fromkeys(
        set(tables(seeded)) - {"alembic_version"}, 0
    )
    assert b"Ann" not in seeded.read_bytes()

    def no_alembic() -> str:
        raise AssertionError("nbgrader asked alembic: the seeded gradebook was not used")

    monkeypatch.setattr(nbgrader.api, "get_alembic_version", no_alembic)
    with Gradebook(f"sqlite:///{seeded}", "seed") as gb:
        gb.add_assignment("ch01")
        assert [a.name for a in gb.assignments] == ["ch01"]
    # Nothing to seed from, or a target that exists: nothing is done.
    assert not seed_gradebook(tmp_path / "other.db", tmp_path / "missing.db")
    (tmp_path / "notes.db").write_text("not a database")
    assert not seed_gradebook(tmp_path / "other.db", tmp_path / "notes.db")
    assert not (tmp_path / "other.db").exists()
    assert not seed_gradebook(seeded, course_db)


def test_a_bounded_run_leaves_the_callers_garbage_collector_as_it_was(tmp_path: Path) -> None:
    # The command line freezes its imports (a fast exit, no collection walks them); a
    # bounded run freezes in its forked child only: the caller's frozen objects stay
    # frozen, and garbage the caller makes afterwards is still collected.
    code = (
        "import gc, sys, weakref\n"
        "from pathlib import Path\n"
        "from convkit.course.bounded import run_bounded\n"
        "from convkit.course.course import Course\n"
        "root = Path(sys.argv[1])\n"
        "(root / 'nbgrader_config.py').write_text('c = get_config()\\n')\n"
        "course = Course(root)\n"
        "class Cycle: pass\n"
        "def run():\n"
        "    r = run_bounded(course, ['--version'], timeout=120, log_path=root / 'log.txt')\n"
        "    assert r.ok, r.log\n"
        "run()\n"
        "print(gc.get_freeze_count())\n"
        "gc.freeze()\n"
        "frozen = gc.get_freeze_count()\n"
        "cycle = Cycle(); cycle.me = cycle; alive = weakref.ref(cycle); del cycle\n"
        "run()\n"
        "gc.collect()\n"
        "print(gc.get_freeze_count() == frozen, alive() is None)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "True", "True"]


def test_the_grading_side_skips_the_iri_grammar_and_still_validates_notebooks() -> None:
    """Importing the grading side does not compile rfc3987_syntax's grammar (1.5 s of
    every run's start), and nbformat still rejects a broken notebook."""
    probe = (
        "import sys, nbformat\n"
        "import convkit.course.autograde\n"
        "assert 'jsonschema' in sys.modules\n"
        "assert sys.modules.get('rfc3987_syntax') is None, 'the grammar was imported'\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')])\n"
        "nbformat.validate(nb)\n"
        "nb.cells[0]['cell_type'] = 'bogus'\n"
        "try:\n"
        "    nbformat.validate(nb)\n"
        "except nbformat.ValidationError:\n"
        "    print('rejected')\n"
    )
    # convkit.course first, as every grading entry point imports it before nbformat
    probe = "import convkit.course\n" + probe
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "rejected"
