"""The rules of PermenPANRB 6/2022 as the system applies them: levels, the rating matrix, and
the suggested behaviour level with its reason."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from core.cases.models import CaseOutcome
from core.evaluations.models import (
    Level,
    OfficerEvaluation,
)
from core.shared.config import Settings
from core.shared.errors import InvalidInput
from core.shared.i18n import ct
from core.surveys.officer_scores import OfficerScore, ScorePolicy

KINDS = ("monthly", "quarterly", "annual")
SUBSTANTIATED = (CaseOutcome.substantiated.value, CaseOutcome.partly.value)

# Work results x work behaviour -> predikat (PermenPANRB 6/2022; DESIGN section 5).
MATRIX: dict[tuple[Level, Level], str] = {
    (Level.above, Level.below): "Kurang",
    (Level.above, Level.meets): "Baik",
    (Level.above, Level.above): "Sangat Baik",
    (Level.meets, Level.below): "Kurang",
    (Level.meets, Level.meets): "Baik",
    (Level.meets, Level.above): "Baik",
    (Level.below, Level.below): "Sangat Kurang",
    (Level.below, Level.meets): "Butuh Perbaikan",
    (Level.below, Level.above): "Butuh Perbaikan",
}
LEVEL_WORDS = {
    "above": "di atas ekspektasi",
    "meets": "sesuai ekspektasi",
    "below": "di bawah ekspektasi",
}
LEVEL_ALIASES = {
    "above": Level.above,
    "di atas": Level.above,
    "di atas ekspektasi": Level.above,
    "meets": Level.meets,
    "sesuai": Level.meets,
    "sesuai ekspektasi": Level.meets,
    "below": Level.below,
    "di bawah": Level.below,
    "di bawah ekspektasi": Level.below,
}


def rating(results: Level, behaviour: Level) -> str:
    """The predikat that follows from the work-results and behaviour levels."""
    return MATRIX[(results, behaviour)]


def parse_level(value: str) -> Level:
    level = LEVEL_ALIASES.get(" ".join(value.strip().lower().split()))
    if level is None:
        raise InvalidInput("use above / meets / below (or di atas / sesuai / di bawah)")
    return level


@dataclass(frozen=True)
class BehaviourPolicy:
    above_score: float = 3.5
    below_score: float = 2.5
    below_substantiated: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> BehaviourPolicy:
        return cls(
            above_score=settings.behaviour_above_score,
            below_score=settings.behaviour_below_score,
            below_substantiated=settings.behaviour_below_substantiated,
        )


@dataclass(frozen=True)
class EvaluationPolicy:
    scores: ScorePolicy = field(default_factory=ScorePolicy)
    behaviour: BehaviourPolicy = field(default_factory=BehaviourPolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> EvaluationPolicy:
        return cls(ScorePolicy.from_settings(settings), BehaviourPolicy.from_settings(settings))


# The suggestion ---------------------------------------------------------------------------


def _num(value: float, lang: str) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "id" else text


def _relation(score: OfficerScore) -> str:
    if score.shrunk > score.unit_mean + 0.005:
        return "above"
    return "below" if score.shrunk < score.unit_mean - 0.005 else "equal"


class ReasonCode(StrEnum):
    """The shape of a suggestion's reason; its figures are in `ReasonParams`.

    `evidence`: "N responses[ (insufficient data)], score S (L-H), <relation> the unit's M;
    C substantiated complaints"."""

    evidence = "evidence"


@dataclass(frozen=True)
class ReasonParams:
    """The figures a reason is rendered from (stored as JSON beside its code)."""

    n: int
    score: float
    low: float
    high: float
    unit_mean: float
    relation: str  # above, below, equal (score against the unit's mean)
    substantiated: int
    insufficient: bool

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ReasonParams:
        data = json.loads(text)
        return cls(
            n=int(data["n"]),
            score=float(data["score"]),
            low=float(data["low"]),
            high=float(data["high"]),
            unit_mean=float(data["unit_mean"]),
            relation=str(data["relation"]),
            substantiated=int(data["substantiated"]),
            insufficient=bool(data["insufficient"]),
        )


def suggestion_reason(score: OfficerScore, substantiated: int) -> tuple[ReasonCode, ReasonParams]:
    """Why the suggestion, as a code and its figures (rendered per language on reading)."""
    return ReasonCode.evidence, ReasonParams(
        n=score.n,
        score=score.shrunk,
        low=score.low,
        high=score.high,
        unit_mean=score.unit_mean,
        relation=_relation(score),
        substantiated=substantiated,
        insufficient=score.insufficient,
    )


def render_reason(code: str, params: str | ReasonParams, lang: str) -> str:
    """A stored reason in words (core's catalog: Indonesian and English)."""
    ReasonCode(code)  # the one shape so far; an unknown code is a programming error
    p = params if isinstance(params, ReasonParams) else ReasonParams.from_json(params)
    head = ct(lang, "reason.response_one" if p.n == 1 else "reason.responses", n=p.n)
    if p.insufficient:
        head += ct(lang, "reason.insufficient")
    text = ct(
        lang,
        "reason.score",
        head=head,
        score=_num(p.score, lang),
        low=_num(p.low, lang),
        high=_num(p.high, lang),
        relation=ct(lang, f"reason.{p.relation}"),
        mean=_num(p.unit_mean, lang),
    )
    if p.substantiated == 0:
        return text + ct(lang, "reason.no_complaint")
    complaints = "reason.complaint_one" if p.substantiated == 1 else "reason.complaints"
    return text + ct(lang, complaints, n=p.substantiated)


def evaluation_reason(row: OfficerEvaluation, lang: str) -> str:
    """The reason of an officer's suggested level, in `lang`."""
    return render_reason(row.suggestion_reason_code, row.suggestion_reason_params, lang)


def suggestion_reason_text(score: OfficerScore, substantiated: int, lang: str) -> str:
    """Why the suggestion, in words."""
    code, params = suggestion_reason(score, substantiated)
    return render_reason(code, params, lang)


def suggest(score: OfficerScore, substantiated: int, policy: BehaviourPolicy) -> Level:
    if substantiated >= policy.below_substantiated:
        return Level.below
    if not score.insufficient and score.shrunk < policy.below_score:
        return Level.below
    if (
        not score.insufficient
        and substantiated == 0
        and score.shrunk >= policy.above_score
        and score.low > score.unit_mean
    ):
        return Level.above
    return Level.meets
