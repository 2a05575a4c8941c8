"""The course settings an adopter edits: ``course.yml`` at the course root, read and checked.

``load_settings(path)`` returns frozen dataclasses; every value is validated, and a bad
one raises ``SettingsError`` whose message starts with the key (``late_policy.kind: ...``).
Both the book build (``convkit.book``: title, repository, launch buttons) and the
nbgrader side (``nbgrader_config.py``, ``convkit.course``: course id, install hint,
deadlines) read the file through this module, so there is one parser and one set of
rules.  It imports only the standard library and PyYAML.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

SETTINGS_FILE = "course.yml"
# Set to another file to build or grade with it instead of ``<course root>/course.yml``.
SETTINGS_ENV = "CONVKIT_COURSE_YML"

LMS_EXPORTS = ("canvas", "moodle", "long")
LATE_POLICY_KINDS = ("none", "per_day", "cutoff")
# A roster needs these columns; the SIS ids and section may be empty but must be present,
# since the Canvas export matches students on them.
ROSTER_COLUMNS = ("student_id", "name", "email", "sis_user_id", "sis_login_id", "section")
# The hosts the book theme can build Binder / Colab / repository links for.
REPOSITORY_HOSTS = ("github", "gitlab", "bitbucket")

_BRANCH = re.compile(r"[A-Za-z0-9._/-]+")
_COURSE_ID = re.compile(r"[A-Za-z0-9_-]+")
_DEADLINE = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2})\s+(\S+)")


class SettingsError(ValueError):
    """A value of ``course.yml`` is missing or wrong; the message names the key."""


@dataclass(frozen=True)
class Repository:
    """The course's git repository (the adopter's fork); ``url`` empty when there is none."""

    url: str = ""
    branch: str = "main"

    @property
    def owner_and_name(self) -> tuple[str, str] | None:
        """``(owner, repository)`` from the URL's path; None without a URL."""
        if not self.url:
            return None
        owner, name = urlsplit(self.url).path.strip("/").split("/")[:2]
        return owner, name

    @property
    def host(self) -> str:
        """The URL's host name (``github.com``); empty without a URL."""
        return (urlsplit(self.url).hostname or "") if self.url else ""


@dataclass(frozen=True)
class LatePolicy:
    """What a late submission costs (applied by the late-submission plugin, issue 17)."""

    kind: str = "none"
    percent_per_day: float = 0.0
    cap_percent: float = 100.0
    cutoff_days: int = 0


@dataclass(frozen=True)
class Settings:
    """Everything ``course.yml`` sets; see the file's own comments for each key."""

    name: str
    course_id: str = "convnets"
    repository: Repository = field(default_factory=Repository)
    jupyterhub_url: str = ""
    binder: bool = True
    colab: bool = True
    lms_export: str = "canvas"
    roster: Path | None = None
    deadlines: dict[str, datetime] = field(default_factory=dict)
    late_policy: LatePolicy = field(default_factory=LatePolicy)
    extensions: dict[str, dict[str, datetime]] = field(default_factory=dict)
    path: Path | None = None

    @property
    def binder_url(self) -> str:
        """The BinderHub to offer, or "" (no repository, or Binder switched off)."""
        return "https://mybinder.org" if self.binder and self.repository.url else ""

    @property
    def colab_url(self) -> str:
        """Colab's URL, or "" (no repository, switched off, or not on GitHub)."""
        on_github = self.repository.host == "github.com"
        return "https://colab.research.google.com" if self.colab and on_github else ""

    @property
    def hub_url(self) -> str:
        """The JupyterHub (with nbgitpuller) to offer, or "" (no hub, or no repository)."""
        return self.jupyterhub_url if self.repository.url else ""


def settings_path(root: Path | None = None) -> Path:
    """The settings file to read: ``$CONVKIT_COURSE_YML`` when set, else
    ``course.yml`` in ``root`` (default: the current directory)."""
    chosen = os.environ.get(SETTINGS_ENV)
    if chosen:
        return Path(chosen).resolve()
    return (Path.cwd() if root is None else root) / SETTINGS_FILE


def load_settings(path: Path | str) -> Settings:
    """Read and validate the course settings file ``path``.

    Relative paths inside it (the roster) and the assignment names (folders of
    ``solutions/``) are taken relative to the file's folder.  Raises
    ``SettingsError`` naming the file and the key of the first bad value.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SettingsError(f"{path}: cannot read the course settings ({err.strerror})") from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SettingsError(f"{path}: not valid YAML: {err}") from err
    try:
        return parse_settings({} if data is None else data, path.parent, path=path)
    except SettingsError as err:
        raise SettingsError(f"{path}: {err}") from None


def settings_for_assignment(path: Path | str, assignment: str) -> str:
    """The settings file ``path`` as YAML text for a grading worker's throw-away course
    that holds only ``assignment``: without deadlines, extensions and roster, which the
    worker has no use for (the grading side applies late penalties) and which name
    other assignments and students.  Raises ``SettingsError`` like :func:`load_settings`
    when the file itself is wrong."""
    load_settings(path)
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    for key in ("deadlines", "extensions"):
        data.pop(key, None)
    if data.get("roster"):
        data["roster"] = ""  # the roster stays on the instructor's machine
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def parse_settings(data: Any, root: Path, path: Path | None = None) -> Settings:
    """Validate the already-parsed mapping ``data`` of a settings file in folder ``root``."""
    top = _mapping(data, "")
    _known(top, "", ("course", "repository", "jupyterhub", "binder", "colab", "lms",
                     "roster", "deadlines", "late_policy", "extensions"))  # fmt: skip
    course = _mapping(top.get("course"), "course", required=True)
    _known(course, "course", ("name", "id"))
    name = _text(course.get("name"), "course.name", required=True)
    course_id = _text(course.get("id", "convnets"), "course.id", required=True)
    if not _COURSE_ID.fullmatch(course_id):
        raise SettingsError(f"course.id: {course_id!r} may hold only letters, digits, - and _")
    assignments = _assignment_names(root)
    deadlines = _deadlines(top.get("deadlines"), "deadlines", assignments)
    return Settings(
        name=name,
        course_id=course_id,
        repository=_repository(top.get("repository")),
        jupyterhub_url=_jupyterhub(top.get("jupyterhub")),
        binder=_flag(top.get("binder", True), "binder"),
        colab=_flag(top.get("colab", True), "colab"),
        lms_export=_lms(top.get("lms")),
        roster=_roster(top.get("roster", ""), root),
        deadlines=deadlines,
        late_policy=_late_policy(top.get("late_policy")),
        extensions=_extensions(top.get("extensions"), deadlines, assignments),
        path=path,
    )


# --- one checker per kind of value ---------------------------------------------------


def _where(key: str) -> str:
    return key or "(top level)"


def _mapping(value: Any, key: str, required: bool = False) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise SettingsError(f"{_where(key)}: expected a mapping of keys, got {value!r}")
    for name in value:
        if not isinstance(name, str):
            raise SettingsError(f"{_where(key)}: key {name!r} is not text")
    return value


def _known(value: dict[str, Any], key: str, allowed: tuple[str, ...]) -> None:
    for name in value:
        if name not in allowed:
            full = f"{key}.{name}" if key else name
            raise SettingsError(f"{full}: unknown key (known here: {', '.join(allowed)})")


def _text(value: Any, key: str, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise SettingsError(f"{key}: expected text, got {value!r}")
    value = value.strip()
    if required and not value:
        raise SettingsError(f"{key}: must not be empty")
    return value


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"{key}: expected true or false, got {value!r}")
    return value


def _number(value: Any, key: str, at_most: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(f"{key}: expected a number, got {value!r}")
    if value < 0:
        raise SettingsError(f"{key}: must not be negative, got {value}")
    if at_most is not None and value > at_most:
        raise SettingsError(f"{key}: must be at most {at_most:g}, got {value}")
    return float(value)


def _http_url(value: Any, key: str) -> str:
    url = _text(value, key)
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{key}: {url!r} is not an http(s) URL")
    return url.rstrip("/")


def _repository(value: Any) -> Repository:
    section = _mapping(value, "repository")
    _known(section, "repository", ("url", "branch"))
    url = _http_url(section.get("url"), "repository.url")
    if url.endswith(".git"):
        url = url[: -len(".git")]
    if url:
        parts = urlsplit(url)
        path = [p for p in parts.path.split("/") if p]
        if len(path) != 2:
            raise SettingsError(
                f"repository.url: {url!r} should be <host>/<owner>/<repository>"
            )
        if not any(host in (parts.hostname or "") for host in REPOSITORY_HOSTS):
            raise SettingsError(
                f"repository.url: {url!r} is not on GitHub, GitLab or Bitbucket "
                "(the hosts the book's launch and repository buttons support)"
            )
    branch = _text(section.get("branch", "main"), "repository.branch", required=True)
    if not _BRANCH.fullmatch(branch) or ".." in branch:
        raise SettingsError(f"repository.branch: {branch!r} is not a git branch name")
    return Repository(url=url, branch=branch)


def _jupyterhub(value: Any) -> str:
    section = _mapping(value, "jupyterhub")
    _known(section, "jupyterhub", ("url",))
    return _http_url(section.get("url"), "jupyterhub.url")


def _lms(value: Any) -> str:
    section = _mapping(value, "lms")
    _known(section, "lms", ("export",))
    export = _text(section.get("export", "canvas"), "lms.export", required=True)
    if export not in LMS_EXPORTS:
        raise SettingsError(f"lms.export: {export!r} is not one of {', '.join(LMS_EXPORTS)}")
    return export


def _roster(value: Any, root: Path) -> Path | None:
    text = _text(value, "roster")
    if not text:
        return None
    path = (root / text).resolve()
    if not path.is_file():
        raise SettingsError(f"roster: {text!r} does not exist (looked for {path})")
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), [])
    missing = [c for c in ROSTER_COLUMNS if c not in {h.strip() for h in header}]
    if missing:
        raise SettingsError(f"roster: {text!r} lacks the column(s) {', '.join(missing)}")
    return path


def _assignment_names(root: Path) -> set[str]:
    solutions = root / "solutions"
    if not solutions.is_dir():
        return set()
    return {p.name for p in solutions.iterdir() if p.is_dir() and not p.name.startswith(".")}


def parse_deadline(value: Any, key: str) -> datetime:
    """``"YYYY-MM-DD HH:MM <timezone>"`` as an aware datetime; the timezone is an IANA
    name (``Europe/Paris``), ``UTC`` or an offset (``+01:00``).  Raises ``SettingsError``
    naming ``key``."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    text = _text(value, key, required=True)
    match = _DEADLINE.fullmatch(text)
    if match is None:
        raise SettingsError(
            f"{key}: {text!r} is not 'YYYY-MM-DD HH:MM <timezone>' "
            "(e.g. '2027-01-15 23:59 UTC'; a deadline needs its timezone)"
        )
    try:
        moment = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M")
    except ValueError as err:
        raise SettingsError(f"{key}: {text!r} is not a date and time ({err})") from None
    zone = match.group(2)
    if re.fullmatch(r"[+-]\d{2}:?\d{2}", zone):
        return datetime.strptime(f"{match.group(1)} {zone.replace(':', '')}", "%Y-%m-%d %H:%M %z")
    try:
        return moment.replace(tzinfo=ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"{key}: unknown timezone {zone!r} in {text!r}") from None


def _deadlines(value: Any, key: str, assignments: set[str]) -> dict[str, datetime]:
    section = _mapping(value, key)
    result = {}
    for assignment, deadline in section.items():
        if assignment not in assignments:
            known = ", ".join(sorted(assignments)) or "none found"
            raise SettingsError(
                f"{key}.{assignment}: no such assignment (folders of solutions/: {known})"
            )
        result[assignment] = parse_deadline(deadline, f"{key}.{assignment}")
    return result


def _extensions(
    value: Any, deadlines: dict[str, datetime], assignments: set[str]
) -> dict[str, dict[str, datetime]]:
    """student -> {assignment: the student's own deadline}, each later than the
    assignment's deadline (an extension of nothing, or a shorter one, is a mistake)."""
    result = {}
    for student, extra in _mapping(value, "extensions").items():
        key = f"extensions.{student}"
        _text(student, key, required=True)
        result[student] = _deadlines(extra, key, assignments)
        for assignment, moment in result[student].items():
            deadline = deadlines.get(assignment)
            if deadline is None:
                raise SettingsError(
                    f"{key}.{assignment}: {assignment} has no deadline to extend "
                    f"(set deadlines.{assignment} first)"
                )
            if moment <= deadline:
                raise SettingsError(
                    f"{key}.{assignment}: the extension ({moment:%Y-%m-%d %H:%M %Z}) is not "
                    f"after the deadline ({deadline:%Y-%m-%d %H:%M %Z})"
                )
    return result


def _late_policy(value: Any) -> LatePolicy:
    key = "late_policy"
    section = _mapping(value, key)
    _known(section, key, ("kind", "percent_per_day", "cap_percent", "cutoff_days"))
    kind = _text(section.get("kind", "none"), f"{key}.kind", required=True)
    if kind not in LATE_POLICY_KINDS:
        raise SettingsError(f"{key}.kind: {kind!r} is not one of {', '.join(LATE_POLICY_KINDS)}")
    per_day = _number(section.get("percent_per_day", 0), f"{key}.percent_per_day", 100)
    cap = _number(section.get("cap_percent", 100), f"{key}.cap_percent", 100)
    cutoff = section.get("cutoff_days", 0)
    if isinstance(cutoff, bool) or not isinstance(cutoff, int):
        raise SettingsError(f"{key}.cutoff_days: expected a whole number, got {cutoff!r}")
    _number(cutoff, f"{key}.cutoff_days")
    return LatePolicy(kind=kind, percent_per_day=per_day, cap_percent=cap, cutoff_days=cutoff)
