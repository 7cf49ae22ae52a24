"""The demo: a realistic history in an embedded SQLite file, and the raw-versus-actionability view.

``runactionability demo`` (or ``make demo``) generates the history (``data``), loads it
(``store``), reads every run's assessment through the request API (``every_assessment``) and
prints the side-by-side (``compare``).
"""

from runactionability.demo.compare import (
    RAW_NEEDS_ATTENTION,
    Comparison,
    compare,
    every_assessment,
)
from runactionability.demo.data import (
    AS_OF,
    HEADLINE_TITLES,
    SEED,
    DemoData,
    Headline,
    Size,
    generate,
)
from runactionability.demo.store import DemoMarker, load, read_marker

__all__ = [
    "AS_OF",
    "HEADLINE_TITLES",
    "RAW_NEEDS_ATTENTION",
    "SEED",
    "Comparison",
    "DemoData",
    "DemoMarker",
    "Headline",
    "Size",
    "compare",
    "every_assessment",
    "generate",
    "load",
    "read_marker",
]
