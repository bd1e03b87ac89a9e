"""Protected targets (防护目标) and their GB 36894-2018 classes.

GB 36894-2018 §4 groups protected targets into high-sensitivity (高敏感: schools, hospitals,
kindergartens, care homes, prisons), important (重要: military, cultural relics) and general
class I/II/III (一般防护目标一/二/三类, by number of people: ≥ 100, 30–100, < 30).
"""

from layers.schema import POINT_OR_POLYGON, Choice, Field, LayerSchema

KINDS = (
    Choice("school", "学校", "school"),
    Choice("kindergarten", "幼儿园", "kindergarten"),
    Choice("hospital", "医院", "hospital"),
    Choice("care_home", "养老院/福利院", "care home"),
    Choice("prison", "监狱/看守所", "prison"),
    Choice("residential", "居住区", "residential area"),
    Choice("crowded_place", "人员密集场所", "crowded place"),
    Choice("labour_intensive", "劳动密集型企业", "labour-intensive works"),
    Choice("office", "办公场所", "office"),
    Choice("cultural_relic", "文物保护单位", "cultural relic"),
    Choice("military", "军事设施", "military installation"),
    Choice("other", "其他", "other"),
)
GB36894_CLASSES = (
    Choice("high_sensitivity", "高敏感防护目标", "high-sensitivity"),
    Choice("important", "重要防护目标", "important"),
    Choice("general_1", "一般防护目标一类", "general class I"),
    Choice("general_2", "一般防护目标二类", "general class II"),
    Choice("general_3", "一般防护目标三类", "general class III"),
)

SCHEMA = LayerSchema(
    name="protected_targets",
    zh="防护目标",
    en="Protected targets",
    id_field="target_id",
    geometry_types=POINT_OR_POLYGON,
    public_layer=False,
    fields=(
        Field("target_id", "str", "目标编号", "target id", required=True),
        Field("name", "str", "名称", "name"),
        Field("kind", "str", "类型", "kind", required=True, choices=KINDS),
        Field("gb36894_class", "str", "GB 36894 防护目标类别", "GB 36894 class", required=True,
              choices=GB36894_CLASSES),
        Field("population", "int", "人数", "people", minimum=0, maximum=1_000_000, default=0),
        Field("town", "str", "所属镇街代码", "town code"),
        Field("generated", "bool", "演示生成数据", "generated demo data", default=False),
    ),
)
