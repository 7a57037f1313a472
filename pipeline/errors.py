"""Exceptions for what stops a command. Problems in a submission are Issues, not exceptions."""


class JiuzhuError(Exception):
    """Base of every failure that stops a jiuzhu command; its text is shown to the operator."""


class InputFileError(JiuzhuError):
    """A file cannot be read as a submission; carries the docs/design.md §2 file-level code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self):  # so that it crosses from a forked child (parallel.both) intact
        return type(self), (self.code, self.message)


class SpecError(JiuzhuError):
    """A file under schemas/ is missing or malformed."""


class RunLockedError(JiuzhuError):
    """Another jiuzhu run holds the store."""


class ConfirmationNeeded(JiuzhuError):
    """A command that is most likely a slip (a date a year ahead): done only with --yes."""


class StoreError(JiuzhuError):
    """The SQLite store cannot be opened or is from a newer version of jiuzhu."""


class CorrectionError(JiuzhuError):
    """A correction, merge or withdrawal that cannot be made as asked (unknown key, field or value)."""


class WorkerError(JiuzhuError):
    """The forked half of a job (parallel.both) died or could not send its result back."""


class MailConfigError(JiuzhuError):
    """jiuzhu.toml is missing or wrong: the message names the file, the key and what is expected."""


class MailError(JiuzhuError):
    """A mail server cannot be reached or refuses the account (never says the password)."""
