"""What a process is built from, built once: the settings, the engine, every feature's policy
and the clock.

`app/` (the composition root) calls `build` once per process and hands the result to the
admin API, the bot, the scheduler and the CLI; adapters receive it and never build a policy
themselves, so every part of a process judges cases, evaluations and logins by the same rules
and the same clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.engine import Engine

from core.cases.calendar import ClosedDaysCache, warn_missing_cuti_bersama
from core.cases.policy import CasePolicy
from core.evaluations.rules import EvaluationPolicy
from core.people.login_limits import LoginPolicy
from core.shared.clock import utcnow
from core.shared.config import Settings

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Policies:
    """The process's settings, engine, policies and clock (see `build`)."""

    settings: Settings
    engine: Engine
    cases: CasePolicy
    evaluations: EvaluationPolicy
    logins: LoginPolicy
    clock: Clock = utcnow

    def now(self) -> datetime:
        """The current time (aware, UTC) by this process's clock."""
        return self.clock()


def build(settings: Settings, engine: Engine, *, clock: Clock = utcnow) -> Policies:
    """Every policy from `settings`, once. The SLA clock reads the office's closed days
    through one per-process cache (core.cases.calendar)."""
    cases = CasePolicy.from_settings(settings)
    sla = replace(cases.sla, closed_days=ClosedDaysCache(engine))
    warn_missing_cuti_bersama(sla, now=clock())
    return Policies(
        settings=settings,
        engine=engine,
        cases=replace(cases, sla=sla),
        evaluations=EvaluationPolicy.from_settings(settings),
        logins=LoginPolicy.from_settings(settings),
        clock=clock,
    )
