"""The rules of PermenPANRB 6/2022 as the system applies them: levels, the rating matrix, and
the suggested behaviour level with its reason."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from core.cases.categories import CATEGORIES, category_label
from core.cases.models import CaseOutcome
from core.evaluations.models import (
    Level,
    OfficerEvaluation,
)
from core.shared.config import ConfigError, Settings
from core.shared.errors import InvalidInput
from core.shared.i18n import ct
from core.surveys.officer_scores import OfficerScore, ScorePolicy

KINDS = ("monthly", "quarterly", "annual")
SUBSTANTIATED = (CaseOutcome.substantiated.value, CaseOutcome.partly.value)

# Work results x work behaviour -> predikat kinerja pegawai: PermenPANRB 6/2022, Lampiran
# (penilaian kinerja pegawai: matriks predikat kinerja; docs/rules.md). Where behaviour is
# below expectation while work results meet or exceed it, the annex writes
# "Kurang/Misconduct"; both below: "Sangat Kurang".
MISCONDUCT = "Kurang/Misconduct"
MATRIX: dict[tuple[Level, Level], str] = {
    (Level.above, Level.below): MISCONDUCT,
    (Level.above, Level.meets): "Baik",
    (Level.above, Level.above): "Sangat Baik",
    (Level.meets, Level.below): MISCONDUCT,
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
# As e-Kinerja and SKP forms write them (title case), for exports read by people.
LEVEL_TITLES = {
    "above": "Di Atas Ekspektasi",
    "meets": "Sesuai Ekspektasi",
    "below": "Di Bawah Ekspektasi",
}
# Accepted spellings, compared after `_level_key` (lower case, letters only, without the
# word "ekspektasi" or its common misspellings): "Di Atas Ekspektasi", "DIATAS EKSPEKTASI",
# "di bawah  ekspektasi", "Sesuai Ekspetasi", "di atas", "above" ...
LEVEL_ALIASES = {
    "above": Level.above,
    "diatas": Level.above,
    "meets": Level.meets,
    "sesuai": Level.meets,
    "below": Level.below,
    "dibawah": Level.below,
}
_EXPECTATION = re.compile(r"(e[kx]s?pe[kc]?ta?si|expectations?)$")


def _level_key(value: str) -> str:
    letters = re.sub(r"[^a-z]", "", value.lower())
    stripped = _EXPECTATION.sub("", letters)
    # "Di Atas Ekspektasi" -> "diatas"; a bare "ekspektasi" is not a level.
    return stripped if stripped else letters


def rating(results: Level, behaviour: Level) -> str:
    """The predikat that follows from the work-results and behaviour levels."""
    return MATRIX[(results, behaviour)]


def parse_level(value: str) -> Level:
    """A level as people and e-Kinerja files write it: any case and spacing, one word or
    two ("DIATAS EKSPEKTASI", "di bawah  ekspektasi"), "ekspektasi" misspelt ("Sesuai
    Ekspetasi") or left out ("di atas"), or the API's own above / meets / below."""
    level = LEVEL_ALIASES.get(_level_key(value))
    if level is None:
        shown = " ".join(value.split())[:40]
        if not shown:
            raise InvalidInput(
                "the level is empty: use Di Atas Ekspektasi, Sesuai Ekspektasi or "
                "Di Bawah Ekspektasi (or above / meets / below)",
                why="evaluation.level_empty",
            )
        raise InvalidInput(
            f"'{shown}' is not a level: use Di Atas Ekspektasi, Sesuai Ekspektasi or "
            "Di Bawah Ekspektasi (or above / meets / below)",
            why="evaluation.level_unknown",
            value=shown,
        )
    return level


DEFAULT_SERIOUS = ("pungli", "penyalahgunaan_wewenang", "diskriminasi")


def serious_categories(value: str) -> tuple[str, ...]:
    """BEHAVIOUR_SERIOUS_CATEGORIES: comma-separated category codes (may be empty)."""
    codes = tuple(dict.fromkeys(c.strip() for c in value.split(",") if c.strip()))
    unknown = [c for c in codes if c not in CATEGORIES]
    if unknown:
        raise ConfigError(
            f"BEHAVIOUR_SERIOUS_CATEGORIES: unknown category {unknown[0]!r}; use codes of "
            f"{', '.join(CATEGORIES)}, separated by commas"
        )
    return codes


@dataclass(frozen=True)
class BehaviourPolicy:
    above_score: float = 3.5
    below_score: float = 2.5
    below_substantiated: int = 2
    # One substantiated complaint in one of these categories suggests "below".
    serious_categories: tuple[str, ...] = DEFAULT_SERIOUS

    @classmethod
    def from_settings(cls, settings: Settings) -> BehaviourPolicy:
        return cls(
            above_score=settings.behaviour_above_score,
            below_score=settings.behaviour_below_score,
            below_substantiated=settings.behaviour_below_substantiated,
            serious_categories=serious_categories(settings.behaviour_serious_categories),
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
    C substantiated complaints[, of them in a serious category: <category> (k), ...]"."""

    evidence = "evidence"


@dataclass(frozen=True)
class ReasonParams:
    """The figures a reason is rendered from (stored as JSON beside its code).

    `serious`: substantiated complaints per serious category (code -> count), over every
    case of the period's units, `rahasia` ones included: the reason is shown only to readers
    who may open every one of those cases (core.evaluations.views)."""

    n: int
    score: float
    low: float
    high: float
    unit_mean: float
    relation: str  # above, below, equal (score against the unit's mean)
    substantiated: int
    insufficient: bool
    serious: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        """The same text as `json.dumps(asdict(self), sort_keys=True)` without an empty
        `serious` (reasons stored before that rule read the same), written by hand: it runs
        once per officer per compute, and `asdict` deep-copies."""
        if self.serious or self.relation not in ("above", "below", "equal"):
            data: dict[str, object] = {
                "high": self.high,
                "insufficient": self.insufficient,
                "low": self.low,
                "n": self.n,
                "relation": self.relation,
                "score": self.score,
                "substantiated": self.substantiated,
                "unit_mean": self.unit_mean,
            }
            if self.serious:
                data["serious"] = dict(sorted(self.serious.items()))
            return json.dumps(data, sort_keys=True)
        return (
            f'{{"high": {float(self.high)!r}, '
            f'"insufficient": {"true" if self.insufficient else "false"}, '
            f'"low": {float(self.low)!r}, "n": {int(self.n)}, "relation": "{self.relation}", '
            f'"score": {float(self.score)!r}, "substantiated": {int(self.substantiated)}, '
            f'"unit_mean": {float(self.unit_mean)!r}}}'
        )

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
            serious={str(k): int(v) for k, v in dict(data.get("serious") or {}).items()},
        )


def suggestion_reason(
    score: OfficerScore, substantiated: int, serious: Mapping[str, int] | None = None
) -> tuple[ReasonCode, ReasonParams]:
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
        serious={k: v for k, v in sorted((serious or {}).items()) if v > 0},
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
    text += ct(lang, complaints, n=p.substantiated)
    if p.serious:
        named = ", ".join(f"{category_label(c, lang)} ({n})" for c, n in sorted(p.serious.items()))
        text += ct(lang, "reason.serious", categories=named)
    return text


def evaluation_reason(row: OfficerEvaluation, lang: str) -> str:
    """The reason of an officer's suggested level, in `lang`."""
    return render_reason(row.suggestion_reason_code, row.suggestion_reason_params, lang)


def suggestion_reason_text(
    score: OfficerScore, substantiated: int, lang: str, serious: Mapping[str, int] | None = None
) -> str:
    """Why the suggestion, in words."""
    code, params = suggestion_reason(score, substantiated, serious)
    return render_reason(code, params, lang)


def suggest(
    score: OfficerScore,
    substantiated: int,
    policy: BehaviourPolicy,
    serious: Mapping[str, int] | None = None,
) -> Level:
    """The suggested behaviour level. "below": one substantiated complaint in a serious
    category (`policy.serious_categories`), or `below_substantiated` substantiated
    complaints of any category, or a sufficient score under `below_score`. "above": a
    sufficient score from `above_score` up whose interval lies above the unit's mean, with
    no substantiated complaint. Otherwise "meets"."""
    if any(n > 0 and c in policy.serious_categories for c, n in (serious or {}).items()):
        return Level.below
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
