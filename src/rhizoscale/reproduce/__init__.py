"""``rhizoscale reproduce``: every quantitative claim of the paper beside ours, with a verdict.

A run-layer package: it runs case-study scenarios and reads their products; physics
modules never import it. Claims come from the built-in modules ``cs1``–``cs4`` and from
any ``rhizoscale.<package>.claims`` module (``STUDIES`` + ``CLAIMS``), so a new case study
contributes its claims without editing a central list; claims of case studies not yet in
this version are listed as ``missing`` (:mod:`.pending`).

Example
-------
>>> from rhizoscale.reproduce import collect
>>> reg = collect()
>>> {"cs1-overlap-citrate", "cs4-bridge-rupture"} <= {c.id for c in reg.claims}
True
"""

from .claim import (VERDICTS, AbsoluteTolerance, Bound, Claim, Measured, Missing, PaperValue,
                    RelativeTolerance, Study, Trend)
from .registry import Registry, collect
from .run import judge, reproduce

__all__ = ["VERDICTS", "AbsoluteTolerance", "Bound", "Claim", "Measured", "Missing", "PaperValue",
           "RelativeTolerance", "Study", "Trend", "Registry", "collect", "judge", "reproduce"]
