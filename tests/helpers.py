"""Small builders shared by tests."""

from __future__ import annotations

from plantwin.core.auth import Role
from plantwin.core.store import AuthStore
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.processing.accounts import Accounts, Scrypt

T0 = 1_800_000_000 * 1_000_000_000  # 2027-01-15T08:00:00Z, a fixed plant time for tests
S = 1_000_000_000


def catalog_for(plant: Plant, offset: int = 0) -> SignalCatalog:
    """A catalog with ids in plant order, optionally shifted to exercise non-zero ids."""
    return SignalCatalog(plant, {key: i + offset for i, key in enumerate(plant.signals)})


# Tests check the access rules, not the password KDF's cost: a cheap scrypt keeps them fast.
TEST_SCRYPT = Scrypt(n=2**8, r=8, p=1)


def accounts_for(store: AuthStore) -> Accounts:
    return Accounts(store, cost=TEST_SCRYPT)


async def bearer(
    accounts: Accounts, name: str = "admin", role: Role = Role.ADMIN
) -> dict[str, str]:
    """Authorization headers of a new token of user ``name`` (added with ``role`` if missing)."""
    if name not in {u.name for u in await accounts.users()}:
        await accounts.add_user(name, role)
    issued = await accounts.issue(name)
    return {"Authorization": f"Bearer {issued.secret}"}
