"""Helpers for hosts that test their own catalog, families and adapters against this library.

``assert_catalog_covered`` needs nothing beyond the library. ``runactionability.testing.strategies``
holds hypothesis strategies (runs, histories, state facts over a catalog) and needs the
``testing`` extra (``pip install runactionability[testing]``).
"""

from runactionability.testing.coverage import assert_catalog_covered

__all__ = ["assert_catalog_covered"]
