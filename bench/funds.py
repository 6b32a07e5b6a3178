"""Transfers per second through the real server: 32 concurrent clients posting disbursements, on one
contended account and spread over many, then the ledger proven consistent; writes the "Funds ledger" section
of bench/RESULTS.md.

    python -m bench.funds --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/fupin_bench_funds

Loads the province-scale dataset of bench/generate.py into its own database (``--households``, default
60,000 in 甘肃省's 6,000 villages; ``--reuse`` keeps a loaded one), empties the ledger, sets the approval
threshold out of the way (every transfer posts at once: the common path), starts ``fupin serve`` (one worker
by default, log level WARNING) and, through HTTP as a provincial finance officer:

- funds the benchmark county (a central appropriation) and 32 of its villages (allocations);
- *contended*: 32 clients disburse from ONE village pool to that village's households, every request with a
  fresh Idempotency-Key (each transfer locks the same account: they serialize);
- *spread*: 32 clients, each disbursing from its own village's pool to its own household.

Each scenario runs ``--repeats`` times for ``--seconds`` after a warm-up; the medians are reported. At the end
``fupin funds verify``'s checks must all pass and the disbursements in the database must equal the successes
the clients counted: no money lost or doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from app.db.base import utcnow
from app.db.models import FundTransfer, Household, RegionSetting, User
from app.db.session import create_database
from app.domain.auth.passwords import hash_password
from app.domain.auth.tokens import issue_access_token
from app.domain.funds.settings import APPROVAL_THRESHOLD
from app.domain.funds.verify import verify
from app.domain.principal import Principal
from app.settings import Settings
from bench.generate import generate

RESULTS = Path(__file__).parent / "RESULTS.md"
SECTION = "## Funds ledger"
JWT_SECRET = "bench-only-secret-" + "x" * 32  # a throwaway key for a loopback benchmark
PROVINCE = "620000000000"
CLIENTS = 32
LEDGER_TABLES = "fund_entries, fund_transfer_sources, fund_transfers, fund_account_sources, fund_accounts"


@dataclass
class Run:
    seconds: float
    ok: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def prepare(url: str, households: int, reuse: bool) -> tuple[str, dict[str, str], str]:
    """The dataset, an empty ledger, the threshold out of the way, a provincial finance officer; returns the
    county, one household per village of it, and the officer's token."""
    if not reuse:
        await generate(url, households, seed=2020, workers=2, replace=True)
    settings = Settings(database_url=url, jwt_secret=JWT_SECRET, jwt_algorithm="HS256")
    database = create_database(settings)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {LEDGER_TABLES}, idempotency_keys"))
            await connection.execute(
                text("DELETE FROM region_settings WHERE key = :key"), {"key": APPROVAL_THRESHOLD}
            )
            await connection.execute(text("DELETE FROM users WHERE username = 'bench_finance'"))
        async with database.sessionmaker() as session, session.begin():
            session.add(
                RegionSetting(
                    region_code=PROVINCE,
                    key=APPROVAL_THRESHOLD,
                    value=10**12,
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
            user = User(
                id=uuid.uuid4(),
                username="bench_finance",
                display_name="财政局",
                region_code=PROVINCE,
                roles=["finance_officer"],
                password_hash=hash_password(uuid.uuid4().hex),
                password_changed_at=utcnow(),
                is_active=True,
            )
            session.add(user)
            # The county with the most villages holding a registered household.
            rows = (
                await session.execute(
                    select(Household.county_code, Household.region_code, Household.id).where(
                        Household.status == "registered"
                    )
                )
            ).all()
        by_county: dict[str, dict[str, str]] = {}
        for county, village, household in rows:
            by_county.setdefault(county, {}).setdefault(village, str(household))
        county = max(by_county, key=lambda code: (len(by_county[code]), code))
        principal = Principal.build(
            kind="user", id=user.id, name=user.username, region_code=PROVINCE, roles=user.roles
        )
        token = issue_access_token(settings, principal, personal_data=False).token
        return county, by_county[county], token
    finally:
        await database.dispose()


def start_server(url: str, workers: int) -> tuple[subprocess.Popen[str], str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FUPIN_")}
    env |= {"FUPIN_DATABASE_URL": url, "FUPIN_JWT_SECRET": JWT_SECRET, "FUPIN_LOG_LEVEL": "WARNING"}
    env["FUPIN_RATE_LIMIT_USER_PER_MINUTE"] = str(10**9)  # 32 clients as one user: limited, never refused
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not become ready within 60 s")


def transfer(kind: str, debit: dict[str, str], credit: dict[str, str], amount: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "debit": debit,
        "credit": credit,
        "amount": amount,
        "fiscal_year": 2020,
        "document_number": "基准〔2020〕1号",
        "purpose": "基准测试",
        "category": "general",
    }


async def post(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    """One transfer, with a fresh key; a connection lost on the way (an idle keep-alive connection the
    server closed) is retried with the same key, which is what the key is for: it never pays twice."""
    key = str(uuid.uuid4())
    for attempt in range(3):
        try:
            return await http.post("/api/v1/fund-transfers", json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def fund(http: httpx.AsyncClient, county: str, villages: list[str]) -> None:
    response = await post(
        http,
        transfer("appropriation", {"source": "central", "county": county}, {"pool": county}, "1000000000.00"),
    )
    response.raise_for_status()
    for village in villages:
        (
            await post(http, transfer("allocation", {"pool": county}, {"pool": village}, "10000000.00"))
        ).raise_for_status()


async def scenario(http: httpx.AsyncClient, bodies: list[dict[str, Any]], seconds: float) -> Run:
    """One client per body, each posting its body (a fresh key every time) until the time is up."""
    run = Run(seconds)
    stop = time.monotonic() + seconds

    async def client(body: dict[str, Any]) -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            response = await post(http, body)
            run.latencies.append(time.perf_counter() - started)
            if response.status_code == 201:
                run.ok += 1
            else:
                run.refused[response.status_code] = run.refused.get(response.status_code, 0) + 1

    await asyncio.gather(*(client(body) for body in bodies))
    return run


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    county, households, token = await prepare(args.database_url, args.households, args.reuse)
    villages = sorted(households)[:CLIENTS]
    if len(villages) < CLIENTS:
        raise SystemExit(f"the benchmark county has only {len(villages)} villages with households")
    process, base = start_server(args.database_url, args.workers)
    results: dict[str, list[Run]] = {}
    try:
        limits = httpx.Limits(max_connections=CLIENTS)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:
            await fund(http, county, villages)
            contended_village = villages[0]
            plans = {
                "one client": [
                    transfer(
                        "disbursement",
                        {"pool": villages[1]},
                        {"household_id": households[villages[1]]},
                        "0.01",
                    )
                ],
                "contended": [
                    transfer(
                        "disbursement",
                        {"pool": contended_village},
                        {"household_id": households[contended_village]},
                        "0.01",
                    )
                    for _ in range(CLIENTS)
                ],
                "spread": [
                    transfer("disbursement", {"pool": village}, {"household_id": households[village]}, "0.01")
                    for village in villages
                ],
            }
            for name, bodies in plans.items():
                await scenario(http, bodies, args.warmup)
                results[name] = [await scenario(http, bodies, args.seconds) for _ in range(args.repeats)]
                rates = ", ".join(f"{run.rate:.0f}" for run in results[name])
                print(f"{name}: {rates} transfers/s", flush=True)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    load = f"{os.getloadavg()[0]:.1f}"
    return {"county": county, "results": results, "load": load, **(await check(args.database_url, results))}


async def check(url: str, results: dict[str, list[Run]]) -> dict[str, Any]:
    """The ledger is consistent and holds exactly the disbursements the clients saw succeed."""
    database = create_database(Settings(database_url=url, jwt_secret=JWT_SECRET))
    try:
        async with database.sessionmaker() as session:
            report = await verify(session)
            stored = await session.scalar(
                select(func.count()).select_from(FundTransfer).where(FundTransfer.kind == "disbursement")
            )
    finally:
        await database.dispose()
    counted = sum(run.ok for runs in results.values() for run in runs)
    warmups = stored - counted if stored is not None else None
    return {
        "consistent": report.ok,
        "failures": report.failures,
        "stored_disbursements": stored,
        "entries": report.entries,
        "warmup_disbursements": warmups,
    }


def section(args: argparse.Namespace, outcome: dict[str, Any]) -> str:
    rows = []
    for name, runs in outcome["results"].items():
        latencies = [value for run in runs for value in run.latencies]
        refused = sum(sum(run.refused.values()) for run in runs)
        rows.append(
            f"| {name} | {statistics.median(run.rate for run in runs):,.0f} | "
            f"{', '.join(f'{run.rate:,.0f}' for run in runs)} | {_ms(latencies, 0.5):.1f} | "
            f"{_ms(latencies, 0.99):.1f} | {refused} |"
        )
    contended, spread, alone = (
        statistics.median(r.rate for r in outcome["results"][n])
        for n in ("contended", "spread", "one client")
    )
    verdict = "all checks passed" if outcome["consistent"] else f"FAILED: {sorted(outcome['failures'])}"
    command = (
        f"python -m bench.funds --database-url {make_url(args.database_url).render_as_string(hide_password=True)}"
        f" --households {args.households} --workers {args.workers} --seconds {args.seconds:g}"
        f" --repeats {args.repeats}"
    )
    return "\n".join(
        [
            SECTION,
            "",
            f"`{command}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC): the province-scale dataset of "
            f"bench/generate.py ({args.households:,} households), an empty ledger, `fupin serve` with "
            f"{args.workers} worker(s); {CLIENTS} concurrent clients (httpx, one process) each posting "
            "`POST /api/v1/fund-transfers` disbursements of 0.01 yuan with a fresh `Idempotency-Key`, every "
            f"transfer posted at once (threshold out of the way); {args.repeats} runs of {args.seconds:g} s after "
            f"a {args.warmup:g} s warm-up, county `{outcome['county']}`; {os.cpu_count()} cores, load average "
            f"{outcome['load']} at the end (the machine is shared: compare the ratios, not the absolute figures).",
            "",
            "| clients and accounts | transfers/s (median) | runs | p50 ms | p99 ms | refused |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            f"Contended/spread: {contended / spread:.2f}; spread/one client: {spread / alone:.2f}. "
            "*One client*: a single client posting one request after the other (the cost of one transfer). "
            "*Contended*: one village pool pays every request, so each transfer waits for the previous "
            "one's row locks (`SELECT … FOR NO KEY UPDATE` of both accounts in id order), held from the "
            "lock to the commit: the debit's source rows, the split, two balance updates, two source updates, "
            "the entries, the status, the stored response (the key claim, account lookups, threshold, the "
            "transfer row and its audit row come before the lock). *Spread*: 32 village pools, each paying its "
            "own household; the transfers share only the server's CPU and connection pool. "
            + (
                "Contended and spread are about equal: the server's CPU limits, not the lock."
                if 0.8 <= contended / spread <= 1.25
                else "The contended account is slower: its row lock limits, not the server's CPU."
            ),
            "",
            f"Afterwards `fupin funds verify`: {verify_line(outcome)}; {verdict}.",
            "",
        ]
    )


def verify_line(outcome: dict[str, Any]) -> str:
    return (
        f"{outcome['stored_disbursements']:,} disbursements stored = the successes the clients counted plus "
        f"{outcome['warmup_disbursements']:,} of the warm-ups, {outcome['entries']:,} entries"
    )


def write_section(text_: str) -> None:
    """Replace this benchmark's section of RESULTS.md (or append it), keeping every other section."""
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text_ + "\n", current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + text_
    RESULTS.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/fupin_bench_funds"
    )
    parser.add_argument("--households", type=int, default=60_000)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded dataset (empties the ledger)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print, leave RESULTS.md alone")
    args = parser.parse_args()
    if "bench" not in (make_url(args.database_url).database or ""):
        raise SystemExit("the benchmark drops and loads its database: give it a *bench* database")
    outcome = asyncio.run(measure(args))
    text_ = section(args, outcome)
    print(text_)
    if not args.no_write:
        write_section(text_)
    if not outcome["consistent"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
