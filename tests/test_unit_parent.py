"""A unit's parent changed after creation (issue 15: admins manage units "(code, name, parent,
service population, active)"): in core, through the admin API's PATCH /units/{code}, and in
Chromium on the unit's page. The parent is named by its code (empty: top level); a parent that
does not exist, the unit itself or one of its descendants (a circle) is refused with the rule;
only those who may create units (`Permission.MANAGE_UNITS`) may move a unit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from admin_api import create_app
from core.access import Actor
from core.masterdata import service as md
from core.masterdata.models import Unit
from core.people.models import Role
from core.shared.config import Settings
from core.shared.errors import Forbidden, InvalidInput
from tests.factories import bearer, make_unit, make_user
from tests.test_console_browser import no_horizontal_scroll, serious_violations
from tests.test_console_case import Office, log_in, office

__all__ = ["office"]
ADMIN = Actor(-1, "test", Role.admin, frozenset())


def _fits(page: Page) -> bool:
    """No serious accessibility violation, and nothing wider than a phone."""
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 740})
    fits = no_horizontal_scroll(page)
    page.set_viewport_size({"width": 1366, "height": 768})
    return fits


def _parent_code(session: Session, code: str) -> str | None:
    unit = md.get_unit_by_code(session, code)
    return None if unit.parent_id is None else md.get_unit(session, unit.parent_id).code


def _tree(session: Session) -> None:
    """setda (top) > bagian-umum > subbag-tu; dukcapil (top)."""
    setda = make_unit(session, "setda", "Sekretariat Daerah")
    umum = make_unit(session, "bagian-umum", "Bagian Umum", parent_id=setda.id)
    make_unit(session, "subbag-tu", "Subbagian Tata Usaha", parent_id=umum.id)
    make_unit(session, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
    session.flush()


# Core ----------------------------------------------------------------------------------------


def test_an_admin_moves_a_unit_and_back_to_the_top(session: Session) -> None:
    _tree(session)
    md.update_unit(session, "dukcapil", md.UnitUpdate(parent_code=" SETDA "), actor=ADMIN)
    assert _parent_code(session, "dukcapil") == "setda"
    # A change of name only leaves the parent where it is.
    md.update_unit(session, "dukcapil", md.UnitUpdate(name="Dinas Dukcapil"), actor=ADMIN)
    assert _parent_code(session, "dukcapil") == "setda"
    md.update_unit(session, "dukcapil", md.UnitUpdate(parent_code=""), actor=ADMIN)
    assert _parent_code(session, "dukcapil") is None
    md.update_unit(session, "dukcapil", md.UnitUpdate(parent_code="subbag-tu"), actor=ADMIN)
    assert _parent_code(session, "dukcapil") == "subbag-tu"
    md.update_unit(session, "dukcapil", md.UnitUpdate(parent_code=None), actor=ADMIN)
    assert _parent_code(session, "dukcapil") is None


@pytest.mark.parametrize(
    ("unit", "parent", "why"),
    [
        ("setda", "subbag-tu", "unit.parent_cycle"),  # a grandchild
        ("setda", "bagian-umum", "unit.parent_cycle"),  # a child
        ("bagian-umum", "bagian-umum", "unit.parent_self"),
        ("bagian-umum", "tidak-ada", "unit.parent_unknown"),
    ],
)
def test_a_parent_that_would_break_the_tree_is_refused(
    session: Session, unit: str, parent: str, why: str
) -> None:
    _tree(session)
    before = _parent_code(session, unit)
    with pytest.raises(InvalidInput) as refused:
        md.update_unit(session, unit, md.UnitUpdate(parent_code=parent), actor=ADMIN)
    assert refused.value.why == why
    assert _parent_code(session, unit) == before


def test_only_those_who_may_create_units_move_them(session: Session) -> None:
    _tree(session)
    dukcapil = md.get_unit_by_code(session, "dukcapil")
    assert dukcapil.id is not None
    supervisor = Actor(-2, "spv", Role.supervisor, frozenset({dukcapil.id}))
    with pytest.raises(Forbidden):
        md.update_unit(session, "dukcapil", md.UnitUpdate(parent_code="setda"), actor=supervisor)
    assert _parent_code(session, "dukcapil") is None
    # The rest of the unit stays theirs to keep.
    md.update_unit(session, "dukcapil", md.UnitUpdate(name="Dukcapil Kota"), actor=supervisor)
    assert md.get_unit_by_code(session, "dukcapil").name == "Dukcapil Kota"


# Admin API -----------------------------------------------------------------------------------


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with Session(engine) as s:
        _tree(s)
        make_user(s, "admin", Role.admin)
        make_user(s, "spv", Role.supervisor, [md.get_unit_by_code(s, "dukcapil")])
        s.commit()
    with TestClient(create_app(settings, engine)) as c:
        yield c


def test_the_api_moves_a_unit_and_refuses_a_circle(client: TestClient, engine: Engine) -> None:
    admin = bearer(client, "admin")
    with Session(engine) as s:
        setda_id = md.get_unit_by_code(s, "setda").id
    r = client.patch("/units/dukcapil", headers=admin, json={"parent_code": "setda"})
    assert r.status_code == 200, r.text
    assert r.json()["parent_id"] == setda_id
    r = client.patch("/units/dukcapil", headers=admin, json={"name": "Dinas Dukcapil"})
    assert (r.json()["name"], r.json()["parent_id"]) == ("Dinas Dukcapil", setda_id)

    r = client.patch("/units/setda", headers=admin, json={"parent_code": "subbag-tu"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert "back to the unit" in r.json()["detail"]
    r = client.patch("/units/setda", headers=admin, json={"parent_code": "tidak-ada"})
    assert r.status_code == 422 and "tidak-ada" in r.json()["detail"]
    r = client.patch("/units/setda", headers=admin, json={"parent_code": 7})
    assert r.status_code == 422  # the body is still validated
    with Session(engine) as s:
        assert _parent_code(s, "setda") is None

    # A supervisor keeps their unit's name but does not move it.
    spv = bearer(client, "spv")
    r = client.patch("/units/dukcapil", headers=spv, json={"parent_code": ""})
    assert r.status_code == 403
    r = client.patch("/units/dukcapil", headers=spv, json={"name": "Dukcapil"})
    assert r.status_code == 200 and r.json()["parent_id"] == setda_id

    r = client.patch("/units/dukcapil", headers=admin, json={"parent_code": ""})
    assert r.status_code == 200 and r.json()["parent_id"] is None
    listed = {u["code"]: u for u in client.get("/units", headers=admin).json()}
    assert listed["dukcapil"]["parent_id"] is None


# Console (Chromium) --------------------------------------------------------------------------


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(bypass_csp=True)  # axe is injected as an inline script
    yield context.new_page()
    context.close()


@pytest.mark.browser
def test_an_admin_moves_a_unit_under_another_and_is_refused_a_circle(
    page: Page, office: Office
) -> None:
    with Session(office.engine) as s:  # the office's dukcapil, and a small tree beside it
        setda = make_unit(s, "setda", "Sekretariat Daerah")
        make_unit(s, "bagian-umum", "Bagian Umum", parent_id=setda.id)
        s.commit()
    log_in(page, office, "admin")
    page.goto(f"{office.base}/staff/units/dukcapil")
    form = page.locator("form.unit-edit")
    parent = form.get_by_label("Unit induk")
    expect(parent).to_have_value("")  # top level today
    expect(parent.locator("option").first).to_have_text("— tingkat teratas —")
    expect(parent.locator("option", has_text="Dinas Kependudukan")).to_have_count(0)  # itself
    parent.select_option(label="Sekretariat Daerah")
    form.get_by_role("button", name="Simpan").click()
    expect(page.get_by_role("status")).to_contain_text("Perubahan disimpan")
    expect(page.locator(".md-facts")).to_contain_text("Sekretariat Daerah")
    expect(page.locator("form.unit-edit").get_by_label("Unit induk")).to_have_value("setda")
    assert _fits(page)
    with Session(office.engine) as s:
        assert _parent_code(s, "dukcapil") == "setda"

    page.get_by_role("navigation").get_by_role("link", name="Unit & petugas").click()
    row = page.locator("tr", has=page.get_by_role("link", name="Dinas Kependudukan"))
    expect(row).to_contain_text("Sekretariat Daerah")

    # Setda under its own child: refused in Indonesian on the page, nothing changed.
    page.goto(f"{office.base}/staff/units/setda")
    form = page.locator("form.unit-edit")
    form.get_by_label("Unit induk").select_option(label="Bagian Umum")
    form.get_by_role("button", name="Simpan").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Belum disimpan: Rantai unit induk kembali ke unit ini."
    )
    expect(page.locator("form.unit-edit").get_by_label("Unit induk")).to_have_value(
        "bagian-umum"
    )  # the choice stays, to be corrected
    with Session(office.engine) as s:
        assert _parent_code(s, "setda") is None

    # Back to the top level.
    page.goto(f"{office.base}/staff/units/dukcapil")
    form = page.locator("form.unit-edit")
    form.get_by_label("Unit induk").select_option(label="— tingkat teratas —")
    form.get_by_role("button", name="Simpan").click()
    expect(page.get_by_role("status")).to_contain_text("Perubahan disimpan")
    with Session(office.engine) as s:
        assert _parent_code(s, "dukcapil") is None


@pytest.mark.browser
def test_a_supervisor_is_offered_no_parent_and_cannot_post_one(page: Page, office: Office) -> None:
    with Session(office.engine) as s:
        make_unit(s, "setda", "Sekretariat Daerah")
        s.commit()
    log_in(page, office, "spv")
    page.goto(f"{office.base}/staff/units/dukcapil")
    form = page.locator("form.unit-edit")
    expect(form.get_by_label("Nama unit")).to_be_visible()
    expect(form.get_by_label("Unit induk")).to_have_count(0)
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    sent = {"csrf": token, "name": "Dukcapil", "population": "", "parent_code": "setda"}
    refused = page.request.post(f"{office.base}/staff/units/dukcapil", form=sent)
    assert refused.status == 403  # the server refuses what the page does not offer
    with Session(office.engine) as s:
        unit = s.exec(select(Unit).where(Unit.code == "dukcapil")).one()
        assert (unit.parent_id, unit.name) == (None, "Dinas Kependudukan dan Pencatatan Sipil")
