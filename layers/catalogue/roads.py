"""Roads (道路) for travel-time work: class, speed and one-way flag.

The classes are OpenStreetMap's ``highway=*`` values for roads a fire engine can drive (so an OSM
extract maps onto them one to one, :mod:`layers.osm`), with the Chinese road classes they
correspond to. ``oneway`` means: drivable in the direction the line is drawn only (an OSM
``oneway=-1`` way is turned round on import). ``speed_kmh``, where given, is the road's own speed
(from an OSM ``maxspeed``); otherwise the engine uses the speed of the class in the rule set
(``[coverage.speed_kmh]``), which has one for every class here.
"""

from layers.schema import LINEAR, Choice, Field, LayerSchema

CLASSES = (
    Choice("motorway", "高速公路", "motorway"),
    Choice("trunk", "快速路/国道", "trunk"),
    Choice("primary", "主干路", "primary"),
    Choice("secondary", "次干路", "secondary"),
    Choice("tertiary", "支路", "tertiary"),
    Choice("unclassified", "乡村道路/等外路", "minor road (unclassified)"),
    Choice("residential", "街坊路", "residential"),
    Choice("living_street", "生活街道(人车共行)", "living street"),
    Choice("service", "厂区/服务道路", "service"),
    Choice("road", "未分级道路", "road of unknown class"),
    Choice("track", "机耕路/林道", "track"),
    Choice("motorway_link", "高速公路匝道", "motorway link"),
    Choice("trunk_link", "快速路匝道", "trunk link"),
    Choice("primary_link", "主干路连接线", "primary link"),
    Choice("secondary_link", "次干路连接线", "secondary link"),
    Choice("tertiary_link", "支路连接线", "tertiary link"),
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
