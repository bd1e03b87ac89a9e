"""The town risk wall (四色安全风险墙): plot rules and classification, area zones, the risk surface.

Modules: :mod:`~zoning.wall.plot_rules` (the named classification rules), :mod:`~zoning.wall.classify`
(the four colours of plots and the wall summaries), :mod:`~zoning.wall.area_rules` and
:mod:`~zoning.wall.surface` (colours of towns and grid cells, and the risk-surface raster).
"""
