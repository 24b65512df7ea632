"""Account and session mutations, one module per family (auth: tokens, account: profile)."""

from users.graphql.mutations.account import (
    ChangePassword,
    DeleteAccount,
    Register,
    SetFavoriteGenres,
)
from users.graphql.mutations.auth import RefreshToken, RevokeToken, TokenAuth, VerifyToken

__all__ = [
    "ChangePassword",
    "DeleteAccount",
    "RefreshToken",
    "Register",
    "RevokeToken",
    "SetFavoriteGenres",
    "TokenAuth",
    "VerifyToken",
]
