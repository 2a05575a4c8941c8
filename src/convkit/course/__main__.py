"""Command line: ``python -m convkit.course COMMAND`` (run from the course root).

Instructor commands: generate, preflight, autograde, summary, feedback, export, report,
similarity.
Student command: validate.
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from convkit.course.autograde import DEFAULT_RUN_TIMEOUT, grade_assignment
from convkit.course.cluster import ClusterError
from convkit.course.course import Course
from convkit.course.export import export_csv
from convkit.course.feedback import generate_feedback
from convkit.course.generate import ensure_in_gradebook, generate_assignment
from convkit.course.jobs import KitError, build_kit
from convkit.course.lms import export_lms
from convkit.course.outcomes import format_summary, load_outcomes
from convkit.course.parallel import default_jobs
from convkit.course.preflight import run_preflight
from convkit.course.report import write_report
from convkit.course.similarity import DEFAULT_THRESHOLD, write_similarity_report
from convkit.course.validate import exercise_notebooks, validate_notebook
from convkit.settings import LMS_EXPORTS

EXIT_PREFLIGHT_FAILED = 2
NO_SANDBOX_WARNING = (
    "WARNING: --no-sandbox: student code runs with your permissions; it can read "
    "solutions/, change the gradebook and other students' work, and use the network"
)


def _cmd_generate(course: Course, args: argparse.Namespace) -> int:
    status = 0
    for assignment in args.assignment or course.assignments():
        run = generate_assignment(course, assignment)
        where = course.release_dir(assignment).relative_to(course.root)
        print(f"{assignment}: {'generated ' + str(where) if run.ok else 'FAILED'}")
        if not run.ok:
            print(run.log[-3000:], file=sys.stderr)
            status = 1
    return status


def _cmd_preflight(course: Course, args: argparse.Namespace) -> int:
    report = run_preflight(
        course, args.assignment, run_timeout=args.run_timeout, sandbox=not args.no_sandbox
    )
    print(report.format())
    return 0 if report.ok else EXIT_PREFLIGHT_FAILED


def _cmd_autograde(course: Course, args: argparse.Namespace) -> int:
    if args.no_sandbox:
        print(NO_SANDBOX_WARNING, file=sys.stderr)
    report = run_preflight(
        course, args.assignment, run_timeout=args.run_timeout, sandbox=not args.no_sandbox
    )
    print(report.format())
    if not report.ok:
        print(
            f"refusing to grade {args.assignment}: fix the failed pre-flight checks first",
            file=sys.stderr,
        )
        return EXIT_PREFLIGHT_FAILED
    registered = ensure_in_gradebook(course, args.assignment)
    if registered is not None:
        if not registered.ok:
            print(registered.log[-3000:], file=sys.stderr)
            print(f"could not record {args.assignment} in the gradebook", file=sys.stderr)
            return 1
        print(f"recorded {args.assignment} in the gradebook (it was not there yet)")
    try:
        kit = build_kit(course, args.assignment, report.generated_gradebook)
        outcomes = grade_assignment(
            course,
            args.assignment,
            args.student,
            run_timeout=args.run_timeout,
            progress=not args.no_progress,
            jobs=args.jobs,
            sandbox=not args.no_sandbox,
            scheduler=args.scheduler,
            regrade=args.regrade,
            kit=kit,
        )
    except (ClusterError, KitError) as exc:
        print(f"autograde {args.assignment}: {exc}", file=sys.stderr)
        return 1
    print(format_summary(outcomes))
    return 0


def _cmd_summary(course: Course, args: argparse.Namespace) -> int:
    outcomes = load_outcomes(course, args.assignment)
    print(format_summary([outcomes[s] for s in sorted(outcomes)]))
    return 0


def _cmd_feedback(course: Course, args: argparse.Namespace) -> int:
    files = generate_feedback(course, args.assignment, args.student)
    leaked = [f for f in files if f.leaks]
    for item in files:
        state = f"DELETED: shows hidden tests {list(item.leaks)}" if item.leaks else "ok"
        print(f"{item.student}: {item.path.relative_to(course.root)} {state}")
    skipped = set(load_outcomes(course, args.assignment)) - {f.student for f in files}
    if skipped:
        print(f"no feedback (not graded): {', '.join(sorted(skipped))}")
    return 1 if leaked else 0


def _cmd_export(course: Course, args: argparse.Namespace) -> int:
    layout = course.settings.lms_export if args.format == "lms" else args.format
    if layout == "grades":
        path = Path(args.to or "grades.csv")
        rows = export_csv(course, path, args.assignment or None)
        ungraded = sum(row.status == "ungraded" for row in rows)
        print(
            f"wrote {len(rows)} rows to {path} ({ungraded} ungraded, marked in the "
            "'status' column)"
        )
        return 0
    path = Path(args.to or f"grading/export/{layout}.csv")
    try:
        result = export_lms(course, layout, path, args.assignment or None)
    except ValueError as exc:  # no roster, a bad roster, an unknown assignment
        print(f"export: {exc}", file=sys.stderr)
        return 1
    columns = ", ".join(f"{a} (/{result.points[a]:g})" for a in result.assignments)
    print(f"wrote {path}: the {layout} layout, {result.students_written} students; {columns}")
    if result.attention_path is not None:
        for item in result.attention:
            why = f": {item.reason}" if item.reason else ""
            print(f"  {item.student} {item.assignment}: {item.status}{why} ({item.in_file})")
        print(
            f"wrote {result.attention_path} ({len(result.attention)} cells or students "
            "need attention; an empty cell imports as no grade, never as 0)"
        )
    return 0


def _cmd_report(course: Course, args: argparse.Namespace) -> int:
    folder = Path(args.out)
    try:
        files, reports = write_report(course, folder, args.assignment or None)
    except ValueError as exc:  # e.g. an assignment that is not in the gradebook
        print(f"report: {exc}", file=sys.stderr)
        return 1
    if not reports:
        print("nothing graded yet: run autograde first (the report is written anyway)")
    for rep in reports:
        print(
            f"{rep.name}: {len(rep.graded)} graded, {len(rep.ungraded)} ungraded, "
            f"{len(rep.missing)} without a submission"
        )
    print(f"wrote {files.html} (open it in a browser; it needs no network)")
    print(f"wrote {files.grades_csv} and {files.tests_csv}")
    return 0


def _cmd_similarity(course: Course, args: argparse.Namespace) -> int:
    try:
        result = write_similarity_report(course, args.assignment, args.threshold)
    except ValueError as exc:  # an unknown assignment, no submissions, a bad threshold
        print(f"similarity: {exc}", file=sys.stderr)
        return 1
    print(
        f"{args.assignment}: compared {len(result.answers)} students' answer code, "
        f"{len(result.pairs)} pairs; {len(result.flagged)} above the threshold "
        f"{args.threshold:g} (flagged for a human to read, not a verdict)"
    )
    for pair in result.flagged:
        print(
            f"  {pair.student_a} ~ {pair.student_b}: {100 * pair.similarity_a:.0f}% / "
            f"{100 * pair.similarity_b:.0f}% of their code matched"
        )
    for student, reason in sorted(result.skipped.items()):
        print(f"  not compared: {student} ({reason})")
    print(f"wrote {result.html} (open it in a browser; it needs no network)")
    print(f"wrote {result.pairs_csv} and {result.skipped_csv}")
    return 0


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _cmd_validate(course: Course, args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.notebook] or exercise_notebooks(course)
    failed = 0
    for path in paths:
        result = validate_notebook(course, path)
        print(f"== {path}: {'PASSED' if result.passed else 'NOT PASSED'}")
        print(result.report)
        failed += not result.passed
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m convkit.course``."""
    parser = argparse.ArgumentParser(prog="python -m convkit.course", description=__doc__)
    parser.add_argument("--course", default=None, help="course root (default: found from cwd)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="make exercises/ from solutions/ (all assignments or some)")
    p.add_argument("assignment", nargs="*")
    p.set_defaults(func=_cmd_generate)

    for name, func, text in [
        (
            "preflight",
            _cmd_preflight,
            "check solutions score full marks, releases zero, convkit imports",
        ),
        ("autograde", _cmd_autograde, "pre-flight, then autograde every student (or --student)"),
    ]:
        p = sub.add_parser(name, help=text)
        p.add_argument("assignment")
        p.add_argument(
            "--run-timeout",
            type=float,
            default=DEFAULT_RUN_TIMEOUT,
            help="seconds one student's whole run may take (default %(default)g)",
        )
        p.add_argument(
            "--no-sandbox",
            action="store_true",
            help="run student code without the bubblewrap sandbox (unsafe; see the README)",
        )
        if name == "autograde":
            p.add_argument(
                "--student", action="append", help="grade only this student (repeatable)"
            )
            p.add_argument("--no-progress", action="store_true", help="no progress bar")
            p.add_argument(
                "--scheduler",
                metavar="tcp://HOST:8786",
                help="grade on the workers of this Dask scheduler instead of this machine",
            )
            p.add_argument(
                "--regrade",
                action="store_true",
                help="grade again the submissions already graded from the same files",
            )
            p.add_argument(
                "--jobs",
                "-j",
                type=_positive_int,
                default=default_jobs(),
                help="students graded at once, each by a worker process "
                "(default: one per CPU, here %(default)s)",
            )
        p.set_defaults(func=func)

    p = sub.add_parser("summary", help="the recorded outcome of every student of an assignment")
    p.add_argument("assignment")
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("feedback", help="feedback HTML for graded students (no hidden tests shown)")
    p.add_argument("assignment")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.set_defaults(func=_cmd_feedback)

    p = sub.add_parser(
        "export",
        help="grades to CSV (ours, Canvas, Moodle or per test); ungraded ones are never 0",
    )
    p.add_argument(
        "--format",
        choices=["grades", *LMS_EXPORTS, "lms"],
        default="grades",
        help="grades: one row per student and assignment with status and late columns; "
        "canvas / moodle: their gradebook import files (students from the roster); "
        "long: one row per test; lms: the one course.yml's lms.export names "
        "(default %(default)s)",
    )
    p.add_argument(
        "--to",
        default=None,
        help="CSV file to write (default grades.csv, or grading/export/<format>.csv)",
    )
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser(
        "report",
        help="HTML grading report (score histograms, test pass rates, ungraded) and CSVs",
    )
    p.add_argument("assignment", nargs="*", help="assignments (default: every graded one)")
    p.add_argument(
        "--out",
        default="grading/report",
        help="folder for report.html, grades.csv and tests.csv (default %(default)s)",
    )
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser(
        "similarity",
        help="pairs of submissions with alike answer code, for a human to read (copydetect)",
    )
    p.add_argument("assignment")
    p.add_argument(
        "--threshold",
        type=_share,
        default=DEFAULT_THRESHOLD,
        help="flag a pair when either student's code is more than this share (0..1) matched "
        "by the other's (default %(default)g)",
    )
    p.set_defaults(func=_cmd_similarity)

    p = sub.add_parser("validate", help="run a notebook's tests like the Validate button")
    p.add_argument("notebook", nargs="*", help="notebooks (default: every notebook in exercises/)")
    p.set_defaults(func=_cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    args = build_parser().parse_args(argv)
    course = Course.find(args.course)
    return args.func(course, args)


if __name__ == "__main__":
    # The objects of the imports above (nbgrader, SQLAlchemy, nbformat: some 1,500
    # modules) live until the exit: frozen, no collection of the run walks them,
    # and Python's exit skips a collection of them that takes 0.4 s.
    gc.freeze()
    sys.exit(main())
