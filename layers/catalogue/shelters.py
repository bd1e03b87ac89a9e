"""Emergency shelters (应急避难场所), by the classes of GB 51143-2015 and GB 50413-2007.

Hazards a shelter is fit for
----------------------------
``hazards`` is the set of hazards (:data:`HAZARDS`: earthquake, fire, chemical release, flood)
a shelter may be used for, stored as codes joined by commas (``"earthquake,fire"``); an
unknown key is refused on import with the valid list. Left empty, the shelter is taken as fit
for the hazards of :data:`DEFAULT_HAZARDS` (:func:`shelter_hazards`), and every answer that
uses the default says so.

The default is earthquake and fire for every class (team's choice): GB 50413-2007 plans
shelters for earthquakes, and GB 51143-2015 sizes the buffer strips around refuge units against
fire spreading (STANDARDS.md, "Shelters"). Neither standard lets one assume a site is fit for a
**chemical release** (that depends on where it lies from the hazardous-chemical plants: GB
50413-2007 keeps shelters ≥ 1000 m from flammable and explosive plants) or for a **flood** (that
depends on the ground's height and on buildings above the water): a shelter serves those only
when its record says so.

>>> shelter_hazards(["earthquake,flood", None, ""]).tolist()
[('earthquake', 'flood'), ('earthquake', 'fire'), ('earthquake', 'fire')]
>>> shelter_hazards(["fire"], declared_only=True).tolist(), is_declared(["fire", None]).tolist()
([('fire',)], [True, False])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layers.schema import POINT_OR_POLYGON, Choice, Field, LayerSchema

if TYPE_CHECKING:  # imported where used: the catalogue is read by every command line, pandas is 0.25 s
    import numpy as np
    import pandas as pd

__all__ = ["CLASSES", "HAZARDS", "DEFAULT_HAZARDS", "SCHEMA", "shelter_hazards", "is_declared"]

CLASSES = (
    Choice("emergency", "紧急避难场所", "emergency shelter"),
    Choice("fixed_short", "短期固定避难场所", "fixed shelter, short term"),
    Choice("fixed_medium", "中期固定避难场所", "fixed shelter, medium term"),
    Choice("fixed_long", "长期固定避难场所", "fixed shelter, long term"),
    Choice("central", "中心避难场所", "central shelter"),
)
#: The hazards a shelter may be declared fit for.
HAZARDS = (
    Choice("earthquake", "地震", "earthquake"),
    Choice("fire", "火灾", "fire"),
    Choice("chemical", "危化品泄漏", "chemical release"),
    Choice("flood", "洪涝", "flood"),
)
#: What a shelter with no declared ``hazards`` is taken to be fit for (team's choice, see above).
DEFAULT_HAZARDS: tuple[str, ...] = ("earthquake", "fire")

HAZARDS_FIELD = Field("hazards", "str", "适用灾种", "hazards it is fit for", choices=HAZARDS, multiple=True,
                      public=True)

SCHEMA = LayerSchema(
    name="shelters",
    zh="应急避难场所",
    en="Emergency shelters",
    id_field="shelter_id",
    geometry_types=POINT_OR_POLYGON,
    public_layer=True,
    fields=(
        Field("shelter_id", "str", "场所编号", "shelter id", required=True, public=True),
        Field("name", "str", "名称", "name", public=True),
        Field("class", "str", "类别", "class", required=True, choices=CLASSES, public=True),
        Field("effective_area_m2", "float", "有效避难面积(m²)", "effective area (m²)", required=True,
              minimum=0, maximum=100_000_000, public=True),
        Field("capacity", "int", "可容纳人数", "capacity (persons)", minimum=0, maximum=10_000_000, public=True),
        HAZARDS_FIELD,
        Field("address", "str", "地址", "address", public=True),
        Field("town", "str", "所属镇街代码", "town code", public=True),
        Field("generated", "bool", "演示生成数据", "generated demo data", default=False, public=True),
    ),
)


def is_declared(values) -> np.ndarray:
    """Whether each ``hazards`` value declares at least one hazard (else the default applies)."""
    import numpy as np
    import pandas as pd

    return np.array([bool(HAZARDS_FIELD.split(v)) for v in pd.Series(values, dtype=object)], dtype=bool)


def shelter_hazards(values, declared_only: bool = False) -> pd.Series:
    """The hazards of each shelter, as tuples of codes: the declared ones, else :data:`DEFAULT_HAZARDS`.

    Parameters
    ----------
    values : sequence or Series
        The ``hazards`` column (codes joined by commas, as validated).
    declared_only : bool
        Give an empty tuple instead of the default where nothing is declared.
    """
    import pandas as pd

    values = pd.Series(values, dtype=object)
    fallback = () if declared_only else DEFAULT_HAZARDS
    return values.map(lambda v: HAZARDS_FIELD.split(v) or fallback)
