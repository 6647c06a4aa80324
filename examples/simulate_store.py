"""Simulate 300 shoppers on the example store, personalized arm against a control.

Run from anywhere: ``python examples/simulate_store.py``. It writes the event log and
``report.md`` into a temporary folder and prints the KPI table. A simulated lift checks
the plumbing and the direction; it is no evidence of real-world lift (docs/journeys.md).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from personalize import Catalog
from personalize.journeys import Simulator, write_report
from personalize.metrics import format_table, kpis_by, read_events

STORE = Path(__file__).resolve().parent / "store"


def main() -> None:
    catalog = Catalog.from_file(STORE / "catalog.json")
    simulator = Simulator(
        STORE / "personalization.yaml",
        catalog=catalog,
        interactions=read_events(STORE / "events.jsonl"),
        seed=1,
        days=7,
    )
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        summary = simulator.run(out / "events.jsonl", shoppers=300, progress=False)
        print(
            f"{summary.sessions} sessions of {summary.shoppers} shoppers in"
            f" {summary.seconds:.2f} s ({summary.personalizer_share:.0%} in the Personalizer)"
        )
        table = kpis_by(read_events(out / "events.jsonl"), "variant")
        print(format_table(table, control="control", weights=summary.shares))
        report = write_report(out, summary, plots=False)
        print(f"\nreport.md has {len(report.read_text(encoding='utf-8').splitlines())} lines")


if __name__ == "__main__":
    main()
