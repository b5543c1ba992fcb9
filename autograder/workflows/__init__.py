"""The workflows built on the grading pipeline: a class's batch and gradebook (locally or
on a Dask cluster), LMS exports, the student bundle and its stubs, the students' self-check,
the Gradescope autograder and the nbgrader course. None of them decides a verdict."""
