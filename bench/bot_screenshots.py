"""Pictures of the citizen's path in the bot for the README (`make bot-screenshots`; not a test).

Drives the real bot (the PTB `Application` of bot/, over the in-process Bot API stand-in of
bot/local_transport.py, as `asn-feedback chat` does) on a temporary SQLite database with the
demo data, as a citizen would, and records every message the bot sends or edits. Each
conversation is then drawn as a phone-width Telegram chat (HTML and CSS written here, no
external assets: bot bubbles on the left with their inline keyboards, the citizen's typed
messages on the right, the button the citizen pressed marked 👆) and photographed in the
distribution's Chromium (Playwright) into docs/, each phone 400 px wide (the two longest
conversations as two phones side by side, the second continuing the first):

- bot-menu.png: /start, the language, the privacy notice and the main menu;
- bot-survey.png: rating Dukcapil's KTP-el service: the service, questions 1, 2 and 9,
  the comment, the respondent details skipped, and the thanks;
- bot-complaint.png: a report: the kinds of problem with their explanations, the
  description (uraian kejadian), a typed address, the privacy choice, the summary and the
  reference number;
- bot-status.png: the notice sent through the outbox when a supervisor verified that
  report (through core), and `/status` with the timeline (times in WITA).

Every text and button in the pictures is what the bot sent (the times are those of a
story clock: the last working day before today, from 09:05); only the "⋯" chips that mark
left-out steps are the script's. The script fails when the bot does not show what a
step expects. Pictures are re-saved with Pillow (`optimize=True`, and a 128-colour palette
when that is clearly smaller): the four come to about 370 KB. Emoji need an emoji font
(Debian: fonts-noto-color-emoji).

    python bench/bot_screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import html
import itertools
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image
from playwright.sync_api import sync_playwright
from sqlmodel import Session, select
from telegram import Update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bot import build_application
from bot.dispatcher import telegram_dispatcher
from bot.local_transport import BOT_USER, LocalBotApi, LocalMessage
from core.access import actor_for
from core.cases import service as cases
from core.cases.models import Case
from core.demo import seed_demo
from core.people.models import AppUser
from core.policies import Policies, build
from core.shared.config import load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade
from tests.console_kit import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
WIDTH = 400  # CSS pixels: a phone held upright
SCALE = 1.5  # device pixels per CSS pixel: sharp enough on most screens, still small files
CITIZEN_ID = 6_281_234  # a Telegram user id for the citizen of the pictures
UNIT = "Dinas Kependudukan dan Pencatatan Sipil"
COMMENT = "Pelayanan cepat dan petugasnya ramah, tetapi ruang tunggu panas dan antrean panjang."
STORY = (
    "Tadi pagi petugas loket meminta uang Rp50.000 supaya KTP-el saya cepat "
    "selesai. Tanpa uang itu saya disuruh kembali bulan depan."
)
ADDRESS = "Kantor Dukcapil, loket 3"


# -- the conversation, as the citizen saw it -----------------------------------------------
@dataclass
class Bubble:
    """One state of a bot message (a new message, or an edit of an earlier one)."""

    message_id: int
    text: str
    buttons: list[list[tuple[str, str]]]
    at: datetime
    pressed: str = ""  # the callback data of the button the citizen pressed on it


@dataclass
class Typed:
    """A message the citizen typed."""

    text: str
    at: datetime


@dataclass
class Gap:
    """Steps left out of the picture."""

    text: str = "⋯"


Entry = Bubble | Typed | Gap


@dataclass
class Citizen:
    """A citizen in a private chat with the real bot, keeping what they saw in order."""

    policies: Policies
    user_id: int
    clock: StoryClock
    seen: list[Entry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tz: ZoneInfo = self.policies.settings.tz
        self.user: dict[str, Any] = {
            "id": self.user_id,
            "is_bot": False,
            "first_name": "Maria",
            "language_code": "id",
        }
        self.chat: dict[str, Any] = {"id": self.user_id, "type": "private", "first_name": "Maria"}
        self.transport = LocalBotApi(self._shown)
        local = self.policies.settings.model_copy(
            update={"telegram_bot_token": "1:local-screenshots"}
        )
        self.app = build_application(replace(self.policies, settings=local), request=self.transport)
        self._ids = itertools.count(1)
        self.mark = 0  # where the current picture starts in `seen`
        self.since = 0  # where what the bot showed after the last action starts

    def _now(self) -> datetime:
        return self.clock().astimezone(self.tz)

    def _shown(self, message: LocalMessage, edited: bool) -> None:
        if message.chat_id != self.user_id:
            return  # the outbox also holds messages for the demo's other citizens
        self.seen.append(Bubble(message.message_id, message.text, message.buttons, self._now()))

    # -- what the citizen sees --
    def screen(self) -> Bubble:
        """The newest state of the newest bot message."""
        bubbles = [e for e in self.seen if isinstance(e, Bubble)]
        assert bubbles, "the bot has said nothing yet"
        return max(reversed(bubbles), key=lambda b: b.message_id)

    def expect(self, text: str) -> str:
        """The message the bot showed since the citizen's last action (or `watch`) that
        contains `text`."""
        shown = [e.text for e in self.seen[self.since :] if isinstance(e, Bubble)]
        found = [s for s in shown if text in s]
        assert found, f"expected {text!r}, the bot showed {shown!r}"
        return found[-1]

    def watch(self) -> None:
        """From now on, `expect` looks only at what the bot shows from here."""
        self.since = len(self.seen)

    # -- what the citizen does --
    async def _send(self, payload: dict[str, Any]) -> None:
        self.watch()
        update = Update.de_json({"update_id": next(self._ids), **payload}, self.app.bot)
        await self.app.process_update(update)

    async def say(self, text: str) -> None:
        message: dict[str, Any] = {
            "message_id": 100_000 + next(self._ids),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            "text": text,
        }
        if text.startswith("/"):
            command = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command}]
        self.clock.wait(10 + len(text) / 4)  # reading, then typing
        self.seen.append(Typed(text, self._now()))
        await self._send({"message": message})

    async def press(self, label: str = "", *, data: str = "") -> None:
        """Press the button of the newest message whose label contains `label` (or whose
        callback data is `data`)."""
        bubble = self.screen()
        flat = [b for row in bubble.buttons for b in row]
        matches = [d for text, d in flat if (d == data if data else label.lower() in text.lower())]
        assert matches, f"no button {label or data!r} in {flat} ({bubble.text!r})"
        bubble.pressed = matches[0]
        self.clock.wait(7)
        query = {
            "id": str(next(self._ids)),
            "from": self.user,
            "chat_instance": "screenshots",
            "data": matches[0],
            "message": {
                "message_id": bubble.message_id,
                "date": int(time.time()),
                "chat": self.chat,
                "from": BOT_USER,
                "text": bubble.text,
            },
        }
        await self._send({"callback_query": query})

    def begin(self) -> None:
        """The next picture starts at the screen shown now."""
        self.mark = len(self.seen) - 1

    def take(self) -> list[Entry]:
        """What the citizen saw since the last picture (as it is now: later presses do not
        change it)."""
        part, self.mark = self.seen[self.mark :], len(self.seen)
        return copy.deepcopy(part)


class StoryClock:
    """The bot's clock for the pictures: the last working day before today, from 09:05 in
    the office's time zone, moving on a little with every step, so the times shown are an
    ordinary morning's (and in the past: the outbox sends what is due at once)."""

    def __init__(self, tz: ZoneInfo) -> None:
        day = datetime.now(tz).date() - timedelta(days=1)
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        self.moment = datetime.combine(day, dt_time(9, 5), tzinfo=tz).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.moment

    def wait(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


async def converse(
    policies: Policies, clock: StoryClock, supervisor_username: str
) -> dict[str, list[list[Entry]]]:
    """The four conversations, each as the columns of one picture."""
    engine = policies.engine
    c = Citizen(policies, CITIZEN_ID, clock)
    await c.app.initialize()
    pictures: dict[str, list[list[Entry]]] = {}
    try:
        # (1) the welcome and the menu
        await c.say("/start")
        c.expect("Pilih bahasa")
        await c.press("Bahasa Indonesia")
        c.expect("Pemberitahuan privasi")
        await c.press("Saya setuju")
        c.expect("Menu utama")
        pictures["bot-menu"] = [c.take()]

        # (2) rating a service: the service, questions 1, 2 and 9, the comment, the thanks
        await c.press("Nilai layanan")
        c.expect("Unit layanan mana")
        await c.press(UNIT)
        c.expect("Layanan apa")
        c.begin()
        await c.press("KTP-el")
        c.expect("Siapa petugas")
        await c.press("Tidak tahu")
        answers = [4, 3, 4, 4, 4, 3, 4, 3, 4]
        for number, score in enumerate(answers, start=1):
            c.expect(f"Pertanyaan {number} dari 9")
            await c.press(data=f"svy:a:{number - 1}:{score}")
        c.expect("saran atau komentar")
        await c.say(COMMENT)
        c.expect("Jenis kelamin")
        await c.press("Lewati semua dan kirim")
        c.expect("Terima kasih")
        survey = _without_menu(c.take())
        officer, first = _index(survey, "Siapa petugas"), _index(survey, "Pertanyaan 1 dari 9")
        third, ninth = _index(survey, "Pertanyaan 3 dari 9"), _index(survey, "Pertanyaan 9 dari 9")
        pictures["bot-survey"] = [
            [*survey[:officer], Gap(), *survey[first:third]],
            [Gap(), *survey[ninth:]],
        ]

        # (3) filing a complaint: the kinds of problem, the description, a typed address,
        # the privacy choice, the summary and the reference number
        await c.press("Laporkan masalah")
        await c.press(UNIT)
        c.expect("petugas tertentu")
        await c.press("Tidak tahu")
        c.expect("Masalah apa")
        c.begin()
        await c.press("pungli")
        c.expect("Uraian kejadian")
        await c.say(STORY)
        c.expect("foto bukti")
        await c.press("Lewati")
        c.expect("lokasi kejadian")
        await c.say(ADDRESS)
        c.expect("Seberapa rahasia")
        await c.press("Biasa")
        c.expect("Periksa laporan")
        await c.press("Kirim laporan")
        receipt = c.expect("Nomor laporan")
        reference = receipt.split("Nomor laporan: ")[1].split()[0]
        complaint = _without_menu(c.take())
        photos, location = _index(complaint, "foto bukti"), _index(complaint, "lokasi kejadian")
        pictures["bot-complaint"] = [complaint[:photos], [Gap(), *complaint[location:]]]

        # (4) a supervisor verifies it (through core); the notice goes through the outbox
        clock.wait(95 * 60)
        with Session(engine) as session:
            user = session.exec(
                select(AppUser).where(AppUser.username == supervisor_username)
            ).one()
            assert user.id is not None
            supervisor = actor_for(session, user.id)
            assert supervisor is not None, f"the demo account {supervisor_username} is not active"
            case = session.exec(select(Case).where(Case.reference == reference)).one()
            cases.verify(session, case, policies.cases, actor=supervisor, now=clock())
            session.commit()
        c.watch()
        dispatcher = telegram_dispatcher(engine, c.app.bot)
        while await dispatcher.run_once():
            pass
        c.expect(reference)
        clock.wait(20 * 60)
        await c.say(f"/status {reference}")
        c.expect("WITA")
        pictures["bot-status"] = [c.take()]
    finally:
        await c.app.shutdown()
    return pictures


def _without_menu(entries: list[Entry]) -> list[Entry]:
    """The entries without the main menu the bot shows last (the first picture has it)."""
    *before, menu = entries
    assert isinstance(menu, Bubble) and "Menu utama" in menu.text, menu
    return before


def _index(entries: list[Entry], text: str) -> int:
    """Where the first bot message containing `text` is."""
    return next(i for i, e in enumerate(entries) if isinstance(e, Bubble) and text in e.text)


# -- drawing -------------------------------------------------------------------------------
GUTTER = 16  # CSS pixels between two phones of one picture
CSS = """
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; background: #fff; }
body { font-family: "Roboto", "Helvetica Neue", "DejaVu Sans", "Noto Color Emoji", sans-serif;
  font-size: 14px; line-height: 1.36; color: #000; }
.shot { display: flex; align-items: stretch; gap: %(gutter)dpx; width: max-content; }
.phone { width: %(width)dpx; background: #c6d8a4; padding-bottom: 8px; }
header { display: flex; align-items: center; gap: 10px; background: #517da2; color: #fff;
  padding: 8px 12px; }
.avatar { width: 36px; height: 36px; border-radius: 50%%; background: #3e9ad6;
  display: flex; align-items: center; justify-content: center; font-weight: 700;
  font-size: 14px; }
.name { font-weight: 700; font-size: 15.5px; }
.sub { font-size: 12.5px; opacity: .8; }
.log { padding: 8px 8px 0; display: flex; flex-direction: column; gap: 6px; }
.msg { max-width: 90%%; }
.bot { align-self: flex-start; }
.bot.keys { width: 90%%; }
.me { align-self: flex-end; max-width: 80%%; }
.bubble { display: flow-root; padding: 6px 9px; border-radius: 12px;
  box-shadow: 0 1px 1px rgba(0,0,0,.12);
  white-space: pre-wrap; overflow-wrap: anywhere; }
.bot .bubble { background: #fff; border-bottom-left-radius: 4px; }
.me .bubble { background: #effedd; border-bottom-right-radius: 4px; }
.time { float: right; font-size: 11px; color: #8d9ba6; margin: 5px 0 -3px 10px;
  white-space: nowrap; }
.me .time { color: #5ea84f; }
.keyboard { display: flex; flex-direction: column; gap: 3px; margin-top: 3px; }
.row { display: flex; gap: 3px; }
.key { flex: 1 1 0; min-height: 32px; display: flex; align-items: center;
  justify-content: center; text-align: center; padding: 4px 8px; border-radius: 8px;
  background: #8fad7c; color: #fff; font-weight: 600; font-size: 13px; line-height: 1.2; }
.key.pressed { background: #3f6145; box-shadow: inset 0 0 0 2px #fff; }
.key.pressed::after { content: "👆"; margin-left: 6px; }
.chip { align-self: center; background: #8fad7c; color: #fff; border-radius: 12px;
  padding: 1px 14px; font-size: 15px; font-weight: 700; letter-spacing: 2px; }
"""


def _bubble(entry: Bubble) -> str:
    rows = []
    for row in entry.buttons:
        keys = "".join(
            f'<div class="key{" pressed" if data == entry.pressed else ""}">'
            f"{html.escape(label)}</div>"
            for label, data in row
        )
        rows.append(f'<div class="row">{keys}</div>')
    keyboard = f'<div class="keyboard">{"".join(rows)}</div>' if rows else ""
    return (
        f'<div class="msg bot{" keys" if rows else ""}"><div class="bubble">'
        f'{html.escape(entry.text)}<span class="time">{entry.at:%H:%M}</span></div>'
        f"{keyboard}</div>"
    )


def _typed(entry: Typed) -> str:
    return (
        f'<div class="msg me"><div class="bubble">{html.escape(entry.text)}'
        f'<span class="time">{entry.at:%H:%M} ✓✓</span></div></div>'
    )


def _phone(entries: list[Entry], bot_name: str) -> str:
    parts = []
    for entry in entries:
        if isinstance(entry, Bubble):
            parts.append(_bubble(entry))
        elif isinstance(entry, Typed):
            parts.append(_typed(entry))
        else:
            parts.append(f'<div class="chip">{html.escape(entry.text)}</div>')
    initials = "".join(word[0] for word in bot_name.split()[:2]).upper()
    return (
        f'<div class="phone"><header><div class="avatar">{html.escape(initials)}</div><div>'
        f'<div class="name">{html.escape(bot_name)}</div><div class="sub">bot</div></div>'
        f'</header><div class="log">{"".join(parts)}</div></div>'
    )


def page(columns: list[list[Entry]], bot_name: str) -> str:
    """One picture: a phone-width chat, or two side by side (the second continues the
    first)."""
    css = CSS % {"width": WIDTH, "gutter": GUTTER}
    phones = "".join(_phone(entries, bot_name) for entries in columns)
    return (
        '<!doctype html><html lang="id"><head><meta charset="utf-8">'
        f'<style>{css}</style></head><body><div class="shot">{phones}</div></body></html>'
    )


def photograph(pages: dict[str, str], out: Path) -> list[Path]:
    taken = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 2 * WIDTH + GUTTER, "height": 800},
            device_scale_factor=SCALE,
            locale="id-ID",
        )
        tab = context.new_page()
        for name, markup in pages.items():
            tab.set_content(markup, wait_until="load")
            tab.evaluate("document.fonts.ready")
            path = out / f"{name}.png"
            tab.locator(".shot").screenshot(path=str(path))
            taken.append(path)
        browser.close()
    return taken


def shrink(path: Path) -> None:
    """Re-save optimized, as bench/screenshots.py does; a chat has few colours, so the
    palette version (128 colours) is kept when it is much smaller."""
    plain = path.with_suffix(".plain.png")
    palette = path.with_suffix(".palette.png")
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    rgb.save(plain, optimize=True)
    rgb.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
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
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            database_url=f"sqlite:///{tmp}/demo.db",
            environment="test",
            attachments_dir=f"{tmp}/attachments",
            _env_file=None,
        )
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        clock = StoryClock(settings.tz)
        policies = build(settings, engine, clock=clock)
        with Session(engine) as session:
            demo = seed_demo(session, settings.tz, policy=policies.cases)
            session.commit()
        pictures = asyncio.run(converse(policies, clock, demo.supervisor_username))
        engine.dispose()
    bot_name = str(BOT_USER["first_name"])
    taken = photograph({name: page(cols, bot_name) for name, cols in pictures.items()}, out)
    for path in taken:
        shrink(path)
        print(f"{path} ({path.stat().st_size / 1024:.0f} KB)")
    total = sum(p.stat().st_size for p in taken)
    seconds = time.monotonic() - began
    print(f"{len(taken)} pictures in {seconds:.0f} s, {total / 1024:.0f} KB")


if __name__ == "__main__":
    main()
