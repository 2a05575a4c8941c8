"""nbgrader configuration of the course (read by every nbgrader command run here).

Layout: ``solutions/chNN/*.ipynb`` (source, with solutions and hidden tests) is
released to ``exercises/chNN/*.ipynb`` (committed student versions).  Student
work, grading output, the gradebook and the exchange stay out of git.
"""

import importlib.util
import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))

# --- course directory --------------------------------------------------------
c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "convnets"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# ?timeout=60: wait up to a minute for a locked sqlite file instead of failing.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db") + "?timeout=60"

# --- exchange: release / fetch / submit / collect on one machine -------------
c.Exchange.root = os.path.join(HERE, "exchange")

# --- student code: per-cell timeout and memory cap ---------------------------
# Every notebook nbgrader executes (autograde, validate, the Validate button)
# runs in the "convkit-grading" kernel: IPython started by
# convkit.course.kernel_launcher, which caps the kernel's address space.
c.Execute.kernel_name = "convkit-grading"
c.Execute.extra_arguments = ["--memory-limit=4GiB"]
c.Execute.timeout = 60  # seconds per cell; the cell is interrupted, the run goes on
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 120
# After a cell's reply, wait this long for its last outputs (nbclient's default of 4 s
# turns a busy grading machine into "ungraded" submissions; nbgrader raises on it).
c.Execute.iopub_timeout = 30
_spec = importlib.util.find_spec("convkit.course")  # its kernels/ holds the kernelspec
if _spec is not None and _spec.submodule_search_locations:
    _kernels_parent = next(iter(_spec.submodule_search_locations))
    _jupyter_path = os.environ.get("JUPYTER_PATH", "").split(os.pathsep)
    if _kernels_parent not in _jupyter_path:
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            [_kernels_parent, *filter(None, _jupyter_path)]
        )

# --- autograding --------------------------------------------------------------
# Deleted test cells are put back (and run) instead of silently scoring nothing;
# RestoreTestCells is OverwriteCells with a robust placement of the restored cells.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "convkit.course.restore_cells.RestoreTestCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.RestoreTestCells.add_missing_cells = True
# Execute, with a bound on the output a notebook may send back (UNGRADED past it).
c.Autograde.autograde_preprocessors = [
    "convkit.course.limited_execute.LimitedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.LimitedExecute.max_output_bytes = 32 * 2**20

# --- feedback: never show hidden-test source, not even inside tracebacks ------
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "convkit.course.feedback_filter.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# --- grades: `nbgrader export` marks ungraded submissions (status, reason) -----
c.ExportApp.plugin_class = "convkit.course.export.OutcomeAwareCsvExport"
