"""Roads (道路) for travel-time work: class, speed and one-way flag."""

from layers.schema import LINEAR, Choice, Field, LayerSchema

CLASSES = (
    Choice("motorway", "高速公路", "motorway"),
    Choice("trunk", "快速路/国道", "trunk"),
    Choice("primary", "主干路", "primary"),
    Choice("secondary", "次干路", "secondary"),
    Choice("tertiary", "支路", "tertiary"),
    Choice("residential", "街坊路", "residential"),
    Choice("service", "厂区/服务道路", "service"),
)

SCHEMA = LayerSchema(
    name="roads",
    zh="道路",
    en="Roads",
    id_field="road_id",
    geometry_types=LINEAR,
    public_layer=True,
    fields=(
        Field("road_id", "str", "道路编号", "road id", required=True, public=True),
        Field("name", "str", "名称", "name", public=True),
        Field("class", "str", "等级", "class", required=True, choices=CLASSES, public=True),
        Field("speed_kmh", "float", "设计车速(km/h)", "speed (km/h)", minimum=0, maximum=150, public=True),
        Field("oneway", "bool", "单行", "one-way", default=False, public=True),
        Field("generated", "bool", "演示生成数据", "generated demo data", default=False, public=True),
    ),
)
