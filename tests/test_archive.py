"""Safe unpacking of students' zips: hostile archives built here are refused with a sentence a
student understands, and leave nothing behind."""
from __future__ import annotations

import stat
import struct
import warnings
import zipfile

import pytest

from grader.submission.archive import ArchiveError, unpack


def make_zip(path, members, *, compression=zipfile.ZIP_DEFLATED):
    """members: (name, data) or (ZipInfo, data)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are part of some tests
        with zipfile.ZipFile(path, "w", compression=compression) as archive:
            for name, data in members:
                archive.writestr(name, data)
    return path


def link(name, mode=stat.S_IFLNK | 0o777):
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def refused(tmp_path, members, **limits) -> str:
    archive = make_zip(tmp_path / "hw.zip", members)
    dest = tmp_path / "out"
    with pytest.raises(ArchiveError) as error:
        unpack(archive, dest, **limits)
    assert list(dest.iterdir()) == []
    return str(error.value)


def test_unpacks_files_and_skips_mac_clutter(tmp_path):
    archive = make_zip(tmp_path / "hw.zip", [
        ("hw/", b""), ("hw/rnn.py", b"def f(): pass\n"), ("hw/data/x.txt", b"1 2 3"),
        ("__MACOSX/hw/._rnn.py", b"junk"), ("hw/.DS_Store", b"junk"), ("hw/._optim.py", b"junk"),
        ("zeros.npy", bytes(200_000))])
    files = unpack(archive, tmp_path / "out")
    out = tmp_path / "out"
    assert files == [out / "hw/rnn.py", out / "hw/data/x.txt", out / "zeros.npy"]
    assert (out / "hw/rnn.py").read_bytes() == b"def f(): pass\n"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "hw", "hw/data", "hw/data/x.txt", "hw/rnn.py", "zeros.npy"]
    assert stat.S_IMODE((out / "hw/rnn.py").stat().st_mode) & 0o111 == 0


@pytest.mark.parametrize("name, reason", [
    ("../evil.py", "points outside the folder it is unpacked into (it contains '..')"),
    ("hw/../../evil.py", "points outside the folder it is unpacked into (it contains '..')"),
    ("/etc/evil.py", "has an absolute path"),
    ("C:/Windows/evil.py", "names a drive"),
    ("c:evil.py", "names a drive"),
    ("hw\\..\\evil.py", "uses backslashes in its path"),
])
def test_refuses_paths_that_leave_the_folder(tmp_path, name, reason):
    message = refused(tmp_path, [("ok.py", b"x"), (name, b"x")])
    assert message == (f"Your zip file hw.zip was not unpacked: the entry {name!r} {reason}. "
                       "Zip your files again from their folder, with your system's own compress "
                       "tool.")
    assert not (tmp_path / "evil.py").exists()


def test_refuses_symlinks(tmp_path):
    assert refused(tmp_path, [(link("rnn.py"), b"/course/reference/rnn.py")]) == (
        "Your zip file hw.zip was not unpacked: 'rnn.py' is a symbolic link, and links are not "
        "accepted. Put the file itself in the zip.")


@pytest.mark.parametrize("kind", [stat.S_IFIFO, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFSOCK])
def test_refuses_special_files(tmp_path, kind):
    assert "is not a regular file (a device, pipe or socket)" in refused(
        tmp_path, [(link("dev", kind | 0o644), b"")])


def test_refuses_too_many_files(tmp_path):
    message = refused(tmp_path, [(f"f{i}.py", b"x") for i in range(6)], max_files=5)
    assert message == ("Your zip file hw.zip was not unpacked: it holds 6 files, more than the 5 "
                       "allowed. Submit only the files the assignment asks for.")


def test_refuses_too_many_bytes(tmp_path):
    message = refused(tmp_path, [("a.bin", bytes(600 * 2**10)), ("b.bin", bytes(600 * 2**10))],
                      max_bytes=2**20)
    assert message == ("Your zip file hw.zip was not unpacked: its contents are larger than the "
                       "1.0 MB allowed. Submit only the files the assignment asks for (no data "
                       "sets or environments).")


def test_size_the_header_hides_is_not_believed(tmp_path):
    archive = make_zip(tmp_path / "hw.zip", [("bomb.bin", bytes(2**20))])
    data = bytearray(archive.read_bytes())
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, 10)      # uncompressed size: "10 bytes"
    struct.pack_into("<I", data, central + 24, 10)
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="is not a valid zip file, or it is damaged"):
        unpack(archive, tmp_path / "out", max_bytes=1000)
    assert list((tmp_path / "out").iterdir()) == []


def test_refuses_a_zip_bomb_by_its_ratio(tmp_path):
    message = refused(tmp_path, [("ok.py", b"x = 1\n"), ("zeros.bin", bytes(5 * 2**20))])
    assert message == ("Your zip file hw.zip was not unpacked: it expands far more than ordinary "
                       "files do (over 200 times), as a zip bomb does. Submit only your own "
                       "files.")


def test_refuses_encrypted_members(tmp_path):
    archive = make_zip(tmp_path / "hw.zip", [("rnn.py", b"x")])
    data = bytearray(archive.read_bytes())
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 8, 1)
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="'rnn.py' is password-protected"):
        unpack(archive, tmp_path / "out")


def test_refuses_duplicates(tmp_path):
    assert "it holds 'rnn.py' twice" in refused(tmp_path, [("rnn.py", b"a"), ("rnn.py", b"b")])


def test_refuses_a_file_that_is_also_a_folder(tmp_path):
    assert "is both a file and a folder" in refused(tmp_path, [("hw", b"a"), ("hw/rnn.py", b"b")])


@pytest.mark.parametrize("entries", [[("hw/rnn.py", b"b"), ("hw", b"a")],
                                     [("rnn.py/x", b"b"), ("rnn.py", b"a")]])
def test_refuses_a_folder_that_is_also_a_file(tmp_path, entries):
    """The folder first, then a file of its name: refused with the same sentence."""
    assert refused(tmp_path, entries) == (f"Your zip file hw.zip was not unpacked: the entry "
                                          f"{entries[1][0]!r} is both a file and a folder. Zip "
                                          "your files again.")


def test_not_a_zip(tmp_path):
    archive = tmp_path / "hw.zip"
    archive.write_bytes(b"these are not the bytes of a zip file")
    with pytest.raises(ArchiveError) as error:
        unpack(archive, tmp_path / "out")
    assert str(error.value).startswith("Your file hw.zip is not a valid zip file, or it is "
                                       "damaged (")


def test_destination_must_be_empty(tmp_path):
    archive = make_zip(tmp_path / "hw.zip", [("rnn.py", b"x")])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.py").write_text("")
    with pytest.raises(ValueError, match="must be empty"):
        unpack(archive, tmp_path / "out")


@pytest.mark.parametrize("name, reason", [
    ("a" * 300 + ".py", "has a name longer than 255 bytes, more than file systems allow"),
    ("d/" * 600 + "x.py", "has a path longer than 1024 bytes (folders nested too deeply)"),
])
def test_refuses_names_no_file_system_takes(tmp_path, name, reason):
    message = refused(tmp_path, [("rnn.py", b"x"), (name, b"x")])
    assert f"the entry {f'{name[:60]}...{name[-30:]}'!r} {reason}" in message  # shortened


def test_refuses_a_name_marked_as_utf8_that_is_not(tmp_path):
    archive = make_zip(tmp_path / "hw.zip", [("ok.py", b"x"), ("RNN\u00e9.py", b"x")])
    raw = archive.read_bytes()  # the name is marked as UTF-8: make its bytes invalid UTF-8
    assert raw.count("\u00e9".encode()) == 2
    archive.write_bytes(raw.replace("\u00e9".encode(), b"\xff\xff"))
    with pytest.raises(ArchiveError) as error:
        unpack(archive, tmp_path / "out")
    assert str(error.value) == ("Your zip file hw.zip was not unpacked: the name of one of its "
                                "entries is not valid text. Rename the file, then zip your files "
                                "again with your system's own compress tool.")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("compression", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA,
                                         zipfile.ZIP_DEFLATED])
def test_a_member_whose_data_is_damaged_is_the_student_s_error(tmp_path, compression):
    data = bytes(range(256)) * 400 + b"def f(): pass\n" * 2000
    archive = make_zip(tmp_path / "hw.zip", [("rnn.py", data)], compression=compression)
    raw = bytearray(archive.read_bytes())
    start = raw.index(b"rnn.py") + len("rnn.py") + 200  # inside the compressed data
    raw[start:start + 64] = bytes(64)
    archive.write_bytes(bytes(raw))
    with pytest.raises(ArchiveError) as error:
        unpack(archive, tmp_path / "out")
    assert "hw.zip" in str(error.value) and "damaged" in str(error.value)
    assert str(error.value).endswith("Create it again with your system's compress tool.")
    assert list((tmp_path / "out").iterdir()) == []
