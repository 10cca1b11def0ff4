"""The shipped example scenarios as mappings (what the claims run, at full size)."""

from __future__ import annotations

import yaml

from ..scenario import example_text


def example(name: str) -> dict:
    """The shipped example ``name`` as a mapping (``rhizoscale example NAME``)."""
    return yaml.safe_load(example_text(name))
