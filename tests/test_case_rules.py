"""The rules on what a citizen types or chooses, kept once in core for every channel."""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from core.cases.models import Privacy
from core.cases.policy import (
    MAX_ANSWER,
    MAX_ATTACHMENTS,
    MIN_ANSWER,
    CasePolicy,
    ComplaintDraft,
    Rule,
    RuleBroken,
    check_answer,
    check_attachments,
    check_description,
    check_location,
    parse_privacy,
    parse_reference,
)
from core.cases.service import validate_draft
from core.cases.sla import SlaPolicy
from core.masterdata.service import (
    active_officers,
    active_services,
    offered_officer,
    offered_service,
    offered_unit,
)
from core.shared.errors import InvalidInput
from tests.factories import make_officer, make_service, make_unit

POLICY = CasePolicy(sla=SlaPolicy(tz=ZoneInfo("Asia/Makassar")))


# Description ------------------------------------------------------------------------------


def test_a_description_at_either_limit_is_taken_stripped() -> None:
    shortest = "a" * POLICY.min_description
    longest = "b" * POLICY.max_description
    assert check_description(POLICY, f"  {shortest}\n") == shortest
    assert check_description(POLICY, longest) == longest


@pytest.mark.parametrize(
    ("text", "rule", "length"),
    [
        ("a" * (POLICY.min_description - 1), Rule.too_short, POLICY.min_description - 1),
        # surrounding whitespace does not count towards the minimum
        (" " * 30 + "a" * (POLICY.min_description - 1), Rule.too_short, 19),
        ("   \n\t ", Rule.too_short, 0),
        ("b" * (POLICY.max_description + 1), Rule.too_long, POLICY.max_description + 1),
    ],
)
def test_a_description_outside_the_limits_names_the_rule_and_length(
    text: str, rule: Rule, length: int
) -> None:
    with pytest.raises(RuleBroken) as raised:
        check_description(POLICY, text)
    assert raised.value.rule == rule
    assert raised.value.length == length
    assert isinstance(raised.value, InvalidInput)  # the API's 422, the bot's hint
    assert "20-2000 characters" in raised.value.message


def test_the_description_limits_come_from_the_policy() -> None:
    strict = CasePolicy(sla=POLICY.sla, min_description=5, max_description=8)
    assert check_description(strict, "12345") == "12345"
    with pytest.raises(RuleBroken, match="5-8 characters"):
        check_description(strict, "123456789")


# A citizen's answer about their case ------------------------------------------------------


def test_an_answer_at_either_limit_is_taken_and_outside_refused() -> None:
    assert check_answer("  " + "x" * MIN_ANSWER + "  ") == "x" * MIN_ANSWER
    assert check_answer("y" * MAX_ANSWER) == "y" * MAX_ANSWER
    with pytest.raises(RuleBroken) as short:
        check_answer(" " + "x" * (MIN_ANSWER - 1) + " ")
    assert short.value.rule == Rule.too_short
    with pytest.raises(RuleBroken) as long:
        check_answer("y" * (MAX_ANSWER + 1))
    assert long.value.rule == Rule.too_long


# Photos -----------------------------------------------------------------------------------


def test_at_most_max_attachments_photos() -> None:
    check_attachments(0)
    check_attachments(MAX_ATTACHMENTS)
    with pytest.raises(RuleBroken) as raised:
        check_attachments(MAX_ATTACHMENTS + 1)
    assert raised.value.rule == Rule.too_many_attachments


# Location ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(None, None), (-10.17, 123.6), (90, 180), (-90, -180), (0, 0)],
)
def test_no_location_or_a_point_on_earth_is_fine(lat: float | None, lon: float | None) -> None:
    check_location(lat, lon)


@pytest.mark.parametrize(
    ("lat", "lon", "rule"),
    [
        (-10.17, None, Rule.location_incomplete),
        (None, 123.6, Rule.location_incomplete),
        (90.000001, 0, Rule.location_off_earth),
        (-90.000001, 0, Rule.location_off_earth),
        (0, 180.000001, Rule.location_off_earth),
        (0, -180.000001, Rule.location_off_earth),
        (120.0, 10.0, Rule.location_off_earth),
        (math.nan, 0, Rule.location_off_earth),
        (0, math.inf, Rule.location_off_earth),
    ],
)
def test_a_half_or_off_earth_location_is_refused(
    lat: float | None, lon: float | None, rule: Rule
) -> None:
    with pytest.raises(RuleBroken) as raised:
        check_location(lat, lon)
    assert raised.value.rule == rule


# References and privacy -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "reference"),
    [
        ("KPG-2611-0042", "KPG-2611-0042"),
        ("  kpg-2611-0042  ", "KPG-2611-0042"),
        ("\tKpG-2611-0042\n", "KPG-2611-0042"),
        ("KPG-2611-10000", "KPG-2611-10000"),
        ("AB-2601-1234567", "AB-2601-1234567"),
        ("kpg26110042", "KPG-2611-0042"),  # without the dashes
        ("KPG-26110042", "KPG-2611-0042"),
        ("kpg 2611 0042", "KPG-2611-0042"),  # as read aloud or copied from paper
    ],
)
def test_a_typed_reference_is_read_in_its_stored_form(typed: str, reference: str) -> None:
    assert parse_reference(typed) == reference


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "KPG  2611 0042",  # two spaces: not how a reference is written
        "KPG-2611-042",
        "KPG-26110-0042",
        "KPG-2611-12345678",
        "K-2611-0042",
        "KPGKPGK-2611-0042",
        "KPG-2611-0042 and more",
        "KPG-2611-0042\nKPG-2611-0043",
        "KPG-٢٦١١-0042",  # other digits than 0-9
        "' OR 1=1 --",
    ],
)
def test_anything_else_is_no_reference(typed: str) -> None:
    assert parse_reference(typed) is None


def test_a_privacy_level_by_its_code_only() -> None:
    assert parse_privacy("rahasia") is Privacy.rahasia
    assert [parse_privacy(p.value) for p in Privacy] == list(Privacy)
    assert parse_privacy("RAHASIA") is None
    assert parse_privacy("") is None
    assert parse_privacy("secret") is None


# The same rules inside core's own validation ----------------------------------------------


def test_validate_draft_applies_the_same_rules(session: Session) -> None:
    unit = make_unit(session, "dukcapil", "Dinas Dukcapil")
    assert unit.id is not None
    text = "a" * POLICY.min_description

    def draft(**kw: object) -> ComplaintDraft:
        fields: dict[str, object] = {"unit_id": unit.id, "category": "pungli"}
        fields["description"] = kw.pop("description", text)
        fields.update(kw)
        return ComplaintDraft(**fields)  # type: ignore[arg-type]

    validate_draft(session, draft(description=f"  {text}  "), POLICY)
    validate_draft(session, draft(latitude=90.0, longitude=-180.0), POLICY)
    validate_draft(session, draft(photos=("p",) * MAX_ATTACHMENTS), POLICY)
    refused = {
        Rule.too_short: draft(description=f"   {text[1:]}   "),
        Rule.too_long: draft(description="b" * (POLICY.max_description + 1)),
        Rule.too_many_attachments: draft(photos=("p",) * (MAX_ATTACHMENTS + 1)),
        Rule.location_incomplete: draft(latitude=-10.17),
        Rule.location_off_earth: draft(latitude=-10.17, longitude=181.0),
    }
    for rule, bad in refused.items():
        with pytest.raises(RuleBroken) as raised:
            validate_draft(session, bad, POLICY)
        assert raised.value.rule == rule


# What a citizen may choose ----------------------------------------------------------------


def test_only_active_officers_of_the_unit_are_offered(session: Session) -> None:
    unit = make_unit(session, "dukcapil", "Dinas Dukcapil")
    other = make_unit(session, "dinkes", "Dinas Kesehatan")
    assert unit.id is not None and other.id is not None
    zeta = make_officer(session, unit, "Zeta")
    alfa = make_officer(session, unit, "Alfa")
    gone = make_officer(session, unit, "Beta", active=False)
    elsewhere = make_officer(session, other, "Gamma")
    assert [o.name for o in active_officers(session, unit.id)] == ["Alfa", "Zeta"]
    assert [o.name for o in active_officers(session, unit.id, limit=1)] == ["Alfa"]
    assert [o.name for o in active_officers(session, unit.id, offset=1, limit=5)] == ["Zeta"]
    assert active_officers(session, unit.id, offset=2) == []
    assert offered_officer(session, unit.id, alfa.id or 0) == alfa
    assert offered_officer(session, unit.id, zeta.id or 0) == zeta
    assert offered_officer(session, unit.id, gone.id or 0) is None
    assert offered_officer(session, unit.id, elsewhere.id or 0) is None
    assert offered_officer(session, unit.id, 987654) is None


def test_only_active_services_of_the_unit_are_offered(session: Session) -> None:
    unit = make_unit(session, "dukcapil", "Dinas Dukcapil")
    other = make_unit(session, "dinkes", "Dinas Kesehatan")
    assert unit.id is not None
    ktp = make_service(session, unit, "KTP-el")
    akta = make_service(session, unit, "Akta kelahiran")
    closed = make_service(session, unit, "Kartu keluarga")
    closed.active = False
    session.add(closed)
    elsewhere = make_service(session, other, "Vaksinasi")
    session.flush()
    assert [s.name for s in active_services(session, unit.id)] == ["Akta kelahiran", "KTP-el"]
    assert [s.name for s in active_services(session, unit.id, limit=1)] == ["Akta kelahiran"]
    assert offered_service(session, unit.id, ktp.id or 0) == ktp
    assert offered_service(session, unit.id, akta.id or 0) == akta
    assert offered_service(session, unit.id, closed.id or 0) is None
    assert offered_service(session, unit.id, elsewhere.id or 0) is None


def test_only_active_units_are_offered(session: Session) -> None:
    open_unit = make_unit(session, "dukcapil", "Dinas Dukcapil")
    closed = make_unit(session, "lama", "Dinas Lama", active=False)
    assert offered_unit(session, open_unit.id or 0) == open_unit
    assert offered_unit(session, closed.id or 0) is None
    assert offered_unit(session, 987654) is None
