"""Pages a newcomer can find: the home page at ``/``, the sign-in page, and the way to it.

``/`` answers a browser (``Accept: text/html`` or ``?f=html``) with the home page, which links
the three pages and every town's wall, and answers JSON clients (and GDAL) with the OGC API
landing page, unchanged. A browser opening a wall without a session is sent to
``/login?next=<the wall>``; an API client gets the 401 (or 403) JSON. ``next`` is always a
local path, so no link can make the sign-in page send a browser to another site.
"""

from __future__ import annotations

import re
import warnings
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given, strategies as st

from server.pages.session import safe_next
from server_common import PLANNER, SECRET_MARKERS, TOWN_EAST, TOWN_WEST

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

#: What Chromium sends when it opens a page.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"}
TOWN = {"Authorization": "Bearer town-token-1234"}  # town_editor of TOWN_WEST
WALL = f"/towns/{TOWN_WEST}/wall"
#: ``next`` values that would leave this server if taken as they are.
BAD_NEXT = ["//evil.com", "https://evil.com", "/\\evil", "/\\\\evil.com", "\\\\evil.com", "/\t/evil.com",
            "/\n/evil.com", " //evil.com", "javascript:alert(1)", "evil.com/x", "http:/evil.com", "", "/" + "a" * 3000]


@pytest.fixture
def browser(app):
    """A fresh client (its own cookie jar) over the session's app."""
    with TestClient(app) as c:
        yield c


def hidden_next(html: str) -> str:
    found = re.search(r'<input type="hidden" name="next" value="([^"]*)">', html)
    assert found, "the sign-in form carries next"
    return found.group(1)


# ------------------------------------------------------------------ the home page
@pytest.mark.parametrize("url, headers", [("/", BROWSER), ("/?f=html", {})])
def test_the_home_page_links_the_three_pages_every_wall_and_sign_in(client, url, headers):
    r = client.get(url, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    links = re.findall(r'<a href="([^"]+)">', r.text)
    assert {"/map", "/public/shelters", "/login?next=%2Fmap", f"/towns/{TOWN_WEST}/wall",
            f"/towns/{TOWN_EAST}/wall"} <= set(links)
    assert {"http://testserver/collections", "http://testserver/conformance"} <= set(links)  # then the API
    # each wall: the town's Chinese name is the link, its code follows; under the district's name
    walls = re.findall(r'<li><a href="/towns/(\d+)/wall">([^<]+)</a> <span class="en">(\d+)</span></li>', r.text)
    assert walls == [(TOWN_WEST, "西镇", TOWN_WEST), (TOWN_EAST, "东镇", TOWN_EAST)]
    assert r.text.index("武进区") < r.text.index("西镇")
    for words in ("规划风险地图", "Planner map", "镇街四色安全风险墙", "应急避难场所查询", "访问令牌", "session cookie"):
        assert words in r.text
    assert not any(marker in r.text for marker in SECRET_MARKERS)


@pytest.mark.parametrize("headers", [{}, {"Accept": "application/json"}, {"Accept": "*/*"},
                                     {"Accept": "application/json, text/html;q=0.5"}])
def test_json_clients_still_get_the_ogc_landing_page(client, headers):
    r = client.get("/", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    doc = r.json()
    assert set(doc) == {"title", "description", "links"}
    rels = {link["rel"] for link in doc["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= rels
    assert next(link for link in doc["links"] if link["rel"] == "data")["href"] == "http://testserver/collections"


# ------------------------------------------------------------------ a wall without a session
def test_a_browser_without_a_session_is_sent_to_sign_in_and_back(browser):
    r = browser.get(WALL, headers=BROWSER, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Ftowns%2F320412001%2Fwall"
    assert "Accept" in r.headers["vary"] and r.headers["cache-control"] == "no-store"
    form = browser.get(r.headers["location"], headers=BROWSER)
    assert form.status_code == 200 and hidden_next(form.text) == WALL
    signed = browser.post("/login", data={"token": "town-token-1234", "next": hidden_next(form.text)},
                          follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == WALL
    wall = browser.get(WALL, headers=BROWSER)
    assert wall.status_code == 200 and "西镇四色安全风险墙" in wall.text


@pytest.mark.parametrize("headers", [{}, {"Accept": "application/json"}, {"Accept": "*/*"},
                                     {"Accept": "application/json, text/html"}])
def test_api_clients_without_a_credential_still_get_the_401(client, headers):
    r = client.get(WALL, headers=headers, follow_redirects=False)
    assert r.status_code == 401 and r.headers["content-type"] == "application/json"
    assert r.json()["code"] == "AccessDenied" and "/login?next=" in r.json()["description"]
    assert r.headers["www-authenticate"].startswith("Bearer") and "Accept" in r.headers["vary"]


def test_a_token_of_another_town_is_a_403_for_browsers_too(client):
    for headers in (TOWN, {**TOWN, **BROWSER}):
        r = client.get(f"/towns/{TOWN_EAST}/wall", headers=headers, follow_redirects=False)
        assert r.status_code == 403 and r.json()["code"] == "Forbidden"


def test_only_page_refusals_redirect_not_the_api(client):
    """A private collection asked for in HTML is not redirected to sign in: the API takes no session
    cookie, so a browser sent to sign in would only come back to the same refusal (a 404, the answer
    a private layer gives to callers who may not see it, as an unknown one does)."""
    r = client.get("/collections/hazard_sites/items", headers=BROWSER, follow_redirects=False)
    assert r.status_code == 404 and "location" not in r.headers
    assert client.get("/map", headers=BROWSER, follow_redirects=False).status_code == 200  # open to all


# ------------------------------------------------------------------ next is a local path
@pytest.mark.parametrize("bad", BAD_NEXT, ids=repr)
def test_a_next_that_leaves_the_server_is_replaced_everywhere(browser, bad):
    assert hidden_next(browser.get("/login", params={"next": bad}).text) == "/map"
    form = browser.post("/login", data={"token": "planner-token-123", "next": bad}, follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"] == "/map"
    as_json = browser.post("/login", json={"token": "planner-token-123", "next": bad})
    assert as_json.json()["next"] == "/map"
    out = browser.post("/logout", params={"next": bad}, follow_redirects=False)
    assert out.headers["location"] == "/public/shelters"


@pytest.mark.parametrize("good", [WALL, "/map?lon=119.95&lat=31.73&z=14", "/public/shelters", "/"])
def test_a_local_next_is_kept(browser, good):
    assert hidden_next(browser.get("/login", params={"next": good}).text) == good.replace("&", "&amp;")
    r = browser.post("/login", data={"token": "planner-token-123", "next": good}, follow_redirects=False)
    assert r.headers["location"] == good


@given(st.text(max_size=40))
def test_whatever_next_is_given_the_redirect_stays_on_this_host(value):
    kept = safe_next(value)
    assert kept == "/map" or kept == value
    target = urlsplit(urljoin("https://riskmap.example.cn/login", kept))
    assert (target.scheme, target.netloc) == ("https", "riskmap.example.cn"), kept
    assert not any(c == "\\" or c.isspace() or ord(c) < 0x20 for c in kept)


@given(st.lists(st.text(alphabet="abcxyz0123456789-_.~%镇", min_size=1, max_size=8), min_size=1, max_size=4))
def test_every_plain_local_path_is_kept(segments):
    path = "/" + "/".join(segments)
    assert safe_next(path) == path


# ------------------------------------------------------------------ the sign-in page explains itself
def test_the_sign_in_page_says_what_a_token_is_who_gives_it_and_that_a_cookie_is_kept(client):
    html = client.get("/login", params={"next": WALL}).text
    for words in ("什么是访问令牌", "管理员", "What is an access token", "administrator",  # what, and who gives it
                  "会话 Cookie", "session cookie", "12 hours",  # the browser keeps a session
                  "/login#token=", WALL):  # the link of a wall screen, and where the form goes on to
        assert words in html, words


def test_a_wrong_token_in_the_form_shows_the_form_again_with_the_error(browser):
    r = browser.post("/login", data={"token": "not-a-token", "next": WALL}, follow_redirects=False)
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
    assert "令牌无效" in r.text and 'class="rm-error"' in r.text and hidden_next(r.text) == WALL
    assert "set-cookie" not in r.headers


def test_the_planner_sees_the_same_home_page(client):
    """The home page holds nothing private, so it is the same for every caller."""
    public = client.get("/", headers=BROWSER).text
    assert client.get("/", headers={**BROWSER, **PLANNER}).text == public

