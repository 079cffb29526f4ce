"""Screenshots of the staff console for the README (`make screenshots`; not a test).

Serves the whole site with the demo data on a temporary SQLite database, signs in as the
demo supervisor in the distribution's Chromium (Playwright) at 1366x768 and saves
docs/console-inbox.png and docs/console-case.png.

    python bench/screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func
from sqlmodel import Session, col, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.site import create_site
from core.cases.models import Case, CaseEvent, CaseStatus, Privacy
from core.demo import seed_demo
from core.masterdata.models import Unit
from core.policies import build
from core.shared.config import load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade
from tests.console_kit import CHROMIUM, CHROMIUM_ARGS, live_server

ROOT = Path(__file__).resolve().parent.parent
SIZE = {"width": 1366, "height": 768}


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
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
        with live_server(create_site(policies)) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=SIZE)  # type: ignore[arg-type]
            page.goto(f"{base}/staff/login")
            page.get_by_label("Nama pengguna").fill(demo.supervisor_username)
            page.get_by_label("Kata sandi").fill(demo.supervisor_password)
            page.get_by_role("button", name="Masuk").click()
            expect(page.get_by_role("heading", name="Kotak masuk")).to_be_visible()
            page.goto(f"{base}/staff/?view=all")
            expect(page.get_by_role("link", name=reference)).to_be_visible()
            args.out.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out / "console-inbox.png"))
            page.goto(f"{base}/staff/cases/{reference}")
            expect(page.get_by_role("heading", name=reference)).to_be_visible()
            page.screenshot(path=str(args.out / "console-case.png"))
            browser.close()
        engine.dispose()
    for name in ("console-inbox.png", "console-case.png"):
        path = args.out / name
        print(f"{path} ({path.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
