"""Emergency shelters (应急避难场所), by the classes of GB 51143-2015 and GB 50413-2007."""

from layers.schema import POINT_OR_POLYGON, Choice, Field, LayerSchema

CLASSES = (
    Choice("emergency", "紧急避难场所", "emergency shelter"),
    Choice("fixed_short", "短期固定避难场所", "fixed shelter, short term"),
    Choice("fixed_medium", "中期固定避难场所", "fixed shelter, medium term"),
    Choice("fixed_long", "长期固定避难场所", "fixed shelter, long term"),
    Choice("central", "中心避难场所", "central shelter"),
)

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
        Field("address", "str", "地址", "address", public=True),
        Field("town", "str", "所属镇街代码", "town code", public=True),
        Field("generated", "bool", "演示生成数据", "generated demo data", default=False, public=True),
    ),
)
