"""Linking scales: pipelines of case studies connected by their products.

* :mod:`rhizoscale.link.pipeline` — ``case: pipeline`` scenarios: steps, inputs mapped
  from earlier steps' products, dependency order, caching by hash, provenance.
* :mod:`rhizoscale.link.cross_scale` — the cross-scale oracle: transient diffusion on a
  fine periodic microstructure versus the homogenised tensor.
* :mod:`rhizoscale.link.rev` — representative elementary volume of an image: effective
  diffusivity versus subvolume size, subvolumes on Dask.
"""

from .pipeline import (Pipeline, PipelineResult, PipelineStep, declared_products, input_field,
                       load_pipeline, load_step_products, pipeline_from_dict)

__all__ = ["Pipeline", "PipelineResult", "PipelineStep", "declared_products", "input_field",
           "load_pipeline", "load_step_products", "pipeline_from_dict"]
