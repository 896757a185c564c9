"""The project's test runner, started by scripts/test-runner.py (`make test`)."""
