"""Gradebook exports for learning management systems: the class roster read from CSV, the
matching of submission folders to roster rows, and the gradebook written in the CSV import
formats of Canvas and Moodle, a column per LMS assignment (the gradebook's total, or the
problems of one of the course's assignments), scores scaled to its points and rounded to two
decimals, every text cell a spreadsheet would run as a formula neutralised. A folder that
matches no roster row, or several, is never guessed: it is listed instead.
"""
from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported when used: importing this module stays cheap
    import pandas as pd

# Roster headers, compared after lower-casing and turning runs of spaces, "_" and "-" into one
# space. Earlier spellings win when a roster has several.
NAME_HEADERS = ("name", "student", "student name", "full name", "fullname", "display name")
FIRST_HEADERS = ("first name", "firstname", "given name")
LAST_HEADERS = ("last name", "lastname", "surname", "family name")
ID_HEADERS = ("student id", "sis user id", "id number", "student number", "sis id",
              "matriculation number", "id", "user id")
LOGIN_HEADERS = ("sis login id", "login id", "login", "username", "user name", "netid",
                 "email", "email address", "e mail")
EMAIL_HEADERS = ("email", "email address", "e mail")
SECTION_HEADERS = ("section", "sections")
CANVAS_ID_HEADERS = ("canvas id", "canvas user id")
ROSTER_COLUMNS = ["name", "id", "login", "email", "section", "canvas_id"]

# Canvas: the columns of its own gradebook export, then one column per assignment ("Name (id)"
# updates that assignment, a new name creates one), and a "Points Possible" row under the
# header. Canvas's "ID" is its own user number; "SIS User ID" is the institution's.
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
# Moodle: its CSV grade import maps one column to a user field (email address, username or ID
# number) and one column to a grade item, chosen in its preview; the file carries all three
# identifiers (email addresses exactly as in the roster: Moodle compares them case-sensitively)
# and one grade column.
MOODLE_COLUMNS = ["Full name", "ID number", "Email address", "Username"]

# A cell starting with one of these is run as a formula by some spreadsheet (OWASP, "CSV
# Injection"); the full-width forms are read as formulas in some locales.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

_LETTERS = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
                          "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ð": "d", "þ": "th",
                          "Þ": "th", "ı": "i"})


def neutralise(cell):
    """`cell` made safe to open in a spreadsheet: text that would run as a formula gets a
    leading apostrophe (shown as text, never evaluated). Anything but a string is returned
    as it is."""
    if isinstance(cell, str) and cell.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _header(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(text).strip().lower())


def _pick(headers: dict[str, str], spellings) -> str | None:
    for spelling in spellings:
        if spelling in headers:
            return headers[spelling]
    return None


def read_roster(path) -> pd.DataFrame:
    """The roster at `path` (CSV, UTF-8 with or without a byte-order mark) as a DataFrame with
    the columns name, id, login, email, section and canvas_id (text; empty when the roster has
    no such column). Rows with neither an ID nor a login (such as the "Points Possible" row of
    a Canvas export) are dropped. Raises ValueError when a required column is missing."""
    import pandas as pd
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: the roster is not UTF-8 text; save it as CSV UTF-8") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise ValueError(f"{path}: the roster is not a readable CSV file ({exc})") from None
    headers = {}
    for column in raw.columns:
        headers.setdefault(_header(column), column)
    name = _pick(headers, NAME_HEADERS)
    first, last = _pick(headers, FIRST_HEADERS), _pick(headers, LAST_HEADERS)
    identifier = _pick(headers, ID_HEADERS)
    login = _pick(headers, LOGIN_HEADERS)
    missing = [what for what, column in (("name", name or (first and last)), ("ID", identifier),
                                         ("login or email", login)) if not column]
    if missing:
        found = ", ".join(repr(c) for c in raw.columns) or "none"
        expected = "; ".join([
            "name: " + ", ".join(NAME_HEADERS) + " (or first name and last name)",
            "ID: " + ", ".join(ID_HEADERS),
            "login or email: " + ", ".join(LOGIN_HEADERS)])
        raise ValueError(f"{path}: the roster has no {' and no '.join(missing)} column. "
                         f"Columns found: {found}. Expected, in any case: {expected}.")
    email = _pick(headers, EMAIL_HEADERS)
    section = _pick(headers, SECTION_HEADERS)
    canvas_id = _pick(headers, CANVAS_ID_HEADERS)
    if canvas_id is None and identifier != headers.get("id"):
        canvas_id = headers.get("id")  # a Canvas export: "ID" is Canvas's own number

    def column(header) -> pd.Series:
        return raw[header].str.strip() if header else pd.Series("", index=raw.index)

    roster = pd.DataFrame({
        "name": column(name) if name else (column(first) + " " + column(last)).str.strip(),
        "id": column(identifier), "login": column(login), "email": column(email),
        "section": column(section), "canvas_id": column(canvas_id)})
    at = roster["login"].str.contains("@", regex=False)
    roster.loc[(roster["email"] == "") & at, "email"] = roster["login"]
    roster = roster[(roster["id"] != "") | (roster["login"] != "")]
    return roster.reset_index(drop=True)[ROSTER_COLUMNS]


def normalise_name(text: str) -> str:
    """`text` without case, accents, spaces or punctuation ("Núñez, José-Luis" becomes
    "nunezjoseluis")."""
    text = unicodedata.normalize("NFKD", str(text).translate(_LETTERS).casefold())
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c))


def name_keys(name: str) -> set[str]:
    """The normalised spellings a folder may use for `name`: "First Last", "Last, First" and
    Canvas's "lastfirst", with every split of a multi-word name into given and family names."""
    keys = {normalise_name(name)}
    if "," in name:
        last, first = name.split(",", 1)
        keys |= {normalise_name(first + last), normalise_name(last + first)}
    else:
        words = name.split()
        keys |= {normalise_name("".join(words[k:] + words[:k])) for k in range(1, len(words))}
    return keys - {""}


class _Index:
    def __init__(self, roster: pd.DataFrame):
        self.exact: dict[str, set] = {}
        self.local: dict[str, set] = {}
        self.names: dict[str, set] = {}
        self.ids: dict = {}
        for label, row in roster.iterrows():
            for value in (row["id"], row["canvas_id"], row["login"], row["email"]):
                if value:
                    self.exact.setdefault(value.casefold(), set()).add(label)
                if "@" in value:
                    local = value.split("@", 1)[0].casefold()
                    self.local.setdefault(local, set()).add(label)
            for key in name_keys(row["name"]):
                self.names.setdefault(key, set()).add(label)
            self.ids[label] = {row["id"].casefold(), row["canvas_id"].casefold()} - {""}

    def candidates(self, folder: str) -> tuple[set, set, str | None]:
        text = folder.strip().casefold()
        strong = set(self.exact.get(text, ()))
        if "@" in text:  # an address: the same address, or a login equal to its local part
            strong |= self.exact.get(text.split("@", 1)[0], set())
        else:
            strong |= self.local.get(text, set())
        names = set(self.names.get(normalise_name(folder), ()))
        trailing = re.fullmatch(r"(.*?)[\s_]+(\d+)", folder.strip())
        hint = None
        if trailing:
            names |= self.names.get(normalise_name(trailing.group(1)), set())
            hint = trailing.group(2).casefold()
        return strong, names, hint

    def match(self, folder: str):
        strong, names, hint = self.candidates(folder)
        if strong:
            if len(strong) == 1 and (not names or strong <= names):
                return next(iter(strong))
            return None
        if len(names) == 1:
            return next(iter(names))
        if len(names) > 1 and hint:
            narrowed = [label for label in names if hint in self.ids[label]]
            if len(narrowed) == 1:
                return narrowed[0]
        return None


def match_students(folders: list[str], roster: pd.DataFrame):
    """Match submission folder names to roster rows by ID, login, email or its local part, or
    the student's name (any case, accents or punctuation; "Last, First" and Canvas's
    "lastfirst"; a trailing "_<number>" may tell two namesakes apart by ID).

    Returns (matched, unmatched, missing): matched maps a folder to its roster row's index
    label; unmatched maps, in the given order, each other folder to why it is left out: it
    matches no row, several (ambiguous), or a row another folder also claims (a renamed
    folder, for instance, next to the output of its old name); missing is the roster rows that
    no folder matched."""
    index = _Index(roster)
    found = {folder: index.match(folder) for folder in folders}
    claims: dict = {}
    for folder, label in found.items():
        if label is not None:
            claims.setdefault(label, []).append(folder)
    matched = {folder: label for folder, label in found.items()
               if label is not None and len(claims[label]) == 1}
    unmatched = {}
    for folder in folders:
        if folder in matched:
            continue
        if found[folder] is not None:
            others = ", ".join(f for f in claims[found[folder]] if f != folder)
            unmatched[folder] = f"matches the same roster row as {others}"
        elif any(index.candidates(folder)[:2]):
            unmatched[folder] = "matches several roster rows"
        else:
            unmatched[folder] = "not in the roster"
    missing = roster.loc[[label for label in roster.index if label not in claims]]
    return matched, unmatched, missing


def restore(cell):
    """The text `neutralise` made safe, as it was."""
    if isinstance(cell, str) and cell.startswith("'") and neutralise(cell[1:]) != cell[1:]:
        return cell[1:]
    return cell


def read_gradebook(path) -> pd.DataFrame:
    """grader's gradebook.csv, its `student` column kept as text (a folder named "007" stays
    "007", a neutralised name is read back as the folder's name)."""
    import pandas as pd
    book = pd.read_csv(path, dtype={"student": str, "grader_error": str},
                       keep_default_na=False, na_values={"total": [""], "max": [""]})
    book["student"] = book["student"].map(restore)
    return book


def format_score(value: float) -> str:
    """`value` rounded half up to two decimals, without trailing zeros: 14.357143 -> "14.36",
    15.0 -> "15"."""
    rounded = Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


@dataclass(frozen=True)
class Column:
    """One score column of an import file: its `title` (the LMS assignment), the `points` it
    is out of in the LMS, and what it adds up: the gradebook's total out of each student's
    maximum, or, for `problems` (problem id -> its points), those problems' scores out of the
    sum of their points (one assignment of a course graded as a whole)."""
    title: str
    points: float
    problems: dict[str, float] | None = None


@dataclass
class Export:
    """An LMS import file and what it leaves out: `unmatched` folders and why (no roster row,
    several, or one another folder also claims), `missing` roster rows without a submission,
    and `not_graded` folders that matched but lack a score (the grader failed on them, or on
    one of a column's problems), whose cells are left empty."""
    text: str
    matched: dict
    unmatched: dict[str, str]
    missing: pd.DataFrame
    not_graded: list[str]


def _score(row, column: Column) -> str | None:
    """A student's score in `column`, scaled to its points; None where the grader failed."""
    if column.problems is None:
        total, maximum = _number(row.get("total")), _number(row.get("max"))
        error = row.get("grader_error")
        if isinstance(error, str) and error.strip():
            return None
    else:  # a problem the grader failed on has an empty cell, whatever the others
        scores = [_number(row.get(problem)) for problem in column.problems]
        total = None if None in scores else sum(scores)
        maximum = sum(column.problems.values())
    if total is None:
        return None
    if maximum and maximum > 0:
        total = total / maximum * column.points
    return format_score(total)


def export(gradebook: pd.DataFrame, roster: pd.DataFrame, *, lms: str,
           columns: list[Column]) -> Export:
    """The import file for `lms` ("canvas" or "moodle") with one row per matched student, in
    roster order, and a score in each of `columns`."""
    if lms not in ("canvas", "moodle"):
        raise ValueError(f"unknown LMS {lms!r}: choose canvas or moodle")
    for column in columns:
        if not column.points > 0:
            raise ValueError(f"points possible must be a positive number, not {column.points!r}")
        absent = [problem for problem in column.problems or () if problem not in gradebook]
        if absent:
            raise ValueError(f"the gradebook has no score for {', '.join(absent)} (of "
                             f"{column.title})")
    scores = {str(row["student"]): [_score(row, column) for column in columns]
              for _, row in gradebook.iterrows()}
    matched, unmatched, missing = match_students(list(scores), roster)
    by_row = {label: folder for folder, label in matched.items()}
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    titles = [neutralise(column.title) for column in columns]
    if lms == "canvas":
        writer.writerow(CANVAS_COLUMNS + titles)
        writer.writerow(["Points Possible", "", "", "", ""]
                        + [format_score(column.points) for column in columns])
    else:
        writer.writerow(MOODLE_COLUMNS + titles)
    not_graded = []
    for label, row in roster.iterrows():
        if label not in by_row:
            continue
        found = scores[by_row[label]]
        if None in found:
            not_graded.append(by_row[label])
        if lms == "canvas":
            cells = [row["name"], row["canvas_id"], row["id"], row["login"], row["section"]]
        else:
            username = "" if "@" in row["login"] else row["login"]
            cells = [row["name"], row["id"], row["email"], username]
        writer.writerow([neutralise(cell) for cell in cells] + [score or "" for score in found])
    return Export(stream.getvalue(), matched, unmatched, missing, not_graded)


def to_canvas(gradebook: pd.DataFrame, roster: pd.DataFrame, *, assignment: str,
              points_possible: float) -> str:
    """The gradebook as a Canvas gradebook import CSV (see `export` for what is left out)."""
    return export(gradebook, roster, lms="canvas",
                  columns=[Column(assignment, points_possible)]).text


def to_moodle(gradebook: pd.DataFrame, roster: pd.DataFrame, *, assignment: str,
              points_possible: float) -> str:
    """The gradebook as a Moodle CSV grade import (see `export` for what is left out)."""
    return export(gradebook, roster, lms="moodle",
                  columns=[Column(assignment, points_possible)]).text
