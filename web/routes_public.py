"""The public transparency page and its open data (issue 17).

`/transparansi` lists every unit's IKM, grade, respondents and complaints for a period the
citizen picks (a GET form; the last complete quarter first); `/transparansi/{code}` shows a
unit's detail: the nine elements, a 12-month trend drawn as an inline SVG on the server, the
follow-up plan and the complaints by category. `/data/ikm.csv|json` and
`/data/pengaduan.csv|json` (`?periode=2026`, `2026-S2`, `2026-Q3`; all periods without it)
are the same figures as open data under CC BY 4.0 (`/data/LISENSI.txt`), and
`/open311/v2/services.json` lists the units' services and the complaint categories.
Individual requests are not published (`/open311/v2/requests.json` answers 404 saying why).

Everything here reads the snapshot of core.transparency (refreshed by the scheduler every
PUBLIC_CACHE_SECONDS), never the records; the first request without a snapshot computes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlmodel import Session

from conversations.i18n import t as bot_t
from core.cases.categories import category_label
from core.transparency.opendata import DATASETS, as_csv, as_json, dataset_rows, licence_text
from core.transparency.periods import ROMAN, parse_period
from core.transparency.snapshot import (
    META,
    Snapshot,
    compute_snapshot,
    index_scope,
    needs_refresh,
    read_scope,
    store_snapshot,
    unit_scope,
)
from web.i18n import t
from web.pages import error_page, lang_of, policies_of, read, render, write

router = APIRouter()
DATA_CACHE = "public, max-age=300"
OPEN311_SPEC = "http://wiki.open311.org/GeoReport_v2"


# The snapshot ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    meta: Snapshot
    scope: Snapshot | None


async def _figures(request: Request, scope: str | Callable[[dict[str, Any]], str]) -> Figures:
    """The snapshot's meta and one scope (named, or chosen from the meta's body), computing
    the snapshot first when there is none (or always, with PUBLIC_CACHE_SECONDS=0)."""
    policies = policies_of(request)
    settings = policies.settings

    def pick(session: Session) -> Figures | None:
        meta = read_scope(session, META)
        if meta is None:
            return None
        name = scope if isinstance(scope, str) else scope(meta.body)
        return Figures(meta=meta, scope=read_scope(session, name))

    def look(session: Session) -> Figures | None:
        return None if needs_refresh(session, settings, META) else pick(session)

    found = await read(request, look)
    if found is None:
        # One computation at a time in this process: the first visitors after a start
        # without a snapshot wait for the same one instead of each computing it.
        lock: asyncio.Lock | None = getattr(request.app.state, "public_refresh", None)
        if lock is None:
            lock = request.app.state.public_refresh = asyncio.Lock()
        async with lock:
            fresh = settings.public_cache_seconds == 0
            found = None if fresh else await read(request, look)
            if found is None:
                now = policies.now()
                scopes = await read(request, lambda s: compute_snapshot(s, settings, now=now))
                await write(request, lambda s: store_snapshot(s, scopes, now=now))
                found = await read(request, pick)
    assert found is not None
    return found


# Words and numbers ---------------------------------------------------------------------------


def _number(value: float | None, places: int, lang: str) -> str:
    if value is None:
        return "–"
    text = f"{value:.{places}f}"
    return text.replace(".", ",") if lang == "id" else text


def _count(value: object) -> str:
    if value is None:
        return "–"
    return str(value)


def period_label(period: dict[str, Any], lang: str) -> str:
    kind, year, number = period["kind"], period["year"], period["number"]
    return t(lang, f"public.period.{kind}", year=year, roman=ROMAN[number - 1] if number else "")


def _updated(snapshot: Snapshot, request: Request, lang: str) -> str:
    settings = policies_of(request).settings
    local = snapshot.computed_at.astimezone(UTC).astimezone(settings.tz)
    return t(
        lang,
        "public.updated",
        date=local.strftime("%d-%m-%Y"),
        time=local.strftime("%H.%M"),
        zone=settings.zone_name,
    )


def _grade(row: dict[str, Any], lang: str) -> str:
    if not row.get("grade"):
        return "–"
    if lang == "id":
        return f"{row['grade']} ({row['grade_label']})"
    return f"{row['grade']} ({t(lang, 'public.grade.' + row['grade'])})"


def _status(row: dict[str, Any], lang: str, minimum: int) -> str:
    return t(lang, f"public.status.{row['status']}", min=minimum, n=row["n"])


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    selected: bool


def _choices(meta: dict[str, Any], chosen: str, lang: str) -> list[tuple[int, list[Choice]]]:
    """The period select's options, grouped by year."""
    groups: dict[int, list[Choice]] = {}
    for period in meta["periods"]:
        groups.setdefault(period["year"], []).append(
            Choice(period["key"], period_label(period, lang), period["key"] == chosen)
        )
    return list(groups.items())


def _pick_period(request: Request, meta: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The period asked for (`?periode=`), or the default; True when the one asked for is
    not offered."""
    offered = {p["key"]: p for p in meta["periods"]}
    asked = request.query_params.get("periode")
    if asked:
        parsed = parse_period(asked)
        if parsed is not None and parsed.key in offered:
            return offered[parsed.key], False
    default = offered.get(meta["default"]) or meta["periods"][0]
    return default, bool(asked)


def _trend_chart(points: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """Bars of the monthly IKM (0-100) for an inline SVG: geometry computed here."""
    width, height, top, bottom = 320, 150, 14, 24
    slot = width / max(len(points), 1)
    bars = []
    for i, point in enumerate(points):
        year, month = (int(x) for x in point["month"].split("-"))
        ikm = point["ikm"]
        scale = (height - top - bottom) / 100
        bar_height = round(ikm * scale, 1) if ikm is not None else 0
        bars.append(
            {
                "x": round(i * slot + slot * 0.15, 1),
                "width": round(slot * 0.7, 1),
                "y": round(height - bottom - bar_height, 1),
                "height": bar_height,
                "label_x": round(i * slot + slot / 2, 1),
                "month": t(lang, f"public.month.{month}"),
                "year": year,
                "value": _number(ikm, 1, lang) if ikm is not None else "–",
                "n": point["n"],
                "shown": ikm is not None,
            }
        )
    summary = ", ".join(f"{b['month']} {b['year']}: {b['value']}" for b in bars)
    return {
        "width": width,
        "height": height,
        "base": height - bottom,
        "bars": bars,
        "summary": summary,
    }


# Pages ----------------------------------------------------------------------------------------


@router.get("/transparansi")
async def transparency(request: Request) -> Response:
    lang = lang_of(request)
    figures = await _figures(
        request, lambda meta: index_scope(_pick_period(request, meta)[0]["key"])
    )
    meta = figures.meta.body
    period, unknown = _pick_period(request, meta)
    rows = figures.scope.body["units"] if figures.scope else []
    return render(
        request,
        "public_index.html",
        period=period,
        period_name=period_label(period, lang),
        choices=_choices(meta, period["key"], lang),
        unknown=unknown,
        updated=_updated(figures.meta, request, lang),
        rows=[
            {
                **row,
                "ikm_text": _number(row["ikm"], 2, lang),
                "grade_text": _grade(row, lang),
                "status_text": t(lang, f"public.short.{row['status']}"),
                "received_text": _count(row["received"]),
                "resolved_text": _count(row["resolved"]),
            }
            for row in rows
        ],
        min_responses=meta["min_responses"],
    )


@router.get("/transparansi/{code}")
async def transparency_unit(request: Request, code: str) -> Response:
    lang = lang_of(request)
    if len(code) > 40:
        return error_page(request, 404, "error.404")
    figures = await _figures(request, unit_scope(code))
    if figures.scope is None:
        return error_page(request, 404, "error.404")
    meta = figures.meta.body
    unit = figures.scope.body
    period, unknown = _pick_period(request, meta)
    detail = unit["periods"][period["key"]]
    survey, complaints = detail["survey"], detail["complaints"]
    elements = [
        {
            "number": e["number"],
            "name": bot_t(lang, f"element.{e['number']}") if lang != "id" else e["name"],
            "nrr": _number(e["nrr"], 3, lang),
        }
        for e in survey["elements"]
    ]
    plan = [
        {
            **item,
            "element_text": (
                bot_t(lang, f"element.{item['element']}") if lang != "id" else item["element_name"]
            )
            if item["element"]
            else t(lang, "public.plan_whole_service"),
        }
        for item in unit["plan"]
        if period["start"] <= item["start"] and item["end"] <= period["end"]
    ]
    categories = [
        {"label": category_label(c["code"], lang), "n": c["n"]}
        for c in complaints["categories"] or []
    ]
    return render(
        request,
        "public_unit.html",
        unit=unit,
        period=period,
        period_name=period_label(period, lang),
        choices=_choices(meta, period["key"], lang),
        unknown=unknown,
        updated=_updated(figures.meta, request, lang),
        survey=survey,
        ikm_text=_number(survey["ikm"], 2, lang),
        grade_text=_grade(survey, lang),
        status_text=_status(survey, lang, meta["min_responses"]),
        elements=elements,
        trend=_trend_chart(detail["trend"], lang),
        plan=plan,
        complaints=complaints,
        received_text=_count(complaints["received"]),
        resolved_text=_count(complaints["resolved"]),
        on_time_text=(
            _number(complaints["on_time_percent"], 1, lang) + " %"
            if complaints["on_time_percent"] is not None
            else "–"
        ),
        median_text=_number(complaints["median_working_days"], 1, lang),
        categories=categories,
        categories_withheld=complaints["categories"] is None,
        min_responses=meta["min_responses"],
    )


# Open data ----------------------------------------------------------------------------------


def _source(request: Request) -> str:
    """Whom to credit: the office's area, and the site's address when PUBLIC_BASE_URL is
    set. Never the request's Host: a forged one would end up in a cached licence."""
    settings = policies_of(request).settings
    base = settings.public_base_url.rstrip("/")
    return f"{settings.area_name}, {base}" if base else settings.area_name


def _bad_period(kind: str, meta: dict[str, Any]) -> Response:
    keys = ", ".join(p["key"] for p in meta["periods"])
    message = (
        f"Periode tidak dikenal. Gunakan salah satu: {keys}. / Unknown period; use one of: {keys}."
    )
    if kind == "json":
        return JSONResponse({"error": message, "periods": [p["key"] for p in meta["periods"]]}, 400)
    return PlainTextResponse(message, status_code=400)


async def _dataset(request: Request, name: str, kind: str) -> Response:
    figures = await _figures(request, f"open:{name}")
    meta = figures.meta.body
    asked = request.query_params.get("periode")
    key: str | None = None
    if asked:
        parsed = parse_period(asked)
        if parsed is None or parsed.key not in {p["key"] for p in meta["periods"]}:
            return _bad_period(kind, meta)
        key = parsed.key
    assert figures.scope is not None
    rows = dataset_rows(figures.scope.body, key)
    link = f'<{request.url_for("licence").path}>; rel="license"'
    headers = {"Cache-Control": DATA_CACHE, "Link": link}
    if kind == "json":
        document = as_json(
            rows,
            dataset=name,
            computed_at=figures.meta.computed_at.astimezone(UTC).isoformat(),
            source=_source(request),
        )
        return JSONResponse(document, headers=headers)
    suffix = f"-{key}" if key else ""
    headers["Content-Disposition"] = f'inline; filename="{name}{suffix}.csv"'
    body = "\ufeff" + as_csv(rows, dataset=name)  # a BOM: spreadsheets read it as UTF-8
    return Response(body.encode(), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/data/ikm.csv")
async def ikm_csv(request: Request) -> Response:
    return await _dataset(request, "ikm", "csv")


@router.get("/data/ikm.json")
async def ikm_json(request: Request) -> Response:
    return await _dataset(request, "ikm", "json")


@router.get("/data/pengaduan.csv")
async def complaints_csv(request: Request) -> Response:
    return await _dataset(request, "pengaduan", "csv")


@router.get("/data/pengaduan.json")
async def complaints_json(request: Request) -> Response:
    return await _dataset(request, "pengaduan", "json")


@router.get("/data/LISENSI.txt", name="licence")
async def licence(request: Request) -> Response:
    return PlainTextResponse(licence_text(_source(request)), headers={"Cache-Control": DATA_CACHE})


# Open311 GeoReport v2 (read-only) ---------------------------------------------------------------


@router.get("/open311/v2/services.json")
async def open311_services(request: Request) -> Response:
    figures = await _figures(request, "open311")
    assert figures.scope is not None
    return JSONResponse(figures.scope.body["services"], headers={"Cache-Control": DATA_CACHE})


@router.get("/open311/v2/discovery.json")
async def open311_discovery(request: Request) -> Response:
    base = _base_url(request)
    return JSONResponse(
        {
            "changeset": datetime(2026, 11, 30, tzinfo=UTC).isoformat(),
            "contact": t("id", "public.open311_contact"),
            "key_service": "",
            "endpoints": [
                {
                    "specification": OPEN311_SPEC,
                    "url": f"{base}/open311/v2",
                    "changeset": datetime(2026, 11, 30, tzinfo=UTC).isoformat(),
                    "type": "production",
                    "formats": ["application/json"],
                }
            ],
        },
        headers={"Cache-Control": DATA_CACHE},
    )


def _base_url(request: Request) -> str:
    """PUBLIC_BASE_URL, or nothing (links relative to this site): never the request's Host,
    which a client may forge and a shared cache would then keep."""
    return policies_of(request).settings.public_base_url.rstrip("/")


_NO_REQUESTS = (
    "Laporan perorangan tidak diterbitkan: laporan menyangkut aparatur sipil negara yang"
    " disebut namanya. Angka gabungan ada di /data/pengaduan.json. / Individual requests are"
    " not published: they concern named civil servants. Aggregate figures are at"
    " /data/pengaduan.json."
)


@router.get("/open311/v2/requests.json")
@router.post("/open311/v2/requests.json")
async def open311_requests(request: Request) -> Response:
    return JSONResponse([{"code": 404, "description": _NO_REQUESTS}], status_code=404)


@router.get("/open311/v2/requests/{request_id}.json")
async def open311_request(request: Request, request_id: str) -> Response:
    return JSONResponse([{"code": 404, "description": _NO_REQUESTS}], status_code=404)


__all__ = ["DATASETS", "period_label", "router"]
