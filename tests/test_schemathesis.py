"""schemathesis over the whole OpenAPI schema, with an admin's and a supervisor's token:
no 5xx and no response that violates the schema. Besides what the schema describes, the
generated requests mix in values at the edges: days at the ends of the calendar, crafted
cursors, service populations of 0, negative or past 64 bits."""

from __future__ import annotations

import base64
import json
import tempfile
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session

from admin_api import create_app
from core.demo import seed_demo
from core.people.models import Role
from core.people.users import create_user
from core.shared.config import load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade

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


EDGE_DAYS = ["0001-01-01", "1999-12-31", "2100-01-01", "9999-12-31"]
DATE_PARAMETERS = {"start", "end", "received_from", "received_to"}


def _cursor(*items: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(items)).encode()).decode().rstrip("=")


EDGE_CURSORS = [
    _cursor("newest", "0001-01-01T00:00:00+14:00", 1),
    _cursor("due", "9999-12-31T23:59:59-12:00", 1),
    _cursor("newest", "2026-01-01T00:00:00+00:00", 2**63),
    _cursor("newest", "2026-01-01T00:00:00+00:00", True),
    _cursor("newest", 20260101, None),
]
EDGE_POPULATIONS = [0, -1, 2**63, 10**30, True]


def _query_names(context: Any) -> set[str]:
    return {p.name for p in context.operation.query} if context.operation else set()


def flatmap_query(context: Any, query: Any) -> st.SearchStrategy[Any]:
    """Sometimes replace a date or a cursor with a value at the edge."""
    names = _query_names(context)
    query = query if isinstance(query, dict) else {}
    edges: list[st.SearchStrategy[Any]] = [st.just(query)]
    for name in sorted(names & DATE_PARAMETERS):
        edges.append(st.sampled_from(EDGE_DAYS).map(lambda day, k=name: {**query, k: day}))
    if "cursor" in names:
        edges.append(st.sampled_from(EDGE_CURSORS).map(lambda c: {**query, "cursor": c}))
    return st.one_of(edges)


def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    """Sometimes give a unit a service population that must be refused."""
    operation = context.operation
    if operation is None or not operation.path.startswith("/units") or not isinstance(body, dict):
        return st.just(body)
    bad = st.sampled_from(EDGE_POPULATIONS).map(lambda n: {**body, "service_population": n})
    return st.one_of(st.just(body), bad)


@schema.hooks.apply(flatmap_query)
@schema.hooks.apply(flatmap_body)
@schema.parametrize()
# Each of the ~60 operations gets a sixth of the profile's budget (8 examples in "ci").
@hypothesis_settings(
    max_examples=max(1, hypothesis_settings().max_examples // 6),
    suppress_health_check=list(HealthCheck),
)
def test_every_operation(case: Any) -> None:
    for token in TOKENS:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        case.call_and_validate(checks=CHECKS)
