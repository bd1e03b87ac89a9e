"""Inspections (安全检查) of industrial plots: who looked, when, what was found, dangers raised.

一张网、全过程记录: every inspection is a record, so a plot's last inspection and whether the
next one is overdue (its interval follows colour and supervision grade, ``[inspections]`` of the
rule set, :mod:`zoning.wall.inspections`) come from the records. Confidential like the dangers.
"""

from layers.schema import PUNCTUAL, Field, LayerSchema

SCHEMA = LayerSchema(
    name="inspections",
    zh="安全检查记录",
    en="Inspections",
    id_field="inspection_id",
    geometry_types=PUNCTUAL,
    public_layer=False,
    fields=(
        Field("inspection_id", "str", "检查编号", "inspection id", required=True),
        Field("plot_id", "str", "所在地块", "plot id", required=True),
        Field("town", "str", "所属镇街代码", "town code", required=True),
        Field("inspected_on", "date", "检查日期", "date", required=True),
        Field("inspector", "str", "检查人", "inspector", required=True),
        Field("findings", "str", "检查发现", "findings"),
        Field("dangers_raised", "str", "发现隐患编号", "dangers raised (ids, comma separated)"),
    ),
)
