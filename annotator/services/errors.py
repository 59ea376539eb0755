class WarrantError(ValueError):
    """Bad input to a service: the message is one line a user can act on.

    Entry points turn it into HTTP 400 (web, API) or a one-line non-zero exit
    (management commands). Raised before anything is written, or inside the
    service's transaction so that nothing is.
    """


class ConflictError(WarrantError):
    """A write based on a stale version of an annotation set (HTTP 409)."""
