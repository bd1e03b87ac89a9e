"""Administrative areas (行政区划): districts, towns/streets (镇/街道) and grid cells (网格).

A grid (网格, level ``grid``) subdivides a town (its ``parent``) and names its grid officer
(网格员, ``officer``), who walks it; the officer's phone is for the town's office, not the
public. Which grid a plot is in is computed from the polygons (:mod:`zoning.wall.grids`).
"""

from layers.schema import POLYGONAL, Choice, Field, LayerSchema

LEVELS = (
    Choice("city", "市", "city"),
    Choice("district", "区/县级市", "district"),
    Choice("town", "镇/街道", "town or street"),
    Choice("grid", "网格", "grid cell"),
)

SCHEMA = LayerSchema(
    name="admin_areas",
    zh="行政区划",
    en="Administrative areas",
    id_field="code",
    geometry_types=POLYGONAL,
    public_layer=True,
    fields=(
        Field("code", "str", "区划代码", "area code", required=True, public=True),
        Field("name", "str", "名称", "name", required=True, public=True),
        Field("level", "str", "级别", "level", required=True, choices=LEVELS, public=True),
        Field("parent", "str", "上级代码", "parent code", public=True),
        Field("officer", "str", "网格员", "grid officer", public=True),
        Field("officer_phone", "str", "网格员电话", "grid officer's phone"),
        Field("source", "str", "数据来源", "data source", public=True),
    ),
)
