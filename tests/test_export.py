"""LMS gradebook exports: roster reading, folder-to-student matching, the Canvas and Moodle
import files (pinned in full), rounding and formula neutralisation."""
from __future__ import annotations

import pandas as pd
import pytest

from grader.results.export import (Column, export, format_score, match_students, name_keys,
                                   neutralise, normalise_name, read_gradebook, read_roster,
                                   to_canvas, to_moodle)

ROSTER = """\ufeffName,Student ID,Email,Section
"Doe, Jane",1001,jdoe@uni.edu,A
Núñez José,1002,JNunez@uni.edu,B
"=HYPERLINK(""http://x"")",1003,evil@uni.edu,A
Li Wei,1004,wli@uni.edu,A
Sam Smith,1005,ssmith@uni.edu,A
Sam Smith,1006,ssmith2@uni.edu,B
"""

GRADEBOOK = """student,optim.adam,total,max,grader_error
jdoe,1,14.357143,20,
nunezjose,2,20,20,
1003,3,7.5,20,
Sam Smith,0,3,20,
samsmith_1006,0,10.004999,20,
stranger,0,12,20,
"""


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return read_roster(path)


@pytest.fixture
def gradebook(tmp_path):
    path = tmp_path / "gradebook.csv"
    path.write_text(GRADEBOOK, encoding="utf-8")
    return read_gradebook(path)


def test_roster_columns_any_spelling_and_bom(roster):
    assert list(roster.columns) == ["name", "id", "login", "email", "section", "canvas_id"]
    assert roster.loc[0].to_dict() == {"name": "Doe, Jane", "id": "1001",
                                       "login": "jdoe@uni.edu", "email": "jdoe@uni.edu",
                                       "section": "A", "canvas_id": ""}


def test_canvas_export_as_roster(tmp_path):
    path = tmp_path / "canvas.csv"
    path.write_text("Student,ID,SIS User ID,SIS Login ID,Section,HW1 (55)\n"
                    "    Points Possible,,,,,20\n"
                    '"Doe, Jane",77,1001,jdoe,Sec 1,\n', encoding="utf-8")
    roster = read_roster(path)
    assert roster.to_dict("records") == [{"name": "Doe, Jane", "id": "1001", "login": "jdoe",
                                          "email": "", "section": "Sec 1", "canvas_id": "77"}]


def test_moodle_style_roster_with_first_and_last_names(tmp_path):
    path = tmp_path / "moodle.csv"
    path.write_text("First name,Last name,ID number,Username\nJane,Doe,1001,jdoe\n",
                    encoding="utf-8")
    assert read_roster(path).loc[0, "name"] == "Jane Doe"


def test_roster_missing_columns_names_file_found_and_expected(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Student,Grade\nJane,3\n", encoding="utf-8")
    with pytest.raises(ValueError) as error:
        read_roster(path)
    message = str(error.value)
    assert message.startswith(f"{path}: the roster has no ID and no login or email column. "
                              "Columns found: 'Student', 'Grade'. Expected, in any case: ")
    assert "ID: student id, sis user id" in message and "login or email: sis login id" in message


def test_roster_not_utf8(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,id,login\nJosé,1,j\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        read_roster(path)


def test_name_normalisation():
    assert normalise_name("Núñez, José-Luis") == "nunezjoseluis"
    assert normalise_name("Øyvind Strauß") == "oyvindstrauss"
    assert name_keys("Mary Ann Smith") == {"maryannsmith", "annsmithmary", "smithmaryann"}
    assert name_keys("Doe, Jane") == {"doejane", "janedoe"}


def test_match_students(roster):
    folders = ["jdoe", "nunezjose", "1003", "Sam Smith", "samsmith_1006", "stranger",
               "JNUNEZ@uni.edu"]
    matched, unmatched, missing = match_students(folders, roster)
    # JNUNEZ@uni.edu and nunezjose claim the same student: neither is guessed
    assert matched == {"jdoe": 0, "1003": 2, "samsmith_1006": 5}
    assert unmatched == {"nunezjose": "matches the same roster row as JNUNEZ@uni.edu",
                         "Sam Smith": "matches several roster rows",
                         "stranger": "not in the roster",
                         "JNUNEZ@uni.edu": "matches the same roster row as nunezjose"}
    assert list(missing["id"]) == ["1004", "1005"]  # 1002 has submissions, both unmatched


@pytest.mark.parametrize("folder, row", [
    ("jdoe@uni.edu", 0), ("JDOE", 0), ("doejane", 0), ("Jane Doe", 0), ("doe_jane", 0),
    ("1001", 0), ("Jose Nunez", 1), ("jnunez", 1), ("wli", 3), ("weili", 3),
    ("Sam Smith_1005", 4), ("ssmith", 4)])
def test_match_one(roster, folder, row):
    assert match_students([folder], roster)[0] == {folder: row}


@pytest.mark.parametrize("folder", ["samsmith", "Sam Smith_999", "jdoe@other.org", ""])
def test_never_guesses(roster, folder):
    assert list(match_students([folder], roster)[1]) == [folder]


def test_canvas_file(gradebook, roster):
    result = export(gradebook, roster, lms="canvas", columns=[Column("HW1 (123)", 20)])
    assert result.text == (
        "Student,ID,SIS User ID,SIS Login ID,Section,HW1 (123)\n"
        "Points Possible,,,,,20\n"
        '"Doe, Jane",,1001,jdoe@uni.edu,A,14.36\n'
        "Núñez José,,1002,JNunez@uni.edu,B,20\n"
        '"\'=HYPERLINK(""http://x"")",,1003,evil@uni.edu,A,7.5\n'
        "Sam Smith,,1006,ssmith2@uni.edu,B,10\n")
    assert list(result.unmatched) == ["Sam Smith", "stranger"]
    assert list(result.missing["name"]) == ["Li Wei", "Sam Smith"]
    assert result.not_graded == []
    assert to_canvas(gradebook, roster, assignment="HW1 (123)", points_possible=20) == result.text


def test_moodle_file_scaled_to_points(gradebook, roster):
    assert to_moodle(gradebook, roster, assignment="=cmd|' /C calc'!A0",
                     points_possible=100) == (
        "Full name,ID number,Email address,Username,'=cmd|' /C calc'!A0\n"
        '"Doe, Jane",1001,jdoe@uni.edu,,71.79\n'
        "Núñez José,1002,JNunez@uni.edu,,100\n"
        '"\'=HYPERLINK(""http://x"")",1003,evil@uni.edu,,37.5\n'
        "Sam Smith,1006,ssmith2@uni.edu,,50.02\n")


def test_grader_failure_leaves_the_cell_empty_and_is_listed(roster):
    gradebook = pd.DataFrame({"student": ["jdoe", "wli"], "total": [3.0, 0.0],
                              "max": [4.0, 4.0], "grader_error": ["", "sandbox crashed"]})
    result = export(gradebook, roster, lms="moodle", columns=[Column("HW1", 4)])
    assert result.text.splitlines()[1:] == ['"Doe, Jane",1001,jdoe@uni.edu,,3',
                                           "Li Wei,1004,wli@uni.edu,,"]
    assert result.not_graded == ["wli"]


def test_a_column_per_assignment_adds_up_its_problems(roster, tmp_path):
    """A course graded as a whole, exported one LMS column per homework: each column is the
    sum of its problems, scaled to its points; a problem the grader failed on empties only its
    own column."""
    path = tmp_path / "gradebook.csv"
    path.write_text("student,a.one,a.two,b.one,total,max,grader_error\n"
                    "jdoe,1.0,0.5,2.0,3.5,5.0,\n"
                    "wli,1.0,,2.0,,5.0,the grader failed on a.two\n")
    columns = [Column("HW A", 10, {"a.one": 1, "a.two": 2}), Column("b", 2, {"b.one": 2})]
    result = export(read_gradebook(path), roster, lms="canvas", columns=columns)
    assert result.text.splitlines()[:2] == ["Student,ID,SIS User ID,SIS Login ID,Section,HW A,b",
                                            "Points Possible,,,,,10,2"]
    assert '"Doe, Jane",,1001,jdoe@uni.edu,A,5,2' in result.text.splitlines()  # 1.5 of 3 -> 5
    assert "Li Wei,,1004,wli@uni.edu,A,,2" in result.text.splitlines()
    assert result.not_graded == ["wli"]
    with pytest.raises(ValueError, match=r"no score for c\.one \(of c\)"):
        export(read_gradebook(path), roster, lms="canvas", columns=[Column("c", 1, {"c.one": 1})])


def test_unknown_lms(gradebook, roster):
    with pytest.raises(ValueError, match="unknown LMS 'blackboard'"):
        export(gradebook, roster, lms="blackboard", columns=[Column("HW1", 1)])
    with pytest.raises(ValueError, match="points possible must be a positive number, not 0"):
        export(gradebook, roster, lms="canvas", columns=[Column("HW1", 0)])


@pytest.mark.parametrize("value, text", [(14.357143, "14.36"), (15.0, "15"), (0.125, "0.13"),
                                         (2.675, "2.68"), (7.5, "7.5"), (0, "0"),
                                         (-0.001, "0"), (1e-7, "0"), (100.0, "100")])
def test_format_score(value, text):
    assert format_score(value) == text


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "  =1",
                                  "\uff1d1"])
def test_neutralise_formulas(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Doe, Jane", "1001", "a=b", "", 3.5, None])
def test_neutralise_leaves_the_rest(cell):
    assert neutralise(cell) == cell
