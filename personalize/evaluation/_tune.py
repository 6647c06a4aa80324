"""Searching the ranking settings on validation months, resumable and deterministic.

The search is a seeded coordinate search around the starting settings (the defaults overlaid
with the configuration's): trial 0 scores the start; every later trial changes one to three
settings of the best trial so far to other values of their grids, drawn from a generator
seeded with ``(seed, trial)``. So a trial depends only on the seed and the trials before it,
and a run resumed from its state file ends exactly where an uninterrupted one does.

The score of a trial is the mean NDCG@k over the validation months and the modes (both by
default). The index
of each month is built once (:func:`~personalize.evaluation._run.prepare`): only ranking
settings are searched, and none of them needs an index rebuild.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from personalize.config import DEFAULT_WEIGHTS, RankingConfig
from personalize.evaluation._log import MODES, Split
from personalize.evaluation._run import Prepared, prepared_lists
from personalize.evaluation.baselines import score_lists

__all__ = ["GRID", "Search", "Trial", "fragment", "searched_weights", "start_settings"]

#: The values tried for each ranking option (weights are searched relative to their value).
GRID: Mapping[str, Sequence[float]] = {
    "max_anchors": (10, 20, 30, 50, 80, 120),
    "anchor_half_life_days": (5, 10, 20, 30, 60, 120, 240),
    "repeat_half_life_days": (30, 90, 180, 365, 1000, 3000),
    "popular_candidates": (0, 20, 60, 120, 200),
    "candidates_per_source": (50, 100, 200),
}
#: Factors applied to a nonzero weight, and the values tried for a zero one.
WEIGHT_FACTORS = (0.0, 0.25, 0.5, 0.7, 1.4, 2.0, 4.0)
WEIGHT_FROM_ZERO = (0.02, 0.05, 0.1, 0.3, 1.0)
_INTEGER = frozenset({"max_anchors", "popular_candidates", "candidates_per_source"})

Settings = dict[str, float]


@dataclass(frozen=True, slots=True)
class Trial:
    """One scored point of the search.

    Attributes:
        settings: ``weights.<feature>`` and ranking option names to values.
        score: Mean NDCG@k over the validation months and modes.
        parts: ``<month> <mode>`` to that part's mean NDCG@k.
    """

    settings: Settings
    score: float
    parts: dict[str, float]


def searched_weights(prepared: Sequence[Prepared]) -> list[str]:
    """The default features that have something to score in this log and catalog.

    ``co_view`` needs views, ``complement`` products with complements, ``affinity``
    categories or brands, ``new_arrival`` creation dates; the others are always searched.
    """
    products = list(prepared[0].catalog) if prepared else []
    views = any(e.type == "view" for p in prepared for h in p.histories.values() for e in h)
    present = {
        "co_view": views,
        "complement": any(p.complements for p in products),
        "affinity": any(p.category or p.brand for p in products),
        "new_arrival": any(p.created_at is not None for p in products),
    }
    return sorted(w for w in DEFAULT_WEIGHTS if present.get(w, True))


def start_settings(ranking: Mapping[str, Any], weights: Sequence[str]) -> Settings:
    """The searched settings of the configuration's ``ranking`` section (defaults filled in)."""
    config = RankingConfig.model_validate(
        {k: v for k, v in ranking.items() if k != "exclude_purchased"}
    )
    effective = config.effective_weights()
    out: Settings = {f"weights.{w}": float(effective[w]) for w in weights}
    for name in GRID:
        out[name] = float(getattr(config, name))
    return out


def ranking_section(settings: Mapping[str, float]) -> dict[str, Any]:
    """The ``ranking`` configuration section of ``settings``."""
    weights = {k.split(".", 1)[1]: v for k, v in settings.items() if k.startswith("weights.")}
    options: dict[str, Any] = {
        k: int(v) if k in _INTEGER else v for k, v in settings.items() if "." not in k
    }
    return {"weights": weights, **options}


def fragment(settings: Mapping[str, float], comment: str) -> str:
    """A YAML configuration fragment holding ``settings``, under a ``#`` comment block."""
    import yaml

    head = "".join(f"# {line}\n" for line in comment.splitlines())
    body = yaml.safe_dump({"ranking": ranking_section(settings)}, sort_keys=True)
    return head + body


@dataclass
class Search:
    """A seeded coordinate search over the ranking settings.

    Args:
        prepared: The validation months, ready (their indexes built once).
        start: The starting settings (trial 0).
        seed: Fixes the sequence of trials.
        k: The list length.
        base_config: The rest of the configuration, under the searched settings.
        customers: At most this many customers per month and mode (a seeded sample; 0: all).
        modes: The modes the score averages over.
    """

    prepared: Sequence[Prepared]
    start: Settings
    seed: int
    k: int = 10
    base_config: Mapping[str, Any] = field(default_factory=dict)
    customers: int = 0
    modes: Sequence[str] = MODES
    trials: list[Trial] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._cases = {
            (p.split.label, mode): _sample(p.split, mode, self.customers, self.seed)
            for p in self.prepared
            for mode in self.modes
        }

    def signature(self) -> dict[str, Any]:
        """What a state file must match to be resumed by this search."""
        return {
            "seed": self.seed,
            "k": self.k,
            "months": [p.split.label for p in self.prepared],
            "customers": self.customers,
            "modes": list(self.modes),
            "start": self.start,
            "config": json.loads(json.dumps(self.base_config, default=str)),
        }

    def best(self) -> Trial:
        """The best trial so far (the earliest of equal scores)."""
        return max(self.trials, key=lambda t: t.score)

    def candidate(self, number: int) -> Settings:
        """The settings trial ``number`` scores, given the trials before it."""
        if number == 0:
            return dict(self.start)
        base = max(self.trials[:number], key=lambda t: t.score).settings
        rng = np.random.default_rng([self.seed, number])
        names = sorted(base)
        picked = rng.choice(len(names), size=int(rng.integers(1, 4)), replace=False)
        out = dict(base)
        for i in sorted(picked.tolist()):
            name = names[i]
            values = [v for v in self._values(name, out[name]) if v != out[name]]
            out[name] = float(values[int(rng.integers(len(values)))])
        return out

    def _values(self, name: str, current: float) -> list[float]:
        if name in GRID:
            return [float(v) for v in GRID[name]]
        if current == 0:
            return [*WEIGHT_FROM_ZERO]
        return [round(current * f, 6) for f in WEIGHT_FACTORS]

    def score(self, settings: Settings) -> Trial:
        """Score ``settings`` on every validation month and mode."""
        for done in self.trials:  # the same point again costs nothing
            if done.settings == settings:
                return done
        config = {**self.base_config}
        config["ranking"] = {**config.get("ranking", {}), **ranking_section(settings)}
        parts: dict[str, float] = {}
        for prepared in self.prepared:
            for mode in self.modes:
                cases = self._cases[(prepared.split.label, mode)]
                customers = [c for c, _ in cases]
                lists = prepared_lists(prepared, mode, customers, self.k, config=config)
                ndcg = score_lists(lists, cases, self.k).ndcg()
                parts[f"{prepared.split.label} {mode}"] = float(ndcg.mean()) if ndcg.size else 0.0
        return Trial(settings, float(np.mean(list(parts.values()))), parts)

    def run(
        self,
        budget: int,
        *,
        state: Path | None = None,
        stop_after: int | None = None,
        step: Callable[[int, Trial], None] | None = None,
    ) -> bool:
        """Run trials up to ``budget`` in all; returns whether the budget was reached.

        Args:
            budget: The total number of trials (those resumed from ``state`` included).
            state: A JSON file holding the trials; read first if it exists, rewritten
                atomically after each trial.
            stop_after: Stop after this many new trials (to interrupt a run on purpose).
            step: Called after each trial with its number and the trial.
        """
        if state is not None and state.exists():
            self.load(state)
        new = 0
        while len(self.trials) < budget:
            if stop_after is not None and new >= stop_after:
                return False
            number = len(self.trials)
            trial = self.score(self.candidate(number))
            self.trials.append(trial)
            new += 1
            if state is not None:
                self.save(state)
            if step is not None:
                step(number, trial)
        return True

    def save(self, path: Path) -> None:
        """Write the state (signature and trials) to ``path`` atomically."""
        data = {
            "signature": self.signature(),
            "trials": [
                {"settings": t.settings, "score": t.score, "parts": t.parts} for t in self.trials
            ],
        }
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temporary, path)

    def load(self, path: Path) -> None:
        """Read the trials of a state file written by the same search.

        Raises:
            ValueError: The file is not a state file of this search (another seed, log,
                months or configuration).
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            signature, trials = data["signature"], data["trials"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a tune state file ({exc})") from None
        if signature != json.loads(json.dumps(self.signature())):
            raise ValueError(
                f"{path}: state of another search (seed, months, customers or configuration"
                " differ); use another --state file"
            )
        self.trials = [
            Trial(dict(t["settings"]), float(t["score"]), dict(t["parts"])) for t in trials
        ]


def _sample(split: Split, mode: str, n: int, seed: int) -> list[tuple[int, frozenset[int]]]:
    cases = split.cases(mode)
    if n <= 0 or len(cases) <= n:
        return cases
    rng = np.random.default_rng([seed, 7919])
    keep = np.sort(rng.choice(len(cases), size=n, replace=False))
    return [cases[i] for i in keep.tolist()]
