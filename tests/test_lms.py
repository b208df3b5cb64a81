"""Submissions as LMSs and students hand them over: Canvas and Moodle downloads grouped by
student, the nested folder a zip unpacks into, near-miss file names and empty submissions."""
from __future__ import annotations

import os

import pytest

from grader.submission.lms import find_nested, group_downloads, near_misses

EXPECTED = ["rnn.py", "optim.py", "layers.py"]


def touch(folder, *names):
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {name}\n")


def grouped(downloads):
    return {student: [(path.name, original) for path, original in files]
            for student, files in downloads.items()}


def test_canvas_downloads(tmp_path):
    touch(tmp_path, "doejane_12345_67890_rnn.py", "doejane_12345_67891_optim-1.py",
          "smithsam_LATE_222_501_rnn.py", "smithsam_LATE_222_502_layers.py",
          "nunezjose_333_601_data-2019.csv", "nunezjose_333_602_RNN.py")
    downloads = group_downloads(tmp_path)
    assert grouped(downloads) == {
        "doejane": [("doejane_12345_67891_optim-1.py", "optim.py"),
                    ("doejane_12345_67890_rnn.py", "rnn.py")],
        "nunezjose": [("nunezjose_333_602_RNN.py", "RNN.py"),
                      ("nunezjose_333_601_data-2019.csv", "data-2019.csv")],
        "smithsam": [("smithsam_LATE_222_502_layers.py", "layers.py"),
                     ("smithsam_LATE_222_501_rnn.py", "rnn.py")]}
    assert downloads.late == {"smithsam"}
    assert downloads.unparsed == []


def test_canvas_namesakes_keep_their_ids(tmp_path):
    touch(tmp_path, "leeann_111_1_rnn.py", "leeann_222_2_rnn.py")
    assert sorted(group_downloads(tmp_path)) == ["leeann_111", "leeann_222"]


def test_canvas_older_upload_of_the_same_name_is_reported(tmp_path):
    touch(tmp_path, "doejane_1_10_rnn.py", "doejane_1_11_rnn-1.py")
    downloads = group_downloads(tmp_path)
    assert grouped(downloads) == {"doejane": [("doejane_1_11_rnn-1.py", "rnn.py")]}
    assert [(p.name, why) for p, why in downloads.unparsed] == [
        ("doejane_1_10_rnn.py", "an older upload of rnn.py by doejane")]


def test_moodle_folders_and_files(tmp_path):
    touch(tmp_path, "Jane Doe_123456_assignsubmission_file_/rnn.py",
          "Jane Doe_123456_assignsubmission_file_/hw/optim.py",
          "Jane Doe_123456_assignsubmission_file_/.DS_Store",
          "José Núñez_123457_assignsubmission_file_rnn.py",
          "Sam Smith_123458_assignsubmission_onlinetext_/onlinetext.html")
    downloads = group_downloads(tmp_path)
    assert grouped(downloads) == {"Jane Doe": [("optim.py", "hw/optim.py"), ("rnn.py", "rnn.py")],
                                  "José Núñez": [("José Núñez_123457_assignsubmission_file_rnn.py",
                                                  "rnn.py")]}
    assert [(p.name, why) for p, why in downloads.unparsed] == [
        ("Sam Smith_123458_assignsubmission_onlinetext_", "a Moodle onlinetext submission, "
                                                          "not files")]


def test_unparsed_names_are_reported_not_guessed(tmp_path):
    touch(tmp_path, "rnn.py", "doejane_12345_text.html", "notes/readme.txt", ".DS_Store")
    os.symlink("/etc/passwd", tmp_path / "doejane_1_2_rnn.py")
    downloads = group_downloads(tmp_path)
    assert dict(downloads) == {}
    assert [(p.name, why) for p, why in downloads.unparsed] == [
        ("doejane_12345_text.html",
         "its name is not one Canvas or Moodle gives to a downloaded submission"),
        ("doejane_1_2_rnn.py", "a link, which is never followed"),
        ("notes", "a folder whose name is not a Moodle submission folder's"),
        ("rnn.py", "its name is not one Canvas or Moodle gives to a downloaded submission")]


def test_find_nested(tmp_path):
    touch(tmp_path, "hw/rnn.py", "hw/optim.py", "hw/layers.py", "README.txt",
          "__MACOSX/hw/._rnn.py")
    assert find_nested(tmp_path, EXPECTED) == tmp_path / "hw"


def test_find_nested_deeper_and_only_when_needed(tmp_path):
    touch(tmp_path, "a/hw1/hw1/rnn.py")
    assert find_nested(tmp_path, EXPECTED) == tmp_path / "a/hw1/hw1"
    touch(tmp_path, "optim.py")
    assert find_nested(tmp_path, EXPECTED) is None


def test_find_nested_never_picks_between_equals(tmp_path):
    touch(tmp_path, "v1/rnn.py", "v2/rnn.py")
    assert find_nested(tmp_path, EXPECTED) is None
    touch(tmp_path, "v2/optim.py")
    assert find_nested(tmp_path, EXPECTED) == tmp_path / "v2"


def test_empty_submission(tmp_path):
    touch(tmp_path, ".DS_Store", "__MACOSX/._rnn.py")
    (tmp_path / "hw").mkdir()
    assert near_misses(tmp_path, EXPECTED) == [
        "Your submission is empty: no files were found. Expected: rnn.py, optim.py, layers.py."]


def test_near_misses(tmp_path):
    touch(tmp_path, "RNN.py", "optim.ipynb", "layers.py.txt", "notes.txt")
    assert near_misses(tmp_path, EXPECTED) == [
        "Found RNN.py but expected rnn.py: file names must match exactly, upper and lower case "
        "included. Rename it to rnn.py.",
        "Found optim.ipynb, a Jupyter notebook, but expected optim.py. Export the notebook as a "
        "Python (.py) file and submit it as optim.py.",
        "Found layers.py.txt but expected layers.py: the name has an extra extension (.txt), "
        "often added by an editor and hidden by the file browser. Rename it to layers.py."]


def test_near_misses_in_a_nested_folder(tmp_path):
    touch(tmp_path, "hw/rnn.py", "hw/optim.py", "hw/Layers (1).py")
    assert near_misses(tmp_path, EXPECTED) == [
        "Your files were found in the folder hw/, not at the top of your submission; they are "
        "graded from there.",
        "Found hw/Layers (1).py but expected layers.py. Rename it to layers.py."]


@pytest.mark.parametrize("names", [["rnn.py", "optim.py", "layers.py", "RNN.py"],
                                   ["rnn.py", "helpers.py"]])
def test_nothing_amiss(tmp_path, names):
    touch(tmp_path, *names)
    assert near_misses(tmp_path, EXPECTED) == []
