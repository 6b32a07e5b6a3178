"""Measure the real server next to its ceiling, in one run, and write bench/RESULTS.md.

    python -m bench.run --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/fupin_bench \\
        --scale postgresql+asyncpg://postgres@127.0.0.1:5432/fupin_bench_10k ...

Starts ``fupin serve`` (uvicorn, one worker, log level WARNING) and the bare ceiling app (bench/ceiling.py)
as subprocesses on loopback ports, signs in as the benchmark users and measures:

(a) the household list page (50 rows, township scope) with wrk -t2 -c32, real and ceiling in turn;
(b) a single household with its members, random ids of the township, real and ceiling in turn;
(c) the NDJSON export of a county, a prefecture and the province: rows/s and the server's peak memory, next
    to ``COPY (SELECT …) TO STDOUT`` and an asyncpg cursor + orjson per row writing the same bytes;
(d) a 100,000-row CSV import through the API's job (last: it adds households);
(e) the list page at every dataset size given with --scale (and the main one);
(f) the coverage report of the county and of the province, and the responsibility chain of one household.

With ``--baseline DIR`` a second server, started from another source tree, runs beside the first in (a)-(c).
``--only coverage`` (repeatable) runs some sections, ``--skip import`` leaves some out; a partial run
replaces only its own sections of RESULTS.md and keeps the others.

Needs wrk (``apt-get install -y wrk``) and the datasets of bench/generate.py. Medians of several repeats;
the machine is shared and noisy, so compare the ratios taken here, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import platform
import re
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import asyncpg
import httpx
import orjson
from sqlalchemy.engine import make_url

from bench.ceiling import (
    EXPORT_HOUSEHOLDS,
    EXPORT_MEMBERS_OF_SUBTREE,
    export_ndjson,
    init_connection,
    prefix_bounds,
)
from bench.generate import BENCH_PASSWORD, DATA_DIR, asyncpg_dsn
from bench.importfile import write_import_csv

BENCH_DIR = Path(__file__).parent
RESULTS = BENCH_DIR / "RESULTS.md"
JWT_SECRET = "bench-only-secret-" + "x" * 32  # a throwaway key for a loopback benchmark
WRK_THREADS, WRK_CONNECTIONS = 2, 32
SECTIONS = {  # name on the command line: the label of its section in RESULTS.md
    "list": "a",
    "single": "b",
    "export": "c",
    "import": "d",
    "sizes": "e",
    "coverage": "f",
}
COVERAGE_CONNECTIONS = 4  # "a few" clients asking for reports at once
PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "pydantic",
    "sqlalchemy",
    "asyncpg",
    "orjson",
)


# Processes -------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    name: str
    command: list[str]
    env: dict[str, str]
    health_path: str
    cwd: Path | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @contextmanager
    def running(self) -> Iterator[Server]:
        log = (DATA_DIR / f"{self.name}.log").open("wb")
        self.process = subprocess.Popen(  # noqa: S603  our own commands
            [*self.command, "--port", str(self.port)],
            env={**os.environ, **self.env},
            cwd=self.cwd,
            stdout=log,
            stderr=log,
        )
        try:
            self._wait_until_up()
            yield self
        finally:
            self.process.terminate()
            self.process.wait(timeout=30)
            log.close()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: see {DATA_DIR / self.name}.log")
            try:
                if httpx.get(self.base + self.health_path, timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not come up")


def real_server(database_url: str, tree: Path | None = None) -> Server:
    """``fupin serve``; with ``tree``, the app of another source tree (a copy holding app/ and
    migrations/), to compare a change with what it replaces in the same run."""
    env = {
        "FUPIN_DATABASE_URL": database_url,
        "FUPIN_JWT_SECRET": JWT_SECRET,
        "FUPIN_LOG_LEVEL": "WARNING",
        "FUPIN_ACCESS_TOKEN_TTL_SECONDS": "86400",  # outlives the run
        # A load generator is one user asking thousands of times a second: a limit it never reaches, so the
        # limiter's cost is still paid and measured but no request is refused.
        "FUPIN_RATE_LIMIT_USER_PER_MINUTE": str(10**9),
    }
    if tree is None:
        return Server("fupin", [str(Path(sys.executable).with_name("fupin")), "serve"], env, "/healthz")
    env["PYTHONPATH"] = str(tree.resolve())  # and the working directory, which `python -m` puts first
    return Server("baseline", [sys.executable, "-m", "app", "serve"], env, "/healthz", cwd=tree.resolve())


def ceiling_server(database_url: str) -> Server:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.ceiling:app",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return Server("ceiling", command, {"FUPIN_DATABASE_URL": database_url}, "/")  # any answer will do


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]


# wrk -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def wrk(
    url: str, script: str, *, seconds: int, connections: int = WRK_CONNECTIONS, timeout: int = 30
) -> Load:
    """One wrk run; every response must be a 2xx (a benchmark of error pages measures nothing)."""
    path = DATA_DIR / f"wrk-{abs(hash(script))}.lua"
    path.write_text(script)
    threads = min(WRK_THREADS, connections)
    # A slow answer is a latency, not an error: wrk's own 2 s timeout would abort the run when the shared
    # disk stalls the single read's audit commits.
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", f"{timeout}s"]
    command += ["--latency"]
    command += ["-s", str(path), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    return Load(
        float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        _latency(output, "50"),
        _latency(output, "99"),
    )


def _latency(output: str, percentile: str) -> float:
    value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def lua_get(paths: list[str], headers: dict[str, str]) -> str:
    """A wrk script requesting the given paths at random."""
    quoted = ",\n".join(f'  "{p}"' for p in paths)
    header_lines = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in headers.items())
    return (
        f"{header_lines}local paths = {{\n{quoted}\n}}\n"
        "request = function()\n  return wrk.format('GET', paths[math.random(#paths)])\nend\n"
    )


@dataclass
class SideBySide:
    """wrk runs per target ("fupin", "baseline", "ceiling"), taken in turn so that all see the same noise."""

    runs: dict[str, list[Load]] = field(default_factory=dict)

    def median(self, target: str) -> Load:
        loads = self.runs[target]
        return Load(*(statistics.median(getattr(x, f) for x in loads) for f in Load.__dataclass_fields__))

    def ratio(self, target: str, to: str = "ceiling") -> float:
        """Median of the per-round ratios of requests/s."""
        pairs = zip(self.runs[target], self.runs[to], strict=True)
        return statistics.median(a.requests_per_second / b.requests_per_second for a, b in pairs)


def alternate(
    targets: dict[str, tuple[str, str]], *, repeats: int, seconds: int, connections: int = WRK_CONNECTIONS
) -> SideBySide:
    """Each target in turn, ``repeats`` rounds; a target is ``(url, wrk script)``."""
    result = SideBySide({name: [] for name in targets})
    for _ in range(repeats):
        for name, (url, script) in targets.items():
            result.runs[name].append(wrk(url, script, seconds=seconds, connections=connections))
    return result


# The measurements ------------------------------------------------------------------------------------------


def sign_in(server: Server, username: str) -> str:
    response = httpx.post(
        server.base + "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": BENCH_PASSWORD},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def check_same_page(real: Server, ceiling: Server, token: str, township: str) -> None:
    """The ceiling answers byte for byte what the real endpoint answers, on the first and a later page."""
    headers = {"Authorization": f"Bearer {token}"}
    first = httpx.get(real.base + "/api/v1/households", headers=headers).content
    assert first == httpx.get(f"{ceiling.base}/households?region={township}").content, "first pages differ"
    cursor = orjson.loads(first)["next_cursor"]
    later = httpx.get(real.base + "/api/v1/households", params={"cursor": cursor}, headers=headers).content
    theirs = httpx.get(f"{ceiling.base}/households", params={"region": township, "cursor": cursor}).content
    assert later == theirs, "second pages differ"


async def township_ids(dsn: str, township: str, count: int = 500) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT id::text FROM households WHERE region_code >= $1 AND region_code <= $2 "
            "ORDER BY md5(id::text) LIMIT $3",
            township,
            township[:9] + "999",
            count,
        )
    finally:
        await conn.close()
    return [row[0] for row in rows]


def route_exists(server: Server, path: str, method: str) -> bool:
    paths = httpx.get(server.base + "/openapi.json", timeout=30).json()["paths"]
    return method.lower() in paths.get(path, {})


@dataclass(frozen=True)
class Export:
    target: str  # "fupin" or "baseline"
    scope: str
    households: int
    seconds: float
    baseline_rss_mib: float
    peak_rss_mib: float
    copy_seconds: float
    ceiling_seconds: float

    def rate(self, seconds: float) -> float:
        return self.households / seconds


def measure_exports(
    servers: dict[str, tuple[Server, str]], dsn: str, scope: str, region: str
) -> list[Export]:
    """COPY and the per-row ceiling first (which also warms the cache alike for every server), then each
    server's export (``(server, token)`` by name), which must write the very same bytes as the ceiling."""
    copy_seconds, ceiling_seconds, ceiling_digest = asyncio.run(export_ceilings(dsn, region))
    exports = []
    for name, (server, token) in servers.items():
        households, seconds, before, peak, digest = stream_export(server, token, region)
        assert digest == ceiling_digest, f"the {scope} export of {name} differs from the ceiling's"
        exports.append(Export(name, scope, households, seconds, before, peak, copy_seconds, ceiling_seconds))
    return exports


def stream_export(server: Server, token: str, region: str) -> tuple[int, float, float, float, str]:
    """Households, seconds, server RSS before and at its peak (MiB, sampled every 20 ms), digest."""
    before = rss_kib(server.pid)
    peak, done = [before], threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], rss_kib(server.pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    digest, households, started = hashlib.sha256(), 0, time.perf_counter()
    try:
        with httpx.stream(
            "GET",
            server.base + "/api/v1/households/export",
            params={"format": "ndjson", "region": region},
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(30, read=None),  # a province takes a while
        ) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                digest.update(chunk)
                households += chunk.count(b"\n")
        seconds = time.perf_counter() - started
    finally:
        done.set()
        sampler.join()
    return households, seconds, before / 1024, peak[0] / 1024, digest.hexdigest()


async def export_ceilings(dsn: str, region: str) -> tuple[float, float, str]:
    """Seconds for ``COPY (SELECT …) TO STDOUT`` of the export's households and active members, seconds
    for the asyncpg + orjson per-row ceiling, and the digest of what the latter wrote."""
    conn = await asyncpg.connect(dsn)
    try:
        await init_connection(conn)
        low, high = prefix_bounds(region)
        started = time.perf_counter()
        for query in (EXPORT_HOUSEHOLDS, EXPORT_MEMBERS_OF_SUBTREE):
            literal = query.replace("$1", f"'{low}'").replace("$2", f"'{high}'")
            await conn.copy_from_query(literal, output=_discard)
        copy_seconds = time.perf_counter() - started
        digest, started = hashlib.sha256(), time.perf_counter()
        async for chunk in export_ndjson(conn, region):
            digest.update(chunk)
        return copy_seconds, time.perf_counter() - started, digest.hexdigest()
    finally:
        await conn.close()


async def _discard(_chunk: bytes) -> None:
    pass


def measure_import(server: Server, token: str, dsn: str, county: str, rows: int) -> Import:
    """Upload a CSV of ``rows`` member rows (new households of the county's villages) and follow the job."""
    villages, run = asyncio.run(import_targets(dsn, county))
    path = DATA_DIR / "import.csv"
    households = write_import_csv(path, rows=rows, villages=villages, run=run)
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    with path.open("rb") as file:
        response = httpx.post(
            server.base + "/api/v1/households/imports",
            files={"file": ("bench.csv", file, "text/csv")},
            headers=headers,
            timeout=300,
        )
    response.raise_for_status()
    job = response.json()
    while job["status"] in ("queued", "running"):
        time.sleep(0.5)
        job = httpx.get(f"{server.base}/api/v1/jobs/{job['id']}", headers=headers, timeout=30).json()
    seconds = time.perf_counter() - started
    if job["status"] != "succeeded":
        raise RuntimeError(f"the import failed: {job['error']}")
    return Import(rows, households, seconds, float(job["result"].get("seconds") or 0))


@dataclass(frozen=True)
class Import:
    rows: int
    households: int
    seconds: float  # from the upload to the job's end, as a client sees it
    job_seconds: float  # as the job reports it


async def import_targets(dsn: str, county: str) -> tuple[list[str], int]:
    """The county's villages, and this import's run number (one more than the imports done before)."""
    conn = await asyncpg.connect(dsn)
    try:
        villages = await conn.fetch(
            "SELECT code FROM regions WHERE level = 'village' AND code >= $1 AND code <= $2 ORDER BY code",
            county,
            county[:6] + "999999",
        )
        runs = await conn.fetchval("SELECT count(*) FROM jobs WHERE kind = 'household_import'")
    finally:
        await conn.close()
    return [row[0] for row in villages], int(runs) + 1


@dataclass
class Responsibility:
    """(f): each target ("county", "province", "chain") at 1 connection and under load."""

    targets: dict[str, str]  # target: what was asked, for the table
    failed: dict[str, str]  # target: how its check failed (not measured)
    single: SideBySide  # 1 connection
    loaded: SideBySide  # COVERAGE_CONNECTIONS (reports) or WRK_CONNECTIONS (chain)
    totals: dict[str, dict[str, int]]  # the reports' totals, to show what they counted
    dataset: dict[str, object]


def measure_responsibility(
    real: Server, dsn: str, main: dict[str, object], repeats: int, seconds: int
) -> Responsibility:
    """The coverage report of the benchmark county (its county officer) and of the province (the data
    consumer), and the chain of random households of the township (its reviewer); each checked first.

    At 1 connection a report is asked again and again by one client for ``seconds`` (3 times at least: a
    province's report may take seconds, too few for wrk's percentiles), the chain by wrk -c1; under load
    wrk runs long enough for each connection to get a few answers."""
    county, township = str(main["bench_county"]), str(main["bench_township"])
    province = county[:2].ljust(12, "0")
    reports = {"county": (county, "bench_county"), "province": (province, "bench_province")}
    targets: dict[str, tuple[dict[str, str], list[str]]] = {}  # target: (headers, paths)
    totals: dict[str, dict[str, int]] = {}
    failed: dict[str, str] = {}
    for target, (region, user) in reports.items():
        headers = {"Authorization": f"Bearer {sign_in(real, user)}"}
        path, started = f"/api/v1/regions/{region}/coverage", time.perf_counter()
        response = httpx.get(real.base + path, headers=headers, timeout=600)
        if response.status_code >= 500:  # e.g. the statement timeout: a finding, not a reason to stop
            failed[target] = f"HTTP {response.status_code} after {time.perf_counter() - started:.1f} s"
            continue
        response.raise_for_status()
        totals[target] = response.json()["totals"]
        targets[target] = (headers, [path])
    headers = {"Authorization": f"Bearer {sign_in(real, 'bench_township')}"}
    ids = asyncio.run(township_ids(dsn, township))
    paths = [f"/api/v1/households/{i}/responsibility-chain" for i in ids]
    for path in paths[:20]:
        httpx.get(real.base + path, headers=headers, timeout=30).raise_for_status()
    targets["chain"] = (headers, paths)

    single = SideBySide({target: [] for target in targets})
    loaded = SideBySide({target: [] for target in targets})
    for _ in range(repeats):
        for target, (headers, paths) in targets.items():
            if target in failed:
                continue
            try:
                one, load = _responsibility_round(real, target, headers, paths, seconds)
            except (httpx.HTTPStatusError, RuntimeError) as error:  # a 5xx or wrk's errors: recorded
                lines = str(error).splitlines()
                failed[target] = next((x.strip() for x in lines if "Non-2xx" in x or "Socket" in x), lines[0])
                continue
            single.runs[target].append(one)
            loaded.runs[target].append(load)
    asked = {
        "county": f"`GET /api/v1/regions/{county}/coverage` as the county officer",
        "province": f"`GET /api/v1/regions/{province}/coverage` as the province's data consumer",
        "chain": f"`GET /api/v1/households/{{id}}/responsibility-chain`, {len(ids)} random households of "
        f"township {township}, as its reviewer",
    }
    return Responsibility(asked, failed, single, loaded, totals, main)


def _responsibility_round(
    real: Server, target: str, headers: dict[str, str], paths: list[str], seconds: int
) -> tuple[Load, Load]:
    """One round of a target of (f): at 1 connection, then under load."""
    script = lua_get(paths, headers)
    if target == "chain":
        one = wrk(real.base, script, seconds=seconds, connections=1)
        return one, wrk(real.base, script, seconds=seconds, connections=WRK_CONNECTIONS)
    one = sequential(real.base + paths[0], headers, seconds=seconds)
    answer = one.p50_ms / 1000 * COVERAGE_CONNECTIONS  # the time an answer takes under load
    load = wrk(
        real.base,
        script,
        seconds=min(max(seconds, int(3 * answer) + 1), 180),  # 3 minutes at most
        connections=COVERAGE_CONNECTIONS,
        timeout=max(30, int(10 * answer)),
    )
    return one, load


def sequential(url: str, headers: dict[str, str], *, seconds: int, at_least: int = 3) -> Load:
    """One client asking ``url`` again and again for ``seconds``, ``at_least`` times: requests/s, p50 and
    p99 (nearest rank: the slowest answer when there are fewer than 100)."""
    times: list[float] = []
    with httpx.Client(headers=headers, timeout=600) as client:
        started = time.perf_counter()
        while len(times) < at_least or time.perf_counter() - started < seconds:
            asked = time.perf_counter()
            client.get(url).raise_for_status()
            times.append((time.perf_counter() - asked) * 1000)
        elapsed = time.perf_counter() - started
    times.sort()

    def rank(percentile: int) -> float:
        return times[max(0, -(-percentile * len(times) // 100) - 1)]

    return Load(len(times) / elapsed, rank(50), rank(99))


# Results ---------------------------------------------------------------------------------------------------


def machine_facts(dsn: str) -> dict[str, str]:
    async def server_version() -> str:
        conn = await asyncpg.connect(dsn)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    memory = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)  # type: ignore[union-attr]
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()[1]  # noqa: S607
    return {
        "cores (nproc)": str(os.cpu_count()),
        "memory": f"{int(memory) / 1024**2:.1f} GiB",
        "CPU": _cpu_model(),
        "kernel": platform.release(),
        "PostgreSQL": asyncio.run(server_version()),
        "Python": platform.python_version(),
        "wrk": wrk_version,
        **{name: metadata.version(name) for name in PACKAGES},
    }


def _cpu_model() -> str:
    match = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    return match.group(1).strip() if match else platform.machine()


@dataclass
class Report:
    command: str
    facts: dict[str, str]
    datasets: list[dict[str, object]]
    list_page: SideBySide | None = None
    single: SideBySide | None = None
    exports: list[Export] | str = "pending"
    imports: Import | str = "pending"
    scales: list[tuple[int, SideBySide, SideBySide]] = field(default_factory=list)
    responsibility: Responsibility | str | None = None
    sections: set[str] = field(default_factory=lambda: set(SECTIONS))

    def markdown(self) -> str:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        out = [
            "# Benchmark results",
            "",
            f"Measured {now} by `bench/run.py`; the machine is shared, so read the ratios (taken side by "
            "side in this one run), not the absolute figures.",
            "",
            "```",
            self.command,
            "```",
            "",
            "## Machine",
            "",
            "| | |",
            "|---|---|",
            *(f"| {k} | {v} |" for k, v in self.facts.items()),
            "",
            "## Datasets",
            "",
            "Each loaded by `python -m bench.generate --database-url URL --households N --replace` "
            "(bench/README.md); load time from creating the database to ANALYZE.",
            "",
            "| database | households | members | incomes | indicators | cadres | assignments | size "
            "| load time |",
            "|---|---|---|---|---|---|---|---|---|",
            *(_dataset_row(d) for d in self.datasets),
            "",
        ]
        out += self._loads()
        out += self._exports() if "export" in self.sections else []
        out += self._imports() if "import" in self.sections else []
        out += self._scales()
        out += self._responsibility()
        return "\n".join(out)

    def _loads(self) -> list[str]:
        out: list[str] = []
        for title, result in (
            ("(a) List page: 50 households of a township, authenticated", self.list_page),
            ("(b) One household with its members, random ids of the township", self.single),
        ):
            if result is None:
                continue
            rounds = len(result.runs["ceiling"])
            out += [
                f"## {title}",
                "",
                f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS}, {rounds} rounds, the targets in turn; medians.",
                "",
                "| | requests/s | p50 ms | p99 ms | ratio to the ceiling | runs (requests/s) |",
                "|---|---|---|---|---|---|",
                *(_load_row(TARGET_NAMES[name], result, name) for name in result.runs),
                "",
            ]
            if "baseline" in result.runs:
                out += [f"fupin / baseline: **{result.ratio('fupin', 'baseline'):.2f}**.", ""]
        return out

    def _exports(self) -> list[str]:
        out = ["## (c) NDJSON export: one household a line, with its active members", ""]
        if isinstance(self.exports, str):
            return [*out, self.exports, ""]
        out += [
            "Rows are households (each with ~3.5 members). The per-row ceiling is an asyncpg cursor + orjson "
            "in the runner's process writing the very same bytes (checked by digest); COPY reads the same "
            "households and members as CSV.",
            "",
            "| scope | server | households | rows/s | per-row ceiling rows/s | ratio | COPY TO STDOUT rows/s "
            "| server RSS before → peak |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for e in self.exports:
            out.append(
                f"| {e.scope} | {e.target} | {e.households:,} | {e.rate(e.seconds):,.0f} "
                f"| {e.rate(e.ceiling_seconds):,.0f} "
                f"| **{e.ceiling_seconds / e.seconds:.2f}** | {e.rate(e.copy_seconds):,.0f} "
                f"| {e.baseline_rss_mib:.0f} → {e.peak_rss_mib:.0f} MiB |"
            )
        return [*out, ""]

    def _imports(self) -> list[str]:
        if isinstance(self.imports, str):
            return ["## (d) CSV import through the API job", "", self.imports, ""]
        i = self.imports
        out = [f"## (d) CSV import of {i.rows:,} rows through the API job", ""]
        return [
            *out,
            f"{i.rows:,} member rows ({i.households:,} new households) in the import layout, uploaded by the "
            "county officer, all or nothing, into the largest dataset (run last, so that it changes nothing "
            "measured above).",
            "",
            "| | seconds | rows/s |",
            "|---|---|---|",
            f"| upload to job done (client) | {i.seconds:.1f} | {i.rows / i.seconds:,.0f} |",
            f"| the job itself (its own report) | {i.job_seconds:.1f} | {i.rows / i.job_seconds:,.0f} |",
            "",
        ]

    def _scales(self) -> list[str]:
        if not self.scales:
            return []
        smallest = self.scales[0][1].median("fupin").p50_ms
        out = [
            "## (e) List page as the table grows",
            "",
            "The same township page (the first township is in every dataset) on databases of each size. "
            "At 32 connections p50 mostly measures throughput; at 1 connection it is the latency of one "
            "request.",
            "",
            "| households | req/s (32 conn) | p50 ms (32 conn) | ceiling p50 ms (32 conn) | p50 ms (1 conn) "
            "| ceiling p50 ms (1 conn) | p50 (32 conn) / smallest |",
            "|---|---|---|---|---|---|---|",
        ]
        for households, loaded, single in self.scales:
            fupin, ceiling = loaded.median("fupin"), loaded.median("ceiling")
            out.append(
                f"| {households:,} | {fupin.requests_per_second:,.0f} | {fupin.p50_ms:.2f} "
                f"| {ceiling.p50_ms:.2f} | {single.median('fupin').p50_ms:.2f} "
                f"| {single.median('ceiling').p50_ms:.2f} | {fupin.p50_ms / smallest:.2f} |"
            )
        return [*out, ""]

    def _responsibility(self) -> list[str]:
        r = self.responsibility
        if r is None:
            return []
        out = ["## (f) Responsibility: the coverage report and the chain of a household", ""]
        if isinstance(r, str):
            return [*out, r, ""]
        d = r.dataset
        rows = d["rows"]
        assert isinstance(rows, dict)
        out += [
            f"On {d['database']} ({rows['households']:,} households, {rows.get('cadres', 0):,} cadres, "
            f"{rows.get('assignments', 0):,} assignments, loaded in {d['total_seconds']} s). "
            f"{len(r.single.runs['chain'])} rounds of the targets in turn; medians. A report at 1 "
            "connection: one client asking again and again; under load wrk with "
            f"{COVERAGE_CONNECTIONS} connections; the chain by wrk at 1 and at {WRK_CONNECTIONS} (like (b)). "
            "Target: the county's report under 200 ms.",
            "",
            "| | p50 ms (1 conn) | p99 ms (1 conn) | requests/s (1 conn) | connections | requests/s "
            "| p50 ms | p99 ms | runs (requests/s) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for target, asked in r.targets.items():
            if target in r.failed or target not in r.single.runs or not r.single.runs[target]:
                out.append(f"| {target}: {asked} | failed: {r.failed[target]} | | | | | | | |")
                continue
            one, many = r.single.median(target), r.loaded.median(target)
            connections = WRK_CONNECTIONS if target == "chain" else COVERAGE_CONNECTIONS
            each = ", ".join(f"{run.requests_per_second:,.1f}" for run in r.loaded.runs[target])
            out.append(
                f"| {target}: {asked} | {one.p50_ms:.2f} | {one.p99_ms:.2f} | {one.requests_per_second:,.1f} "
                f"| {connections} | {many.requests_per_second:,.1f} | {many.p50_ms:.2f} | {many.p99_ms:.2f} "
                f"| {each} |"
            )
        out += [
            "",
            "What the reports counted (their `totals`):",
            "",
            "| report | households | uncovered | villages | poor villages | without first secretary "
            "| without team | cadres | below quota | above quota | enterprises | below quota | above quota |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        keys = (
            "households", "households_uncovered", "villages", "poor_villages",
            "villages_without_first_secretary", "villages_without_team", "cadres", "cadres_below_quota",
            "cadres_above_quota", "units", "units_below_quota", "units_above_quota",
        )  # fmt: skip
        for target, totals in r.totals.items():
            out.append(f"| {target} | " + " | ".join(f"{int(totals.get(k, 0)):,}" for k in keys) + " |")
        return [*out, ""]


TARGET_NAMES = {
    "fupin": "fupin (FastAPI, 1 worker)",
    "baseline": "fupin, baseline tree",
    "ceiling": "ceiling (bare ASGI, asyncpg, orjson)",
}


def _load_row(name: str, result: SideBySide, target: str) -> str:
    median = result.median(target)
    each = ", ".join(f"{run.requests_per_second:,.0f}" for run in result.runs[target])
    return (
        f"| {name} | {median.requests_per_second:,.0f} | {median.p50_ms:.2f} | {median.p99_ms:.2f} "
        f"| {result.ratio(target):.2f} | {each} |"
    )


def _dataset_row(d: dict[str, object]) -> str:
    rows = d["rows"]
    assert isinstance(rows, dict)
    chains = (
        f"{rows['cadres']:,} | {rows['assignments']:,}" if "assignments" in rows else "– | –"
    )  # loaded before the datasets had them
    return (
        f"| {d['database']} | {rows['households']:,} | {rows['members']:,} | {rows['incomes']:,} "
        f"| {rows['indicators']:,} | {chains} | {d['database_size']} | {d['total_seconds']} s |"
    )


def dataset_summary(database_url: str) -> dict[str, object]:
    path = DATA_DIR / f"{make_url(database_url).database}.json"
    if not path.exists():
        raise SystemExit(f"{path} is missing: load the database with python -m bench.generate first")
    return dict(orjson.loads(path.read_bytes()))


# The run ---------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> Report:
    sections = chosen_sections(args)
    main = dataset_summary(args.database_url)
    scale_urls = args.scale if "sizes" in sections else []
    scales = sorted((dataset_summary(url) for url in scale_urls), key=lambda d: int(str(d["households"])))
    dsn = asyncpg_dsn(args.database_url)
    township = str(main["bench_township"])
    command = " ".join(["python -m bench.run", *(shlex.quote(a) for a in sys.argv[1:])])
    report = Report(command, machine_facts(dsn), [*scales, main], sections=sections)
    repeats, seconds = args.repeats, args.seconds
    compared = sections & {"list", "single", "export"}  # what the ceiling and the baseline take part in

    with ExitStack() as stack:
        real = stack.enter_context(real_server(args.database_url).running())
        servers = {"fupin": real}
        if compared:
            ceiling = stack.enter_context(ceiling_server(args.database_url).running())
            if args.baseline:
                baseline = real_server(args.database_url, args.baseline)
                servers["baseline"] = stack.enter_context(baseline.running())
        tokens = {name: sign_in(server, "bench_township") for name, server in servers.items()}

        def targets(real_paths: list[str], ceiling_paths: list[str]) -> dict[str, tuple[str, str]]:
            chosen = {
                name: (server.base, lua_get(real_paths, {"Authorization": f"Bearer {tokens[name]}"}))
                for name, server in servers.items()
            }
            return {**chosen, "ceiling": (ceiling.base, lua_get(ceiling_paths, {}))}

        if "list" in sections:
            print("(a) list page", flush=True)
            check_same_page(real, ceiling, tokens["fupin"], township)
            report.list_page = alternate(
                targets(["/api/v1/households"], [f"/households?region={township}"]),
                repeats=repeats,
                seconds=seconds,
            )
        if "single" in sections:
            print("(b) single household", flush=True)
            ids = asyncio.run(township_ids(dsn, township))
            report.single = alternate(
                targets(
                    [f"/api/v1/households/{i}" for i in ids],
                    [f"/households/{i}?region={township}" for i in ids],
                ),
                repeats=repeats,
                seconds=seconds,
            )
        if "export" in sections:
            print("(c) export", flush=True)
            if route_exists(real, "/api/v1/households/export", "get"):
                county = str(main["bench_county"])
                scopes = [
                    ("county", county, "bench_county"),
                    ("prefecture", county[:4].ljust(12, "0"), "bench_province"),
                    ("province", county[:2].ljust(12, "0"), "bench_province"),
                ]
                report.exports = []
                for scope, region, user in scopes:
                    exporters = {
                        name: (server, sign_in(server, user))
                        for name, server in servers.items()
                        if name == "fupin" or scope != "province"  # the baseline's province can take long
                    }
                    report.exports += measure_exports(exporters, dsn, scope, region)
            else:
                report.exports = "Pending: `GET /api/v1/households/export` does not exist yet in this tree."
        if "coverage" in sections:  # before (d), which adds households
            print("(f) coverage and chain", flush=True)
            if route_exists(real, "/api/v1/regions/{code}/coverage", "get") and route_exists(
                real, "/api/v1/households/{household_id}/responsibility-chain", "get"
            ):
                report.responsibility = measure_responsibility(
                    real, dsn, main, repeats, args.coverage_seconds
                )
            else:
                report.responsibility = (
                    "Pending: the coverage report or the chain does not exist in this tree."
                )
        has_imports = route_exists(real, "/api/v1/households/imports", "post")

    if "sizes" in sections:
        print("(e) sizes", flush=True)
        sizes = [*zip(scales, scale_urls, strict=True), (main, args.database_url)]
        for dataset, url in sorted(sizes, key=lambda pair: int(str(pair[0]["households"]))):
            households = int(str(dataset["households"]))
            report.scales.append((households, *measure_scale(url, township, repeats, args.scale_seconds)))

    if "import" in sections:
        print("(d) import", flush=True)
        if not has_imports:
            report.imports = "Pending: `POST /api/v1/households/imports` does not exist yet in this tree."
        elif args.import_rows:
            with real_server(args.database_url).running() as real:
                token = sign_in(real, "bench_county")
                report.imports = measure_import(real, token, dsn, str(main["bench_county"]), args.import_rows)
    return report


def chosen_sections(args: argparse.Namespace) -> set[str]:
    """``--only`` (all by default) less ``--skip``."""
    sections = set(args.only or SECTIONS) - set(args.skip)
    if not sections:
        raise SystemExit("no section left to run")
    return sections


def measure_scale(
    database_url: str, township: str, repeats: int, seconds: int
) -> tuple[SideBySide, SideBySide]:
    """The list page on one database: at 32 connections, then at 1."""
    with real_server(database_url).running() as real, ceiling_server(database_url).running() as ceiling:
        auth = {"Authorization": f"Bearer {sign_in(real, 'bench_township')}"}
        pages = {
            "fupin": (real.base, lua_get(["/api/v1/households"], auth)),
            "ceiling": (ceiling.base, lua_get([f"/households?region={township}"], {})),
        }
        loaded = alternate(pages, repeats=repeats, seconds=seconds)
        return loaded, alternate(pages, repeats=repeats, seconds=seconds, connections=1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/fupin_bench")
    parser.add_argument("--scale", action="append", default=[], help="smaller datasets for (e), repeatable")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run in (a) and (b)")
    parser.add_argument("--scale-seconds", type=int, default=5, help="length of each wrk run in (e)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--import-rows", type=int, default=100_000, help="0: skip (d), which adds households")
    parser.add_argument("--coverage-seconds", type=int, default=10, help="length of each wrk run in (f)")
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="run this section (repeatable; default: all): list (a), single (b), export (c), import (d), "
        "sizes (e), coverage (f); RESULTS.md keeps the sections not run",
    )
    parser.add_argument(
        "--skip", action="append", default=[], choices=SECTIONS, help="leave this section out"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a source tree (app/ and migrations/) to measure beside this one in (a), (b)",
    )
    args = parser.parse_args()
    DATA_DIR.mkdir(exist_ok=True)
    report = run(args)
    previous = args.output.read_text() if args.output.exists() else ""
    if report.sections == set(SECTIONS) or not previous:
        args.output.write_text(report.markdown() + kept_analysis(previous))
    else:
        args.output.write_text(merged(previous, report))
    print(report.markdown())


def kept_analysis(previous: str) -> str:
    """What people wrote under ``## Analysis`` in the previous results stays (the tables are replaced)."""
    start = previous.find("\n## Analysis")
    return previous[start:] if start >= 0 else ""


def merged(previous: str, report: Report) -> str:
    """The previous results with the sections of this partial run replaced (or added in their place, before
    the analysis); each such section says when and how it was measured."""
    blocks = _blocks(previous)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for label, block in _blocks(report.markdown()):
        if label is None or label not in SECTIONS.values():
            continue  # the header, machine and datasets of a partial run: the previous ones stay
        heading, _, body = block.partition("\n")
        block = f"{heading}\n\nMeasured {now} by `{report.command}` (a partial run).\n{body}"
        labels = [other for other, _ in blocks]
        if label in labels:
            blocks[labels.index(label)] = (label, block)
        else:  # before the next section in label order, or before the analysis
            after = [i for i, other in enumerate(labels) if other == "analysis" or (other or "") > label]
            blocks.insert(min(after, default=len(blocks)), (label, block))
    return "".join(block for _, block in blocks)


def _blocks(markdown: str) -> list[tuple[str | None, str]]:
    """The text cut before each ``## `` heading, each with its label: "a" for "## (a) …", "analysis" for
    "## Analysis", None otherwise."""
    parts = re.split(r"(?m)^(?=## )", markdown)
    out: list[tuple[str | None, str]] = []
    for part in parts:
        match = re.match(r"## \((\w)\)", part)
        label = match.group(1) if match else "analysis" if part.startswith("## Analysis") else None
        out.append((label, part if part.endswith("\n") else part + "\n"))
    return out


if __name__ == "__main__":
    main()
