"""Where the public evaluation data sets are: ../shared/data beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import ROOT


def shared_data(folder: str, file: str) -> Path:
    """The file in $PLANTWIN_SHARED_DATA, or ../shared/data of the checkout (or its worktree
    parent); skip with the places looked at when it is nowhere."""
    bases = (
        [Path(os.environ["PLANTWIN_SHARED_DATA"])] if "PLANTWIN_SHARED_DATA" in os.environ else []
    )
    # Beside the checkout, beside a worktree's parent, and where this workplace keeps them.
    bases += [
        ROOT.parent / "shared" / "data",
        ROOT.parent.parent / "shared" / "data",
        Path("/work/shared/data"),
    ]
    for base in bases:
        if (base / folder / file).is_file():
            return base / folder / file
    pytest.skip(f"{folder}/{file} not found under {', '.join(map(str, bases))}")
