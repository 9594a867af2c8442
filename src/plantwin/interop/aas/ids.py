"""Identifiers derived from the plant alone, so exporting the same plant twice gives the same ids.

``<base>/aas/<twin id>`` for shells, ``<base>/asset/<twin id>`` for assets,
``<base>/sm/<twin id>/<submodel>`` for submodels and ``<base>/type/<type>`` for the asset
type of typed twins; the plant itself is ``<base>/aas`` and ``<base>/asset``. The base is
``urn:plantwin:<plant name as a slug>`` unless a site-wide IRI prefix is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def default_base(plant_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", plant_name.lower()).strip("-") or "plant"
    return f"urn:plantwin:{slug}"


@dataclass(frozen=True, slots=True)
class Ids:
    base: str

    @property
    def plant_shell(self) -> str:
        return f"{self.base}/aas"

    @property
    def plant_asset(self) -> str:
        return f"{self.base}/asset"

    def plant_submodel(self, name: str) -> str:
        return f"{self.base}/sm/{name}"

    def shell(self, twin_id: str) -> str:
        return f"{self.base}/aas/{twin_id}"

    def asset(self, twin_id: str) -> str:
        return f"{self.base}/asset/{twin_id}"

    def submodel(self, twin_id: str, name: str) -> str:
        return f"{self.base}/sm/{twin_id}/{name}"

    def asset_type(self, type_name: str) -> str:
        return f"{self.base}/type/{type_name}"


def type_name_of(asset_type: str | None) -> str | None:
    """The plantwin type name in an ``assetType`` written by :class:`Ids` (else None)."""
    if asset_type is None or "/type/" not in asset_type:
        return None
    return asset_type.rsplit("/type/", 1)[1] or None


def relative_signal(key: str, twin_id: str) -> str:
    """A signal key as the plant file names it from ``twin_id``: ``name`` for the twin's own
    signal, ``component.name`` for a descendant's (how rules and windows refer to signals)."""
    owner, name = key.rsplit("/", 1)
    if owner == twin_id:
        return name
    if not owner.startswith(twin_id + "."):
        msg = f"signal {key} is not a signal of twin {twin_id} or of its components"
        raise ValueError(msg)
    return f"{owner[len(twin_id) + 1 :]}.{name}"


def seconds(ns: int) -> float:
    """Nanoseconds as seconds (exact back to the nanosecond for durations under 26 days)."""
    return ns / 1e9
