class WarrantError(ValueError):
    """Bad input to a service: the message is one line a user can act on.

    Entry points turn it into HTTP 400 (web, API) or a one-line non-zero exit
    (management commands). Raised before anything is written, or inside the
    service's transaction so that nothing is.
    """


class ConflictError(WarrantError):
    """A write based on a stale version of an annotation set (HTTP 409)."""


class ClosedError(ConflictError):
    """A student's write to a set that counts for a grade that is fixed (HTTP 409):
    grades are released, or the set's deadline has passed (``selectors.grading.grade_lock``)."""
