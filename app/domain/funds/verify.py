"""The ledger's consistency proof (``fupin funds verify``): every invariant as a query that returns the rows
breaking it. An empty result for each is the proof; the tests run it after every step.

Nationwide by design: it is the operator's check of the whole database, not a read of a caller's records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

SAMPLE = 20  # offending rows shown per check

CHECKS: dict[str, str] = {
    # balance = the sum of the account's entries
    "account_balance_equals_entries": """
        SELECT a.id, a.balance_fen, COALESCE(e.total, 0) AS entries_fen
        FROM fund_accounts a
        LEFT JOIN (SELECT account_id, SUM(amount_fen) AS total FROM fund_entries GROUP BY account_id) e
               ON e.account_id = a.id
        WHERE a.balance_fen <> COALESCE(e.total, 0)
    """,
    # each per-source balance = the sum of the account's entries of that source
    "source_balance_equals_entries": """
        SELECT s.account_id, s.source, s.balance_fen, COALESCE(e.total, 0) AS entries_fen
        FROM fund_account_sources s
        LEFT JOIN (SELECT account_id, source, SUM(amount_fen) AS total FROM fund_entries
                   GROUP BY account_id, source) e
               ON e.account_id = s.account_id AND e.source = s.source
        WHERE s.balance_fen <> COALESCE(e.total, 0)
        UNION ALL
        SELECT e.account_id, e.source, NULL, e.total
        FROM (SELECT account_id, source, SUM(amount_fen) AS total FROM fund_entries
              GROUP BY account_id, source) e
        WHERE NOT EXISTS (SELECT 1 FROM fund_account_sources s
                          WHERE s.account_id = e.account_id AND s.source = e.source)
    """,
    # an account's balance and reserved amount = the sums over its sources
    "account_equals_its_sources": """
        SELECT a.id, a.balance_fen, a.reserved_fen, COALESCE(s.balance, 0) AS sources_balance_fen,
               COALESCE(s.reserved, 0) AS sources_reserved_fen
        FROM fund_accounts a
        LEFT JOIN (SELECT account_id, SUM(balance_fen) AS balance, SUM(reserved_fen) AS reserved
                   FROM fund_account_sources GROUP BY account_id) s ON s.account_id = a.id
        WHERE a.balance_fen <> COALESCE(s.balance, 0) OR a.reserved_fen <> COALESCE(s.reserved, 0)
    """,
    # what a source of an account holds back = the splits of the pending transfers out of it
    "reserved_equals_pending": """
        SELECT s.account_id, s.source, s.reserved_fen, COALESCE(p.total, 0) AS pending_fen
        FROM fund_account_sources s
        LEFT JOIN (SELECT t.debit_account_id AS account_id, ts.source, SUM(ts.amount_fen) AS total
                   FROM fund_transfers t JOIN fund_transfer_sources ts ON ts.transfer_id = t.id
                   WHERE t.status = 'pending' GROUP BY t.debit_account_id, ts.source) p
               ON p.account_id = s.account_id AND p.source = s.source
        WHERE s.reserved_fen <> COALESCE(p.total, 0)
        UNION ALL
        SELECT t.debit_account_id, ts.source, NULL, ts.amount_fen
        FROM fund_transfers t JOIN fund_transfer_sources ts ON ts.transfer_id = t.id
        WHERE t.status = 'pending' AND NOT EXISTS (
            SELECT 1 FROM fund_account_sources s
            WHERE s.account_id = t.debit_account_id AND s.source = ts.source)
    """,
    # no account (but a source) holds less than it has reserved, nor reserves less than nothing
    "no_balance_below_zero": """
        SELECT a.id, a.kind, a.balance_fen, a.reserved_fen FROM fund_accounts a
        WHERE a.reserved_fen < 0 OR (a.kind <> 'source' AND a.balance_fen < a.reserved_fen)
        UNION ALL
        SELECT s.account_id, 'source row', s.balance_fen, s.reserved_fen FROM fund_account_sources s
        WHERE s.reserved_fen < 0 OR (NOT s.is_external AND s.balance_fen < s.reserved_fen)
    """,
    # a posted transfer's entries sum to zero and move exactly its amount between its two accounts;
    # any other transfer has none
    "transfer_entries_balance": """
        SELECT t.id, t.status, t.amount_fen, COALESCE(e.total, 0) AS total_fen,
               COALESCE(e.credited, 0) AS credited_fen, COALESCE(e.debited, 0) AS debited_fen
        FROM fund_transfers t
        LEFT JOIN (SELECT x.transfer_id, SUM(x.amount_fen) AS total,
                          SUM(CASE WHEN x.account_id = y.credit_account_id THEN x.amount_fen ELSE 0 END)
                              AS credited,
                          SUM(CASE WHEN x.account_id = y.debit_account_id THEN x.amount_fen ELSE 0 END)
                              AS debited,
                          SUM(CASE WHEN x.account_id <> y.credit_account_id
                                    AND x.account_id <> y.debit_account_id THEN 1 ELSE 0 END) AS elsewhere
                   FROM fund_entries x JOIN fund_transfers y ON y.id = x.transfer_id
                   GROUP BY x.transfer_id) e ON e.transfer_id = t.id
        WHERE (t.status = 'posted' AND (COALESCE(e.total, 1) <> 0 OR e.credited <> t.amount_fen
                                        OR e.debited <> -t.amount_fen OR e.elsewhere <> 0))
           OR (t.status <> 'posted' AND e.transfer_id IS NOT NULL)
    """,
    # a transfer's split by source adds up to its amount
    "split_equals_amount": """
        SELECT t.id, t.amount_fen, COALESCE(s.total, 0) AS split_fen
        FROM fund_transfers t
        LEFT JOIN (SELECT transfer_id, SUM(amount_fen) AS total FROM fund_transfer_sources
                   GROUP BY transfer_id) s ON s.transfer_id = t.id
        WHERE COALESCE(s.total, 0) <> t.amount_fen
    """,
    # a posted transfer's entries per source are its split
    "entries_follow_split": """
        SELECT s.transfer_id, s.source, s.amount_fen, COALESCE(e.credited, 0) AS credited_fen
        FROM fund_transfer_sources s JOIN fund_transfers t ON t.id = s.transfer_id AND t.status = 'posted'
        LEFT JOIN (SELECT transfer_id, source, SUM(amount_fen) AS credited FROM fund_entries
                   WHERE amount_fen > 0 GROUP BY transfer_id, source) e
               ON e.transfer_id = s.transfer_id AND e.source = s.source
        WHERE COALESCE(e.credited, 0) <> s.amount_fen
    """,
    # a reversal undoes a posted transfer that is not itself a reversal
    "reversals_undo_posted_transfers": """
        SELECT r.id, o.status, o.kind FROM fund_transfers r JOIN fund_transfers o ON o.id = r.reverses_id
        WHERE o.status <> 'posted' OR o.kind = 'reversal' OR r.amount_fen <> o.amount_fen
           OR r.debit_account_id <> o.credit_account_id OR r.credit_account_id <> o.debit_account_id
    """,
    # money is neither created nor destroyed: all balances together are zero
    "money_is_conserved": """
        SELECT total FROM (SELECT COALESCE(SUM(balance_fen), 0) AS total FROM fund_accounts) t
        WHERE total <> 0
    """,
}


@dataclass
class Report:
    accounts: int = 0
    transfers: int = 0
    entries: int = 0
    failures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


async def verify(session: AsyncSession) -> Report:
    """Run every check; ``report.ok`` when the ledger is consistent. One statement counts the offending
    rows of every check (and the table sizes); samples are read only for the checks that fail."""
    counts = " UNION ALL ".join(
        [
            f"SELECT '{name}' AS name, (SELECT COUNT(*) FROM {table}) AS n"  # noqa: S608
            for name, table in (
                ("accounts", "fund_accounts"),
                ("transfers", "fund_transfers"),
                ("entries", "fund_entries"),
            )
        ]
        + [f"SELECT '{name}', (SELECT COUNT(*) FROM ({sql}) broken)" for name, sql in CHECKS.items()]  # noqa: S608
    )
    found = {name: int(n) for name, n in (await session.execute(text(counts))).all()}
    report = Report(
        accounts=found.pop("accounts"), transfers=found.pop("transfers"), entries=found.pop("entries")
    )
    for name, n in found.items():
        if n:
            sample = text(f"SELECT * FROM ({CHECKS[name]}) broken LIMIT {SAMPLE}")  # noqa: S608
            rows = (await session.execute(sample)).mappings().all()
            report.failures[name] = [{key: str(value) for key, value in row.items()} for row in rows]
    return report
