"""Media lists in the desk: the lists and their journalists, adding, removing, CSV import, each release's report.

The rules are mail.medialists' and mail.distribution's own (the same functions `newsroom lists` and
`newsroom distribution report` call). Anyone signed in sees the lists and reports; changing a list takes the
approver role, because it decides who gets embargoed releases; full addresses are shown to administrators only
(others see 'a…@paper.fi'), so a list of personal data is not on every writer's screen.
"""

from __future__ import annotations

import io
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from newsroom.core.i18n import N_
from newsroom.core.text import split_list
from newsroom.desk.web import Context, Desk, Refused, page
from newsroom.mail import distribution, medialists, store
from newsroom.mail.addresses import SubscriberError, masked
from newsroom.mail.medialists import Entry, ListError
from newsroom.mail.subscribers import address_hash

MAX_CSV = 5 * 1024 * 1024
EDITOR = "approver"
ERASE_MESSAGES = {
    "confirm": N_("Tick the box to confirm: an erasure cannot be undone."),
    "unknown": N_("No journalist with this address is on a list or in a delivery report; nothing was erased."),
}


def routes(desk: Desk) -> list[Route]:
    def connect() -> sqlite3.Connection:
        return store.connect(store.db_path(desk.settings))

    def shown(ctx: Context):
        if ctx.user.may("admin"):
            return lambda address: address
        return lambda address: masked(address) if "@" in address else address  # an erased one shows no address

    def render_list(ctx: Context, name: str, status: int = 200, **extra) -> Response:
        conn = connect()
        try:
            if name not in medialists.names(conn):
                raise Refused(404, "no-list")
            members = medialists.members(conn, name)
        finally:
            conn.close()
        return ctx.render(
            "list.html", status=status, name=name, members=members, address=shown(ctx), **{"problems": [], **extra}
        )

    def index(
        ctx: Context, status: int = 200, error: str | None = None, values: dict | None = None, **extra
    ) -> Response:
        conn = connect()
        try:
            known = medialists.names(conn)
        finally:
            conn.close()
        return ctx.render("lists.html", status=status, lists=known, error=error, values=values or {}, **extra)

    async def lists_page(ctx: Context) -> Response:
        return index(ctx)

    async def list_page(ctx: Context) -> Response:
        return render_list(ctx, ctx.request.path_params["name"], notice=ctx.query("done"))

    async def add(ctx: Context) -> Response:
        form = ctx.form
        assert form is not None
        values = {k: str(form.get(k, "")).strip() for k in ("list", "email", "name", "outlet", "beats")}
        name = values["list"]
        try:
            medialists.check_name(name)
            entry = Entry.checked(
                values["email"],
                values["name"],
                values["outlet"],
                [str(v) for v in form.getlist("languages")],
                split_list(values["beats"]),
                desk.langs,
            )
            conn = connect()
            try:
                new = medialists.add(conn, name, entry, desk.wall())
            finally:
                conn.close()
        except (ListError, SubscriberError) as exc:
            return index(ctx, 422, str(exc), values)
        ctx.log("added to media list" if new else "updated on media list", f"{name}: {masked(entry.email)}")
        return RedirectResponse(f"/lists/{name}?done={'added' if new else 'updated'}", status_code=303)

    async def remove(ctx: Context) -> Response:
        form = ctx.form
        assert form is not None
        name, number = str(form.get("list", "")), str(form.get("journalist", ""))
        conn = connect()
        try:
            journalist = medialists.get(conn, int(number)) if number.isdigit() else None
            if journalist is None or not medialists.remove(conn, name, journalist.email):
                raise Refused(404, "no-member")
        finally:
            conn.close()
        ctx.log("removed from media list", f"{name}: {masked(journalist.email)}")
        return RedirectResponse(f"/lists/{name}?done=removed", status_code=303)

    async def import_page(ctx: Context) -> Response:
        form = ctx.form
        assert form is not None
        name, upload = str(form.get("list", "")).strip(), form.get("file")
        data = await upload.read(MAX_CSV + 1) if isinstance(upload, UploadFile) else b""
        try:
            medialists.check_name(name)
            if not data:
                raise ListError("choose a CSV file to import")
            if len(data) > MAX_CSV:
                raise Refused(413, "too-large")
            filename = Path(upload.filename or "").name if isinstance(upload, UploadFile) else ""
            with tempfile.TemporaryDirectory() as scratch:
                path = Path(scratch) / (filename or "import.csv")
                path.write_bytes(data)
                conn = connect()
                try:
                    report = medialists.import_csv(conn, name, path, desk.langs, desk.wall())
                except UnicodeDecodeError:
                    raise ListError(f"{path.name}: is not UTF-8 text; save the sheet as CSV UTF-8") from None
                except SubscriberError as exc:
                    raise ListError(str(exc).replace(f"{scratch}/", "")) from None
                finally:
                    conn.close()
                # The messages name the uploaded file, not the scratch folder it was read from.
                problems = [p.replace(f"{scratch}/", "") for p in report.problems]
        except (ListError, SubscriberError) as exc:
            return index(ctx, 422, str(exc), {"list": name})
        ctx.log(
            "imported to media list",
            f"{name}: {report.added} added, {report.existing} updated, {len(problems)} rows skipped",
        )
        return render_list(ctx, name, status=422 if problems else 200, problems=problems, imported=report)

    async def erase(ctx: Context) -> Response:
        """A journalist's erasure on request, with mail.medialists.erase as `newsroom lists erase` runs it."""
        form = ctx.form
        assert form is not None
        address = str(form.get("email", "")).strip()
        if form.get("confirm") != "yes":
            return index(ctx, 422, erase_error=ctx._(ERASE_MESSAGES["confirm"]), erase_value=address)
        conn = connect()
        try:
            done = medialists.erase(conn, address, desk.wall())
        except SubscriberError as exc:
            return index(ctx, 422, erase_error=str(exc), erase_value=address)
        finally:
            conn.close()
        if not done.found:
            return index(ctx, 404, erase_error=ctx._(ERASE_MESSAGES["unknown"]), erase_value=address)
        # The log names the address by its hash only: an erased address must not live on in the desk's log.
        detail = f"address hash {address_hash(address)[:12]}: off {done.lists} list(s), {done.deliveries} deliveries"
        ctx.log("erased a journalist on request", detail)
        return index(ctx, erased=done)

    async def export(ctx: Context) -> Response:
        """The list as `newsroom lists export` writes it (mail.medialists.export_csv): full addresses, so admins only."""
        name = ctx.request.path_params["name"]
        out = io.StringIO()
        conn = connect()
        try:
            if name not in medialists.names(conn):
                raise Refused(404, "no-list")
            count = medialists.export_csv(conn, name, out)
        finally:
            conn.close()
        ctx.log("exported media list", f"{name}: {count} journalist(s)")
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}.csv"'},
        )

    async def report_page(ctx: Context) -> Response:
        release_id = ctx.request.path_params["release"]
        conn = connect()
        try:
            lines = distribution.report(conn, release_id)
        finally:
            conn.close()
        groups: dict[tuple[str, str], list[distribution.Line]] = {}
        for line in lines:
            groups.setdefault((line.kind, line.list_name), []).append(line)
        totals = {key: sorted(Counter(x.state for x in group).items()) for key, group in groups.items()}
        return ctx.render(
            "list_report.html",
            release_id=release_id,
            groups=groups,
            totals=totals,
            advance=distribution.ADVANCE,
            address=shown(ctx),
        )

    return [
        Route("/lists", page(desk)(lists_page), methods=["GET"]),
        Route("/lists/add", page(desk, EDITOR)(add), methods=["POST"]),
        Route("/lists/remove", page(desk, EDITOR)(remove), methods=["POST"]),
        Route("/lists/import", page(desk, EDITOR)(import_page), methods=["POST"]),
        Route("/lists/erase", page(desk, EDITOR)(erase), methods=["POST"]),
        Route("/lists/{name:str}/export", page(desk, "admin")(export), methods=["GET"]),
        Route("/lists/report/{release:str}", page(desk)(report_page), methods=["GET"]),
        Route("/lists/{name:str}", page(desk)(list_page), methods=["GET"]),
    ]
