"""The two ways a run can fail, mapped to exit codes by the CLI."""


class UsageError(Exception):
    """The user asked for something that cannot be: exit code 2, one line that says what to do."""


class RunFailure(Exception):
    """Something broke while running: exit code 1, one line with the reason."""
