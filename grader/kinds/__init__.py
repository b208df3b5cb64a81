"""Problem kinds: how the cases of one kind of problem are called, what is expected of them and
how the answers are judged. The engine knows kinds only through `grader.kinds.base.Kind`."""
