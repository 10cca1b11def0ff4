"""Linking scales: pipelines of case studies connected by their products.

* :mod:`rhizoscale.link.pipeline` — ``case: pipeline`` scenarios: steps, inputs mapped
  from earlier steps' products, dependency order, caching by hash, provenance.
"""

from .pipeline import (Pipeline, PipelineResult, PipelineStep, declared_products, input_field,
                       load_pipeline, load_step_products, pipeline_from_dict)

__all__ = ["Pipeline", "PipelineResult", "PipelineStep", "declared_products", "input_field",
           "load_pipeline", "load_step_products", "pipeline_from_dict"]
