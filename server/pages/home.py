"""The home page: what a newcomer's browser gets at ``/``.

``/`` is also the landing page of OGC API - Features (:mod:`server.features`): a JSON client or
GDAL gets the JSON document as before, a browser (``Accept`` preferring ``text/html``, or
``?f=html``) gets this page. It introduces the three pages, each with a link and who may open it:

* the planner map (``/map``), open to all, showing what the caller may see;
* the town risk walls (``/towns/{code}/wall``), one link per town of ``admin_areas``, Chinese name
  first, grouped under their district; a wall needs the town's token or a planner's, and a
  browser without a session is sent to the sign-in page and back;
* the public shelter finder (``/public/shelters``), no sign-in;

then how to sign in (``/login``) and the API's own links. Everything on it is public (town
names and codes are public fields of ``admin_areas``), so the page is the same for every caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from server.auth import PUBLIC
from server.pages.assets import asset_url
from server.pages.common import esc
from server.pages.layers import town_table
from server.pages.session import MAX_AGE_S, login_link
from server.redaction import Redactor
from server.settings import Settings
from server.source import LayerSource

__all__ = ["render_home", "towns_html"]


def towns_html(source: LayerSource, redactor: Redactor, base: str = "") -> str:
    """Links to every town's wall, Chinese name first, under the name of its district."""
    towns = town_table(source, redactor, PUBLIC)
    if towns.empty:
        return ('<p class="rm-hint">本库尚无镇（街道）区划。<span class="en">The store has no towns yet '
                '(admin_areas of level town).</span></p>')
    infos = source.infos()
    admin = source.frame(redactor.view("admin_areas", PUBLIC), infos["admin_areas"])
    names = dict(zip(admin["code"].astype(str), admin["name"].astype(str)))
    parents = towns["parent"].astype(str) if "parent" in towns else towns["code"].map(lambda _: "")
    out = []
    for parent, group in towns.groupby(parents.to_numpy(), sort=True):
        district = names.get(parent, "")
        items = "".join(
            f'<li><a href="{esc(base)}/towns/{esc(t.code)}/wall">{esc(t.name)}</a> <span class="en">{esc(t.code)}'
            "</span></li>" for t in group.itertuples())
        heading = (f'<h3>{esc(district)} <span class="en">{esc(parent)}</span></h3>' if district else "")
        out.append(f'{heading}<ul class="rm-towns">{items}</ul>')
    return "".join(out)


def render_home(source: LayerSource, redactor: Redactor, settings: Settings, api_links: Iterable[Mapping]) -> str:
    """The HTML of ``/`` (see the module docstring); ``api_links`` are the landing page's links."""
    base = settings.public_url or ""
    css = asset_url(base, "riskmap", "riskmap.css")
    api = "".join(f'<li><a href="{esc(link["href"])}">{esc(link.get("title") or link["rel"])}</a> '
                  f'<span class="en">{esc(link.get("type", ""))}</span></li>' for link in api_links)
    hours = MAX_AGE_S // 3600
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(settings.title)} · 风险地图 Risk maps</title><link rel="stylesheet" href="{esc(css)}"></head>
<body class="rm-doc"><main class="rm-home">
<h1>安全风险地图 <span class="en">Risk maps · {esc(settings.title)}</span></h1>
<p>城市和镇（街道）的四色安全风险分区、镇街风险墙和应急避难场所。<span class="en">Four-colour safety risk zoning,
town risk walls and emergency shelters.</span></p>
<section class="rm-cards">
<div class="rm-card" id="rm-card-map"><h3><a href="{esc(base)}/map">规划风险地图 <span class="en">Planner map</span></a></h3>
<p>四色分区、地块风险墙、危险化学品场所及其外部安全防护距离、防护目标、消防站和避难场所；规划用户可在图上做选址审查。
未登录只显示公开图层。<span class="en">Four-colour zones, plots, hazardous-chemical sites with their safety
buffers, protected targets, fire stations and shelters; planners review a proposed site on the map. Without
signing in, public layers only.</span></p></div>
<div class="rm-card" id="rm-card-walls"><h3><a href="#rm-walls">镇街四色安全风险墙 <span class="en">Town risk walls</span></a></h3>
<p>每个镇（街道）的红、黄、蓝、绿地块数和按颜色排列的地块清单及定级依据，可打印 A3。需登录：本镇街的令牌或规划用户令牌。
<span class="en">Each town's plots by colour, listed with the reasons for their colour, printable on A3. Needs
the town's token or a planner's.</span></p></div>
<div class="rm-card" id="rm-card-shelters"><h3><a href="{esc(base)}/public/shelters">应急避难场所查询
<span class="en">Public shelter finder</span></a></h3>
<p>点击地图或定位，查找最近的应急避难场所、步行距离和容量。无需登录。<span class="en">Tap the map or locate yourself
to find the nearest shelters, the walking distance and their capacity. No sign-in.</span></p></div>
</section>
<section id="rm-walls"><h2>镇街风险墙 <span class="en">Town risk walls</span></h2>
{towns_html(source, redactor, base)}</section>
<section id="rm-sign-in"><h2>登录 <span class="en">Signing in</span></h2>
<p>规划风险地图的内部图层和镇街风险墙需要访问令牌（由运行本系统的管理员发放）。在
<a href="{esc(base + login_link("/map"))}">登录页</a> 输入令牌后，浏览器保存一个会话 Cookie（{hours} 小时内有效），
之后各页面无需再次输入；未登录打开风险墙会先转到登录页，登录后回到该页。
<span class="en">The planner map's internal layers and the town walls need an access token, given out by the
administrator who runs this server. Enter it on the <a href="{esc(base + login_link("/map"))}">sign-in
page</a>: the browser keeps a session cookie for {hours} hours, so the pages open without it again. Opening a
wall without signing in takes you to the sign-in page first, and back to the wall afterwards.</span></p></section>
<section class="rm-api"><h2>数据接口 <span class="en">API (OGC API - Features, tiles)</span></h2><ul>{api}</ul></section>
</main></body></html>"""
