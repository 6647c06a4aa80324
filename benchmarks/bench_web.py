"""The demo shop under load: uvicorn with 2 workers on 127.0.0.1, 32 concurrent clients.

Two servers run one after the other in the same run, each under uvicorn with ``--workers
2``: the demo shop (``examples/webshop``: the personalize middleware, a personalized page,
SQLite visitor state written on every page) and, as the baseline, a plain FastAPI endpoint
returning a fixed HTML page. Each of the ``--clients`` clients is a new visitor (its own
cookies) that walks the shop's pages in a loop for ``--seconds``; latency is the wall-clock
time of one HTTP request as the client sees it (connection reused), and an error is any
exception or a status other than 200.

The clients run in this process on the same machine, so they compete with the servers for
the CPU: the figures are the whole loop's, not the server's alone.

Usage::

    python benchmarks/bench_web.py [--seconds 30] [--clients 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]

APPS = """
import os

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from personalize.cli import webshop

shop = webshop().create_app(os.environ["PZ_STORE"])

plain = FastAPI()
PAGE = "<!doctype html><html><body><h1>Shop</h1>" + "<p>x</p>" * 200 + "</body></html>"


@plain.get("/{path:path}", response_class=HTMLResponse)
async def page(path: str) -> str:
    return PAGE
"""

#: The pages a visitor walks, in a loop (the landing redirect is followed, as one request).
SHOP_PAGES = ("/ca/", "/p/coat-parka", "/c/outerwear", "/p/scarf-wool", "/cart")


@dataclass
class Load:
    """What the clients saw."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


async def client(base: str, until: float, load: Load, pages: tuple[str, ...]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        i = 0
        while time.monotonic() < until:
            path = pages[i % len(pages)]
            i += 1
            start = time.perf_counter()
            try:
                response = await http.get(path)
            except httpx.HTTPError as exc:
                load.error(type(exc).__name__)
                continue
            load.latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                load.error(f"HTTP {response.status_code}")


async def run_load(base: str, seconds: float, clients: int, pages: tuple[str, ...]) -> Load:
    load = Load()
    until = time.monotonic() + seconds
    await asyncio.gather(*(client(base, until, load, pages) for _ in range(clients)))
    return load


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(app: str, workers: int, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(folder)]),
        "PZ_STORE": str(folder / "shop.sqlite"),
    }
    command = [
        sys.executable, "-m", "uvicorn", app, "--workers", str(workers),
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=folder, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/ca/", timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"{app} did not start")


def report(name: str, load: Load, seconds: float) -> str:
    ms = sorted(x * 1000 for x in load.latencies)
    if not ms:
        return f"{name}: no request completed; errors {load.errors} {load.error_kinds}"
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (
        f"{name:<22} requests {len(ms):>7}  {len(ms) / seconds:>7.0f}/s  "
        f"p50 {statistics.median(ms):6.1f} ms  p99 {p99:6.1f} ms  "
        f"errors {load.errors}" + (f" {load.error_kinds}" if load.errors else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(
        f"uvicorn --workers {args.workers} on 127.0.0.1, {args.clients} concurrent clients, "
        f"{args.seconds:g} s each; CPUs: {os.cpu_count()}"
    )
    with tempfile.TemporaryDirectory(prefix="pz-bench-web-") as tmp:
        folder = Path(tmp)
        (folder / "bench_apps.py").write_text(textwrap.dedent(APPS))
        for name, app, pages in (
            ("plain FastAPI page", "bench_apps:plain", SHOP_PAGES),
            ("personalized shop", "bench_apps:shop", SHOP_PAGES),
        ):
            server, base = serve(app, args.workers, folder)
            try:
                asyncio.run(run_load(base, 2.0, args.clients, pages))  # warm up
                load = asyncio.run(run_load(base, args.seconds, args.clients, pages))
            finally:
                server.terminate()
                server.wait(30)
            print(report(name, load, args.seconds), flush=True)


if __name__ == "__main__":
    main()
