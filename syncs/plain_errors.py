"""An unexpected Python error, said in a sentence for the people who read tickets and pages.

"KeyError: 'orderRows'" means something to a developer and nothing to an ops person, and
a raw exception's text can quote data the page should not show. The sentence names what a
person can check (a missing field by its name); the exception itself, with its traceback,
goes to the server log where it was caught, for the agency.
"""

from __future__ import annotations

from decimal import InvalidOperation

MISSING_FIELD = "missing_field"
BAD_VALUE = "bad_value"
UNEXPECTED = "unexpected_error"


def unreadable_reason(exc: BaseException) -> tuple[str, str]:
    """(a code, a sentence) for a record the flow could not read because of `exc`."""
    if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str | int):
        field = str(exc.args[0])[:80]
        return MISSING_FIELD, f"The field “{field}” is missing from it."
    if isinstance(exc, ValueError | TypeError | InvalidOperation | ArithmeticError):
        return BAD_VALUE, "A value in it is missing or in a form the flow cannot read."
    if isinstance(exc, LookupError | AttributeError):
        return BAD_VALUE, "Part of it that the flow needs is missing or in an unexpected form."
    return UNEXPECTED, "The flow stopped on an unexpected error; the agency has the details."


def run_crash_sentence(run_id: int) -> str:
    """What a run that crashed on a bug says on its pages and its ticket."""
    return (
        "An unexpected error stopped the run. The agency has the details in the server log, "
        f"under run {run_id}."
    )
