"""Fork safety: a personalizer built before ``os.fork()`` works in the child, as under
gunicorn ``--preload`` (loaded once in the master, shared copy-on-write by the workers)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from personalize import Catalog, Event, Personalizer, Request
from personalize.cli import example_store
from personalize.store import SQLiteStore

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _personalizer(store: SQLiteStore) -> Personalizer:
    data = example_store()
    return Personalizer.from_file(
        data / "personalization.yaml",
        catalog=Catalog.from_file(data / "catalog.json"),
        autoload_plugins=False,
        store=store,
    )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_forked_child_personalizes_and_tracks_on_its_own_sqlite_connection(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "state.sqlite")
    p = _personalizer(store)
    request = Request(user_id="c1", session_id="s1", now=NOW)
    p.track(Event(type="view", product_id="coat-parka", at=NOW, customer_id="c1", session_id="s1"))
    parent_connection = store._db()

    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only
        status = 1
        try:
            result = p.personalize(request, placement="home")
            p.track(
                Event(
                    type="add_to_cart",
                    product_id="coat-parka",
                    price=289.0,
                    at=NOW,
                    customer_id="c1",
                    session_id="s1",
                )
            )
            fresh = store._db() is not parent_connection
            status = 0 if fresh and result.products and not result.degraded else 2
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert store._db() is parent_connection
    history = store.history("c1", "s1", now=NOW)
    assert [e.type for e in history.events if e.product_id == "coat-parka"][-2:] == [
        "view",
        "add_to_cart",
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


GUNICORN_APP = """
import os
from pathlib import Path

from personalize.cli import webshop

MASTER = os.getpid()
with Path(os.environ["PZ_LOADS"]).open("a") as log:
    log.write(f"{MASTER}\\n")
app = webshop().create_app(os.environ["PZ_STORE"])


@app.get("/_pid")
async def pid() -> dict[str, int]:
    return {"pid": os.getpid(), "loaded_in": MASTER}
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="gunicorn forks: POSIX only")
def test_the_demo_shop_under_gunicorn_preload_serves_from_two_workers_and_one_load(
    tmp_path: Path,
) -> None:
    pytest.importorskip("gunicorn")
    pytest.importorskip("uvicorn_worker")
    (tmp_path / "preload_app.py").write_text(textwrap.dedent(GUNICORN_APP))
    loads, store_path, port = tmp_path / "loads.txt", tmp_path / "shop.sqlite", _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(tmp_path)]),
        "PZ_LOADS": str(loads),
        "PZ_STORE": str(store_path),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--preload",
        "--workers",
        "2",
        "--worker-class",
        "uvicorn_worker.UvicornWorker",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "preload_app:app",
    ]
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        pids: set[int] = set()
        visitors = []
        for attempt in range(60):
            with httpx.Client(base_url=base, follow_redirects=True) as client:
                info = client.get("/_pid").json()
                pids.add(info["pid"])
                assert info["loaded_in"] == server.pid
                page = client.get("/p/coat-parka")
                assert page.status_code == 200
                assert "Arctic down parka" in page.text
                added = client.post("/cart/add", data={"product_id": "coat-parka"})
                assert added.status_code == 200
                assert "Arctic down parka" in added.text
                visitors.append(attempt)
            if len(pids) == 2 and len(visitors) >= 6:
                break
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)

    assert len(pids) == 2, errors.decode(errors="replace")
    assert loads.read_text().split() == [str(server.pid)]
    with SQLiteStore(store_path)._db() as db:
        carts = db.execute("SELECT COUNT(*) FROM events WHERE body LIKE '%add_to_cart%'")
        assert carts.fetchone()[0] == len(visitors)
    assert b"Traceback" not in errors


def _wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {server.stderr.read() if server.stderr else ''}")
        try:
            httpx.get(base + "/_pid", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")
