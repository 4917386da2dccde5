"""Scale out: captures larger than memory (streamed band by band) and many captures at
once (a task graph on dask.distributed)."""
