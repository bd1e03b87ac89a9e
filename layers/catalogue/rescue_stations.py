"""Fire and rescue stations (消防救援站), by the classes of 建标152-2017 and GB 51080-2015."""

from layers.schema import PUNCTUAL, Choice, Field, LayerSchema

KINDS = (
    Choice("special_service", "特勤消防站", "special-service station"),
    Choice("standard_1", "一级普通消防站", "class 1 standard station"),
    Choice("standard_2", "二级普通消防站", "class 2 standard station"),
    Choice("small", "小型普通消防站", "small station"),
    Choice("micro", "微型消防站", "micro fire station"),
    Choice("professional_team", "专职救援队", "professional rescue team"),
)

SCHEMA = LayerSchema(
    name="rescue_stations",
    zh="消防救援站",
    en="Fire and rescue stations",
    id_field="station_id",
    geometry_types=PUNCTUAL,
    public_layer=True,
    fields=(
        Field("station_id", "str", "站点编号", "station id", required=True, public=True),
        Field("name", "str", "名称", "name", public=True),
        Field("kind", "str", "类型", "kind", required=True, choices=KINDS, public=True),
        Field("vehicles", "int", "消防车辆数", "vehicles", minimum=0, maximum=1_000, default=0),
        Field("staff", "int", "人员数", "staff", minimum=0, maximum=100_000, default=0),
        Field("town", "str", "所属镇街代码", "town code", public=True),
        Field("generated", "bool", "演示生成数据", "generated demo data", default=False, public=True),
    ),
)
