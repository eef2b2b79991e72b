"""Batch stage 5, elsewhere: a batch on a Dask cluster (``executor=``): ``dask`` on the driver
(chunks submitted lazily, reports merged by ``merge``), ``chunk`` on the workers."""

__all__: list[str] = []
