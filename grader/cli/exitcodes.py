"""Exit codes of every `grader` command, in one place.

0 success (check: every problem passed; validate: the course is sound; grade: every student
was graded); 1 some problem failed, or the course has findings; 2 bad usage or input (click's
own code; also a course, roster or Python version a command cannot work with); 3 the grader
itself failed (on at least one student or problem, who is listed as such); 4 the sandbox is
weaker here than grading other people's code needs (grade: protections that are off are
listed; --allow-weak-sandbox grades anyway); 130 interrupted
(Ctrl-C; grade: run the same command again to continue); 141 the reader of the output went
away (`grader check ... | head -1`).
"""
OK, FAILED, USAGE, INTERNAL, WEAK_SANDBOX, INTERRUPTED, BROKEN_PIPE = 0, 1, 2, 3, 4, 130, 141
