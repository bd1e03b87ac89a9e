"""Industrial plots (工业地块): the unit of a town's four-colour risk wall (四色安全风险墙).

Fields follow the seeds' town practice (雪堰镇): the counts of risks by level from the
enterprise's risk report (风险报告: 重大/较大/一般/低), rented buildings (出租厂房) and tenants, the
hazard flags of 两重点一重大 and the special hazards (粉尘涉爆, 涉氨制冷, 有限空间, 金属冶炼),
open major hidden dangers (重大隐患) and those under tagged supervision (挂牌督办).
"""

from layers.schema import POLYGONAL, Choice, Field, LayerSchema

LAND_USES = (
    Choice("M1", "一类工业用地", "class 1 industrial"),
    Choice("M2", "二类工业用地", "class 2 industrial"),
    Choice("M3", "三类工业用地", "class 3 industrial"),
    Choice("W", "物流仓储用地", "logistics and warehousing"),
    Choice("other", "其他", "other"),
)
SUPERVISION = (
    Choice("A", "A类(重点监管)", "A (closest supervision)"),
    Choice("B", "B类", "B"),
    Choice("C", "C类", "C"),
    Choice("D", "D类", "D (lightest supervision)"),
)


def _count(name: str, zh: str, en: str, public: bool = False) -> Field:
    return Field(name, "int", zh, en, minimum=0, maximum=1_000_000, default=0, public=public)


def _flag(name: str, zh: str, en: str) -> Field:
    return Field(name, "bool", zh, en, default=False)


SCHEMA = LayerSchema(
    name="industrial_plots",
    zh="工业地块",
    en="Industrial plots",
    id_field="plot_id",
    geometry_types=POLYGONAL,
    public_layer=False,
    description=("Not public as a layer: the public sees plots only through the derived risk wall, "
                 "and there only those graded 较大 and above, by colour and a plain notice "
                 "(公示较大以上安全风险)."),
    fields=(
        Field("plot_id", "str", "地块编号", "plot id", required=True, public=True),
        Field("town", "str", "所属镇街代码", "town code", required=True, public=True),
        Field("enterprise", "str", "企业名称", "enterprise"),
        Field("contact", "str", "联系人及电话", "contact"),
        Field("land_use", "str", "用地性质", "land use", choices=LAND_USES, default="M2"),
        _count("risk_major", "重大风险数", "major risks in the risk report"),
        _count("risk_large", "较大风险数", "large risks in the risk report"),
        _count("risk_general", "一般风险数", "general risks in the risk report"),
        _count("risk_low", "低风险数", "low risks in the risk report"),
        _count("rented_buildings", "出租厂房数", "rented buildings"),
        _count("tenants", "承租企业数", "tenant enterprises"),
        _count("workers", "从业人数", "workers"),
        _flag("key_process", "重点监管危险化工工艺", "key-supervised hazardous process"),
        _flag("key_chemical", "重点监管危险化学品", "key-supervised hazardous chemical"),
        Field("major_hazard_grade", "int", "重大危险源等级(0无)", "major hazard source grade (0 none)",
              minimum=0, maximum=4, default=0),
        _flag("dust_explosion", "粉尘涉爆", "combustible dust"),
        _count("dust_workers", "粉尘作业人数", "workers in the dust area"),
        _flag("ammonia_refrigeration", "涉氨制冷", "ammonia refrigeration"),
        _flag("confined_space", "有限空间作业", "confined-space work"),
        _flag("metal_smelting", "金属冶炼(熔融金属)", "molten metal / smelting"),
        _count("open_major_dangers", "未整改重大隐患数", "open major hidden dangers"),
        _count("tagged_dangers", "挂牌督办重大隐患数", "major hidden dangers under tagged supervision"),
        Field("supervision_grade", "str", "监管等级", "supervision grade", choices=SUPERVISION),
        Field("last_inspection", "date", "最近检查日期", "last inspection"),
        Field("generated", "bool", "演示生成数据", "generated demo data", default=False, public=True),
    ),
)
