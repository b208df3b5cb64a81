"""The sandbox's guarantees, each shown by a small hostile function run through it (the
operating-system isolation has its own hostile tests, as root and unprivileged, in
test_isolation.py)."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from grader import errors
from grader.sandbox import host
from grader.sandbox.host import UID_BASE, UID_SLOTS, Call, SandboxLimits

from conftest import REFERENCE, zygote_children


def run(sandbox, tmp_path, code, function="f", args=None, time_limit=2.0, limits=None):
    source = tmp_path / "hw.py"
    source.write_text(textwrap.dedent(code))
    call = Call(0, "hw.py", function, args or {}, time_limit, "p")
    return sandbox.run([source], [call], limits or SandboxLimits(submission_time=10))[0]


def test_integers_past_float_precision_cross_and_are_judged_exactly(sandbox, tmp_path):
    """An integer answer that float64 cannot hold crosses the wire as itself and is judged
    as an integer: one off is wrong, equal is right."""
    from grader.compare.mismatch import matches
    from grader.course.model import Tolerance
    outcome = run(sandbox, tmp_path, """
        import numpy as np
        def f():
            return 2 ** 70, np.int64(2 ** 53 + 1), np.array([2 ** 60, 1])
    """)
    assert outcome.error is None
    big, scalar, array = outcome.value
    assert (big, int(scalar), array.tolist()) == (2 ** 70, 2 ** 53 + 1, [2 ** 60, 1])
    exact = Tolerance(0.0, 0.0)
    assert matches(outcome.value, (2 ** 70, 2 ** 53 + 1, np.array([2 ** 60, 1])), exact)
    assert not matches(outcome.value, (2 ** 70, 2 ** 53, np.array([2 ** 60, 1])), exact)
    assert not matches(outcome.value, (2 ** 70 + 1, 2 ** 53 + 1, np.array([2 ** 60, 1])), exact)


def test_an_answer_carries_the_digest_of_what_its_value_came_in(sandbox, tmp_path):
    """The same answer to the same call has one digest, whatever the call printed beside it;
    another value, another."""
    quiet, loud = tmp_path / "quiet", tmp_path / "loud"
    for folder, body in ((quiet, ""), (loud, "    print('hi')\n")):
        folder.mkdir()
        (folder / "hw.py").write_text(f"import numpy as np\ndef f(x):\n{body}"
                                      "    return np.arange(3.0) * x\n")
    calls = [Call(i, "hw.py", "f", {"x": x}, 2.0, f"p{i}") for i, x in enumerate([1.0, 2.0])]
    plain = sandbox.run([quiet / "hw.py"], calls, SandboxLimits(submission_time=10))
    again = sandbox.run([quiet / "hw.py"], calls, SandboxLimits(submission_time=10))
    printed = sandbox.run([loud / "hw.py"], calls, SandboxLimits(submission_time=10))
    assert [o.output for o in printed] == ["hi\n", "hi\n"]
    assert [o.output for o in plain] == ["", ""]
    assert [o.digest for o in plain] == [o.digest for o in again] == [o.digest for o in printed]
    assert plain[0].digest != plain[1].digest and None not in {o.digest for o in plain}
    assert run(sandbox, tmp_path, "def f():\n    raise ValueError('no')\n").digest is None


def test_printed_output_must_come_just_before_its_answer(sandbox, tmp_path):
    """A frame of printed output that names another call, or a second one for the same call,
    is something the grader cannot read: that call fails, the next is answered. Its own, as
    the child would send it, is as if it had printed it."""
    source = tmp_path / "hw.py"
    source.write_text(textwrap.dedent("""
        import json, os, stat
        def forge(call):
            body = json.dumps({"output": call, "out": "forged", "dropped": 0}).encode()
            for fd in range(3, 1024):
                try:
                    if stat.S_ISSOCK(os.fstat(fd).st_mode):
                        os.write(fd, len(body).to_bytes(4, "big") + body)
                except OSError:
                    pass
        def other():
            forge(7)
            return 1.0
        def twice():
            forge(1)
            print("mine")
            return 2.0
        def own():
            forge(2)
            return 3.0
    """))
    calls = [Call(i, "hw.py", name, {}, 2.0, name)
             for i, name in enumerate(["other", "twice", "own"])]
    first, second, third = sandbox.run([source], calls, SandboxLimits(submission_time=10))
    assert isinstance(first.error, errors.Crashed) and "cannot read" in str(first.error)
    assert isinstance(second.error, errors.Crashed) and "cannot read" in str(second.error)
    assert third.value == 3.0 and third.output == "forged"  # its own output: as if printed


def test_answers_cross_back_intact(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, """
        import numpy as np
        def f(x):
            print("hi")
            return {"y": (x * 2, [True, "s"])}
    """, args={"x": np.arange(3.0)})
    assert outcome.error is None and outcome.output == "hi\n"
    assert outcome.value["y"][0].tolist() == [0.0, 2.0, 4.0] and outcome.value["y"][1] == [True, "s"]


def test_course_files_cannot_be_read(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, f"""
        def f():
            return open({str(REFERENCE / 'rnn.py')!r}).read()
    """)
    assert isinstance(outcome.error, errors.CallRaised) and outcome.value is None
    assert "does not let submissions read" in str(outcome.error)


def test_nothing_can_be_written_outside_the_scratch_directory(sandbox, tmp_path):
    target = tmp_path / "results.json"
    outcome = run(sandbox, tmp_path, f"""
        open("scratch-is-fine.txt", "w").write("ok")
        def f():
            open({str(target)!r}, "w").write("{{}}")
    """)
    assert "does not let submissions write" in str(outcome.error)
    assert not target.exists()


@pytest.mark.parametrize("code, words", [
    ("import socket\n    socket.socket()", "does not let submissions use socket.__new__"),
    ("import os\n    os.system('true')", "does not let submissions use os.system"),
    ("import os\n    os.fork()", "does not let submissions use os.fork"),
    ("import subprocess\n    subprocess.run(['true'])",
     "does not let submissions use subprocess.Popen"),
    ("import ctypes\n    ctypes.CDLL(None)", "does not let submissions use ctypes.dlopen"),
    ("import os\n    os.kill(os.getppid(), 9)", "does not let submissions signal other processes"),
])
def test_escapes_are_refused(sandbox, tmp_path, code, words):
    outcome = run(sandbox, tmp_path, f"def f():\n    {code}\n")
    assert isinstance(outcome.error, errors.CallRaised), outcome
    assert words in str(outcome.error)
    assert sandbox.zygote.process.poll() is None


def test_lying_objects_are_rejected_and_never_unpickled(sandbox, tmp_path):
    MARKER = tmp_path / "unpickled"
    outcome = run(sandbox, tmp_path, f"""
        import numpy as np
        class Payload:
            def __reduce__(self):
                return (open, ({str(MARKER)!r}, "w"))
        class Liar(np.ndarray):
            def __eq__(self, other):
                return True
        def f():
            return [Payload(), np.zeros(2).view(Liar)]
    """)
    assert isinstance(outcome.error, errors.UnsupportedType)
    assert "Payload" in str(outcome.error) and not MARKER.exists()


def test_a_hang_is_killed_at_the_time_limit_with_its_process_group(sandbox, tmp_path):
    start = time.monotonic()
    outcome = run(sandbox, tmp_path, "def f():\n    while True:\n        pass\n", time_limit=0.5)
    assert isinstance(outcome.error, errors.Timeout)
    assert time.monotonic() - start < 3
    assert zygote_children(sandbox) == []


def test_after_a_timeout_the_next_child_of_the_submission_has_its_whole_thread_limit(
        sandbox, tmp_path):
    """A problem that times out with busy threads holding memory, then another problem of the
    same submission (a new child, with the same uid where children get their own): the killed
    child, however long its teardown, never counts against the new one's limits."""
    source = tmp_path / "hw.py"
    source.write_text(textwrap.dedent("""
        import threading

        def spin(mb):
            block = bytearray(mb << 20)
            for i in range(0, len(block), 4096):
                block[i] = 1
            while True:
                pass

        def hang(mb):
            for _ in range(7):
                try:
                    threading.Thread(target=spin, args=(mb,), daemon=True).start()
                except RuntimeError:
                    pass
            spin(mb)

        def threads():
            started, go = [], threading.Event()
            for _ in range(20):
                try:
                    thread = threading.Thread(target=go.wait)
                    thread.start()
                    started.append(thread)
                except RuntimeError:
                    break
            go.set()
            for thread in started:
                thread.join()
            return len(started)
    """))
    limits = SandboxLimits(memory_mb=1024, submission_time=30)
    (fresh,) = sandbox.run([source], [Call(0, "hw.py", "threads", {}, 5.0, "b")], limits)
    assert fresh.error is None and fresh.value >= 1
    for _ in range(6):
        hung, after = sandbox.run([source], [Call(0, "hw.py", "hang", {"mb": 24}, 0.4, "a"),
                                             Call(1, "hw.py", "threads", {}, 5.0, "b")], limits)
        assert isinstance(hung.error, errors.Timeout)
        assert after.error is None and after.value == fresh.value


def test_the_submission_time_limit_bounds_everything(sandbox, tmp_path):
    source = tmp_path / "hw.py"
    source.write_text("import time\ndef f():\n    time.sleep(0.4)\n")
    calls = [Call(i, "hw.py", "f", {}, 5.0, f"p{i}") for i in range(10)]
    start = time.monotonic()
    outcomes = sandbox.run([source], calls, SandboxLimits(submission_time=1.0))
    assert time.monotonic() - start < 2.5
    assert outcomes[0].error is None
    assert all(isinstance(o.error, (errors.Timeout, errors.NotRun)) for o in outcomes[3:])


def test_printed_output_kept_of_a_submission_is_bounded(sandbox, tmp_path):
    """Each call keeps its limit's worth of what it prints while the submission's budget lasts,
    then only its first characters: the reports, which show it, do not grow with the number of
    calls. Whatever is not kept is counted."""
    source = tmp_path / "hw.py"
    source.write_text("def f():\n    print('\u2028' * 70_000, end='')\n")
    calls = [Call(i, "hw.py", "f", {}, 5.0, f"p{i}") for i in range(40)]
    limits = SandboxLimits(output_chars=1 << 16, submission_time=30)
    outcomes = sandbox.run([source], calls, limits)
    assert all(o.error is None for o in outcomes)
    kept = [len(o.output) for o in outcomes]
    full = host.MAX_SUBMISSION_OUTPUT // limits.output_chars  # calls that keep their limit's worth
    assert kept[:full] == [limits.output_chars] * full
    assert kept[full:] == [host.OUTPUT_HEAD] * (40 - full)
    assert sum(kept) == host.MAX_SUBMISSION_OUTPUT + (40 - full) * host.OUTPUT_HEAD
    assert all(len(o.output) + o.output_dropped == 70_000 for o in outcomes)


def test_memory_is_limited(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, "import numpy as np\ndef f():\n    return np.ones(1 << 28)\n",
                  limits=SandboxLimits(memory_mb=256, submission_time=10))
    assert isinstance(outcome.error, errors.MemoryLimit) and "256 MB" in str(outcome.error)


def test_the_memory_limit_is_what_the_submission_allocates(sandbox, tmp_path):
    """The limit counts the memory a submission takes beyond what its process starts with (the
    interpreter and NumPy, over 100 MB of address space): an array of nearly the limit fits."""
    size = (256 - 48) << 17  # float64s: 208 MB
    code = f"import numpy as np\ndef f():\n    return float(np.ones({size}).sum())\n"
    outcome = run(sandbox, tmp_path, code, limits=SandboxLimits(memory_mb=256, submission_time=10))
    assert outcome.error is None and outcome.value == size


def test_garbage_on_the_channel_fails_only_that_call(sandbox, tmp_path):
    source = tmp_path / "hw.py"
    source.write_text(textwrap.dedent("""
        import os, stat
        def f():
            for fd in range(3, 1024):
                try:
                    if stat.S_ISSOCK(os.fstat(fd).st_mode):
                        os.write(fd, b"\\x00\\x00\\x00\\x05junk!")
                except OSError:
                    pass
        def g():
            return 1.5
    """))
    calls = [Call(0, "hw.py", "f", {}, 2.0, "a"), Call(1, "hw.py", "g", {}, 2.0, "b")]
    first, second = sandbox.run([source], calls, SandboxLimits(submission_time=10))
    assert isinstance(first.error, errors.Crashed) and "cannot read" in str(first.error)
    assert second.value == 1.5


def test_a_killed_zygote_is_replaced(sandbox, tmp_path):
    run(sandbox, tmp_path, "def f():\n    return 1\n")
    os.kill(sandbox.zygote.process.pid, signal.SIGKILL)
    sandbox.zygote.process.wait()
    assert run(sandbox, tmp_path, "def f():\n    return 2\n").value == 2


def test_each_child_gets_its_own_arguments_from_the_program(sandbox, tmp_path):
    # the zygote decodes a program's arguments once for all its children: a call that changes
    # them in place changes its own copy only, in its own child
    source = tmp_path / "hw.py"
    source.write_text("def f(x):\n    x[0] += 10\n    return float(x.sum())\n")
    x = np.array([1.0, 2.0])
    calls = [Call(0, "hw.py", "f", {"x": x}, 2.0, "a"), Call(1, "hw.py", "f", {"x": x}, 2.0, "b")]
    before = len(sandbox.zygote.programs)
    for _ in range(3):
        first, second = sandbox.run([source], calls, SandboxLimits(submission_time=10))
        assert (first.value, second.value) == (13.0, 13.0)
    assert len(sandbox.zygote.programs) == before + 1  # the same calls: one program, sent once
    assert x.tolist() == [1.0, 2.0]


PEEK = """
import gc, sys
import numpy as np

def _seen():
    # every argument this process holds: its program (found up the stack) and any array
    found = []
    frame = sys._getframe()
    while frame is not None:
        for value in frame.f_locals.values():
            program = getattr(value, "program", value)
            for call in getattr(program, "calls", ()):
                found.append(repr(call.get("args")))
        frame = frame.f_back
    found += [repr(o) for o in gc.get_objects() if isinstance(o, (dict, list))
              and "secret" in repr(o)[:10000]]
    return " ".join(found)

def public(x):
    return _seen()

def hidden(secret):
    return float(secret.sum()), "secret" in _seen()
"""


def test_no_answer_to_a_public_call_can_show_a_hidden_call_s_arguments(sandbox, tmp_path):
    """Hidden calls' arguments reach the child only once it has answered every public call,
    whatever order the calls come in: public feedback never shows them."""
    source = tmp_path / "hw.py"
    source.write_text(PEEK)
    secret = np.array([31337.25, 2.0])
    calls = [Call(0, "hw.py", "hidden", {"secret": secret}, 2.0, "p", hidden=True),
             Call(1, "hw.py", "public", {"x": 1}, 2.0, "p"),
             Call(2, "hw.py", "hidden", {"secret": secret + 1}, 2.0, "q", hidden=True),
             Call(3, "hw.py", "public", {"x": 2}, 2.0, "q")]
    for _ in range(2):  # a new program, then the zygote's copy of it
        outcomes = sandbox.run([source], calls, SandboxLimits(submission_time=10))
        assert [o.error for o in outcomes] == [None] * 4
        assert outcomes[0].value == (31339.25, True) and outcomes[2].value == (31341.25, True)
        for public in (outcomes[1], outcomes[3]):  # it saw its own arguments, not theirs
            assert "{'x': 1}" in public.value and "secret" not in public.value


def test_a_replaced_zygote_gets_the_programs_again(sandbox, tmp_path):
    source = tmp_path / "hw.py"
    source.write_text("def f(n):\n    return n + 1\n")
    calls = [Call(0, "hw.py", "f", {"n": 1}, 2.0, "a")]
    assert sandbox.run([source], calls, SandboxLimits(submission_time=10))[0].value == 2
    os.kill(sandbox.zygote.process.pid, signal.SIGKILL)
    sandbox.zygote.process.wait()
    assert sandbox.run([source], calls, SandboxLimits(submission_time=10))[0].value == 2


def test_broken_course_drivers_are_the_graders_failure(sandbox, tmp_path):
    source = tmp_path / "hw.py"
    source.write_text("def f(x):\n    return x\n")
    calls = [Call(0, "hw.py", "f", {"x": 1}, 2.0, "a", driver="drive", drivers="a")]
    with pytest.raises(host.SandboxBroken, match="course's drivers for a failed: NameError"):
        sandbox.run([source], calls, SandboxLimits(submission_time=10),
                    drivers={"a": "undefined_name\n"})
    assert run(sandbox, tmp_path, "def f():\n    return 3\n").value == 3  # still serving


def test_child_holds_nothing_of_the_grader(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, """
        import gc, sys
        def f():
            names = sorted(n for n in sys.modules if n.startswith(("grader", "reference")))
            found = [o for o in gc.get_objects() if getattr(o, "__name__", "") == "bptt_grads"]
            return names, len(found)
    """)
    names, found = outcome.value
    assert names == ["grader", "grader.sandbox", "grader.sandbox.child",
                     "grader.sandbox.isolation", "grader.sandbox.stuck", "grader.sandbox.wire"] \
        and found == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="runs as an unprivileged user only under root")
def test_as_root_children_run_unprivileged_without_network(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, "import os\ndef f():\n    return os.getuid(), os.getgid()\n")
    assert outcome.value[0] >= UID_BASE and outcome.value[1] != 0
    assert {"network namespace", "per-child uid"} <= set(sandbox.isolation)


def test_processes_that_escape_the_group_are_killed(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, """
        import os, time
        def f():
            pid = os.fork()
            if pid == 0:
                try:
                    os.setsid()  # leave the process group (refused by the kernel)
                except OSError:
                    pass
                if os.fork() == 0:  # and the parent: re-parented to the zygote
                    time.sleep(60)
                os._exit(0)
            os.waitpid(pid, 0)
            return pid
    """, limits=SandboxLimits(submission_time=10, processes=3))
    assert isinstance(outcome.value, int), outcome
    assert zygote_children(sandbox) == []


def test_a_closed_channel_is_reported_as_such(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, "import os\ndef f():\n    os.closerange(3, 4096)\n"
                  "    import time\n    time.sleep(30)\n")
    assert str(outcome.error).startswith("the submission closed its connection to the grader "
                                         "while running f")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may look into the zygote")
def test_the_zygote_sees_no_course_and_no_network(sandbox):
    if "mount namespace" not in sandbox.isolation:  # also waits for the zygote
        pytest.skip("no namespaces here: " + "; ".join(sandbox.gaps))
    pid = sandbox.zygote.process.pid
    assert not Path(f"/proc/{pid}/root{REFERENCE}").exists()
    assert not Path(f"/proc/{pid}/root{REFERENCE.parent / '.git'}").exists()
    assert Path(f"/proc/{pid}/root{np.__file__}").exists()
    assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")


def test_limits_come_from_the_manifest(course_copy, sandbox):
    from grader.engine import Engine
    from grader.course.manifest import load_course
    from conftest import EXAMPLES
    path = course_copy / "problems" / "optim.toml"
    text = path.read_text().replace('function = "running_average"\npoints = 1',
                                    'function = "running_average"\npoints = 1\ntime_limit = 0.3')
    path.write_text(text)
    course = load_course(course_copy / "problems", course_copy / "reference")
    assert course.problem("optim.running_average").limits.time == 0.3
    engine = Engine(course=course, sandbox=sandbox, hidden=False,
                    problems=["optim.running_average"])
    start = time.monotonic()
    (problem,) = engine.grade("slow", [EXAMPLES / "infinite_loop"]).problems
    assert "within the time limit of 0.3 s" in problem.cases[0].feedback
    assert time.monotonic() - start < 1.5


def test_arguments_may_be_modified_in_place(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, "def f(x):\n    x -= x.mean()\n    return x\n",
                  args={"x": np.array([1.0, 3.0])})
    assert outcome.error is None and outcome.value.tolist() == [-1.0, 1.0]


def test_phase_messages_do_not_move_the_deadline(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, """
        import os, stat, time
        from grader.sandbox import wire
        def f():
            fd = next(fd for fd in range(3, 1024) if _socket(fd))
            for _ in range(20):
                wire.send(fd, {"phase": "import", "file": "x.py"})
                wire.send(fd, {"phase": "call", "file": "x.py"})
                time.sleep(0.3)
        def _socket(fd):
            try:
                return stat.S_ISSOCK(os.fstat(fd).st_mode)
            except OSError:
                return False
    """, time_limit=1.0)
    assert isinstance(outcome.error, (errors.Timeout, errors.Crashed)), outcome
    assert outcome.error.fatal


def test_a_phase_trick_cannot_extend_a_call_past_twice_its_limit(sandbox, tmp_path):
    start = time.monotonic()
    outcome = run(sandbox, tmp_path, """
        import os, stat, time
        from grader.sandbox import wire
        def f():
            fd = next(fd for fd in range(3, 1024) if _socket(fd))
            wire.send(fd, {"phase": "import", "file": "hw.py"})
            wire.send(fd, {"phase": "call", "file": "hw.py"})
            time.sleep(30)
        def _socket(fd):
            try:
                return stat.S_ISSOCK(os.fstat(fd).st_mode)
            except OSError:
                return False
    """, time_limit=0.5)
    assert isinstance(outcome.error, errors.Timeout)
    assert time.monotonic() - start < 2.5


def test_failures_are_typed_not_read_from_their_message(sandbox, tmp_path):
    source = tmp_path / "hw.py"
    source.write_text("import sys\ndef f():\n    sys.exit('during import of hw.py')\n"
                      "def g():\n    return 2.0\n")
    calls = [Call(0, "hw.py", "f", {}, 2.0, "a"), Call(1, "hw.py", "g", {}, 2.0, "b")]
    first, second = sandbox.run([source], calls, SandboxLimits(submission_time=10))
    assert isinstance(first.error, errors.SubmissionExited)
    assert (first.error.phase, first.error.file, first.error.fatal) == ("call", "hw.py", True)
    assert second.error is None and second.value == 2.0


def test_what_the_child_sends_is_cut_to_size(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, """
        def f():
            raise type("E" * 10_000_000, (Exception,), {})("m" * 10_000_000)
    """)
    assert isinstance(outcome.error, errors.CallRaised)
    assert len(str(outcome.error)) < 5000
    keys = run(sandbox, tmp_path, "def f():\n    return {'k' * 100_000: 1}\n")
    assert [len(k) for k in keys.value] == [203]


def test_the_bytes_of_a_submission_are_bounded(sandbox, tmp_path, monkeypatch):
    monkeypatch.setattr(host, "MAX_SUBMISSION_BYTES", 4 << 20)
    source = tmp_path / "hw.py"
    source.write_text("import numpy as np\ndef f():\n    return np.zeros(250_000)\n")
    calls = [Call(i, "hw.py", "f", {}, 2.0, f"p{i}") for i in range(5)]
    outcomes = sandbox.run([source], calls, SandboxLimits(submission_time=10))
    assert outcomes[0].error is None and outcomes[0].value.shape == (250_000,)
    failed = [o for o in outcomes if o.error is not None]
    assert isinstance(failed[0].error, errors.OutputTooLarge) and "4 MB" in str(failed[0].error)
    assert all(isinstance(o.error, errors.NotRun) for o in failed[1:])


def test_the_values_other_than_arrays_a_submission_sends_are_bounded(sandbox, tmp_path,
                                                                     monkeypatch):
    """Small values cost the grader far more a byte to read than arrays: a child sending
    lists of numbers, or crafted frames, stops at a budget of its own."""
    monkeypatch.setattr(host, "MAX_SUBMISSION_JSON", 1 << 20)
    source = tmp_path / "hw.py"
    source.write_text("def f():\n    return [0.1] * 40_000\n")  # about 0.6 MB as JSON
    calls = [Call(i, "hw.py", "f", {}, 2.0, f"p{i}") for i in range(3)]
    first, second, third = sandbox.run([source], calls, SandboxLimits(submission_time=10))
    assert first.error is None and len(first.value) == 40_000
    assert isinstance(second.error, errors.OutputTooLarge)
    assert "more than 1 MB of values other than NumPy arrays (return arrays rather than lists " \
        "of numbers)" in str(second.error)
    assert isinstance(third.error, errors.NotRun) and "values other than" in str(third.error)


def test_outcomes_stream_in_order_as_they_come(sandbox, tmp_path):
    source = tmp_path / "hw.py"
    source.write_text("import time\ndef f(i):\n    return i\ndef slow(i):\n    time.sleep(5)\n")
    calls = [Call(0, "hw.py", "f", {"i": 0}, 2.0, "a"), Call(1, "hw.py", "slow", {"i": 1}, 0.3, "b"),
             Call(2, "hw.py", "f", {"i": 2}, 2.0, "c")]
    stream = sandbox.stream([source], calls, SandboxLimits(submission_time=10))
    assert next(stream).value == 0
    time.sleep(0.5)  # time the caller takes does not count against the submission
    assert isinstance(next(stream).error, errors.Timeout)
    assert next(stream).value == 2
    assert next(stream, None) is None


def test_a_package_and_course_drivers(sandbox, tmp_path):
    files = {"pkg/__init__.py": b"", "pkg/mod.py": b"from pkg import helper\n"
             b"def twice(x):\n    return helper.k * x\n", "pkg/helper.py": b"k = 2\n"}
    drivers = {"a": "def drive(module, x):\n    return module.twice(x) + 1\n"}
    calls = [Call(0, "pkg/mod.py", "twice", {"x": 3}, 2.0, "a", module="pkg.mod", positional=True),
             Call(1, "pkg/mod.py", "twice", {"x": 3}, 2.0, "b", module="pkg.mod",
                  driver="drive", drivers="a")]
    direct, driven = sandbox.run(files, calls, SandboxLimits(submission_time=10), drivers=drivers)
    assert (direct.value, driven.value) == (6, 7)


def test_scratch_space_is_private_and_removed_even_after_a_kill(tmp_path):
    import subprocess
    import sys
    import tempfile
    code = ("import os, signal, sys; sys.path.insert(0, %r)\n"
            "from grader.sandbox.host import Sandbox\n"
            "box = Sandbox(); print(box.base, flush=True); box.isolation\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n") % str(Path(__file__).parents[1])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    base = Path(done.stdout.strip())
    assert base.name.startswith(host.BASE_PREFIX) and base.is_dir()  # left by the killed run
    assert base.stat().st_mode & 0o066 == 0  # others cannot list or change it
    host._remove_stale(tempfile.gettempdir())  # what the next Sandbox() does first
    assert not base.exists()


def test_a_folder_left_without_its_lock_is_stale_once_old(tmp_path):
    """A sandbox makes its lock at once, so a private folder without one is either being made
    this instant (kept) or was left half removed (removed once it is old)."""
    old, new = (tmp_path / f"{host.BASE_PREFIX}{name}" for name in ("old", "new"))
    for folder in (old, new):
        (folder / "root" / "tmp").mkdir(parents=True)
    ago = time.time() - host.UNLOCKED_STALE - 60
    os.utime(old, (ago, ago))
    host._remove_stale(str(tmp_path))
    assert not old.exists() and new.is_dir()


def test_a_sandbox_closed_while_its_zygote_boots_kills_it_and_leaves_nothing():
    """A command that stops early (a broken course) closes its sandbox without waiting for
    the zygote: one still booting, which may be building its root in the sandbox's folder as
    that folder is removed, is killed first."""
    box = host.Sandbox()
    launcher = box.zygote.process.popen
    box.close(wait=False)
    assert launcher.returncode is not None and not os.path.exists(box.base)


def test_a_sandbox_starting_beside_another_is_never_taken_for_stale(monkeypatch):
    """Two sandboxes starting at once (the processes of `grader grade --jobs N`): the one that
    clears stale folders first must not remove the other's, created but not yet locked."""
    import fcntl
    import tempfile
    real = fcntl.flock
    cleared = []

    def flock(fd, operation):
        if operation == fcntl.LOCK_EX and not cleared:  # about to lock: another starts now
            cleared.append(True)
            host._remove_stale(tempfile.gettempdir())
        return real(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)
    monkeypatch.setattr(host.Zygote, "launch", lambda self, started=None: None)
    box = host.Sandbox()
    try:
        assert cleared and os.path.isdir(os.path.join(box.base, "root"))
        assert os.path.isfile(os.path.join(box.base, "lock"))
    finally:
        box.close()
    assert not os.path.exists(box.base)


def test_a_fifo_or_a_link_in_a_submission_is_not_read(sandbox, tmp_path):
    os.mkfifo(tmp_path / "hw.py")  # opening it for reading would block forever
    (tmp_path / "other.py").symlink_to(REFERENCE / "rnn.py")
    start = time.monotonic()
    files = {"hw.py": tmp_path / "hw.py", "other.py": tmp_path / "other.py"}
    (outcome,) = sandbox.run(files, [Call(0, "hw.py", "f", {}, 2.0, "p")],
                             SandboxLimits(submission_time=10))
    assert isinstance(outcome.error, errors.MissingFile)
    assert time.monotonic() - start < 3


@pytest.mark.skipif(os.geteuid() != 0, reason="per-child uids are used only under root")
def test_sandboxes_running_at_once_never_share_a_uid(sandbox):
    from grader.sandbox.host import Sandbox
    with Sandbox() as other, Sandbox() as third:
        blocks = [set(box.uids.queue) for box in (sandbox, other, third)]
    assert all(len(b) == UID_SLOTS for b in blocks)
    assert not (blocks[0] & blocks[1] or blocks[0] & blocks[2] or blocks[1] & blocks[2])
    with Sandbox() as again:  # a closed sandbox's block is free again
        assert set(again.uids.queue) in blocks[1:]


# A grader in a container whose seccomp profile forbids new namespaces (Docker's default does):
# the zygote cannot isolate itself with namespaces, so each child works in a folder the grader
# makes for it, and writes the files it receives there.
NO_NAMESPACES = r"""
import ctypes, json, os, sys, textwrap
sys.path.insert(0, sys.argv[1])
seccomp = ctypes.CDLL("libseccomp.so.2")
seccomp.seccomp_init.restype = ctypes.c_void_p
seccomp.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
seccomp.seccomp_load.argtypes = [ctypes.c_void_p]
context = seccomp.seccomp_init(0x7FFF0000)  # allow, but:
for name in (b"unshare", b"setns"):  # EPERM
    seccomp.seccomp_rule_add(context, 0x00050000 | 1, seccomp.seccomp_syscall_resolve_name(name), 0)
ctypes.CDLL(None).prctl(38, 1, 0, 0, 0)  # no_new_privs, which loading a filter needs
assert seccomp.seccomp_load(context) == 0
from grader.sandbox.host import Call, Sandbox, SandboxLimits
files = {"pkg/__init__.py": b"", "pkg/mod.py": b"from pkg import helper\n"
         b"def f():\n    import os\n    return helper.k, sorted(os.listdir('.'))\n",
         "pkg/helper.py": b"k = 2\n", "hw.py": b"def g():\n    open('mine.txt', 'w').write('x')\n"
         b"    import os\n    return sorted(os.listdir('.'))\n"}
calls = [Call(0, "pkg/mod.py", "f", {}, 2.0, "a", module="pkg.mod"), Call(1, "hw.py", "g", {}, 2.0, "b")]
with Sandbox() as box:
    first = box.run(files, calls, SandboxLimits(submission_time=10))
    again = box.run(files, calls, SandboxLimits(submission_time=10))
    print(json.dumps({"isolation": box.isolation, "gaps": box.gaps,
                      "values": [[o.value for o in run] for run in (first, again)],
                      "errors": [str(o.error) for o in first + again if o.error],
                      "left": os.listdir(os.path.join(box.base, "runs"))}))
"""


def script_report(script: str, privilege: str) -> dict:
    """What `script` (given the project's folder) prints as JSON, run as root or without
    privileges (a test of a sandbox made in a process of its own)."""
    import json
    import subprocess
    import sys
    from privileges import unprivileged
    if privilege == "root" and os.geteuid() != 0:
        pytest.skip("not running as root")
    command = [sys.executable, "-c", script, str(Path(__file__).parents[1])]
    done = subprocess.run(unprivileged(command) if privilege == "unprivileged" else command,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("privilege", ["root", "unprivileged"])
def test_without_namespaces_each_child_still_gets_its_own_files(privilege):
    report = script_report(NO_NAMESPACES, privilege)
    assert "mount namespace" not in report["isolation"]
    assert report["errors"] == []
    listing = ["hw.py", "mine.txt", "pkg"]  # its own files, and what it wrote: nothing else
    for values in report["values"]:  # the second child does not see the first one's file
        assert values == [[2, listing[:1] + listing[2:]], listing]
    assert report["left"] == []  # each child's folder is removed when it is done


NO_OWN_USER_NAMESPACE = r"""
import ctypes, json, sys
sys.path.insert(0, sys.argv[1])
seccomp = ctypes.CDLL("libseccomp.so.2")
seccomp.seccomp_init.restype = ctypes.c_void_p


class Compare(ctypes.Structure):  # libseccomp's struct scmp_arg_cmp
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


seccomp.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(Compare)]
seccomp.seccomp_load.argtypes = [ctypes.c_void_p]
context = seccomp.seccomp_init(0x7FFF0000)  # allow, but: unshare(CLONE_NEWUSER) alone is EPERM
only_a_user_namespace = Compare(0, 4, 0x10000000, 0)  # argument 0 == CLONE_NEWUSER
assert seccomp.seccomp_rule_add_array(context, 0x00050000 | 1,
                                      seccomp.seccomp_syscall_resolve_name(b"unshare"), 1,
                                      ctypes.byref(only_a_user_namespace)) == 0
ctypes.CDLL(None).prctl(38, 1, 0, 0, 0)  # no_new_privs, which loading a filter needs
assert seccomp.seccomp_load(context) == 0
from grader.sandbox.host import Call, Sandbox, SandboxLimits
code = (b"import threading\n\n\ndef f():\n    threading.stack_size(1 << 16)\n"
        b"    started, go = [], threading.Event()\n    try:\n"
        b"        while len(started) < 200:\n"
        b"            thread = threading.Thread(target=go.wait)\n"
        b"            thread.start()\n            started.append(thread)\n"
        b"    except RuntimeError:\n        pass\n    finally:\n        go.set()\n"
        b"        for thread in started:\n            thread.join()\n"
        b"    return len(started)\n")
with Sandbox() as box:
    (outcome,) = box.run({"hw.py": code}, [Call(0, "hw.py", "f", {}, 10.0, "a")],
                         SandboxLimits(submission_time=20))
    print(json.dumps({"isolation": box.isolation, "threads": outcome.value,
                      "error": str(outcome.error) if outcome.error else None}))
"""


@pytest.mark.parametrize("privilege", ["root", "unprivileged"])
def test_a_child_that_cannot_have_a_user_namespace_of_its_own_still_has_few_threads(privilege):
    # without root, a child counts its tasks in a user namespace of its own; where the kernel
    # refuses it one, the limit counts every task of the grader's uid instead: fewer, not more
    from grader.sandbox.child import THREADS
    report = script_report(NO_OWN_USER_NAMESPACE, privilege)
    assert "mount namespace" in report["isolation"] and report["error"] is None, report
    assert 0 <= report["threads"] <= THREADS, report


def test_a_program_of_many_calls(sandbox, tmp_path):
    # the positions of a child's calls travel in its own first frame, not in the zygote's
    # control messages (which are read 64 KB at a time)
    source = tmp_path / "hw.py"
    source.write_text("def f(i):\n    return i\n")
    calls = [Call(n, "hw.py", "f", {"i": n}, 2.0, "p") for n in range(12_000)]
    outcomes = sandbox.run([source], calls, SandboxLimits(submission_time=60))
    assert [o.value for o in outcomes] == list(range(12_000))


def test_the_zygote_compiles_the_same_drivers_once(sandbox, tmp_path):
    source = tmp_path / "hw.py"
    source.write_text("def f():\n    return 1\n")
    drivers = {"a": "import sys\nsys.__dict__.setdefault('drivers_compiled', []).append(1)\n"
                    "def drive(module):\n    return len(sys.drivers_compiled)\n"}
    for _ in range(3):  # three programs (new calls each time), the same drivers
        calls = [Call(0, "hw.py", "f", {}, 2.0, "a", driver="drive", drivers="a")]
        (outcome,) = sandbox.run([source], calls, SandboxLimits(submission_time=10),
                                 drivers=drivers)
        assert outcome.value == 1


def test_files_larger_than_the_working_folder_are_refused_before_a_child_starts(sandbox, tmp_path):
    files = {"hw.py": b"def f():\n    return 1\n", "data.py": b"#" * (600 << 10),
             "more.py": b"#" * (600 << 10)}
    calls = [Call(0, "hw.py", "f", {}, 2.0, "a"), Call(1, "hw.py", "f", {}, 2.0, "b")]
    outcomes = sandbox.run(files, calls, SandboxLimits(submission_time=10, file_bytes=1 << 20))
    assert all(isinstance(o.error, errors.FilesTooLarge) for o in outcomes)
    assert "files hold 1.2 MB, more than the 1 MB a submission may have" in str(outcomes[0].error)
    del files["more.py"]
    assert sandbox.run(files, calls[:1], SandboxLimits(submission_time=10,
                                                       file_bytes=1 << 20))[0].value == 1


def test_the_same_hidden_calls_in_another_program_get_their_own_arguments(sandbox, tmp_path):
    source = tmp_path / "hw.py"
    source.write_text("def f(n):\n    return n\n")
    hidden = Call(1, "hw.py", "f", {"n": 7}, 2.0, "h", hidden=True)
    public = Call(0, "hw.py", "f", {"n": 1}, 2.0, "p")
    limits = SandboxLimits(submission_time=10)
    assert [o.value for o in sandbox.run([source], [public, hidden], limits)] == [1, 7]
    assert [o.value for o in sandbox.run([source], [hidden], limits)] == [7]  # another position


def test_a_new_child_after_a_failure_makes_only_the_calls_not_answered(sandbox, tmp_path):
    """Answered calls are not made again by the next child: they would spend the
    submission's total time (here, enough to leave the last call unrun)."""
    source = tmp_path / "hw.py"
    source.write_text("import time\ndef slow():\n    time.sleep(1.0)\n    return 1\n"
                      "def loop():\n    while True:\n        pass\ndef f():\n    return 2\n")
    calls = [Call(0, "hw.py", "slow", {}, 2.0, "a"), Call(1, "hw.py", "slow", {}, 2.0, "b"),
             Call(2, "hw.py", "loop", {}, 1.0, "c"), Call(3, "hw.py", "f", {}, 2.0, "d")]
    slow, again, looped, last = sandbox.run([source], calls, SandboxLimits(submission_time=4.5))
    assert (slow.value, again.value) == (1, 1) and isinstance(looped.error, errors.Timeout)
    assert last.error is None and last.value == 2


def test_a_syntax_error_from_text_compiled_in_a_call_is_the_call_s_not_the_file_s(sandbox,
                                                                                tmp_path):
    outcome = run(sandbox, tmp_path, """
        def f():
            return eval("(1 +")
    """)
    assert isinstance(outcome.error, errors.CallRaised) and outcome.error.phase == "call"
    assert "f raised SyntaxError: " in str(outcome.error)
    broken = run(sandbox, tmp_path, "def f(:\n    return 1\n")
    assert isinstance(broken.error, errors.SyntaxErrorInSubmission)  # the file's own, still


def test_a_file_whose_import_failed_is_not_run_again_for_its_other_calls(sandbox, tmp_path):
    broken, other = tmp_path / "hw.py", tmp_path / "other.py"
    broken.write_text("import builtins\nbuiltins.IMPORTS = getattr(builtins, 'IMPORTS', 0) + 1\n"
                      "raise ValueError('broken at import')\ndef f():\n    return 1\n")
    other.write_text("import builtins\ndef imports():\n    return builtins.IMPORTS\n")
    calls = [Call(0, "hw.py", "f", {}, 2.0, "a"), Call(1, "hw.py", "f", {}, 2.0, "b"),
             Call(2, "other.py", "imports", {}, 2.0, "c")]
    first, second, count = sandbox.run([broken, other], calls, SandboxLimits(submission_time=10))
    for outcome in (first, second):  # the same error, said as an import's
        assert isinstance(outcome.error, errors.ImportFailed)
        assert "hw.py raised ValueError: broken at import while being imported" \
            in str(outcome.error)
    assert count.value == 1


@pytest.fixture
def waiter():
    """A process that, like the zygote's waiter in a PID namespace, forks one child and waits
    for it; yields (the process, its child's pid as the child says it)."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import os, sys, time\n"
         "pid = os.fork()\n"
         "if pid == 0:\n"
         "    print(os.getpid(), flush=True)\n"
         "    time.sleep(60)\n"
         "    os._exit(0)\n"
         "os.waitpid(pid, 0)\n"], stdout=subprocess.PIPE, text=True)
    child = int(process.stdout.readline())
    try:
        yield process, child
    finally:
        os.kill(child, signal.SIGKILL)  # the waiter then ends by itself
        process.wait(timeout=10)
        process.stdout.close()


def test_the_real_zygote_is_found_from_the_kernel_s_list_of_children(waiter, monkeypatch):
    process, child = waiter
    found = host._ZygoteProcess(process)
    monkeypatch.setattr(host.os, "listdir", lambda *a: pytest.fail("scanned every process"))
    found.find_server()
    assert found.pid == child


def test_the_real_zygote_is_found_without_the_kernel_s_list_of_children(waiter, monkeypatch):
    process, child = waiter
    found = host._ZygoteProcess(process)
    real_open = open

    def without_children_lists(path, *args, **kwargs):
        if str(path).endswith("/children"):
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", without_children_lists)
    found.find_server()
    monkeypatch.undo()
    assert found.pid == child


STUCK = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from grader.sandbox.host import Call, Sandbox, SandboxLimits
submissions = {
    "python": "def g():\n    while True:\n        pass\n\n\ndef f():\n    return g()\n",
    "native": "import collections, itertools\n\n\ndef f():\n"
              "    collections.deque(itertools.repeat(0), maxlen=0)\n",
    "import": "while True:\n    pass\n",
    "flood": "import os, signal\n\n\ndef flood(*_):\n    while True:\n"
             "        for fd in range(3, 1024):\n            try:\n"
             "                os.write(fd, b'Stack (most recent call first):\\n' * 9000)\n"
             "            except OSError:\n                pass\n\n\n"
             "signal.signal(signal.SIGUSR1, flood)\n\n\ndef f():\n    while True:\n        pass\n",
    # a stack of its own making: 1,500 frames of a file of almost 1 MB, and a notebook cell the
    # submission does not have
    "forged": "import os, signal\n\nSTACK = (b'Current thread 0x1 (most recent call first):\\n'\n"
              "         + b'  File \"/w/hw.py\", line 1 in f\\n' * 1500\n"
              "         + b'  File \"/w/hw.ipynb, cell 1\", line 1 in f\\n')\n\n\n"
              "def forge(*_):\n    for fd in range(3, 1024):\n        try:\n"
              "            os.write(fd, STACK)\n        except OSError:\n            pass\n"
              "    while True:\n        pass\n\n\nsignal.signal(signal.SIGUSR1, forge)\n\n\n"
              "def f():\n    while True:\n        pass\n" + ("#" * 79 + "\n") * 12_000,
}
report = {}
with Sandbox() as box:
    for name, code in submissions.items():
        start = time.monotonic()
        (outcome,) = box.run({"hw.py": code.encode()}, [Call(0, "hw.py", "f", {}, 0.5, "p")],
                             SandboxLimits(submission_time=10))
        report[name] = {"kind": type(outcome.error).__name__, "message": str(outcome.error),
                        "seconds": time.monotonic() - start}
print(json.dumps(report))
"""


@pytest.mark.parametrize("privilege", ["root", "unprivileged"])
def test_a_timeout_says_where_the_code_was_stopped(privilege):
    # the child writes its stacks in C on the grader's signal: a loop in Python, in native
    # code that never returns to Python, at import; a child that answers the signal with a
    # flood instead gets no location, and is stopped as quickly
    report = script_report(STUCK, privilege)
    assert all(r["kind"] == "Timeout" and r["seconds"] < 2 for r in report.values()), report
    lines = {name: r["message"].splitlines() for name, r in report.items()}
    assert lines["python"][0] == ("f did not finish within the time limit of 0.5 s. Look for an "
                                  "infinite loop or a much slower algorithm than needed.")
    assert lines["python"][1:4] == ["It was stopped here:", "  hw.py, line 7, in f",
                                    "    return g()"]
    assert lines["python"][4] in ("  hw.py, line 2, in g", "  hw.py, line 3, in g")
    assert lines["native"][1:] == [
        "It was stopped here:", "  hw.py, line 5, in f",
        "    collections.deque(itertools.repeat(0), maxlen=0)"]
    assert lines["import"][0].startswith("the import of hw.py did not finish")
    assert lines["import"][2] in ("  hw.py, line 1, in <module>", "  hw.py, line 2, in <module>")
    assert lines["flood"] == lines["python"][:1]
    # what the grader shows of a forged stack is bounded, and only of the submission's files
    assert lines["forged"][1] == "It was stopped here:" and "  ..." in lines["forged"]
    assert lines["forged"][2:].count("  hw.py, line 1, in f") == 5
    assert "ipynb" not in report["forged"]["message"]


def test_asking_where_a_call_was_stopped_costs_the_submission_no_time(sandbox, tmp_path):
    # a child that blocks the signal makes the grader wait stuck.WAIT for nothing: that wait
    # neither turns a call's timeout into the submission's nor takes the next call's time
    source = tmp_path / "hw.py"
    source.write_text("import signal\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})"
                      "\n\n\ndef f():\n    while True:\n        pass\n\n\ndef g():\n"
                      "    return 1\n")
    calls = [Call(0, "hw.py", "f", {}, 0.3, "a"), Call(1, "hw.py", "g", {}, 0.3, "b")]
    stuck, answered = sandbox.run([source], calls, SandboxLimits(submission_time=0.52))
    assert str(stuck.error).startswith("f did not finish within the time limit of 0.3 s.")
    assert answered.error is None and answered.value == 1
