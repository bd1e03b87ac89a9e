"""Registry of rule-set table parsers, by the top-level TOML key each engine module owns.

Each engine module registers ``parse(ruleset) -> typed rules`` here under its table name; the
loader calls every registered parser so a bad figure is reported when the rule set is loaded.
Modules add themselves by appending to :data:`PARSER_MODULES` (module path, table key, function
name); imports are lazy so this module has no import cycle with the engine.
"""

from __future__ import annotations

import importlib
from typing import Callable

__all__ = ["PARSERS", "PARSER_MODULES"]

#: (module, top-level table, parser function); each parser takes a RuleSet and returns typed rules.
PARSER_MODULES: tuple[tuple[str, str, str], ...] = (
    ("zoning.coverage.network", "coverage", "coverage_rules"),
    ("zoning.coverage.shelters", "shelters", "shelter_rules"),
    ("zoning.wall.classify", "classification", "parse_classification_rules"),
    ("zoning.wall.surface", "zoning", "parse_zoning_rules"),
    ("zoning.hazards.major_hazard", "major_hazard", "parse_major_hazard_rules"),
    ("zoning.hazards.distances", "distances", "parse_distance_rules"),
    ("zoning.hazards.qra.rules", "qra", "parse_qra_rules"),
    ("zoning.hazards.separation", "separation", "parse_separation_rules"),
    ("zoning.coverage.run", "coverage_run", "parse_coverage_run_rules"),
    ("zoning.siting.rules", "siting", "parse_siting_rules"),
)


def _lazy(module: str, func: str) -> Callable:
    def parse(ruleset):
        return getattr(importlib.import_module(module), func)(ruleset)

    return parse


PARSERS: dict[str, Callable] = {table: _lazy(mod, fn) for mod, table, fn in PARSER_MODULES}
