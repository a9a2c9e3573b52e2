"""Which loops the mention finder and ranked questions over large indexes run: compiled by numba
(retrieval/kernels.py) when the `fast` extra is installed, else the same loops as numpy passes
(retrieval/kernels_numpy.py). Both give the same answers; numba is several times faster on a large library
(docs/benchmarks/numba.md). Chosen once per process, at the first question that needs them, and logged.
"""

from __future__ import annotations

import functools
import logging
from types import ModuleType

log = logging.getLogger(__name__)


@functools.cache
def loops() -> ModuleType:
    """retrieval.kernels when numba can be imported, else retrieval.kernels_numpy."""
    try:
        from . import kernels
    except ImportError:
        from . import kernels_numpy

        log.info(
            "numba is not installed: the mention finder and ranking run numpy loops "
            "(the same answers; install reportbot[fast] for a large library)"
        )
        return kernels_numpy
    import numba

    log.info("the mention finder and ranking run loops compiled by numba %s", numba.__version__)
    return kernels


def compiled() -> bool:
    """Whether the loops are numba's (a large index then scores some questions term at a time)."""
    return bool(loops().COMPILED)
