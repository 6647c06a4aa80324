"""The seeded coordinate search over ranking settings: deterministic and resumable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personalize import Catalog
from personalize.config import DEFAULT_WEIGHTS, RankingConfig
from personalize.evaluation import Purchases
from personalize.evaluation._compare import last_months
from personalize.evaluation._run import Prepared, prepare
from personalize.evaluation._tune import (
    GRID,
    Search,
    fragment,
    index_options,
    ranking_section,
    searched_weights,
    start_settings,
)
from personalize.evaluation.synthetic import grocery_log

EVENTS, PRODUCTS = grocery_log(customers=30, products=50, categories=5, days=100, seed=5)
LOG = Purchases.from_events(EVENTS)
CATALOG = Catalog(PRODUCTS)


@pytest.fixture(scope="module")
def prepared() -> list[Prepared]:
    return [prepare(LOG, s, catalog=CATALOG) for s in last_months(LOG, 2)[:1]]


def search(prepared: list[Prepared], seed: int = 1) -> Search:
    start = start_settings({}, searched_weights(prepared))
    return Search(prepared, start, seed, customers=15)


def test_features_without_a_signal_in_the_log_are_not_searched(prepared: list[Prepared]) -> None:
    weights = searched_weights(prepared)
    assert "co_view" not in weights  # no views
    assert "complement" not in weights
    assert "new_arrival" not in weights
    assert {"repeat", "co_purchase", "affinity", "popularity", "trending"} <= set(weights)


def test_the_start_is_the_defaults_under_the_configured_settings() -> None:
    start = start_settings({"weights": {"repeat": 2.0}, "max_anchors": 7}, ["repeat", "trending"])
    defaults = RankingConfig()
    assert start["weights.repeat"] == 2.0
    assert start["weights.trending"] == defaults.effective_weights()["trending"]
    assert start["max_anchors"] == 7
    assert set(start) == {"weights.repeat", "weights.trending", *GRID}


def test_the_trending_rise_is_searched_unless_the_configuration_turns_it_off() -> None:
    assert start_settings({}, [])["index.trending_rise"] == RankingConfig().index.trending_rise
    off = start_settings({"index": {"trending_rise": None}}, [])
    assert "index.trending_rise" not in off
    assert set(off) == set(GRID) - {"index.trending_rise"}


def test_the_ranking_section_is_a_valid_ranking_configuration() -> None:
    settings = start_settings({}, ["repeat"])
    section = ranking_section(settings)
    assert RankingConfig.model_validate(section).max_anchors == settings["max_anchors"]
    assert isinstance(section["max_anchors"], int)


def test_the_fragment_starts_with_its_comment_and_holds_the_ranking_section() -> None:
    import yaml

    text = fragment(start_settings({}, ["personal"]), "line one\nline two")
    assert text.startswith("# line one\n# line two\n")
    assert yaml.safe_load(text)["ranking"]["weights"] == {"personal": DEFAULT_WEIGHTS["personal"]}


def test_a_trial_changes_one_to_three_settings_of_the_best_so_far(
    prepared: list[Prepared],
) -> None:
    s = search(prepared)
    s.run(3)
    best = s.best().settings
    changed = [k for k in best if s.candidate(3)[k] != best[k]]
    assert 1 <= len(changed) <= 3


def test_the_same_seed_gives_the_same_trials(prepared: list[Prepared]) -> None:
    a, b = search(prepared), search(prepared)
    a.run(3)
    b.run(3)
    assert [t.settings for t in a.trials] == [t.settings for t in b.trials]
    assert [t.score for t in a.trials] == [t.score for t in b.trials]
    other = search(prepared, seed=2)
    other.run(3)
    assert [t.settings for t in other.trials] != [t.settings for t in a.trials]


def test_a_run_resumed_from_its_state_ends_like_an_uninterrupted_one(
    prepared: list[Prepared], tmp_path: Path
) -> None:
    whole = search(prepared)
    whole.run(4)
    state = tmp_path / "state.json"
    first = search(prepared)
    assert first.run(4, state=state, stop_after=2) is False
    assert len(json.loads(state.read_text())["trials"]) == 2
    resumed = search(prepared)
    seen: list[int] = []
    assert resumed.run(4, state=state, step=lambda n, _: seen.append(n)) is True
    assert seen == [2, 3]  # the two done trials are not run again
    assert [t.settings for t in resumed.trials] == [t.settings for t in whole.trials]
    assert resumed.best() == whole.best()
    assert not (tmp_path / "state.json.tmp").exists()


def test_a_state_holding_more_trials_than_the_budget_ends_like_a_run_of_that_budget(
    prepared: list[Prepared], tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    search(prepared).run(5, state=state)
    whole = search(prepared)
    whole.run(2)
    resumed = search(prepared)
    assert resumed.run(2, state=state) is True
    assert [t.settings for t in resumed.trials] == [t.settings for t in whole.trials]
    assert resumed.best() == whole.best()
    assert len(json.loads(state.read_text())["trials"]) == 5  # the state keeps them all


def test_a_state_file_of_another_search_is_refused(
    prepared: list[Prepared], tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    search(prepared, seed=1).run(1, state=state)
    with pytest.raises(ValueError, match="state of another search"):
        search(prepared, seed=2).run(2, state=state)
    state.write_text("[]")
    with pytest.raises(ValueError, match="not a tune state file"):
        search(prepared).run(2, state=state)


def test_a_search_of_one_mode_scores_that_mode_only(prepared: list[Prepared]) -> None:
    start = start_settings({}, searched_weights(prepared))
    s = Search(prepared, start, 1, customers=15, modes=("new",))
    s.run(1)
    assert [part.split()[1] for part in s.trials[0].parts] == ["new"]
    assert s.trials[0].score == next(iter(s.trials[0].parts.values()))


def test_index_options_are_searched_with_one_build_per_combination(
    prepared: list[Prepared],
) -> None:
    s = search(prepared)
    assert {"index.max_neighbours", "index.half_life_days"} <= set(s.start)
    other = {**s.start, "index.max_neighbours": 20.0}
    months = s._months(index_options(other))
    assert months[0].index.stats["max_neighbours"] == 20
    assert s._months(index_options(other)) is months  # built once, then reused
    assert s._months(index_options(s.start)) == list(prepared)  # the start's own indexes
    section = ranking_section(other)
    assert section["index"]["max_neighbours"] == 20
    assert RankingConfig.model_validate(section).index.max_neighbours == 20


def test_a_point_scored_before_is_not_scored_again(prepared: list[Prepared]) -> None:
    s = search(prepared)
    first = s.score(dict(s.start))
    assert s.score(dict(s.start)) is first


def test_workers_give_the_same_trials_as_one_process(prepared: list[Prepared]) -> None:
    alone = search(prepared)
    alone.run(3)
    start = start_settings({}, searched_weights(prepared))
    shared = Search(prepared, start, 1, customers=15, workers=2)
    shared.run(3)
    assert [t.settings for t in shared.trials] == [t.settings for t in alone.trials]
    assert [t.parts for t in shared.trials] == [t.parts for t in alone.trials]
