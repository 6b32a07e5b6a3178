"""The household lifecycle as data: procedures, their steps, who takes each step at which level, what a
step needs and what it changes. Pure definitions and checks, no I/O; :mod:`lifecycle` is the engine.

A household runs at most one procedure at a time (``procedure``/``procedure_step`` on the household).
A *starting* transition opens a procedure from a status; every other one moves from one step to the
next, and a transition without a next step ends the procedure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from app.domain.principal import Principal, Role
from app.domain.regions.codes import level_of

Procedure = Literal["identification", "exit", "return", "removal", "monitoring", "risk_clearing"]
Level = Literal["village", "township", "county"]
PROCEDURES: tuple[Procedure, ...] = (
    "identification",
    "exit",
    "return",
    "removal",
    "monitoring",
    "risk_clearing",
)
PROCEDURE_LABELS: dict[str, str] = {
    "identification": "贫困户识别",
    "exit": "脱贫退出",
    "return": "返贫",
    "removal": "错评清退",
    "monitoring": "防返贫监测",
    "risk_clearing": "风险消除",
}
LEVEL_LABELS: dict[str, str] = {"village": "村级", "township": "乡镇级", "county": "县级"}
LEAD_SOURCES = ("self", "cadre", "department")  # 农户自主申报, 干部排查, 部门预警
# Payload fields a transition may take besides ``comment`` and ``document_numbers`` (which every one takes).
PAYLOAD_FIELDS = ("year", "monitoring_kind", "lead_source", "include", "primary_cause")


@dataclass(frozen=True)
class Authority:
    """Who takes a step: a role (implied roles count) held by an account of one of these region levels."""

    role: Role
    levels: tuple[Level, ...]

    def permits(self, principal: Principal) -> bool:
        return principal.holds(self.role) and level_of(principal.region_code) in self.levels

    def describe(self) -> str:
        return f"{self.role} at {' or '.join(self.levels)} level"


# Townships often enter village steps for their villages; township and county steps are their own.
VILLAGE = Authority(Role.VILLAGE_CLERK, ("village", "township"))
TOWNSHIP = Authority(Role.TOWNSHIP_REVIEWER, ("township",))
COUNTY = Authority(Role.COUNTY_OFFICER, ("county",))
ANY_LEVEL = Authority(Role.VILLAGE_CLERK, ("village", "township", "county"))
TOWNSHIP_OR_COUNTY = Authority(Role.TOWNSHIP_REVIEWER, ("township", "county"))

# Who records an objection (异议) and who resolves one.
OBJECTION_RECORDER = ANY_LEVEL
OBJECTION_RESOLVER = TOWNSHIP_OR_COUNTY


@dataclass(frozen=True)
class PublicitySpec:
    """A step that opens a publicity (公示) at a level, for the days a per-region setting says."""

    level: Level
    days_setting: str


VILLAGE_PUBLICITY = PublicitySpec("village", "publicity_days")
TOWNSHIP_PUBLICITY = PublicitySpec("township", "publicity_days")
MONITORING_PUBLICITY = PublicitySpec("village", "monitoring_publicity_days")


@dataclass(frozen=True)
class Transition:
    procedure: str
    action: str
    label: str  # the step in Chinese, as the forms name it
    authority: Authority
    # The steps it leaves; empty for a transition that starts the procedure (from ``start_statuses``).
    from_steps: tuple[str, ...]
    to_step: str | None  # None: the procedure ends
    start_statuses: tuple[str, ...] = ()
    to_status: str | None = None
    opens: PublicitySpec | None = None
    is_approval: bool = False  # refused while an objection is open
    requires: tuple[str, ...] = ()  # payload fields that must be given: comment, document_numbers, ...
    accepts: tuple[str, ...] = ()  # further payload fields it takes
    checks_exit_conditions: bool = False  # income above the line and every 两不愁三保障 indicator
    has_deadline: bool = False  # the county's monitoring decision is due within a number of days

    @property
    def starts(self) -> bool:
        return not self.from_steps

    @property
    def ends(self) -> bool:
        return self.to_step is None


COMMENT = ("comment",)
DOCUMENTS = ("document_numbers",)
CANCELLABLE: tuple[str, ...] = ("exit", "return", "removal", "monitoring", "risk_clearing")

# fmt: off
T = Transition
TRANSITIONS: tuple[Transition, ...] = (
    # 识别: 农户申请 → 民主评议/村委核实 → 村公示 → 乡镇审核 → 乡镇公示 → 县审定 → 公告 → 乡镇录入
    T("identification", "village_review", "民主评议、村委核实", VILLAGE, ("applied",), "village_reviewed"),
    T("identification", "start_village_publicity", "村级公示", VILLAGE, ("village_reviewed",),
      "village_publicity", opens=VILLAGE_PUBLICITY),
    T("identification", "township_review", "乡镇审核", TOWNSHIP, ("village_publicity",), "township_reviewed",
      is_approval=True),
    T("identification", "start_township_publicity", "乡镇公示", TOWNSHIP, ("township_reviewed",),
      "township_publicity", opens=TOWNSHIP_PUBLICITY),
    T("identification", "county_approve", "县级审定", COUNTY, ("township_publicity",), "county_approved",
      is_approval=True),
    T("identification", "announce", "县级公告", COUNTY, ("county_approved",), "announced", is_approval=True,
      requires=DOCUMENTS),
    T("identification", "register", "乡镇录入、建档立卡", TOWNSHIP, ("announced",), None,
      to_status="registered", is_approval=True),
    T("identification", "reject", "不予识别", TOWNSHIP, ("village_publicity", "township_reviewed"), None,
      to_status="rejected", requires=COMMENT),
    T("identification", "reject", "不予识别", COUNTY, ("township_publicity", "county_approved"), None,
      to_status="rejected", requires=COMMENT),
    # 退出: 民主评议 → 村两委和驻村工作队核实 → 农户认可 → 村、乡两级公示无异议 → 县(市)级公告 → 标注脱贫
    T("exit", "propose_exit", "民主评议、提出退出", VILLAGE, (), "exit_proposed",
      start_statuses=("registered",), accepts=("year",), checks_exit_conditions=True),
    T("exit", "verify_exit", "村两委和驻村工作队核实", VILLAGE, ("exit_proposed",), "exit_verified"),
    T("exit", "record_consent", "农户认可", VILLAGE, ("exit_verified",), "consented"),
    T("exit", "start_village_publicity", "村级公示", VILLAGE, ("consented",), "village_publicity",
      opens=VILLAGE_PUBLICITY),
    T("exit", "start_township_publicity", "乡镇公示", TOWNSHIP, ("village_publicity",), "township_publicity",
      opens=TOWNSHIP_PUBLICITY, is_approval=True),
    T("exit", "announce_exit", "县级公告退出", COUNTY, ("township_publicity",), None, to_status="exited",
      is_approval=True, requires=DOCUMENTS, checks_exit_conditions=True),
    # 返贫: 提出 (原因) → 村级公示 → 乡镇审核 → 县级审定, registered again
    T("return", "propose_return", "提出返贫", VILLAGE, (), "return_proposed", start_statuses=("exited",),
      requires=COMMENT, accepts=("primary_cause",)),
    T("return", "start_village_publicity", "村级公示", VILLAGE, ("return_proposed",), "village_publicity",
      opens=VILLAGE_PUBLICITY),
    T("return", "township_review", "乡镇审核", TOWNSHIP, ("village_publicity",), "township_reviewed",
      is_approval=True),
    T("return", "county_approve_return", "县级审定返贫", COUNTY, ("township_reviewed",), None,
      to_status="registered", is_approval=True, requires=DOCUMENTS),
    # 错评清退: a wrongly included household leaves the register, with the reason
    T("removal", "propose_removal", "提出清退", VILLAGE, (), "removal_proposed",
      start_statuses=("registered", "exited"), requires=COMMENT),
    T("removal", "township_review", "乡镇审核", TOWNSHIP, ("removal_proposed",), "township_reviewed",
      is_approval=True),
    T("removal", "county_approve_removal", "县级审定清退", COUNTY, ("township_reviewed",), None,
      to_status="removed", is_approval=True, requires=DOCUMENTS),
    # 防返贫监测: 线索 → 入户核实、农户同意 → 村级评议公示 (≥ 5 天) → 乡镇审核 → 县级确定 (15 天内)
    T("monitoring", "report_lead", "监测线索", ANY_LEVEL, (), "lead_reported",
      start_statuses=("applicant", "registered", "exited", "rejected"),
      requires=("monitoring_kind", "lead_source")),
    T("monitoring", "record_visit_consent", "入户核实、农户同意", VILLAGE, ("lead_reported",), "visited"),
    T("monitoring", "start_village_publicity", "村级评议公示", VILLAGE, ("visited",), "village_publicity",
      opens=MONITORING_PUBLICITY),
    T("monitoring", "township_check", "乡镇审核", TOWNSHIP, ("village_publicity",), "township_checked",
      is_approval=True),
    T("monitoring", "county_decide", "县级确定监测对象", COUNTY, ("township_checked",), None,
      is_approval=True, requires=("include",), has_deadline=True),
    # 风险消除: the same way, once income is stably above the line and 三保障 and water hold
    T("risk_clearing", "propose_risk_clearing", "提出风险消除", VILLAGE, (), "proposed",
      accepts=("year",), checks_exit_conditions=True),
    T("risk_clearing", "start_village_publicity", "村级评议公示", VILLAGE, ("proposed",), "village_publicity",
      opens=MONITORING_PUBLICITY),
    T("risk_clearing", "township_check", "乡镇审核", TOWNSHIP, ("village_publicity",), "township_checked",
      is_approval=True),
    T("risk_clearing", "county_decide", "县级确定风险消除", COUNTY, ("township_checked",), None,
      is_approval=True, requires=("include",), accepts=("year",), has_deadline=True,
      checks_exit_conditions=True),
)
# fmt: on
# Abandoning a procedure under way, status unchanged. An application (identification) is not cancelled:
# it ends registered or rejected.
CANCEL = "cancel"
CANCEL_AUTHORITY = TOWNSHIP_OR_COUNTY
ACTIONS: tuple[str, ...] = (*dict.fromkeys(t.action for t in TRANSITIONS), CANCEL)
PUBLICITY_STEPS = frozenset(t.to_step for t in TRANSITIONS if t.opens is not None)
# The action that opens each procedure; an application (``apply``) is the registration of the household.
STARTING_ACTIONS: dict[str, str] = {
    "identification": "apply",
    **{t.procedure: t.action for t in TRANSITIONS if t.starts},
}


def cancel_transition(procedure: str, step: str) -> Transition:
    return Transition(procedure, CANCEL, "撤销", CANCEL_AUTHORITY, (step,), None, requires=COMMENT)


@dataclass(frozen=True)
class State:
    """What decides which transitions apply: the household's status, procedure and monitoring."""

    status: str
    procedure: str | None
    step: str | None
    monitoring_kind: str | None


def start_refusal(transition: Transition, state: State) -> str | None:
    """Why a starting transition does not apply to a household (None when it does)."""
    if transition.procedure == "risk_clearing":
        return None if state.monitoring_kind is not None else "the household is not monitored"
    if state.status not in transition.start_statuses:
        return f"the household is {state.status}, not {' or '.join(transition.start_statuses)}"
    if transition.procedure == "monitoring" and state.monitoring_kind is not None:
        return f"the household is already monitored ({state.monitoring_kind})"
    return None


def applicable(state: State) -> list[Transition]:
    """The transitions that apply to a household now, whoever asks."""
    if state.procedure is None:
        return [t for t in TRANSITIONS if t.starts and start_refusal(t, state) is None]
    found = [
        t
        for t in TRANSITIONS
        if t.procedure == state.procedure and state.step is not None and state.step in t.from_steps
    ]
    if state.procedure in CANCELLABLE and state.step is not None:
        found.append(cancel_transition(state.procedure, state.step))
    return found


@dataclass(frozen=True)
class Mismatch:
    """An action that does not apply to the household's state: why, as a stable code and a sentence."""

    code: str
    detail: str


def resolve(state: State, action: str) -> Transition | Mismatch:
    """The transition ``action`` names for a household in ``state``, or why there is none."""
    for transition in applicable(state):
        if transition.action == action:
            return transition
    starting = [t for t in TRANSITIONS if t.starts and t.action == action]
    if starting:
        if state.procedure is not None:
            return Mismatch(
                "household.procedure_under_way",
                f"The {state.procedure} procedure is under way (step {state.step}); finish or cancel it "
                f"before {action}.",
            )
        reason = start_refusal(starting[0], state)
        return Mismatch("household.transition.wrong_status", f"{action} does not apply: {reason}.")
    if state.procedure is None:
        return Mismatch(
            "household.transition.wrong_step",
            f"No procedure is under way for this household ({state.status}); {action} does not apply.",
        )
    if action == CANCEL:
        return Mismatch(
            "household.transition.wrong_step",
            "An application (identification) is not cancelled: it is registered or rejected.",
        )
    return Mismatch(
        "household.transition.wrong_step",
        f"{action} does not apply to the {state.procedure} procedure at step {state.step}.",
    )


def missing_payload(transition: Transition, given: set[str]) -> list[str]:
    return [name for name in transition.requires if name not in given]


def unexpected_payload(transition: Transition, given: set[str]) -> list[str]:
    takes = {"comment", "document_numbers", *transition.requires, *transition.accepts}
    return [name for name in PAYLOAD_FIELDS if name in given and name not in takes]


def publicity_ends_on(starts_on: date, days: int) -> date:
    """The last day of a publicity of ``days`` days starting on ``starts_on`` (inclusive)."""
    return starts_on + timedelta(days=days - 1)


def publicity_has_ended(ends_on: date, today: date) -> bool:
    return today > ends_on


def decision_deadline(lead_on: date, days: int) -> date:
    """The last day of the county's monitoring decision: ``days`` days after the first lead."""
    return lead_on + timedelta(days=days)


def default_exit_year(today: date) -> int:
    """Exits are assessed on last year's income unless another year is named."""
    return today.year - 1


def monitoring_kind_refusal(kind: str, status: str) -> str | None:
    if kind == "unstable_exited" and status != "exited":
        return "unstable_exited (脱贫不稳定户) applies only to exited households"
    return None
