"""What went wrong talking to a vendor, in classes that say whether a retry can help.

Exception tickets are raised from these, so each one carries the vendor's own code and
message and a plain-English sentence, and never a credential.
"""

from __future__ import annotations


class ConnectorError(Exception):
    kind = "error"
    retryable = False
    # A sentence an ops person can act on; the subclass says which kind of failure it is.
    plain_prefix = "The vendor refused the request."

    def __init__(
        self,
        message: str,
        *,
        vendor: str = "",
        status: int | None = None,
        code: str = "",
        vendor_message: str = "",
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
        details: object = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.vendor = vendor
        self.status = status
        self.code = code
        self.vendor_message = vendor_message
        self.method = method
        self.path = path
        self.retry_after = retry_after
        # The vendor's error body (scrubbed of secrets), for a ticket's snapshot.
        self.details = details

    def __str__(self) -> str:
        parts = [self.message]
        if self.code or self.vendor_message:
            said = f"{self.code} {self.vendor_message}".strip()
            parts.append(f"({self.vendor} said: {said})")
        return " ".join(parts)

    @property
    def plain(self) -> str:
        """One or two sentences for a ticket or a health line."""
        said = (
            f" {self.vendor.title()} said: “{self.vendor_message}”." if self.vendor_message else ""
        )
        return f"{self.plain_prefix}{said}"


class AuthError(ConnectorError):
    kind = "auth"
    plain_prefix = (
        "The vendor did not accept the saved credentials. They may have expired or been "
        "revoked: enter new ones on the connection's page."
    )


class ThrottledError(ConnectorError):
    kind = "throttled"
    retryable = True
    plain_prefix = "The vendor asked us to slow down (its rate limit was reached)."

    def __init__(self, message: str, *, retryable: bool = True, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retryable = retryable


class TransientError(ConnectorError):
    kind = "transient"
    retryable = True
    plain_prefix = "The vendor could not be reached or answered with a temporary error."


class RejectedError(ConnectorError):
    kind = "rejected"
    plain_prefix = "The vendor rejected the data we sent."


class NotFoundError(ConnectorError):
    kind = "not_found"
    plain_prefix = "The vendor says the record or address does not exist."


class ConfigurationError(ConnectorError):
    kind = "configuration"
    plain_prefix = "The connection is not set up completely."

    @property
    def plain(self) -> str:
        return f"{self.plain_prefix} {self.message}"
