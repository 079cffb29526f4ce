"""Liveness, readiness (database, migrations, outbox backlog) and JSON logs."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.logs import JsonFormatter
from app.site import create_site
from core.outbox.models import OutboundMessage
from core.policies import build
from core.shared.config import load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade


def test_readyz_reports_schema_and_outbox(fresh_db_url: str) -> None:
    settings = load_settings(database_url=fresh_db_url, environment="test", _env_file=None)
    engine = make_engine(fresh_db_url)
    with TestClient(create_site(build(settings, engine))) as client:
        assert client.get("/healthz").status_code == 200
        not_ready = client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["migrations_at_head"] is False
        upgrade(fresh_db_url)
        with Session(engine) as s:
            s.add(
                OutboundMessage(
                    channel="telegram",
                    address="1",
                    template="plain",
                    params="{}",
                    created_at=datetime.now(UTC) - timedelta(minutes=5),
                )
            )
            s.add(
                OutboundMessage(
                    channel="telegram", address="2", template="plain", params="{}", status="sent"
                )
            )
            s.commit()
        ready = client.get("/readyz").json()
        assert ready["ready"] is True and ready["database"] is True
        assert ready["outbox_pending"] == 1
        assert 290 <= ready["outbox_oldest_pending_seconds"] < 400
    engine.dispose()


def test_readyz_when_the_database_is_unreachable() -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    settings = load_settings(database_url=url, environment="test", _env_file=None)
    with TestClient(create_site(build(settings, make_engine(url)))) as client:
        r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["database"] is False


def test_json_log_lines() -> None:
    record = logging.LogRecord("asn", logging.WARNING, __file__, 1, "outbox %s late", ("x",), None)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "warning" and line["message"] == "outbox x late"
    assert line["logger"] == "asn" and line["time"].endswith("+00:00")
