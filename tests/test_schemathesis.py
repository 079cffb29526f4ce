"""schemathesis over the whole OpenAPI schema, with an admin's and a supervisor's token:
no 5xx and no response that violates the schema."""

from __future__ import annotations

import tempfile
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session

from admin_api import create_app
from core.config import load_settings
from core.db import make_engine
from core.demo import seed_demo
from core.migrate import upgrade
from core.models import Role
from core.users import create_user

_tmp = tempfile.mkdtemp()
_cfg = load_settings(database_url=f"sqlite:///{_tmp}/schema.db", environment="test", _env_file=None)
upgrade(_cfg.database_url)
_engine = make_engine(_cfg.database_url)
with Session(_engine) as _s:
    _demo = seed_demo(_s, _cfg.tz, surveys=60)
    create_user(_s, "spv", Role.supervisor, "a long enough password", ["dukcapil"])
    _s.commit()
APP = create_app(_cfg, _engine)
with TestClient(APP) as _client:
    TOKENS = [
        _client.post("/auth/token", data={"username": user, "password": pw}).json()["access_token"]
        for user, pw in (("admin", _demo.admin_password), ("spv", "a long enough password"))
    ]

schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
# No 5xx; responses, their status codes and content types as documented. (The Allow
# header of a 405 is Starlette's: it names the methods of the first matching route only.)
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


@schema.parametrize()
@hypothesis_settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation(case: Any) -> None:
    for token in TOKENS:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        case.call_and_validate(checks=CHECKS)
