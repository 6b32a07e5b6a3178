"""Pure rules of the ledger: which accounts a kind of transfer may join, how a debit splits by source.

No database here: :mod:`.ledger` loads the accounts and asks these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.db.models.funds import SOURCES
from app.db.models.plans import MEASURE_CATEGORIES
from app.domain.errors import Conflict, RuleViolation
from app.domain.regions import codes

# Project statuses "in the library" (入库): money goes only to and through these projects. A planned project
# has not been approved into the library yet; accepted ones may still pay what is owed (质保金).
LIBRARY_STATUSES = ("approved", "under_construction", "completed", "accepted")
FUND_CATEGORIES = (*MEASURE_CATEGORIES, "general")
PAYABLE_HOUSEHOLD_STATUSES = ("registered", "exited")
APPROPRIATING_LEVELS = ("national", "province", "prefecture", "county")


@dataclass(frozen=True)
class Side:
    """What the rules need of an account: its kind, region, and what it is for."""

    kind: str  # source, pool, project, payee
    region_code: str
    payee_kind: str | None = None  # household, contractor
    project_status: str | None = None  # project accounts
    household_status: str | None = None  # household payees


def _within(code: str, ancestor: str) -> bool:
    """``code`` lies in the subtree of ``ancestor`` (or is it)."""
    return codes.is_within(code, codes.region_prefix(ancestor))


def deeper_region(a: str, b: str) -> str:
    """The deeper of two regions on one chain (the transfer's own region: seen from there and above)."""
    return a if len(codes.region_prefix(a)) >= len(codes.region_prefix(b)) else b


def _refuse(detail: str, code: str) -> RuleViolation:
    return RuleViolation(detail, code)


def _ensure_in_library(side: Side) -> None:
    if side.kind == "project" and side.project_status not in LIBRARY_STATUSES:
        raise _refuse(
            f"The project is {side.project_status}: money goes only to and through projects in the library "
            f"({', '.join(LIBRARY_STATUSES)}).",
            "transfer.project_not_in_library",
        )


def check_route(kind: str, debit: Side, credit: Side) -> None:
    """Refuse a transfer whose accounts do not fit its kind or do not lie on one chain in the right
    direction (a township cannot allocate to another county's village). Raises RuleViolation."""
    if kind == "appropriation":
        if debit.kind != "source" or credit.kind != "pool":
            raise _refuse("An appropriation moves money from a source into a county pool.", "transfer.route")
        if credit.region_code != debit.region_code:
            raise _refuse(
                "An appropriation goes into the pool of the county the source account belongs to.",
                "transfer.not_own_county",
            )
        return
    if kind == "allocation":
        if debit.kind != "pool" or credit.kind not in ("pool", "project"):
            raise _refuse(
                "An allocation moves money from a pool to a pool or project below.", "transfer.route"
            )
        strictly_below = credit.region_code != debit.region_code
        if not _within(credit.region_code, debit.region_code) or (
            credit.kind == "pool" and not strictly_below
        ):
            raise _refuse(
                "An allocation goes down the chain: to a region or project within the pool's region.",
                "transfer.not_down_the_chain",
            )
        _ensure_in_library(credit)
        return
    if kind == "disbursement":
        if debit.kind not in ("pool", "project") or credit.kind != "payee":
            raise _refuse(
                "A disbursement pays a household or contractor from a pool or project.", "transfer.route"
            )
        _ensure_in_library(debit)
        if credit.payee_kind == "contractor":
            if debit.kind != "project":
                raise _refuse(
                    "Contractors are paid only from a project's account.", "transfer.contractor_project"
                )
            reachable = _within(credit.region_code, debit.region_code) or _within(
                debit.region_code, credit.region_code
            )
        else:
            if credit.household_status not in PAYABLE_HOUSEHOLD_STATUSES:
                raise _refuse(
                    f"The household is {credit.household_status}: "
                    "only registered or exited households are paid.",
                    "transfer.household_status",
                )
            reachable = _within(credit.region_code, debit.region_code)
        if not reachable:
            raise _refuse(
                "The payee is not within the paying account's region.", "transfer.payee_out_of_region"
            )
        return
    if kind == "recovery":
        if debit.kind not in ("pool", "project", "payee") or credit.kind != "pool":
            raise _refuse("A recovery (收回) returns money to a pool up the chain.", "transfer.route")
        above = _within(debit.region_code, credit.region_code)
        if not above or (debit.kind == "pool" and debit.region_code == credit.region_code):
            raise _refuse(
                "A recovery goes back up the chain: to the pool of a region above.",
                "transfer.not_up_the_chain",
            )
        return
    raise _refuse(f"Unknown kind of transfer {kind!r}.", "transfer.kind")


def may_appropriate(principal_region_code: str) -> bool:
    """Appropriations are made at county level or above."""
    return codes.level_of(principal_region_code) in APPROPRIATING_LEVELS


def split_by_source(available: Mapping[str, int], amount_fen: int, source: str | None) -> dict[str, int]:
    """Which sources a debit of ``amount_fen`` consumes: only ``source`` when named, else the sources in
    :data:`SOURCES` order (central first). Raises Conflict ``transfer.insufficient_funds``."""
    if source is not None:
        if available.get(source, 0) < amount_fen:
            raise Conflict(
                f"The account holds {_yuan(available.get(source, 0))} yuan available from {source}, "
                f"less than {_yuan(amount_fen)}.",
                "transfer.insufficient_funds",
            )
        return {source: amount_fen}
    total = sum(max(value, 0) for value in available.values())
    if total < amount_fen:
        raise Conflict(
            f"The account holds {_yuan(total)} yuan available, less than {_yuan(amount_fen)}.",
            "transfer.insufficient_funds",
        )
    split: dict[str, int] = {}
    left = amount_fen
    for name in SOURCES:
        take = min(left, max(available.get(name, 0), 0))
        if take:
            split[name] = take
            left -= take
        if not left:
            break
    return split


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"
