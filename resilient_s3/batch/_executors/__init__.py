"""Running a batch elsewhere than in this process: on a Dask cluster (``executor=``)."""
