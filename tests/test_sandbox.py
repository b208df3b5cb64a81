"""The sandbox's guarantees, each shown by a small hostile function run through it."""
import os
import signal
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from grader import errors
from grader.sandbox.host import UID_BASE, Call, SandboxLimits

from conftest import REFERENCE

MARKER = Path("/tmp/grader-test-marker")


def run(sandbox, tmp_path, code, function="f", args=None, time_limit=2.0, limits=None):
    source = tmp_path / "hw.py"
    source.write_text(textwrap.dedent(code))
    call = Call(0, "hw.py", function, args or {}, time_limit, "p")
    return sandbox.run([source], [call], limits or SandboxLimits(submission_time=10))[0]


def zygote_children(sandbox):
    pid = sandbox.zygote.process.pid
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry))
    return children


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
    ("import subprocess", "does not let submissions import subprocess"),
    ("import ctypes\n    ctypes.CDLL(None)", "does not let submissions use ctypes.dlopen"),
    ("import os\n    os.kill(os.getppid(), 9)", "does not let submissions signal other processes"),
])
def test_escapes_are_refused(sandbox, tmp_path, code, words):
    outcome = run(sandbox, tmp_path, f"def f():\n    {code}\n")
    assert isinstance(outcome.error, errors.CallRaised), outcome
    assert words in str(outcome.error)
    assert sandbox.zygote.process.poll() is None


def test_lying_objects_are_rejected_and_never_unpickled(sandbox, tmp_path):
    MARKER.unlink(missing_ok=True)
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


def test_the_submission_time_limit_bounds_everything(sandbox, tmp_path):
    source = tmp_path / "hw.py"
    source.write_text("import time\ndef f():\n    time.sleep(0.4)\n")
    calls = [Call(i, "hw.py", "f", {}, 5.0, f"p{i}") for i in range(10)]
    start = time.monotonic()
    outcomes = sandbox.run([source], calls, SandboxLimits(submission_time=1.0))
    assert time.monotonic() - start < 2.5
    assert outcomes[0].error is None
    assert all(isinstance(o.error, (errors.Timeout, errors.NotRun)) for o in outcomes[3:])


def test_memory_is_limited(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, "import numpy as np\ndef f():\n    return np.ones(1 << 28)\n",
                  limits=SandboxLimits(memory_mb=256, submission_time=10))
    assert isinstance(outcome.error, errors.MemoryLimit) and "256 MB" in str(outcome.error)


def test_garbage_on_the_channel_fails_only_that_call(sandbox, tmp_path):
    source = tmp_path / "hw.py"
    source.write_text(textwrap.dedent("""
        import os, stat
        def f():
            for fd in range(3, 20):
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


def test_child_holds_nothing_of_the_grader(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, """
        import gc, sys
        def f():
            names = sorted(n for n in sys.modules if n.startswith(("grader", "reference")))
            found = [o for o in gc.get_objects() if getattr(o, "__name__", "") == "bptt_grads"]
            return names, len(found)
    """)
    names, found = outcome.value
    assert names == ["grader", "grader.sandbox", "grader.sandbox.child", "grader.sandbox.wire"] and found == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="runs as an unprivileged user only under root")
def test_as_root_children_run_unprivileged_without_network(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, "import os\ndef f():\n    return os.getuid(), os.getgid()\n")
    assert outcome.value[0] >= UID_BASE and outcome.value[1] != 0
    assert {"network", "mounts"} <= set(sandbox.isolation)


def test_processes_that_escape_the_group_are_killed(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, """
        import os, time
        def f():
            pid = os.fork()
            if pid == 0:
                os.setsid()  # leave the process group
                time.sleep(60)
                os._exit(0)
            return pid
    """, limits=SandboxLimits(submission_time=10, processes=2))
    escaped = outcome.value
    assert isinstance(escaped, int)
    with pytest.raises(ProcessLookupError):
        os.kill(escaped, 0)
    assert zygote_children(sandbox) == []


def test_a_closed_channel_is_reported_as_such(sandbox, tmp_path):
    outcome = run(sandbox, tmp_path, "import os\ndef f():\n    os.closerange(3, 4096)\n"
                  "    import time\n    time.sleep(30)\n")
    assert str(outcome.error).startswith("the submission closed its connection to the grader "
                                         "while running f")


@pytest.mark.skipif(os.geteuid() != 0, reason="namespaces are used only under root")
def test_as_root_the_course_is_covered_and_the_network_is_gone(sandbox):
    assert {"network", "mounts"} <= set(sandbox.isolation)  # also waits for the zygote
    pid = sandbox.zygote.process.pid
    mounts = {line.split()[4]: line.split(" - ")[1].split()[0]
              for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines()}
    for hidden in (REFERENCE, REFERENCE.parent / "problems"):
        assert mounts.get(str(hidden)) == "tmpfs"
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
