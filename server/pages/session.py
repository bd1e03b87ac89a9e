"""Signing in from a browser: a token exchanged once for a session id kept in a cookie.

A browser sends no ``Authorization`` header when it opens a page, loads a map tile or posts from
a page's script, so the pages also accept a session cookie:

* :func:`browser_principal` - the caller of a page: the ``Authorization: Bearer`` header when it
  names a role (API clients, tests), else the ``riskmap_session`` cookie, else public. Roles and
  town scopes are :mod:`server.auth`'s; what each may see is :mod:`server.redaction`'s.
* ``GET /login`` - a form (中文 / English) that says what a token is, who gives it out and that
  the browser keeps a session cookie; ``POST /login`` with a form field or JSON ``token`` (and
  ``next``, a path on this server, :func:`safe_next`): an unknown token is a 401 (the form again
  with the error, or JSON), a revoked or expired one a 401 saying so; a valid one starts a
  **session**: a new random id (:func:`server.accounts.new_session_id`) goes into the cookie, and
  only its SHA-256, the account and the expiry go into the store (``Store.add_session``); the
  answer is ``303 See Other`` to ``next`` (JSON: ``{"role", "town", "towns", "next"}``). The
  cookie never carries the token. A page a browser may not open yet sends it here with ``next``
  (:func:`login_link`, :mod:`server.errors`). A link ``/login#token=…&next=/towns/…/wall`` signs a
  wall screen in: the page's script posts the token from the URL *fragment*, which never reaches
  the server or its logs, and removes it from the address bar.
* ``POST /logout`` - ends the session in the store (the id is worthless from then on, even if
  the cookie was copied) and clears the cookie. Revoking or rotating an account ends all its
  sessions (``riskmap users revoke|rotate``).

The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other site's page makes
the browser send it: this is also the CSRF defence of ``POST /api/siting``), ``Secure`` when the
server is reached over https, and lasts :data:`MAX_AGE_S`, as the session does in the store.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from geo.errors import InputError
from server.accounts import new_session_id, session_digest, utc_now
from server.auth import Principal, TokenAuth
from server.errors import AccessDenied
from server.pages.assets import asset_url
from server.pages.common import esc

__all__ = ["COOKIE", "MAX_AGE_S", "SITING_ROLE", "browser_principal", "safe_next", "login_link",
           "create_session_router", "role_label"]

COOKIE = "riskmap_session"
#: The least role that may review a site (the planner map's siting panel, ``POST /api/siting``).
SITING_ROLE = "planner"
MAX_AGE_S = 12 * 3600
_MAX_BODY = 4096
_MAX_NEXT = 2000
_ROLE_ZH = {"public": "公众", "town_editor": "镇街用户", "planner": "规划用户", "admin": "管理员"}


def browser_principal(auth: TokenAuth, principal):
    """A FastAPI dependency: the caller by header (``principal``), else by the session cookie.

    Parameters
    ----------
    auth : TokenAuth
        Resolves the cookie's session id.
    principal : callable
        The app's header dependency (``Services.principal``).
    """

    def current(request: Request, who: Principal = Depends(principal)) -> Principal:
        if not who.is_public:
            return who
        return auth.session(request.cookies.get(COOKIE)).principal

    return current


def safe_next(value: str | None, default: str = "/map") -> str:
    r"""``value`` if it is a path on this server, else ``default`` (no open redirect).

    A path starts with one ``/`` and holds no backslash, whitespace or control character:
    ``//host`` and ``/\host`` are taken by browsers as another host, and a browser drops tabs
    and newlines from a URL, so ``/<TAB>/host`` would become ``//host``.

    >>> safe_next("/towns/320412015/wall"), safe_next("//evil.example/x"), safe_next("https://x")
    ('/towns/320412015/wall', '/map', '/map')
    >>> safe_next("/\\evil.example"), safe_next("/\t/evil.example"), safe_next(" /map", "/")
    ('/map', '/map', '/')
    """
    if (not value or not value.startswith("/") or value.startswith("//") or len(value) > _MAX_NEXT
            or any(c == "\\" or c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in value)):
        return default
    return value


def login_link(next_path: str) -> str:
    """The sign-in page's URL coming back to ``next_path``.

    >>> login_link("/map")
    '/login?next=%2Fmap'
    """
    return "/login?" + urlencode({"next": next_path})


def role_label(who: Principal) -> str:
    """The caller's role in words, e.g. ``镇街用户 town_editor (320412015)``."""
    town = f" ({', '.join(who.towns)})" if who.towns else ""
    return f"{_ROLE_ZH.get(who.role, who.role)} {who.role}{town}"


def _login_page(next_path: str, base: str, message: str = "") -> str:
    css = asset_url(base, "riskmap", "riskmap.css")
    script = asset_url(base, "riskmap", "riskmap-login.js")
    note = f'<p class="rm-error">{esc(message)}</p>' if message else ""
    hours = MAX_AGE_S // 3600
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录 Sign in · riskmap</title><link rel="stylesheet" href="{esc(css)}"></head>
<body class="rm-doc"><main class="rm-login">
<p class="rm-hint"><a href="{esc(base)}/">首页 <span class="en">Home</span></a></p>
<h1>登录 <span class="en">Sign in</span></h1>
<p>登录后打开 <code>{esc(next_path)}</code>。<span class="en">After signing in you go on to
<code>{esc(next_path)}</code>.</span></p>
{note}<form method="post" action="{esc(base)}/login" id="rm-login-form">
<label>访问令牌 <span class="en">access token</span> <input type="password" name="token" autocomplete="off" required></label>
<input type="hidden" name="next" value="{esc(next_path)}">
<button type="submit" class="rm-primary">登录 <span class="en">Sign in</span></button></form>
<section class="rm-explain">
<h2>什么是访问令牌？ <span class="en">What is an access token?</span></h2>
<p>访问令牌是一串口令，由运行本系统的管理员发放：规划部门用户的令牌可查看全部图层并进行选址审查，镇（街道）安全生产监管部门的令牌可打开本镇街的四色安全风险墙。请勿转发令牌。
<span class="en">An access token is a pass phrase given out by the administrator who runs this server: a
planner's token shows every layer and the siting review; a town safety office's token opens that town's
risk wall. Do not pass it on.</span></p>
<h2>浏览器会记住登录 <span class="en">Your browser keeps you signed in</span></h2>
<p>登录后浏览器保存一个会话 Cookie（{hours} 小时内有效，网页脚本无法读取，只发往本服务器），之后打开地图和风险墙无需再次输入。在公用电脑上用完请点击“退出”。
<span class="en">Signing in stores a session cookie in this browser (valid for {hours} hours, unreadable by page
scripts, sent to this server only), so the map and the walls open without the token again. On a shared
computer, sign out when you are done.</span></p>
<p>风险墙大屏可用链接一次登录：<code>/login#token=令牌&amp;next=/towns/镇街代码/wall</code>（令牌在 # 之后，不会发往服务器或写入日志）。
<span class="en">A wall screen can sign in from one link, <code>/login#token=TOKEN&amp;next=/towns/CODE/wall</code>
(the token after # never reaches the server or its logs).</span></p>
</section>
<p><a href="{esc(base)}/public/shelters">不登录：公众避难场所地图
<span class="en">Without signing in: the public shelter map</span></a></p>
</main><script src="{esc(script)}"></script></body></html>"""


async def _read_login(request: Request) -> tuple[str, str]:
    body = await request.body()
    if len(body) > _MAX_BODY:
        raise InputError(f"login: body too large ({len(body)} bytes; at most {_MAX_BODY})")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"login: body is not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise InputError('login: expected a JSON object {"token": …, "next": …}')
        token, next_path = data.get("token"), data.get("next")
    else:
        fields = parse_qs(body.decode("utf-8", "replace"))
        token, next_path = (fields.get("token") or [None])[0], (fields.get("next") or [None])[0]
    if not isinstance(token, str) or not token.strip():
        raise InputError("login: give the token (form field or JSON member 'token')")
    return token.strip(), safe_next(next_path if isinstance(next_path, str) else None)


def create_session_router(auth: TokenAuth, base: str = "") -> APIRouter:
    """``/login`` and ``/logout`` (see the module docstring)."""
    router = APIRouter(tags=["Pages"])

    @router.get("/login", include_in_schema=False)
    def login_form(next: str | None = None):  # noqa: A002 - the query parameter's name
        return HTMLResponse(_login_page(safe_next(next), base), headers={"Cache-Control": "no-store"})

    @router.post("/login", summary="Sign in a browser: start a session from a token")
    async def login(request: Request):
        token, next_path = await _read_login(request)
        found = auth.resolve(token)
        who = found.principal
        wants_json = request.headers.get("content-type", "").startswith("application/json")
        if who.is_public:
            refused = found.refused or "unknown token 令牌无效; ask your administrator for a valid one"
            if wants_json:
                raise AccessDenied(refused)
            message = (f"令牌已失效。 {found.refused}" if found.refused else
                       "令牌无效，请向管理员索取有效令牌。 Unknown token: ask your administrator for a valid one.")
            return HTMLResponse(_login_page(next_path, base, message), status_code=401,
                                headers={"Cache-Control": "no-store"})
        session_id = new_session_id()
        ends = (utc_now() + dt.timedelta(seconds=MAX_AGE_S)).isoformat(timespec="milliseconds")
        auth.store.add_session(session_digest(session_id), found.key, ends)
        response = (JSONResponse({"role": who.role, "town": who.town, "towns": list(who.towns), "next": next_path})
                    if wants_json else RedirectResponse(f"{base}{next_path}", status_code=303))
        secure = request.url.scheme == "https" or base.startswith("https://")
        response.set_cookie(COOKIE, session_id, max_age=MAX_AGE_S, httponly=True, samesite="strict",
                            secure=secure, path="/")
        response.headers["Cache-Control"] = "no-store"
        return response

    @router.post("/logout", summary="Sign a browser out: end its session and clear the cookie")
    def logout(request: Request, next: str | None = None):  # noqa: A002
        session_id = request.cookies.get(COOKIE)
        if session_id:
            auth.store.end_sessions(id_hash=session_digest(session_id))
        response = RedirectResponse(f"{base}{safe_next(next, '/public/shelters')}", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    return router
