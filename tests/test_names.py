"""Output folder names derived from any student folder name."""
import pytest

from grader.batch.names import CLASS_FILES, MAX_BYTES, safe_folder_name


def name(folder, taken=None):
    return safe_folder_name(folder, set() if taken is None else taken)


@pytest.mark.parametrize("folder", ["alice", "Bob Smith", "student_007", "müller", "李雷",
                                    "oneil.jr", "a-b", "Lovelace, Ada", "O'Brien, Pat",
                                    "ada@uni.edu", "Smith (2)", "Tom & Jerry"])
def test_safe_names_are_kept(folder):
    assert name(folder) == folder


@pytest.mark.parametrize("folder", ["..", ".", "../../etc", "a/b", "a\\b", ".hidden", "-rf",
                                    "=HYPERLINK(\"http://x\")", "+1", "@cmd", "a\nb", "a\0b",
                                    "a<b>", 'say "hi"', "what?", "a|b", "a*b", "C:x",
                                    " padded ", "trailing.", "x" * 400, "é" * 200, "",
                                    "CON", "nul.txt", "GRADEBOOK.CSV", "index.html",
                                    "common-wrong-answers.csv"])
def test_unsafe_names_become_safe(folder):
    result = name(folder)
    assert result and "/" not in result and "\\" not in result and "\0" not in result
    assert "\n" not in result and result == result.strip()
    assert not result.startswith((".", "-", "=", "+", "@")) and not result.endswith(".")
    assert result.casefold() not in CLASS_FILES
    assert len(result.encode("utf-8")) <= MAX_BYTES + 20
    assert result != folder


def test_bytes_that_are_not_utf8():
    latin1 = "José".encode("latin-1")
    result = name(latin1)
    assert result.startswith("Jos-") and result.isprintable()
    assert name("José".encode("utf-8")) == "José"
    assert name(latin1.decode("utf-8", "surrogateescape")) == result  # as os.listdir gives it


def test_names_never_collide_and_are_stable():
    taken: set[str] = set()
    folders = ["a/b", "a_b", "a:b", "A_B", "a_b-0f3b1c2d", "gradebook.csv", "gradebook.csv"]
    results = [safe_folder_name(f, taken) for f in folders]
    assert len({r.casefold() for r in results}) == len(results)
    assert results[1] == "a_b"  # the first safe name keeps its name
    again: set[str] = set()
    assert [safe_folder_name(f, again) for f in folders] == results
    assert {r.casefold() for r in results} == taken


def test_the_suffix_depends_on_the_original_name():
    assert name("a/b") != name("a:b")
    assert name("a/b") == name("a/b")
