"""Parameter models with units and literature sources, and the shipped parameter sets."""

from ._base import (
    ParameterSet,
    available_parameter_sets,
    load_parameter_set,
    load_yaml,
    parameter_set_from_dict,
    quantity,
)

__all__ = [
    "ParameterSet",
    "available_parameter_sets",
    "load_parameter_set",
    "load_yaml",
    "parameter_set_from_dict",
    "quantity",
]
