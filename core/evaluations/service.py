"""Folding citizen feedback into ASN evaluations (PermenPANRB 6/2022, DESIGN section 5).

The supervisor (Pejabat Penilai Kinerja) decides; the system supplies a frozen snapshot of
the evidence and a suggested behaviour level with its reason. A period is `open` until it is
finalized in one transaction; after that nothing about it changes.

Confidentiality (core.access): the case evidence is snapshotted twice, over every case and
over the cases that are not `rahasia`. Those who may open every case of the period's units
(`may_open_every_case`: admins, the units' supervisors) see the full evidence and the
suggestions, and they alone compute, decide and finalize (`Permission.EVALUATE`). Everyone
else who may read the period (`Permission.VIEW_EVALUATIONS`) sees case figures over the
cases they may open, no suggestion at all (a missing or changed suggestion would reveal a
hidden case), and the decisions only once the period is finalized. An account linked to an
officer never sees a figure of that officer's cases.

The feature's service API: each name lives in one of the modules beside this one."""

from core.evaluations.compute import CaseEvidence, OfficerCases, compute_period, evaluations
from core.evaluations.decisions import (
    DecisionsMissing,
    ImportError_,
    MissingDecision,
    decide_behaviour,
    finalize,
    import_results,
    missing_decisions,
    period_has_ended,
    set_results_level,
)
from core.evaluations.export import (
    BEHAVIOUR_EVENTS,
    DECISION_EVENTS,
    EXPORT_COLUMNS,
    EXPORT_HEADERS,
    XLSX_HEADER_ROW,
    AuditEntry,
    audit_trail,
    export_rows,
    export_workbook,
    unit_head,
    xlsx_table,
)
from core.evaluations.own import (
    MAX_RESPONSE,
    OwnComment,
    OwnEvidence,
    OwnPeriod,
    own_evidence,
    own_periods,
    respond,
)
from core.evaluations.periods import (
    create_period,
    get_period,
    list_periods,
    may_evaluate,
    period_bounds,
    period_units,
)
from core.evaluations.rules import (
    KINDS,
    LEVEL_ALIASES,
    LEVEL_TITLES,
    LEVEL_WORDS,
    MATRIX,
    MISCONDUCT,
    SUBSTANTIATED,
    BehaviourPolicy,
    EvaluationPolicy,
    ReasonCode,
    evaluation_reason,
    parse_level,
    rating,
    render_reason,
    suggest,
)
from core.evaluations.views import (
    EvaluationView,
    evaluation_view,
    evaluation_views,
    sees_full_evidence,
)
from core.masterdata.signatory import Signatory

__all__ = [
    "BEHAVIOUR_EVENTS",
    "DECISION_EVENTS",
    "EXPORT_COLUMNS",
    "EXPORT_HEADERS",
    "KINDS",
    "LEVEL_ALIASES",
    "LEVEL_TITLES",
    "LEVEL_WORDS",
    "MATRIX",
    "MAX_RESPONSE",
    "MISCONDUCT",
    "SUBSTANTIATED",
    "XLSX_HEADER_ROW",
    "AuditEntry",
    "BehaviourPolicy",
    "CaseEvidence",
    "DecisionsMissing",
    "EvaluationPolicy",
    "EvaluationView",
    "ImportError_",
    "MissingDecision",
    "OfficerCases",
    "OwnComment",
    "OwnEvidence",
    "OwnPeriod",
    "ReasonCode",
    "Signatory",
    "audit_trail",
    "compute_period",
    "create_period",
    "decide_behaviour",
    "evaluation_reason",
    "evaluation_view",
    "evaluation_views",
    "evaluations",
    "export_rows",
    "export_workbook",
    "finalize",
    "get_period",
    "import_results",
    "list_periods",
    "may_evaluate",
    "missing_decisions",
    "own_evidence",
    "own_periods",
    "parse_level",
    "period_bounds",
    "period_has_ended",
    "period_units",
    "rating",
    "render_reason",
    "respond",
    "sees_full_evidence",
    "set_results_level",
    "suggest",
    "unit_head",
    "xlsx_table",
]
