"""Random streams: one independent, reproducible stream per check.

The global numpy RNG is never touched. A check's stream depends only on the
configured seed and the check's id, so adding or reordering checks does not
change the numbers of the others.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, check_id: str) -> np.random.Generator:
    """Return the generator for ``check_id`` under ``seed``."""
    key = zlib.crc32(check_id.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,))))
