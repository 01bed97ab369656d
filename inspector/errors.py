"""One base for every refusal the domain explains: a kind (what sort of no), a machine-readable code, a sentence."""

# The kinds a refusal can be; the HTTP layer maps each to one status (api/errors.py), nothing else does.
KINDS = (
    "invalid",                # what was sent breaks a rule of the domain
    "not_found",              # nothing by that id within what the caller may see
    "conflict",               # it clashes with what is stored (a reused id, a state that does not allow it)
    "stale",                  # it was based on a version that has since changed
    "forbidden",              # the caller's role or scope may not do it
    "unauthorized",           # the caller's credentials do not hold
    "too_large",              # more than the service takes at once
    "unsupported",            # a kind of file or body the service does not read
    "precondition_required",  # it needs the version it is based on (If-Match)
)


class DomainError(Exception):
    """A refusal with a kind, a code and a sentence a person can act on; details travel to the client as they are."""

    kind = "invalid"
    code = "invalid"

    def __init__(self, message, code=None, kind=None, headers=None, **details):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if kind is not None:
            self.kind = kind
        if self.kind not in KINDS:
            raise ValueError(f"unknown error kind {self.kind!r}")
        self.headers = headers or {}
        self.details = details
