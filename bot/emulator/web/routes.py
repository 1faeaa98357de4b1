"""The browser view's HTTP routes: the page at `/`, the change counter page.js polls, the
static files, and the forms (act, react, say, submit, close).

Forms answer JSON to page.js (`Accept: application/json`) and a redirect back to the page
otherwise, so every control also works without JavaScript. A form posted from another site
is refused: the page acts as any emulated person, and a page elsewhere must not click
Confirm on a quarantine through someone's browser.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.emulator.sender import SlackSender
from bot.emulator.web import interact
from bot.emulator.web.emulated import Browsable
from bot.emulator.web.page import PageData
from bot.emulator.web.shell import document
from bot.emulator.web.snapshot import page_data, version, viewer_of
from bot.emulator.web.state import WebState
from bot.emulator.web.viewer import Viewer

STATIC = {"page.css": "text/css; charset=utf-8", "page.js": "text/javascript; charset=utf-8"}
# Nothing is loaded from elsewhere and no inline script or style runs: even if some text
# escaped the renderer, it could not execute.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
NOT_THERE = "That message or control is not there any more; nothing was sent."
MAX_FORM_BYTES = 64_000  # a modal's inputs at Slack's limits fit many times over
Form = dict[str, list[str]]
Handler = Callable[[Request, Form, Viewer], Awaitable[None]]


def _static_files() -> dict[str, bytes]:
    folder = resources.files(__package__).joinpath("static")
    return {name: folder.joinpath(name).read_bytes() for name in STATIC}


def _cross_site(request: Request) -> bool:
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc != request.headers.get("host")


def _back(value: object) -> str:
    """Where to send a browser without JavaScript after a form: only a path on this server."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
        return value if "\\" not in value else "/"
    return "/"


def _visible(emu: Browsable, viewer: Viewer, channel: str) -> bool:
    """A channel, or the viewer's own DM: never somebody else's."""
    return channel in viewer.channels or channel == emu.dm_channel(viewer.user_id)


def web_routes(emu: Browsable) -> list[Route]:
    """The routes, bound to one emulator; each emulator has its own view state."""
    state = WebState()
    files = _static_files()

    def data_for(request: Request) -> PageData:
        q = request.query_params
        return page_data(emu, state, user=q.get("as"), channel=q.get("c"), thread=q.get("t"))

    async def index(request: Request) -> Response:
        return HTMLResponse(document(data_for(request)), headers=SECURITY_HEADERS)

    async def changes(request: Request) -> Response:
        return JSONResponse({"v": version(emu, state)}, headers={"Cache-Control": "no-store"})

    async def static(request: Request) -> Response:
        name = str(request.path_params["name"])
        if name not in files:
            return Response("not found", 404)
        return Response(files[name], media_type=STATIC[name], headers={"Cache-Control": "no-cache"})

    def post(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if _cross_site(request):
                return JSONResponse({"ok": False, "error": "cross-site form refused"}, 403)
            body = await request.body()
            if len(body) > MAX_FORM_BYTES:
                return JSONResponse({"ok": False, "error": "form too large"}, 413)
            # URL-encoded, as browsers and page.js send forms (no multipart: no file uploads).
            form = parse_qs(body.decode(errors="replace"), keep_blank_values=True)
            await handler(request, form, viewer_of(emu, _text(form, "as")))
            if "application/json" in request.headers.get("accept", ""):
                return JSONResponse({"ok": True})
            return RedirectResponse(_back(_text(form, "back")), status_code=303)

        return endpoint

    async def act(request: Request, form: Form, viewer: Viewer) -> None:
        target = _acted_on(emu, viewer, _text(form, "where"))
        loc = _text(form, "el")
        element = interact.find_element(target.blocks, target.attachments, loc) if target else None
        if target is None or element is None:
            state.tell(viewer.user_id, NOT_THERE)
            return
        picks = form.get(f"pick:{loc}", [])
        action = interact.action_of(element[0], element[1], loc, picks, viewer)
        trigger = _trigger_for(viewer.user_id)
        await interact.deliver(
            emu,
            state,
            viewer.user_id,
            str(request.base_url),
            lambda s: interact.message_action(
                s,
                action=action,
                user=viewer.user_id,
                channel=target.channel,
                ts=target.ts,
                trigger_id=trigger,
                ephemeral=target.ephemeral,
            ),
        )

    def _trigger_for(user: str) -> str:
        trigger = emu.issue_trigger_id()
        state.trigger_users[trigger] = user
        return trigger

    async def react(request: Request, form: Form, viewer: Viewer) -> None:
        where, name = _text(form, "where"), _text(form, "react")
        kind, _, rest = where.partition(":")
        channel, _, ts = rest.partition(":")
        message = emu.message(channel, ts) if kind == "m" else None
        if message is None or not _visible(emu, viewer, channel):
            state.tell(viewer.user_id, NOT_THERE)
            return
        if not interact.REACTION_NAME.match(name):
            state.tell(viewer.user_id, f"{name!r} is not an emoji name; nothing was sent.")
            return
        user = viewer.user_id
        present = user not in message.reactions.get(name, [])
        # Slack shows the reaction whatever the app does with the event that follows.
        emu.set_reaction(channel, ts, name, user, present=present)

        def send(sender: SlackSender) -> httpx.Response:
            event = sender.reaction_added if present else sender.reaction_removed
            return event(user, name, channel, ts)

        await interact.deliver(emu, state, user, str(request.base_url), send)

    async def say(request: Request, form: Form, viewer: Viewer) -> None:
        text, channel = _text(form, "text").strip(), _text(form, "c")
        thread = _text(form, "t") or None
        user, base = viewer.user_id, str(request.base_url)
        if not text or not _visible(emu, viewer, channel):
            state.tell(user, NOT_THERE if text else None)
            return
        if text.startswith("/"):
            command, _, args = text.partition(" ")
            trigger = _trigger_for(user)
            await interact.deliver(
                emu,
                state,
                user,
                base,
                lambda s: s.slash_command(command, args.strip(), user, channel, trigger_id=trigger),
            )
            return
        try:
            posted = emu.post_user_message(channel, user, text, thread_ts=thread)
        except KeyError:
            state.tell(user, NOT_THERE)
            return
        await interact.deliver(
            emu,
            state,
            user,
            base,
            lambda s: interact.message_event(
                s, channel=channel, user=user, text=text, ts=posted.ts, thread_ts=posted.thread_ts
            ),
        )

    async def submit(request: Request, form: Form, viewer: Viewer) -> None:
        view = state.open_view(emu.views, emu.view_triggers, viewer.user_id)
        if view is None or str(view.get("id")) != _text(form, "view"):
            state.tell(viewer.user_id, "That dialog is closed; nothing was sent.")
            return
        values, errors = interact.submission_values(view, form, viewer)
        if errors:
            interact.show_errors(state, view, values, errors)
            return
        answer = await interact.deliver(
            emu,
            state,
            viewer.user_id,
            str(request.base_url),
            lambda s: s.view_submission(
                str(view.get("callback_id") or ""),
                values,
                viewer.user_id,
                str(view.get("private_metadata") or ""),
                view=view,
            ),
        )
        if answer is not None:
            interact.apply_answer(state, view, values, answer)

    async def close(request: Request, form: Form, viewer: Viewer) -> None:
        view = state.open_view(emu.views, emu.view_triggers, viewer.user_id)
        if view is not None and str(view.get("id")) == _text(form, "view"):
            state.close(str(view["id"]))

    return [
        Route("/", index, methods=["GET"]),
        # Browsers ask for it on every page: an empty answer instead of a 404 in the console.
        Route("/favicon.ico", lambda request: Response(status_code=204), methods=["GET"]),
        Route("/_web/changes", changes, methods=["GET"]),
        Route("/_web/static/{name}", static, methods=["GET"]),
        Route("/_web/act", post(act), methods=["POST"]),
        Route("/_web/react", post(react), methods=["POST"]),
        Route("/_web/say", post(say), methods=["POST"]),
        Route("/_web/submit", post(submit), methods=["POST"]),
        Route("/_web/close", post(close), methods=["POST"]),
    ]


def _text(form: Form, name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""


@dataclass(frozen=True)
class _Target:
    """The message a control was used on, as the emulator stores it."""

    channel: str
    ts: str
    blocks: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    ephemeral: bool


def _acted_on(emu: Browsable, viewer: Viewer, where: str) -> _Target | None:
    """The message named "m:<channel>:<ts>" or "e:<ephemeral index>", when the viewer can see
    it (an ephemeral has no ts of its own: the time it arrived stands in)."""
    kind, _, rest = where.partition(":")
    if kind == "m":
        channel, _, ts = rest.partition(":")
        message = emu.message(channel, ts)
        if message is None or not _visible(emu, viewer, channel):
            return None
        return _Target(channel, ts, message.blocks, message.attachments, ephemeral=False)
    if kind == "e" and rest.isdigit():
        ephemerals = emu.ephemerals
        index = int(rest)
        if index >= len(ephemerals) or ephemerals[index].user != viewer.user_id:
            return None
        e = ephemerals[index]
        return _Target(e.channel, f"{e.at:.6f}", e.blocks, [], ephemeral=True)
    return None
