"""Submissions as LMSs and students hand them over: Canvas and Moodle downloads grouped by
student, the nested folder a zip unpacks into, near-miss file names and empty submissions."""
from __future__ import annotations

import os

import pytest

from grader.submission.intake import assignments_found, prepare, survey
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


def test_a_moodle_name_that_reads_as_two_students_is_not_grouped(tmp_path):
    """A student whose Moodle name ends like another's download ("Bob Smith_4242_assignsub
    mission_file_optim.py") would otherwise put her files in Bob's folder."""
    touch(tmp_path, "Bob Smith_4242_assignsubmission_file_rnn.py",
          "Bob Smith_4242_assignsubmission_file_optim.py_5555_assignsubmission_file_optim.py")
    downloads = group_downloads(tmp_path)
    assert grouped(downloads) == {
        "Bob Smith": [("Bob Smith_4242_assignsubmission_file_rnn.py", "rnn.py")]}
    assert [(p.name, why) for p, why in downloads.unparsed] == [
        ("Bob Smith_4242_assignsubmission_file_optim.py_5555_assignsubmission_file_optim.py",
         "a Moodle download whose name reads as more than one student's (a name or a file name "
         "holding '_assignsubmission_file_'); rename it by hand")]


def test_canvas_namesakes_keep_their_ids(tmp_path):
    touch(tmp_path, "leeann_111_1_rnn.py", "leeann_222_2_rnn.py")
    assert sorted(group_downloads(tmp_path)) == ["leeann_111", "leeann_222"]


def test_no_student_takes_over_another_by_their_name(tmp_path):
    """Someone named as a namesake's folder ("Jane Doe_1") gets a folder of their own, and
    the namesakes keep theirs (which `grader export` reads as name and ID)."""
    touch(tmp_path, "Jane Doe_1_assignsubmission_file_rnn.py",
          "Jane Doe_2_assignsubmission_file_rnn.py",
          "Jane Doe_1_3_assignsubmission_file_rnn.py")
    downloads = group_downloads(tmp_path)
    assert grouped(downloads) == {
        "Jane Doe_1": [("Jane Doe_1_assignsubmission_file_rnn.py", "rnn.py")],
        "Jane Doe_2": [("Jane Doe_2_assignsubmission_file_rnn.py", "rnn.py")],
        "Jane Doe_1_moodle_3": [("Jane Doe_1_3_assignsubmission_file_rnn.py", "rnn.py")]}
    assert downloads.unparsed == []


def test_a_name_that_cannot_name_a_folder_is_reported(tmp_path):
    touch(tmp_path, ".._7_assignsubmission_file_rnn.py", ".hidden_8_assignsubmission_file_rnn.py")
    downloads = group_downloads(tmp_path)
    assert dict(downloads) == {}
    assert sorted((p.name, why) for p, why in downloads.unparsed) == [
        (".._7_assignsubmission_file_rnn.py", "the student's name '..' cannot name a folder"),
        (".hidden_8_assignsubmission_file_rnn.py",
         "the student's name '.hidden' cannot name a folder")]


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


def test_a_submission_without_any_expected_file_says_so(tmp_path):
    touch(tmp_path, "README.txt", "notes/todo.md")
    assert near_misses(tmp_path, EXPECTED) == [
        "None of the files this homework needs is in your submission (expected: rnn.py, "
        "optim.py, layers.py); found: README.txt, notes/todo.md."]


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


def test_many_near_misses_are_counted_not_each_said(tmp_path):
    """Three files named like an expected one are each named; the others are counted, so the
    notes (in every report, and in Gradescope's results.json twice) stay short however many
    files a submission holds; only its first 2,000 files, in name order, are looked at."""
    touch(tmp_path, "optim.py", "layers.py", *(f"rnn ({n}).py" for n in range(1, 3001)))
    notes = near_misses(tmp_path, EXPECTED)
    assert notes[:3] == [f"Found rnn ({n}).py but expected rnn.py. Rename it to rnn.py."
                         for n in (1, 10, 100)]
    assert notes[3:] == ["Found at least 1995 more files named like rnn.py: rnn (1000).py, "
                         "rnn (1001).py, rnn (1002).py and 1992 more."]
    touch(tmp_path / "few", "rnn_old.py", "RNN.py", "Rnn.py", "rnn.py.txt", "rnn (2).py",
          "rnn.ipynb")
    assert near_misses(tmp_path / "few", EXPECTED)[3:] == [
        "Found 2 more files named like rnn.py: rnn.ipynb, rnn.py.txt."]


@pytest.mark.parametrize("names", [["rnn.py", "optim.py", "layers.py", "RNN.py"],
                                   ["rnn.py", "helpers.py"]])
def test_nothing_amiss(tmp_path, names):
    touch(tmp_path, *names)
    assert near_misses(tmp_path, EXPECTED) == []


def test_a_package_folder_is_not_nesting(tmp_path):
    touch(tmp_path, "cs231n/layers.py", "cs231n/optim.py")
    assert find_nested(tmp_path, ["layers.py", "optim.py"], ["cs231n"]) is None
    assert near_misses(tmp_path, ["layers.py", "optim.py"], ["cs231n"]) == []
    touch(tmp_path, "zip/hw/cs231n/rnn_layers.py")
    other = tmp_path / "zip"
    assert find_nested(other, ["rnn_layers.py"], ["cs231n"]) == other / "hw"


def test_a_notebook_stands_in_for_its_module(tmp_path):
    touch(tmp_path, "hw/rnn.ipynb")
    accepted = {"rnn.py": ["rnn.ipynb"]}
    assert find_nested(tmp_path, ["rnn.py"], alternatives=accepted) == tmp_path / "hw"
    assert near_misses(tmp_path / "hw", ["rnn.py"], alternatives=accepted) == []
    assert near_misses(tmp_path / "hw", ["rnn.py"])[0].startswith(
        "Found rnn.ipynb, a Jupyter notebook, but expected rnn.py.")


@pytest.mark.parametrize("files, found", [
    (["optim.py"], ["optim"]),
    (["rnn.ipynb", "layers.py"], ["layers", "rnn"]),
    (["optim.py", "layers.py"], ["layers", "optim"]),  # homework files, not the package's
    (["optim.py", "layers.py", "rnn_layers.py"], ["cs231n"]),  # the package, loose
    (["cs231n/layers.py", "optim.py"], ["cs231n", "optim"]),
    (["notes.txt"], []),
])
def test_the_assignments_a_submission_holds(course, tmp_path, files, found):
    touch(tmp_path, *files)
    assert assignments_found(course, [tmp_path]) == found


def test_almost_the_right_name_counts_when_nothing_else_does(course, tmp_path):
    touch(tmp_path, "RNN.py")
    assert survey(course, [tmp_path]) == ([], {})
    assert survey(course, [tmp_path], similar=True)[0] == ["rnn"]


def test_prepare_unpacks_a_lone_zip_and_finds_the_nested_folder(course, tmp_path):
    import zipfile
    submission = tmp_path / "submission"
    submission.mkdir()
    with zipfile.ZipFile(submission / "hw.zip", "w") as archive:
        archive.writestr("hw/optim.py", "x = 1\n")
    (tmp_path / "scratch").mkdir()
    intake = prepare([submission], course, tmp_path / "scratch")
    assert intake.paths == [tmp_path / "scratch" / "unzipped" / "hw"]
    assert intake.notes == [
        "The files inside your zip file hw.zip were graded.",
        "Your files were found in the folder hw/, not at the top of your submission; they are "
        "graded from there."]
    files = [submission / "hw.zip"]
    assert prepare(files + files, course, tmp_path).paths == files + files  # files as given


def test_prepare_says_why_a_lone_zip_too_large_was_not_unpacked(course, tmp_path):
    from grader.submission import archive
    submission = tmp_path / "submission"
    submission.mkdir()
    with open(submission / "hw.zip", "wb") as big:  # sparse: the size is all that is read
        big.truncate(archive.MAX_BYTES + 1)
    intake = prepare([submission], course, tmp_path / "scratch")
    assert intake.paths == [submission]
    assert intake.notes[0] == ("Your zip file hw.zip was not unpacked: it is not a regular "
                               f"file, or it is larger than {archive.MAX_BYTES >> 20} MB.")


def test_prepare_names_only_the_chosen_assignments_files(course, tmp_path):
    touch(tmp_path, "RNN.py", "optim.py")
    assert prepare([tmp_path], course, tmp_path, ["optim"]).notes == []
    assert prepare([tmp_path], course, tmp_path).notes == [
        "Found RNN.py but expected rnn.py: file names must match exactly, upper and lower case "
        "included. Rename it to rnn.py."]
