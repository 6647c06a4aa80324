"""Searching the ranking settings on validation months, resumable and deterministic.

The search is a seeded coordinate search around the starting settings (the defaults overlaid
with the configuration's): trial 0 scores the start; every later trial changes one to three
settings of the best trial so far to other values of their grids, drawn from a generator
seeded with ``(seed, trial)``. So a trial depends only on the seed and the trials before it,
and a run resumed from its state file ends exactly where an uninterrupted one does.

The score of a trial is the mean NDCG@k over the validation months and the modes (both by
default). What keeps a search fast:

* the customers' contexts are resolved once per month, for every trial
  (:class:`~personalize.evaluation._run.RememberingResolver`);
* the index of a month is built once per combination of index options (``index.*``
  settings), and the latest few are kept (:data:`INDEX_CACHE`);
* a point scored before is not scored again;
* with ``workers`` above 1, the (month, mode) parts of a trial are scored in forked worker
  processes (the parts are independent, so the figures do not depend on the workers).
"""

from __future__ import annotations

import json
import multiprocessing
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from personalize._atomic import atomic_text
from personalize.config import DEFAULT_WEIGHTS, RankingConfig
from personalize.evaluation._log import MODES, Split
from personalize.evaluation._run import Prepared, build_options, prepared_lists
from personalize.evaluation.baselines import score_lists

__all__ = [
    "GRID",
    "Search",
    "Trial",
    "fragment",
    "searched_weights",
    "start_settings",
    "with_settings",
]

#: The values tried for each ranking option (weights are searched relative to their value);
#: ``index.*`` options need an index build per combination.
GRID: Mapping[str, Sequence[float]] = {
    "max_anchors": (10, 20, 30, 50, 80, 120),
    "anchor_half_life_days": (5, 10, 20, 30, 60, 120, 240),
    "repeat_half_life_days": (30, 90, 180, 365, 1000, 3000),
    "popular_candidates": (0, 20, 60, 120, 200),
    "candidates_per_source": (50, 100, 200),
    "personal_half_life_days": (30, 90, 180, 365, 1000),
    "order_decay": (0.8, 0.9, 0.95, 0.98, 1.0),
    "repurchase_weight": (0, 1, 2, 4, 8, 20),
    "repeat_share_weight": (0, 1, 2, 4, 8),
    "neighbour_power": (0.5, 1, 1.5, 2),
    "index.max_neighbours": (20, 30, 50, 80),
    "index.half_life_days": (15, 30, 60, 120),
    "index.trending_half_life_days": (3, 7, 14),
    "index.trending_rise": (1.5, 2.0, 3.0),
}
#: Index builds kept per search (each holds one month's index under one option set).
INDEX_CACHE = 8
#: Factors applied to a nonzero weight, and the values tried for a zero one.
WEIGHT_FACTORS = (0.0, 0.25, 0.5, 0.7, 1.4, 2.0, 4.0)
WEIGHT_FROM_ZERO = (0.02, 0.05, 0.1, 0.3, 1.0)
_INTEGER = frozenset(
    {"max_anchors", "popular_candidates", "candidates_per_source", "index.max_neighbours"}
)
_INDEX = "index."

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
        if name.startswith(_INDEX):
            value = getattr(config.index, name.removeprefix(_INDEX))
        else:
            value = getattr(config, name)
        if value is not None:  # an option the configuration turns off is not searched
            out[name] = float(value)
    return out


def ranking_section(settings: Mapping[str, float]) -> dict[str, Any]:
    """The ``ranking`` configuration section of ``settings``."""
    weights = {k.split(".", 1)[1]: v for k, v in settings.items() if k.startswith("weights.")}
    options: dict[str, Any] = {
        k: int(v) if k in _INTEGER else v for k, v in settings.items() if "." not in k
    }
    index = index_options(settings)
    return {"weights": weights, **options, **({"index": index} if index else {})}


def with_settings(config: Mapping[str, Any], settings: Mapping[str, float]) -> dict[str, Any]:
    """``config`` with ``settings`` in its ``ranking`` section (its other ``ranking.index``
    options kept): what a trial scores, and what the chosen settings are held out with."""
    ranking = {**config.get("ranking", {}), **ranking_section(settings)}
    ranking["index"] = {**config.get("ranking", {}).get("index", {}), **ranking.get("index", {})}
    return {**config, "ranking": ranking}


def index_options(settings: Mapping[str, float]) -> dict[str, Any]:
    """The ``ranking.index`` options among ``settings`` (without their prefix)."""
    return {
        k.removeprefix(_INDEX): int(v) if k in _INTEGER else v
        for k, v in sorted(settings.items())
        if k.startswith(_INDEX)
    }


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
        workers: Processes scoring the parts of a trial (1: in this process).

    ``prepared`` must hold indexes built with the start's ``index.*`` options (and the
    configuration's other ``ranking.index`` options); other combinations are built from
    their train events.
    """

    prepared: Sequence[Prepared]
    start: Settings
    seed: int
    k: int = 10
    base_config: Mapping[str, Any] = field(default_factory=dict)
    customers: int = 0
    modes: Sequence[str] = MODES
    trials: list[Trial] = field(default_factory=list)
    workers: int = 1

    def __post_init__(self) -> None:
        self._cases = {
            (p.split.label, mode): _sample(p.split, mode, self.customers, self.seed)
            for p in self.prepared
            for mode in self.modes
        }
        self._done: dict[str, Trial] = {}
        self._indexes: OrderedDict[str, list[Prepared]] = OrderedDict()
        self._base = list(self.prepared)
        self._indexes[_key(index_options(self.start))] = self._base
        for prepared in self.prepared:  # resolve every sampled customer's context once
            prepared.warm(
                c for mode in self.modes for c, _ in self._cases[(prepared.split.label, mode)]
            )

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
        key = _key(settings)
        done = self._done.get(key)
        if done is not None:  # the same point again costs nothing
            return done
        config = with_settings(self.base_config, settings)
        months = self._months(index_options(settings))
        parts_of = [(m, mode) for m in range(len(months)) for mode in self.modes]
        if self.workers > 1 and len(parts_of) > 1 and _can_fork():
            global _WORK
            _WORK = (self, months, config)
            context = multiprocessing.get_context("fork")
            with context.Pool(min(self.workers, len(parts_of))) as pool:
                values = pool.map(_part, parts_of)
            _WORK = None
        else:
            values = [self._part(months[m], mode, config) for m, mode in parts_of]
        parts = {
            f"{months[m].split.label} {mode}": value
            for (m, mode), value in zip(parts_of, values, strict=True)
        }
        trial = Trial(settings, float(np.mean(list(parts.values()))), parts)
        self._done[key] = trial
        return trial

    def _part(self, prepared: Prepared, mode: str, config: Mapping[str, Any]) -> float:
        cases = self._cases[(prepared.split.label, mode)]
        customers = [c for c, _ in cases]
        lists = prepared_lists(prepared, mode, customers, self.k, config=config)
        ndcg = score_lists(lists, cases, self.k).ndcg()
        return float(ndcg.mean()) if ndcg.size else 0.0

    def _months(self, options: Mapping[str, Any]) -> list[Prepared]:
        """The validation months over indexes built with ``options`` (built on first use,
        the latest :data:`INDEX_CACHE` kept; the start's are always kept)."""
        key = _key(options)
        found = self._indexes.get(key)
        if found is not None:
            self._indexes.move_to_end(key)
            return found
        extra = self.base_config.get("ranking", {}).get("index", {})
        built = [p.with_index(build_options({**extra, **options})) for p in self.prepared]
        self._indexes[key] = built
        while len(self._indexes) > max(INDEX_CACHE // max(len(self.prepared), 1), 2):
            oldest = next(k for k in self._indexes if self._indexes[k] is not self._base)
            del self._indexes[oldest]
        return built

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
            budget: The total number of trials (those resumed from ``state`` included); a
                state holding more keeps them on disk, but only the first ``budget`` count,
                as in an uninterrupted run of that budget.
            state: A JSON file holding the trials; read first if it exists, rewritten
                atomically after each trial.
            stop_after: Stop after this many new trials (to interrupt a run on purpose).
            step: Called after each trial with its number and the trial.
        """
        if state is not None and state.exists():
            self.load(state)
        if len(self.trials) > budget:  # trials depend only on those before: keep a prefix
            del self.trials[budget:]
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
        with atomic_text(path) as handle:
            handle.write(json.dumps(data, indent=1, sort_keys=True))

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
        self._done = {_key(t.settings): t for t in self.trials}


_WORK: tuple[Search, list[Prepared], Mapping[str, Any]] | None = None


def _part(part: tuple[int, str]) -> float:
    """One (month, mode) part of the trial in :data:`_WORK`, in a forked worker."""
    assert _WORK is not None
    search, months, config = _WORK
    return search._part(months[part[0]], part[1], config)


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _key(settings: Mapping[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True)


def _sample(split: Split, mode: str, n: int, seed: int) -> list[tuple[int, frozenset[int]]]:
    cases = split.cases(mode)
    if n <= 0 or len(cases) <= n:
        return cases
    rng = np.random.default_rng([seed, 7919])
    keep = np.sort(rng.choice(len(cases), size=n, replace=False))
    return [cases[i] for i in keep.tolist()]
