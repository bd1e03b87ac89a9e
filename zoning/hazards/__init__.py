"""Hazards and distances: GB 18218-2018 grading, GB/T 37243-2019 external safety distances, blast,
the quantitative risk assessment of §6, and the separation checks against GB 36894-2018
protected-target classes.

Modules: :mod:`~zoning.hazards.major_hazard`, :mod:`~zoning.hazards.blast`,
:mod:`~zoning.hazards.distances`, :mod:`~zoning.hazards.separation`; the package
:mod:`~zoning.hazards.qra` (scenarios, source terms, dispersion, effects, individual and societal
risk, contours, threat zones).
"""
