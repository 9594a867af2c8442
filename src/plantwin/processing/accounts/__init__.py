"""Users, bearer tokens and passwords: who may use the API, as what role."""

from plantwin.processing.accounts.credentials import Scrypt, token_digest
from plantwin.processing.accounts.service import (
    ADMIN,
    AccountExistsError,
    Accounts,
    IssuedToken,
    UnknownAccountError,
)

__all__ = [
    "ADMIN",
    "AccountExistsError",
    "Accounts",
    "IssuedToken",
    "Scrypt",
    "UnknownAccountError",
    "token_digest",
]
