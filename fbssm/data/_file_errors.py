"""The error a loader raises for a data file that is there but cannot be read as expected."""

LRA_ARCHIVE = "lra_release.gz (https://storage.googleapis.com/long-range-arena/lra_release.gz)"


def file_error(path, problem, remedy, line=None):
    """ValueError "<path>[:<line>]: <problem>. <remedy>": which file (and line), what was wrong
    with it, and what to do; raise it `from` the exception that revealed the problem."""
    where = f"{path}:{line}" if line is not None else f"{path}"
    return ValueError(f"{where}: {problem}. {remedy}")


def extract_again(archive):
    """The remedy for a file of a release archive: it is truncated or corrupt, extract it again."""
    return f"The file looks truncated or corrupt: delete it and extract it again from {archive}."
