"""GitHub glue for the Actions: workflow commands, the job summary and the sticky PR comment.

Nothing here imports pytest or the gate's numerics; it reads a JSON report and
talks to the runner (files and ``::`` commands) or to the REST API.
"""
