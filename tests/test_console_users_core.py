"""What the console's people pages need from core, on both engines: a staff member makes a
link code for their own account and the QR code's deep link (`/start link_CODE`) links the
chat in the bot; the accounts waiting after too many wrong passwords are listed until an
admin unlocks them; a generated password passes every password rule; the refusals of
account administration name their rule, so the console can say it in Indonesian."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from conversations.engine import FlowConfig, Inbound
from conversations.flow import handle
from core.access import Actor
from core.people import users
from core.people.links import create_own_link_code, link_deep_link, link_payload
from core.people.login_limits import LoginPolicy, locked_usernames
from core.people.models import Channel, LoginThrottle, Role
from core.policies import build
from core.shared.config import Settings
from core.shared.errors import DomainError
from tests.contacts import telegram_chat_of
from tests.factories import make_unit, make_user


def test_a_unit_head_links_their_own_chat_through_the_qr_deep_link(
    settings: Settings, engine: Engine
) -> None:
    policies = build(settings, engine)
    now = policies.now()
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil")
        head = make_user(s, "kadis", Role.unit_head, [unit])
        actor = Actor(head.id or 0, head.username, Role.unit_head, frozenset({unit.id or 0}))
        code, expires = create_own_link_code(s, actor=actor, now=now)
        s.commit()
    assert expires == now + timedelta(hours=24)
    link = link_deep_link("@kupang_lapor_bot", code)
    assert link == f"https://t.me/kupang_lapor_bot?start=link_{code.replace('-', '')}"
    assert link_payload(code.lower()) == f"link_{code.replace('-', '')}"

    cfg = FlowConfig(
        tz=settings.tz, area_name="Kupang", case_policy=policies.cases, pseudonym_key="k" * 32
    )
    start = Inbound(
        channel=Channel.telegram,
        message_id="m1",
        address="4242",
        kind="command",
        command="start",
        args=link_payload(code),
    )
    with Session(engine) as s:
        out = handle(s, cfg, start)
        s.commit()
        assert "kadis" in out.screens[0].text
        assert telegram_chat_of(s, s.get_one(users.AppUser, head.id)) == 4242
    with Session(engine) as s:  # the code is used up
        again = handle(s, cfg, Inbound(**{**start.__dict__, "message_id": "m2"}))
        s.commit()
        assert "kadis" not in again.screens[0].text


def test_locked_accounts_are_listed_until_an_admin_unlocks_them(
    settings: Settings, engine: Engine
) -> None:
    policy = LoginPolicy()
    now = build(settings, engine).now()
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil")
        spv = make_user(s, "spv", Role.supervisor, [unit])
        make_user(s, "admin", Role.admin)
        s.add(
            LoginThrottle(
                username="spv",
                address="10.0.0.1",
                failures=6,
                locked_until=now + timedelta(minutes=2),
                updated_at=now,
            )
        )
        s.add(  # waited out: not locked any more
            LoginThrottle(
                username="admin",
                address="10.0.0.2",
                failures=5,
                locked_until=now - timedelta(seconds=1),
                updated_at=now - timedelta(minutes=2),
            )
        )
        s.commit()
        assert locked_usernames(s, policy, now=now) == {"spv"}
        admin = Actor(-1, "cli", Role.admin, frozenset())
        assert users.unlock_user(s, spv.id or 0, actor=admin, now=now) == 6
        s.commit()
        assert locked_usernames(s, policy, now=now) == set()


def test_a_generated_password_passes_every_rule_and_differs_each_time() -> None:
    made = {users.generate_password() for _ in range(50)}
    assert len(made) == 50
    assert all(users.password_refusal(p, "maria.spv") is None for p in made)


def test_refusals_of_account_administration_name_their_rule(
    settings: Settings, engine: Engine
) -> None:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil")
        make_user(s, "spv", Role.supervisor, [unit])
        s.commit()
        cases = [
            (lambda: users.create_user(s, "A!", Role.viewer, "x", ["dukcapil"]), "users.username"),
            (
                lambda: users.create_user(s, "maria", Role.viewer, "kupang-timur-9", []),
                "users.no_unit",
            ),
            (
                lambda: users.create_user(s, "spv", Role.viewer, "kupang-timur-9", ["dukcapil"]),
                "users.taken",
            ),
            (
                lambda: users.create_user(s, "maria", Role.viewer, "kupang-timur-9", ["x1"]),
                "users.unknown_units",
            ),
            (lambda: users.parse_role("boss"), "users.role"),
        ]
        for call, why in cases:
            with pytest.raises(DomainError) as caught:
                call()
            assert caught.value.why == why
