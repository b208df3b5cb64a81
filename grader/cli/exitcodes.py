"""Exit codes of every `grader` command, in one place.

0 success (check: every problem passed; validate: the course is sound; grade: every student
was graded); 1 some problem failed, or the course has findings; 2 bad usage or input (click's
own code); 3 the grader itself failed (on at least one student or problem, who is listed as
such); 130 interrupted (grade: run the same command again to continue).
"""
OK, FAILED, USAGE, INTERNAL, INTERRUPTED = 0, 1, 2, 3, 130
