"""Hidden dangers (事故隐患) as records of their own, each linked to an industrial plot.

The seeds' towns close every danger through one loop: found (排查发现) → tagged for supervision
(挂牌督办: level and deadline) → rectified with the five in place (五到位: 责任、措施、资金、时限、
预案 — responsibility, measures, funds, time limit, plan) → verified (验收) → closed (对账销号:
who, when). The steps and which fields each one needs are the engine's
(:mod:`zoning.wall.dangers`); this schema only says what a record holds. Dangers are
confidential: the layer is never public, and the plot's counts of open and tagged major dangers
follow these records.
"""

from layers.schema import PUNCTUAL, Choice, Field, LayerSchema

LEVELS = (
    Choice("major", "重大事故隐患", "major hidden danger"),
    Choice("general", "一般事故隐患", "general hidden danger"),
)
STATUSES = (
    Choice("found", "已发现", "found"),
    Choice("tagged", "挂牌督办", "tagged for supervision"),
    Choice("rectifying", "整改中(五到位)", "being rectified (five in place)"),
    Choice("verified", "已验收", "verified"),
    Choice("closed", "已销号", "closed"),
)
TAG_LEVELS = (
    Choice("city", "市级挂牌", "city"),
    Choice("district", "区级挂牌", "district"),
    Choice("town", "镇级挂牌", "town"),
)


def _text(name: str, zh: str, en: str, required: bool = False) -> Field:
    return Field(name, "str", zh, en, required=required)


SCHEMA = LayerSchema(
    name="hidden_dangers",
    zh="事故隐患",
    en="Hidden dangers",
    id_field="danger_id",
    geometry_types=PUNCTUAL,
    public_layer=False,
    description="Confidential: hidden-danger details never reach the public (DESIGN.md, who sees what).",
    fields=(
        _text("danger_id", "隐患编号", "danger id", required=True),
        _text("plot_id", "所在地块", "plot id", required=True),
        _text("town", "所属镇街代码", "town code", required=True),
        _text("description", "隐患描述", "description", required=True),
        Field("level", "str", "隐患等级", "level", required=True, choices=LEVELS),
        Field("status", "str", "状态", "status", required=True, choices=STATUSES, default="found"),
        Field("found_on", "date", "发现日期", "found on", required=True),
        _text("found_by", "发现人", "found by"),
        Field("tag_level", "str", "挂牌级别", "tagged by (level)", choices=TAG_LEVELS),
        Field("deadline", "date", "整改期限", "deadline"),
        _text("responsible", "整改责任人(责任)", "responsible person (responsibility)"),
        _text("measures", "整改措施(措施)", "measures"),
        Field("funds_wan", "float", "整改资金(万元)(资金)", "funds (10k CNY)", minimum=0, maximum=1_000_000),
        Field("time_limit", "date", "整改时限(时限)", "time limit"),
        _text("plan", "应急预案(预案)", "contingency plan"),
        Field("verified_on", "date", "验收日期", "verified on"),
        _text("verified_by", "验收人", "verified by"),
        Field("closed_on", "date", "销号日期", "closed on"),
        _text("closed_by", "销号人", "closed by"),
    ),
)
