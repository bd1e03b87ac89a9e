"""Province scale: the zoning engine partitioned spatially and run on Dask, equal to the in-process run.

:mod:`~zoning.province.partition` (who owns a row, what a partition must see),
:mod:`~zoning.province.stages` (the work of one partition), :mod:`~zoning.province.engine` (the task
graph and the merge), :mod:`~zoning.province.run` (the cluster, a store's frames, a generated
province on disk).
"""
