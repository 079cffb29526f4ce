"""Screenshots of the staff console for the README (`make screenshots`; not a test).

Serves the whole site with the demo data on a temporary SQLite database and, in the
distribution's Chromium (Playwright) at 1366x768, signs in as each demo account in turn and
saves into docs/:

- console-inbox.png, console-case.png: the inbox and a report's page (pengawas);
- console-scores.png, console-scores-unit.png: Kepuasan (IKM) for the quarter, and Dukcapil's
  page with its elements, trend and comments (pengawas);
- console-evaluation.png: the review table of a monthly period created and computed through
  core for the month with the most demo surveys (pengawas);
- console-own-evaluation.png: the officer's own view of that period with a response written
  through core (petugas);
- console-users.png, console-units.png: Pengguna managing the officer's account (with its
  NIP link) and Dukcapil's Unit & petugas page (admin);
- console-digest.png: the weekly digest preview (kadis).

Every page must answer 200 and show its heading, or the script fails; pictures are re-saved
with Pillow (`optimize=True`, and a 256-colour palette when that is clearly smaller). The
digest's title starts with an emoji: install an emoji font (Debian: fonts-noto-color-emoji)
or it shows as a box.

    python bench/screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import func
from sqlmodel import Session, col, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.site import create_site
from core.access import Actor, actor_for
from core.cases.models import Case, CaseEvent, CaseStatus, Privacy
from core.demo import DemoResult, seed_demo
from core.evaluations.compute import compute_period
from core.evaluations.own import respond
from core.evaluations.periods import create_period
from core.masterdata.models import Unit
from core.people.models import AppUser
from core.policies import Policies, build
from core.shared.config import load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade
from core.surveys.models import SurveyResponse
from tests.console_kit import CHROMIUM, CHROMIUM_ARGS, live_server

ROOT = Path(__file__).resolve().parent.parent
SIZE = {"width": 1366, "height": 768}
SHOWCASE_UNIT = "dukcapil"
RESPONSE = (
    "Antrean KTP-el bulan ini panjang karena jaringan SIAK terputus tiga hari; mohon "
    "dipertimbangkan. Saya kini memberi nomor antrean tertulis kepada warga."
)


def _showcase(session: Session, units: tuple[str, ...]) -> str:
    """An ordinary case in handling with the longest timeline: a case page worth showing."""
    row = session.exec(
        select(Case.reference, func.count(col(CaseEvent.id)).label("n"))
        .join(CaseEvent, col(CaseEvent.case_id) == col(Case.id))
        .join(Unit, col(Unit.id) == col(Case.unit_id))
        .where(
            col(Unit.code).in_(units),
            Case.privacy == Privacy.biasa.value,
            Case.status == CaseStatus.in_progress.value,
        )
        .group_by(col(Case.reference))
        .order_by(func.count(col(CaseEvent.id)).desc(), col(Case.reference))
    ).first()
    assert row is not None, "the demo data has no case in handling"
    return str(row[0])


def _actor(session: Session, username: str) -> Actor:
    user = session.exec(select(AppUser).where(AppUser.username == username)).one()
    assert user.id is not None
    actor = actor_for(session, user.id)
    assert actor is not None, f"the demo account {username} is not active"
    return actor


def _busiest_month(session: Session) -> date:
    """The first day of the month with the most demo surveys."""
    days = session.exec(select(col(SurveyResponse.local_date))).all()
    counts: dict[date, int] = {}
    for day in days:
        first = day.replace(day=1)
        counts[first] = counts.get(first, 0) + 1
    assert counts, "the demo data has no surveys"
    return max(counts, key=lambda first: (counts[first], first))


def _evaluation(session: Session, policies: Policies, demo: DemoResult) -> tuple[int, str]:
    """A monthly period of Dukcapil (the demo officer's unit), computed, with the officer's
    response."""
    supervisor = _actor(session, demo.supervisor_username)
    period = create_period(
        session, "monthly", _busiest_month(session), [SHOWCASE_UNIT], actor=supervisor
    )
    compute_period(session, period, policies.evaluations, policies.settings.tz, actor=supervisor)
    assert period.id is not None
    respond(session, period.id, RESPONSE, actor=_actor(session, demo.officer_username))
    return period.id, period.name


@dataclass(frozen=True)
class Shot:
    """One picture: the page at `path` (under /staff) once its h1 starts with `heading`; by
    default the viewport, else the part of the page from the top of `top` (a CSS selector)
    to the bottom of `bottom` (or one viewport's height)."""

    name: str  # file name without .png
    path: str
    heading: str
    top: str = ""
    bottom: str = ""


def _login(browser: Browser, base: str, username: str, password: str) -> Page:
    page = browser.new_context(viewport=SIZE, locale="id-ID").new_page()  # type: ignore[arg-type]
    page.goto(f"{base}/staff/login")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("navigation", name="Menu utama")).to_be_visible()
    return page


def _edge(page: Page, selector: str, side: str) -> float:
    box = page.locator(selector).first.evaluate(
        "el => { const r = el.getBoundingClientRect();"
        " return {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY}; }"
    )
    return float(box[side])


def _take(page: Page, base: str, shot: Shot, out: Path) -> Path:
    response = page.goto(f"{base}/staff{shot.path}")
    assert response is not None and response.ok, f"{shot.path}: HTTP {response and response.status}"
    expect(page.get_by_role("heading", level=1, name=shot.heading)).to_be_visible()
    page.wait_for_load_state("networkidle")  # charts and images
    path = out / f"{shot.name}.png"
    if not shot.top and not shot.bottom:
        page.screenshot(path=str(path))
        return path
    top = max(0.0, _edge(page, shot.top, "top") - 16) if shot.top else 0.0
    bottom = _edge(page, shot.bottom, "bottom") + 16 if shot.bottom else top + SIZE["height"]
    clip = {"x": 0, "y": top, "width": SIZE["width"], "height": bottom - top}
    page.screenshot(path=str(path), full_page=True, clip=clip)  # type: ignore[arg-type]
    return path


def _shrink(path: Path) -> None:
    """Re-save optimized; keep a 256-colour version only when it is much smaller."""
    plain = path.with_suffix(".plain.png")
    palette = path.with_suffix(".palette.png")
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    rgb.save(plain, optimize=True)
    rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        palette, optimize=True
    )
    best = palette if palette.stat().st_size < plain.stat().st_size * 0.7 else plain
    best.replace(path)
    for extra in (plain, palette):
        extra.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    taken: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            database_url=f"sqlite:///{tmp}/demo.db", environment="test", _env_file=None
        )
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        policies = build(settings, engine)
        with Session(engine) as session:
            demo = seed_demo(session, settings.tz, policy=policies.cases, now=policies.now())
            session.commit()
            reference = _showcase(session, demo.supervisor_units)
            period_id, period_name = _evaluation(session, policies, demo)
            officer_user_id = _actor(session, demo.officer_username).user_id
            unit_name = session.exec(select(Unit.name).where(Unit.code == SHOWCASE_UNIT)).one()
            session.commit()
        iso = (policies.now().astimezone(settings.tz).date() - timedelta(days=7)).isocalendar()
        last_week = f"{iso.year}-W{iso.week:02d}"
        accounts: dict[str, tuple[str, list[Shot]]] = {
            demo.supervisor_username: (
                demo.supervisor_password,
                [
                    Shot("console-inbox", "/?view=all", "Kotak masuk"),
                    Shot("console-case", f"/cases/{reference}", reference),
                    Shot("console-scores", "/scores?kind=quarter", "Kepuasan masyarakat (IKM)"),
                    Shot(
                        "console-scores-unit",
                        f"/scores/{SHOWCASE_UNIT}?kind=quarter",
                        unit_name,
                        top="#scores-elements",
                        bottom="ol.comments > li:nth-child(4)",
                    ),
                    Shot(
                        "console-evaluation",
                        f"/evaluations/{period_id}",
                        f"Periode penilaian {period_name}",
                        bottom="section[aria-labelledby=eval-review] table",
                    ),
                ],
            ),
            demo.officer_username: (
                demo.officer_password,
                [
                    Shot(
                        "console-own-evaluation",
                        f"/me/evaluations/{period_id}",
                        f"Penilaian saya: {period_name}",
                        bottom="section[aria-labelledby=own-response]",
                    )
                ],
            ),
            demo.admin_username: (
                demo.admin_password,
                [
                    Shot(
                        "console-users",
                        f"/users?manage={officer_user_id}",
                        "Pengguna",
                        bottom="#manage",
                    ),
                    Shot(
                        "console-units",
                        f"/units/{SHOWCASE_UNIT}",
                        unit_name,
                        bottom="section[aria-labelledby=officers] table",
                    ),
                ],
            ),
            demo.head_username: (
                demo.head_password,
                [
                    Shot(
                        "console-digest",
                        f"/digests?unit={SHOWCASE_UNIT}&week={last_week}",
                        "Ringkasan mingguan",
                        bottom=".digest-chart",
                    )
                ],
            ),
        }
        with live_server(create_site(policies)) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for username, (password, shots) in accounts.items():
                page = _login(browser, base, username, password)
                for shot in shots:
                    taken.append(_take(page, base, shot, out))
                page.context.close()
            browser.close()
        engine.dispose()
    for path in taken:
        _shrink(path)
        print(f"{path} ({path.stat().st_size / 1024:.0f} KB)")
    total = sum(p.stat().st_size for p in out.glob("*.png"))
    seconds = time.monotonic() - began
    print(f"{len(taken)} pictures in {seconds:.0f} s; {out}/*.png {total / 1024:.0f} KB")


if __name__ == "__main__":
    main()
