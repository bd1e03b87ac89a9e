"""Hazardous-chemical sites (危险化学品场所) with their substance inventories.

``inventory`` is a JSON list of items, kept as text so every format can carry it::

    [{"name": "丙烯腈", "cas": "107-13-1", "quantity_t": 30},
     {"name": "丙烯酸甲酯", "cas": "96-33-3", "quantity_t": 12, "ghs": "flammable_liquid_2"}]

``quantity_t`` is the design maximum quantity in tonnes (GB 18218-2018 §4.2.2). Each item must be
a substance named in GB 18218-2018 Table 1 (matched by CAS, else by Chinese or English name or
alias) or declare its hazard category of Table 2 as ``ghs`` (a key such as
``"flammable_liquid_2"`` or the symbol ``"W5.3"``; a list for several): the import refuses any
other item, naming the site, the item and the valid categories (:mod:`layers.substances`). A
mixture is out of scope: declare its category under a name and CAS that are not Table 1's. The
inventory is confidential: it never leaves the server without a credential.
"""

from layers.schema import POINT_OR_POLYGON, Field, LayerSchema

#: Largest quantity of one substance an inventory may declare (t). The largest storage sites hold a
#: few million tonnes; anything above this is a typing or unit error, and a bound keeps absurd
#: numbers (1e308) out of the consequence formulas.
MAX_INVENTORY_T = 10_000_000.0

SCHEMA = LayerSchema(
    name="hazard_sites",
    zh="危险化学品场所",
    en="Hazardous-chemical sites",
    id_field="site_id",
    geometry_types=POINT_OR_POLYGON,
    public_layer=False,
    fields=(
        Field("site_id", "str", "场所编号", "site id", required=True),
        Field("plot_id", "str", "所在地块", "plot id"),
        Field("name", "str", "名称", "name"),
        Field("inventory", "json", "危险化学品及数量", "substances (name, CAS or GHS category) and quantities (t)",
              required=True),
        Field("major_hazard_grade", "int", "重大危险源等级(0无)", "major hazard source grade (0 none)",
              minimum=0, maximum=4, default=0),
        Field("processes", "str", "危险化工工艺", "hazardous processes (comma separated)"),
        Field("declared_distance_m", "float", "已评估外部安全防护距离(m)",
              "assessed external safety distance (m)", minimum=0, maximum=100_000),
        Field("people_500m", "int", "厂界外500m内人数", "people within 500 m of the fence", minimum=0,
              maximum=1_000_000),
        Field("generated", "bool", "演示生成数据", "generated demo data", default=False),
    ),
)
