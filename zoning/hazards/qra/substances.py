"""The properties a QRA needs of a substance, and the few thermodynamic relations built on them.

GB 18218-2018 Table 1 says *how much* makes a major hazard; a QRA needs *how it behaves*: molar
mass, normal boiling point, liquid density and heat capacity, heat of vaporisation, heat of
combustion, lower flammability limit, and the toxic probit constants. They live in the rule set's
``[qra.substances]`` table (one entry per substance, matched to ``[substances]`` by CAS number),
each figure with its source; :func:`zoning.hazards.qra.rules.parse_qra_rules` reads them into
:class:`QRASubstance`. A substance without a complete entry gets no QRA: its site keeps the table
distance and the reasons say why.

Relations used (all vectorised):

* vapour pressure by Clausius–Clapeyron from the normal boiling point,
  ``p(T) = p₀·exp(ΔHv·M/R·(1/Tb − 1/T))`` (CCPS 1999 ch. 2; within ~15 % of tabulated values
  between Tb and 20 °C for the gases here);
* adiabatic flash fraction of a superheated liquid, ``φ = cp·(T − Tb)/ΔHv`` (CPR 14E ch. 2;
  CCPS 1999 ch. 2), clipped to [0, 1];
* ideal-gas density ``ρ = p·M/(R·T)`` and the ppm → mg/m³ factor ``p·M/(R·T)`` (M in kg/mol).

>>> cl2 = QRASubstance(key="chlorine", cas="7782-50-5", molar_mass=0.0709, boiling_k=239.1,
...     liquid_density=1410.0, liquid_cp=950.0, heat_of_vaporisation=288e3, gamma=1.33,
...     storage="liquefied", effects=("toxic",), probit=(-6.35, 0.5, 2.75))
>>> round(float(cl2.flash_fraction(293.15)), 3)        # 950·(293.15 − 239.1)/288 000
0.178
>>> round(float(cl2.vapour_pressure(293.15)) / 1e5, 2) # bar; tabulated 6.8 bar at 20 °C
6.73
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.errors import InputError

__all__ = ["R_GAS", "P_ATM", "G", "STORAGE_KINDS", "EFFECTS", "REACTIVITY", "QRASubstance"]

#: Molar gas constant, J/(mol·K).
R_GAS = 8.314462618
#: Standard atmosphere, Pa.
P_ATM = 101_325.0
#: Standard gravity, m/s².
G = 9.80665
#: How a substance is held: liquefied under its own vapour pressure, or compressed gas.
STORAGE_KINDS = ("liquefied", "compressed")
#: Effects a substance can have in the QRA.
EFFECTS = ("toxic", "flammable")
#: Reactivity classes of flammable gases for the direct-ignition table (CPR 18E ch. 4).
REACTIVITY = ("low", "average", "high")


@dataclass(frozen=True)
class QRASubstance:
    """Physical and toxicological properties of one substance (SI units).

    Attributes
    ----------
    key, cas : str
        Key of the rule set's ``[substances]`` table and CAS number.
    molar_mass : float
        kg/mol.
    boiling_k : float
        Normal boiling point, K.
    liquid_density, liquid_cp, heat_of_vaporisation : float
        kg/m³, J/(kg·K), J/kg (liquefied gases; ignored for compressed gases).
    gamma : float
        Ratio of specific heats cp/cv of the vapour.
    storage : {"liquefied", "compressed"}
    storage_pressure : float
        Pa absolute, compressed gases only (a liquefied gas is at its vapour pressure).
    effects : tuple of {"toxic", "flammable"}
    probit : (a, b, n) or None
        Toxic probit ``Pr = a + b·ln(Cⁿ·t)``, C in mg/m³, t in min.
    heat_of_combustion : float
        J/kg (lower heating value), flammables.
    lfl : float
        Lower flammability limit, volume fraction, flammables.
    reactivity : {"low", "average", "high"}
        For the direct-ignition probabilities.
    aegl2_ppm, aegl3_ppm : float or None
        60-min AEGL-2 / AEGL-3 (ppm), drawn as toxic threat zones.
    equipment : str
        Equipment type holding it (a key of ``[qra.equipment]``).
    max_vessel_t : float
        Largest single vessel, tonnes: an inventory is split into ``ceil(q / max)`` vessels.
    source : str
        Where the figures come from.
    """

    key: str
    cas: str
    molar_mass: float
    boiling_k: float
    gamma: float
    storage: str
    effects: tuple[str, ...]
    liquid_density: float = 0.0
    liquid_cp: float = 0.0
    heat_of_vaporisation: float = 0.0
    storage_pressure: float = 0.0
    probit: tuple[float, float, float] | None = None
    heat_of_combustion: float = 0.0
    lfl: float = 0.0
    reactivity: str = "average"
    aegl2_ppm: float | None = None
    aegl3_ppm: float | None = None
    equipment: str = "pressure_vessel"
    max_vessel_t: float = 100.0
    source: str = ""

    def __post_init__(self):
        where = f"QRA substance {self.key!r}"
        if self.storage not in STORAGE_KINDS:
            raise InputError(f"{where}: storage {self.storage!r} is not one of {', '.join(STORAGE_KINDS)}")
        if not self.effects or any(e not in EFFECTS for e in self.effects):
            raise InputError(f"{where}: effects {self.effects!r} must be among {', '.join(EFFECTS)}")
        if self.reactivity not in REACTIVITY:
            raise InputError(f"{where}: reactivity {self.reactivity!r} is not one of {', '.join(REACTIVITY)}")
        if "toxic" in self.effects and self.probit is None:
            raise InputError(f"{where}: a toxic substance needs probit constants (a, b, n)")
        if "flammable" in self.effects and not (self.heat_of_combustion > 0 and 0 < self.lfl < 1):
            raise InputError(f"{where}: a flammable substance needs heat_of_combustion > 0 and 0 < lfl < 1")
        if self.storage == "liquefied" and not (self.liquid_density > 0 and self.liquid_cp > 0
                                                and self.heat_of_vaporisation > 0):
            raise InputError(f"{where}: a liquefied gas needs liquid_density, liquid_cp and heat_of_vaporisation > 0")
        if self.storage == "compressed" and not self.storage_pressure > P_ATM:
            raise InputError(f"{where}: a compressed gas needs storage_pressure above atmospheric")

    @property
    def toxic(self) -> bool:
        return "toxic" in self.effects

    @property
    def flammable(self) -> bool:
        return "flammable" in self.effects

    def vapour_pressure(self, t_k):
        """Saturated vapour pressure (Pa) at ``t_k`` by Clausius–Clapeyron from the boiling point."""
        t = np.asarray(t_k, dtype=float)
        return P_ATM * np.exp(self.heat_of_vaporisation * self.molar_mass / R_GAS * (1.0 / self.boiling_k - 1.0 / t))

    def storage_pressure_at(self, t_k) -> float:
        """Pressure in the vessel (Pa abs): vapour pressure (not below 1 atm) or the set pressure."""
        if self.storage == "compressed":
            return self.storage_pressure
        return float(np.maximum(self.vapour_pressure(t_k), P_ATM))

    def flash_fraction(self, t_k):
        """Adiabatic flash fraction ``cp·(T − Tb)/ΔHv`` of the liquid at ``t_k``, in [0, 1]."""
        if self.storage == "compressed":
            return np.ones_like(np.asarray(t_k, dtype=float))
        phi = self.liquid_cp * (np.asarray(t_k, dtype=float) - self.boiling_k) / self.heat_of_vaporisation
        return np.clip(phi, 0.0, 1.0)

    def gas_density(self, t_k, p_pa=P_ATM):
        """Ideal-gas density (kg/m³) of the vapour."""
        return np.asarray(p_pa, dtype=float) * self.molar_mass / (R_GAS * np.asarray(t_k, dtype=float))

    def mg_m3_per_ppm(self, t_k, p_pa=P_ATM) -> float:
        """mg/m³ of one ppm (by volume) in air at ``t_k``, ``p_pa``: ``p·M/(R·T)``."""
        return float(p_pa * self.molar_mass / (R_GAS * t_k))

    def cloud_temperature(self, ambient_k: float) -> float:
        """Temperature of the released vapour: the boiling point of a flashing liquefied gas, else ambient."""
        return min(self.boiling_k, ambient_k) if self.storage == "liquefied" else ambient_k
