"""The one exception the CLI turns into a single line on stderr."""


class CLIError(Exception):
    """A user-caused problem: printed as one line, exit status 2."""
