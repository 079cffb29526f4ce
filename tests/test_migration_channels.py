"""Migration 0010 moves a Telegram-shaped database (0009) to channels, with its data."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from bot.inbox import unprocessed_updates
from core.cases.models import Attachment, Case
from core.chat.inbox import unprocessed
from core.chat.state import load_state
from core.outbox.addresses import citizen_address, staff_address
from core.outbox.models import OutboundMessage
from core.people.citizens import erase_citizen, get_citizen
from core.people.models import Address, Channel
from core.shared.db import make_engine
from core.shared.migrate import downgrade, upgrade

NOW = datetime(2026, 11, 20, 8, 0)
TG = Channel.telegram


def _update(update_id: int, chat_id: int, text_: str) -> str:
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": 7,
                "date": 1_700_000_000,
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": ""},
                "text": text_,
            },
        }
    )


def _seed_0009(url: str) -> None:
    engine = make_engine(url)
    rows = {
        "unit (id, code, name, active, created_at)": [
            {"id": 1, "code": "dukcapil", "name": "Dukcapil", "active": True, "created_at": NOW}
        ],
        "citizen (id, telegram_user_id, language, consent_at, created_at)": [
            {"id": 1, "telegram_user_id": 5001, "language": "en", "consent_at": NOW,
             "created_at": NOW},
            {"id": 2, "telegram_user_id": 5002, "language": "id", "consent_at": NOW,
             "created_at": NOW},
        ],
        "app_user (id, username, password_hash, role, active, telegram_chat_id, language,"
        " display_name, token_version, created_at)": [
            {"id": 1, "username": "kadis", "password_hash": "x", "role": "unit_head",
             "active": True, "telegram_chat_id": 901, "language": "id", "display_name": "",
             "token_version": 0, "created_at": NOW},
            {"id": 2, "username": "spv", "password_hash": "x", "role": "supervisor",
             "active": True, "telegram_chat_id": None, "language": "id", "display_name": "",
             "token_version": 0, "created_at": NOW},
        ],
        "cases (id, reference, citizen_id, privacy, unit_id, category, description, status,"
        " priority, received_at, verify_due_at, resolve_due_at, reopened_count, updated_at)": [
            {"id": 1, "reference": "KPG-2611-0001", "citizen_id": 1, "privacy": "biasa",
             "unit_id": 1, "category": "lainnya", "description": "Antrean sangat panjang.",
             "status": "received", "priority": "normal", "received_at": NOW,
             "verify_due_at": NOW, "resolve_due_at": NOW, "reopened_count": 0,
             "updated_at": NOW},
        ],
        "case_event (id, case_id, actor_kind, kind, visibility, created_at)": [
            {"id": 1, "case_id": 1, "actor_kind": "staff", "kind": "verified",
             "visibility": "public", "created_at": NOW},
        ],
        "attachment (case_id, telegram_file_id, status, attempts, created_at)": [
            {"case_id": 1, "telegram_file_id": "AgACphoto", "status": "pending", "attempts": 0,
             "created_at": NOW},
        ],
        "outbound_message (id, chat_id, language, template, params, status, attempts,"
        " next_attempt_at, case_event_id, telegram_message_id, created_at)": [
            {"id": 1, "chat_id": 5001, "language": "en", "template": "case_verified",
             "params": '{"ref": "KPG-2611-0001"}', "status": "sent", "attempts": 1,
             "next_attempt_at": NOW, "case_event_id": 1, "telegram_message_id": 4321,
             "created_at": NOW},
            {"id": 2, "chat_id": 901, "language": "id", "template": "plain",
             "params": '{"text": "Ringkasan"}', "status": "pending", "attempts": 0,
             "next_attempt_at": NOW, "case_event_id": None, "telegram_message_id": None,
             "created_at": NOW},
        ],
        "conversation_state (chat_id, step, data, message_id, updated_at)": [
            {"chat_id": 5001, "step": "cmp_desc", "data": '{"unit": 1}', "message_id": 99,
             "updated_at": NOW},
        ],
        "processed_update (update_id, processed_at)": [{"update_id": 100, "processed_at": NOW}],
        "inbound_update (update_id, payload, received_at)": [
            {"update_id": 102, "payload": _update(102, 5002, "kedua"), "received_at": NOW},
            {"update_id": 101, "payload": _update(101, 5001, "pertama"), "received_at": NOW},
        ],
    }  # fmt: skip
    with engine.begin() as conn:
        for head, values in rows.items():
            names = head[head.index("(") + 1 : head.index(")")].replace(" ", "").split(",")
            sql = f"INSERT INTO {head} VALUES ({', '.join(':' + n for n in names)})"  # noqa: S608
            for row in values:
                conn.execute(text(sql), row)
    engine.dispose()


def test_a_telegram_database_moves_to_channels_and_back(fresh_db_url: str) -> None:
    upgrade(fresh_db_url, "0009")
    _seed_0009(fresh_db_url)
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    with Session(engine) as s:
        ani, budi = get_citizen(s, TG, "5001"), get_citizen(s, TG, "5002")
        assert ani is not None and (ani.id, ani.language) == (1, "en")
        assert budi is not None and budi.id == 2
        assert citizen_address(s, 1) == Address(TG, "5001")
        assert staff_address(s, 1) == Address(TG, "901")
        assert staff_address(s, 2) is None
        case = s.get(Case, 1)
        assert case is not None and case.channel == "telegram" and case.citizen_id == 1
        [photo] = s.exec(select(Attachment)).all()
        assert (photo.source, photo.reference) == ("telegram", "AgACphoto")
        outbox = s.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
        assert [(m.channel, m.address, m.external_id, m.status) for m in outbox] == [
            ("telegram", "5001", "4321", "sent"),
            ("telegram", "901", None, "pending"),
        ]
        state = load_state(s, TG, "5001")
        assert (state.step, state.data, state.screen_message_id) == ("cmp_desc", {"unit": 1}, "99")
    # Stored updates are replayed in arrival order, and erasure still finds a citizen's.
    assert [u["update_id"] for u in unprocessed_updates(engine)] == [101, 102]
    with Session(engine) as s:
        assert budi is not None
        erase_citizen(s, s.merge(budi))
        s.commit()
    assert [u["update_id"] for u in unprocessed(engine, TG)] == [101]
    engine.dispose()

    downgrade(fresh_db_url, "0009")
    engine = make_engine(fresh_db_url)
    with engine.connect() as conn:
        citizens = conn.execute(text("SELECT id, telegram_user_id FROM citizen")).all()
        assert [tuple(r) for r in citizens] == [(1, 5001)]
        chats = conn.execute(text("SELECT username, telegram_chat_id FROM app_user ORDER BY id"))
        assert [tuple(r) for r in chats] == [("kadis", 901), ("spv", None)]
        outbox = conn.execute(
            text("SELECT chat_id, telegram_message_id FROM outbound_message ORDER BY id")
        ).all()
        assert [tuple(r) for r in outbox] == [(5001, 4321), (901, None)]
        state = conn.execute(text("SELECT chat_id, step FROM conversation_state")).all()
        assert [tuple(r) for r in state] == [(5001, "cmp_desc")]
        photo = conn.execute(text("SELECT telegram_file_id FROM attachment")).scalar_one()
        assert photo == "AgACphoto"
        updates = conn.execute(text("SELECT update_id FROM inbound_update")).scalars().all()
        assert updates == [101]
    engine.dispose()
