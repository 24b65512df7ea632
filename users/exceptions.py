"""Domain errors of sign-in, independent of GraphQL and REST (each interface maps them)."""


class AuthenticationError(Exception):
    """The caller could not be authenticated; the message is safe to show to clients."""

    def __init__(self, message: str, *, reason: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class InvalidCredentials(AuthenticationError):
    """Wrong username/email or password, or an inactive account (not told apart, on purpose)."""

    def __init__(self) -> None:
        super().__init__(
            "No active account found with the given credentials.", reason="credentials"
        )


class TokenRejected(AuthenticationError):
    """A token that is malformed, forged, expired, blacklisted, revoked or outdated."""
