"""Account and session mutations, one module per family (auth: tokens, account: profile)."""

from users.graphql.mutations.account import (
    ChangePassword,
    DeleteAccount,
    Register,
    RequestPasswordReset,
    ResetPassword,
    SetFavoriteGenres,
)
from users.graphql.mutations.auth import RefreshToken, RevokeToken, TokenAuth, VerifyToken

__all__ = [
    "ChangePassword",
    "DeleteAccount",
    "RefreshToken",
    "Register",
    "RequestPasswordReset",
    "ResetPassword",
    "RevokeToken",
    "SetFavoriteGenres",
    "TokenAuth",
    "VerifyToken",
]
