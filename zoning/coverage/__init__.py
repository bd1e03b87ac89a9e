"""Coverage: the road graph, fire-station reach (GB 51080-2015), shelters (GB 50413-2007) and
location models (MCLP/LSCP).

Modules: :mod:`~zoning.coverage.network` (road graph, travel times), :mod:`~zoning.coverage.reach`
(isochrones, coverage figures and gaps), :mod:`~zoning.coverage.shelters`,
:mod:`~zoning.coverage.locate`, and :mod:`~zoning.coverage.run` (``riskmap coverage`` on a store).
"""
