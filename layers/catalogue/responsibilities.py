"""Responsibilities (包保责任): the named person and unit answering for a plot, and its control measures.

The seeds' towns name, for every plot on the wall, a responsible person (包保责任人) and unit and
the control measures (管控措施) that go with its colour; the town's responsibility list (责任清单)
is these records. Contacts are confidential.
"""

from layers.schema import PUNCTUAL, Field, LayerSchema

SCHEMA = LayerSchema(
    name="responsibilities",
    zh="包保责任",
    en="Responsibilities",
    id_field="responsibility_id",
    geometry_types=PUNCTUAL,
    public_layer=False,
    fields=(
        Field("responsibility_id", "str", "责任编号", "responsibility id", required=True),
        Field("plot_id", "str", "所在地块", "plot id", required=True),
        Field("town", "str", "所属镇街代码", "town code", required=True),
        Field("person", "str", "包保责任人", "responsible person", required=True),
        Field("unit", "str", "责任单位", "unit", required=True),
        Field("phone", "str", "联系电话", "phone"),
        Field("measures", "str", "管控措施", "control measures"),
    ),
)
