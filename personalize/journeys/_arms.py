"""The two arms of a simulation: the experiment that splits shoppers between them."""

from __future__ import annotations

from personalize.config import Experiment, PersonalizerConfig, Variant
from personalize.errors import ConfigError, Problem
from personalize.experiments import bucket_ranges, bucket_shares

__all__ = ["ARM_EXPERIMENT", "CONTROL", "PERSONALIZED", "arm_shares", "with_arms"]

#: The experiment the simulator adds to split shoppers between the two arms.
ARM_EXPERIMENT = "sim-arm"
#: The non-personalized arm (a holdout variant of :data:`ARM_EXPERIMENT`).
CONTROL = "control"
#: The arm that sees the configuration as written.
PERSONALIZED = "personalized"


def with_arms(
    config: PersonalizerConfig, *, control_share: float = 0.5, seed: int | str = 0
) -> PersonalizerConfig:
    """The configuration with the :data:`ARM_EXPERIMENT` experiment put first.

    Args:
        config: The configuration to test.
        control_share: Share of shoppers in the non-personalized (holdout) arm.
        seed: Salts the arm's hash seed, so another run seed reshuffles the arms.

    Raises:
        ConfigError: The configuration already has an experiment of that key, or the share
            is outside ``(0, 1)``.
    """
    problems = []
    if any(exp.key == ARM_EXPERIMENT for exp in config.experiments):
        problems.append(Problem("experiments", f"the key {ARM_EXPERIMENT!r} is the simulator's"))
    if not 0.0 < control_share < 1.0:
        problems.append(Problem("control_share", f"must be in (0, 1), not {control_share}"))
    if problems:
        raise ConfigError(problems)
    arms = Experiment(
        key=ARM_EXPERIMENT,
        seed=f"{ARM_EXPERIMENT}:{seed}",
        variants=[
            Variant(key=CONTROL, weight=control_share, holdout=True),
            Variant(key=PERSONALIZED, weight=1.0 - control_share),
        ],
    )
    return config.model_copy(update={"experiments": [arms, *config.experiments]})


def arm_shares(experiment: Experiment) -> dict[str, float]:
    """Each variant's expected share of the enrolled shoppers: the share of the hash buckets
    its range holds, as assignment splits them (``ExperimentPlan.shares``); the weights'
    shares when no bucket is enrolled."""
    total = sum(v.weight for v in experiment.variants) or 1.0
    weights = [v.weight / total for v in experiment.variants]
    shares = bucket_shares(bucket_ranges(weights, experiment.traffic)) or weights
    return {v.key: share for v, share in zip(experiment.variants, shares, strict=True)}
