"""The one way a service's refusal is audited.

A service function that refuses raises its app's error (``BankError``, ``BlockingError``...), whose
message is safe to show to the caller. Wrapped around the body of such a function, `audited_refusal`
records the refusal in the audit log, "denied" for a permission or four-eyes refusal and "failure"
for the others, then raises it again. It sits outside the function's transaction, so the refusal is
recorded after the refused change rolled back, and stays recorded.

Each app binds it to its own error classes (``errors.audited_refusal``), so that an app's services
cannot catch and record another app's refusals by accident.
"""

from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from . import services as audit


class BoundRefusal(Protocol):
    def __call__(self, action: str, *, by, obj=None, request=None) -> AbstractContextManager[None]: ...


def refusal_recorder(refusal: type[Exception], *, denied: tuple[type[Exception], ...]) -> BoundRefusal:
    """An `audited_refusal` for the app whose refusals derive from ``refusal``; ``denied`` are its
    permission and four-eyes refusals."""

    @contextmanager
    def audited_refusal(action: str, *, by, obj=None, request=None):
        """Record a refusal raised in the block as a refused ``action`` on ``obj``, then raise it."""
        try:
            yield
        except refusal as error:
            audit.record(
                action,
                request=request,
                actor=by,
                obj=obj,
                outcome=audit.DENIED if isinstance(error, denied) else audit.FAILURE,
                detail={"reason": type(error).__name__},
            )
            raise

    return audited_refusal
