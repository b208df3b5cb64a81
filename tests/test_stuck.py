"""Where a stuck child was, read back from what faulthandler writes: only the student's frames,
of the thread that took the signal, outermost first; anything else the child writes is no
location at all."""
from grader.sandbox import stuck

NAMES = ["optim.py", "cs231n/layers.py", "rnn.py"]
DUMP = """Thread 0x00007f0000000001 (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 320 in wait
  File "/.sandbox/work/optim.py", line 3 in helper

Current thread 0x00007f0000000002 (most recent call first):
  File "/usr/lib/python3.11/site-packages/numpy/core/fromnumeric.py", line 88 in _wrapreduction
  File "/.sandbox/work/cs231n/layers.py", line 57 in running_average
  File "/.sandbox/work/cs231n/layers.py", line 63 in bias_corrected
  File "<course drivers cs231n>", line 12 in drive
  File "/python/grader/sandbox/child.py", line 330 in answer
"""


def test_the_student_frames_of_the_thread_that_took_the_signal_outermost_first():
    assert stuck.frames(DUMP, NAMES) == [("cs231n/layers.py", 63, "bias_corrected"),
                                         ("cs231n/layers.py", 57, "running_average")]


def test_another_thread_is_shown_when_the_current_one_is_not_in_student_code():
    other = DUMP.replace("/.sandbox/work/cs231n/layers.py", "/usr/lib/x.py")
    assert stuck.frames(other, NAMES) == [("optim.py", 3, "helper")]


def test_a_notebook_cell_is_named_as_in_tracebacks_if_the_submission_has_it():
    dump = ('Stack (most recent call first):\n'
            '  File "/.sandbox/work/rnn.ipynb, cell 12", line 3 in bptt\n'
            '  File "/.sandbox/work/rnn.py", line 40 in <module>\n')
    assert stuck.frames(dump, NAMES + ["rnn.ipynb, cell 12"]) == [
        ("rnn.py", 40, "<module>"), ("rnn.ipynb, cell 12", 3, "bptt")]
    assert stuck.frames(dump, NAMES) == [("rnn.py", 40, "<module>")]  # no such notebook


def test_what_is_not_a_stack_gives_no_location():
    header = "Current thread 0x1 (most recent call first):\n"
    for text in ("", "garbage\n" * 1000,
                 '  File "/.sandbox/work/optim.py", line 3 in f\n',  # no header
                 header + '  File "/.sandbox/work/other.py", line 3 in f\n',  # not theirs
                 header + '  File "' + "x" * 5000 + '/optim.py", line 3 in f\n'):  # too long
        assert stuck.frames(text, NAMES) == []


def test_a_deep_stack_shows_its_first_and_last_frames_with_their_code():
    found = [("hw.py", n, "f", f"return f(n - {n})") for n in range(1, 11)]
    assert stuck.elided(found[:6]) == found[:6]
    lines = stuck.traceback_lines(stuck.elided(found)).splitlines()
    assert lines[:2] == ["  hw.py, line 1, in f", "    return f(n - 1)"]
    assert lines[4] == "  ..."
    assert lines[-2:] == ["  hw.py, line 10, in f", "    return f(n - 10)"]
    assert len(lines) == 11
    assert [n for n, line in enumerate(lines) if stuck.FRAME_LINE.fullmatch(line)] \
        == [0, 2, 5, 7, 9]  # what the short form looks for: the frames, not their code
