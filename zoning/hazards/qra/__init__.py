"""Quantitative risk assessment (定量风险评价, GB/T 37243-2019 §6) of hazardous sites.

One module per model, each citing its source and stating its validity range
(:mod:`~zoning.hazards.qra.validity`):

* :mod:`~zoning.hazards.qra.scenarios` — loss-of-containment events and frequencies (CPR 18E ch. 3),
  the event tree (CPR 18E ch. 4);
* :mod:`~zoning.hazards.qra.source` — outflow of gas, liquid and flashing liquid, flash, rain-out,
  pool spreading and evaporation (CPR 14E ch. 2–3);
* :mod:`~zoning.hazards.qra.dispersion` — Gaussian plume and puff (Pasquill–Gifford/Briggs σ);
  :mod:`~zoning.hazards.qra.dense_gas` — Britter–McQuaid workbook correlations;
* :mod:`~zoning.hazards.qra.fire`, :mod:`~zoning.hazards.qra.explosion`,
  :mod:`~zoning.hazards.qra.probit` — heat radiation, TNT-equivalent blast, probits (CPR 18E ch. 5);
* :mod:`~zoning.hazards.qra.weather` — stability classes, wind speeds, wind rose;
* :mod:`~zoning.hazards.qra.footprint` — one scenario in one weather class on a polar grid;
* :mod:`~zoning.hazards.qra.individual` — individual risk per site and on grid windows;
  :mod:`~zoning.hazards.qra.societal` — F-N curves against the GB 36894-2018 lines;
* :mod:`~zoning.hazards.qra.contours`, :mod:`~zoning.hazards.qra.threat_zones` — the derived
  layers ``ir_contours`` and ``threat_zones``;
* :mod:`~zoning.hazards.qra.rules` — the ``[qra]`` table of the rule set;
  :mod:`~zoning.hazards.qra.assess` — which sites get a QRA, and the whole run.
"""
