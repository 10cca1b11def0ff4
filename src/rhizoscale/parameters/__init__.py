"""Parameter models with units and literature sources, and the shipped parameter sets."""

from ._base import (
    ParameterSet,
    available_parameter_sets,
    load_parameter_set,
    load_yaml,
    parameter_set_from_dict,
    quantity,
)
from .cplantbox_xml import read_cplantbox_xml, write_cplantbox_xml
from .root_architecture import PlantParameters, RootTypeParameters, SeedParameters, Successor

__all__ = [
    "ParameterSet",
    "available_parameter_sets",
    "load_parameter_set",
    "load_yaml",
    "parameter_set_from_dict",
    "quantity",
    "PlantParameters",
    "RootTypeParameters",
    "SeedParameters",
    "Successor",
    "read_cplantbox_xml",
    "write_cplantbox_xml",
]
