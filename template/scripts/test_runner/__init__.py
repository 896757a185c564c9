"""The project's test runner, started by scripts/test-runner.py (`make test`).

parsing     test-tool output -> progress, counts, failure sections
reports     the junit XML the stage scripts write -> final counts and failures
state       stages, targets and their status
discovery   the services, from scripts/services.json (else a folder scan)
planning    the stages and targets to run, with the --stage/--service filters
view        the live display and the summary (pure functions of the state)
process     running the targets: process groups, output, signals
cli         options and exit codes
"""
