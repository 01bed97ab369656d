"""Why a ledger submission as a whole is refused or not stored: domain errors, each with its kind, code and sentence.

A problem with one line is not here: that is a `LineError` (inspector/ledger/events.py), a value the receipt lists
line by line. A whole file the reader cannot read is a `FileError` (files.py); a body that is no EPCIS document is a
`DocumentError` (epcis/capture.py).
"""
from inspector.errors import DomainError


class TooManyLines(DomainError):
    """The submission is longer than the configured limit (INTAKE_MAX_LINES)."""

    kind, code = "too_large", "too_many_lines"

    def __init__(self, limit):
        super().__init__(f"A submission holds at most {limit:,} lines; split the file by month or by site.",
                         limit=limit)
        self.limit = limit


class EmptySubmission(DomainError):
    """Nothing to record and no month named: not even a nil report."""

    code = "empty_submission"

    def __init__(self):
        super().__init__("The file holds no ledger lines. To report a month with no flows, send the period with no "
                         "lines (a nil report).")


class Conflict(DomainError):
    """The ledger changed under the submission while it was applied; it was rolled back."""

    kind, code = "conflict", "ledger_conflict"

    def __init__(self, reason):
        super().__init__(f"{reason} Nothing of this submission was stored; submit it again.")
        self.reason = reason


class InProgress(DomainError):
    """An earlier try holding some of these events is still applied or undone by a live attempt."""

    kind, code = "conflict", "submission_in_progress"

    def __init__(self, seconds):
        super().__init__("An earlier try of these events is still being applied or undone; "
                         f"retry in {seconds} seconds.", headers={"Retry-After": str(seconds)}, retry_after=seconds)
        self.seconds = seconds


class SubmissionRefused(DomainError):
    """The submission names a month without an enterprise, an enterprise not registered, or a month not begun."""
