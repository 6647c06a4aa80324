"""What ``Personalizer.personalize`` returns: the decision and the account of it."""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from personalize._offer_text import describe_offer_value
from personalize._serialize import ResultModel, result_dict
from personalize.context import Context
from personalize.landing import LandingChoice
from personalize.offers import OfferChoice
from personalize.ranking import ContinueShopping, Recommendation

__all__ = ["DecisionTrace", "Result", "new_decision_id"]

_TIMES = "\N{MULTIPLICATION SIGN}"


def new_decision_id() -> str:
    """A unique, time-ordered id: 48 bits of Unix milliseconds, then 80 random bits, as hex.

    Ids sort by creation time (to the millisecond), like a UUIDv7, and two ids collide
    with negligible chance (80 random bits per millisecond).
    """
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


class DecisionTrace:
    """Lines explaining each stage of one decision, and what degraded.

    Stages that are costly to describe hand over a renderer instead of lines; it runs only
    when the trace is read, so a request that is never explained never pays for it.

    Attributes:
        errors: What failed, one ``"<where>: <exception type>: <message>"`` line each, where
            ``where`` is the stage or the stage and the plugin call
            (``offers: operator $rainy (weather)``); empty on a clean run.
    """

    __slots__ = ("_parts", "errors")

    def __init__(self) -> None:
        self._parts: dict[str, list[str] | Callable[[], list[str]]] = {}
        self.errors: list[str] = []

    def lines(self, section: str) -> list[str]:
        """The (mutable) list of lines of ``section``, created on first use."""
        part = self._parts.get(section)
        if part is None or callable(part):
            part = self._parts[section] = [] if part is None else part()
        return part

    def defer(self, section: str, render: Callable[[], list[str]]) -> None:
        """Describe ``section`` with ``render()``, called only when the trace is read."""
        self._parts[section] = render

    @property
    def sections(self) -> dict[str, list[str]]:
        """Stage name (``context``, ``experiments``, ``rules``, ``ranking``, ``landing``,
        ``offers``) to its lines, in the order the stages ran."""
        return {name: self.lines(name) for name in list(self._parts)}

    def error(self, stage: str, exc: BaseException | str) -> None:
        """Record that ``stage`` failed and degraded."""
        text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        self.errors.append(f"{stage}: {text}")


@dataclass(frozen=True, slots=True)
class Result:
    """One personalization decision.

    Attributes:
        products: Ranked recommendations, best first, each with its reasons.
        landing: The landing choice, or ``None`` when the configuration has no landing rules.
        offers: Offers to show, best first.
        continue_shopping: What the customer left off with in their last session.
        segments: The segments this request falls in.
        experiments: Experiment key to the variant this visitor sees.
        context: The resolved request context.
        placement: Where the products will show.
        rules: Ids of the merchandising rules that fired, in priority order.
        trace: The account of every stage, rendered by :meth:`explain`.
        currency: The store's currency code (``settings.currency``), for offer amounts.
        decision_id: This decision's unique id (32 hex digits, time-ordered: a millisecond
            clock then random bits); put it on ``impression`` and ``click`` events to
            attribute them.
    """

    products: list[Recommendation]
    landing: LandingChoice | None
    offers: list[OfferChoice]
    continue_shopping: ContinueShopping
    segments: frozenset[str]
    experiments: Mapping[str, str]
    context: Context
    placement: str
    rules: tuple[str, ...] = ()
    trace: DecisionTrace = field(default_factory=DecisionTrace)
    currency: str = "USD"
    decision_id: str = field(default_factory=new_decision_id)

    @property
    def degraded(self) -> bool:
        """True when something failed: a stage that fell back to its default, or a plugin
        (operator, fact, action, scorer, candidate source) that raised and was left out.

        ``explain()`` lists each failure under "Degraded"; ``trace.errors`` holds them.
        Input that was repaired (an over-long id, an out-of-range profile count) is not a
        failure: it is a line in ``context.notes``.
        """
        return bool(self.trace.errors)

    def explain(self, *, trace: bool = True, currency: str | None = None) -> str:
        """A human-readable account of every decision and the reasons behind it.

        Each product's line adds up: its feature contributions, times the boost factor of
        the rules that moved it, give its score. A pinned product says which rule pinned it.

        Args:
            trace: Include the stage-by-stage trace (every rule, landing entry and offer
                considered), not only the decisions.
            currency: ISO code for the amounts of offers; defaults to :attr:`currency`.
        """
        ctx = self.context
        out: list[str] = [f"Decision for placement {self.placement!r}" + _who(ctx)]
        out.append("Context: " + _describe_context(ctx))
        out.append("Segments: " + (", ".join(sorted(self.segments)) or "none"))
        if self.experiments:
            pairs = ", ".join(f"{k}={v}" for k, v in sorted(self.experiments.items()))
            out.append("Experiments: " + pairs)
        out.append("Rules fired: " + (", ".join(self.rules) or "none"))
        out.append("Products:")
        if not self.products:
            out.append("  (none)")
        out.extend(
            f"  {rank:>2}. {rec.product_id}  {_describe_score(rank, rec)}"
            for rank, rec in enumerate(self.products, start=1)
        )
        if self.landing is not None:
            how = "default" if self.landing.default else f"rule {self.landing.rule_id}"
            out.append(f"Landing: {self.landing.page} ({how})")
        else:
            out.append("Landing: none configured")
        out.append("Offers:" + ("" if self.offers else " none"))
        for offer in self.offers:
            code = f", code {offer.code}" if offer.code else ""
            worth = describe_offer_value(offer.value, currency or self.currency)
            out.append(f"  - {offer.offer_id}: {worth}{code} ({offer.reason})")
        cs = self.continue_shopping
        if cs.products or cs.category:
            out.append(
                "Continue shopping: "
                + ", ".join(cs.products)
                + (f" (category {cs.category})" if cs.category else "")
            )
        for name, lines in self.trace.sections.items() if trace else ():
            if lines:
                out.append(f"Trace / {name}:")
                out.extend(f"  {line}" for line in lines)
        if ctx.notes:
            out.append("Notes:")
            out.extend(f"  - {note}" for note in ctx.notes)
        if self.trace.errors:
            out.append("Degraded:")
            out.extend(f"  - {err}" for err in self.trace.errors)
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        """The decision as plain JSON values, in the documented, versioned shape.

        The shape is :class:`personalize.ResultModel` (its ``model_json_schema()`` is the
        JSON Schema): ``schema_version``, ``placement``, ``products`` (``product_id``,
        ``score``, ``reasons``, ``rules``, ``source``), ``landing``, ``offers``,
        ``continue_shopping``, ``segments`` (sorted), ``experiments``, ``rules``, a compact
        ``context``, ``degraded`` and ``errors``.
        """
        return result_dict(self)

    def to_json(self, *, indent: int | None = None) -> str:
        """:meth:`to_dict` as JSON text.

        Args:
            indent: Indent nested levels by this many spaces (default: compact).
        """
        separators = (",", ":") if indent is None else None
        return json.dumps(self.to_dict(), indent=indent, separators=separators, ensure_ascii=False)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Let pydantic (and so FastAPI, for a route returning ``Result``) serialize a
        result through :meth:`to_dict`."""
        return core_schema.no_info_plain_validator_function(
            _only_results,
            serialization=core_schema.plain_serializer_function_ser_schema(result_dict),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The JSON Schema of a result is that of :class:`~personalize.ResultModel`."""
        return handler(ResultModel.__pydantic_core_schema__)


def _only_results(value: Any) -> Result:
    if not isinstance(value, Result):
        raise ValueError(f"expected a personalize.Result, got {type(value).__name__}")
    return value


def _who(ctx: Context) -> str:
    parts = [
        f"user {ctx.user_id}" if ctx.user_id else "",
        f"session {ctx.session_id}" if ctx.session_id else "",
    ]
    joined = ", ".join(p for p in parts if p)
    return f" ({joined})" if joined else ""


def _describe_score(rank: int, rec: Recommendation) -> str:
    """``score 2.410 = (co_purchase 0.800 + popularity 0.405) x boost 2 [rule r1]`` (with a
    multiplication sign), or ``pinned at 3 by rule r2`` for a pinned product that no source
    proposed."""
    pinned = f"pinned at {rank} by rule {rec.pinned_by}" if rec.pinned_by is not None else ""
    if pinned and not rec.reasons:
        return pinned
    ranked = sorted(rec.reasons.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
    # Contributions under 0.0005 would print as 0.000: they are left out of the sum.
    terms = " + ".join(f"{name} {value:.3f}" for name, value in ranked if abs(value) >= 5e-4)
    terms = terms or "0"
    text = f"score {rec.score:.3f} = {terms}"
    moved = [rule for rule in rec.rules if rule != rec.pinned_by]
    if rec.boost != 1.0 or moved:
        text = f"score {rec.score:.3f} = ({terms}) {_TIMES} boost {rec.boost:.3g}"
        text += f" [rule{'s' if len(moved) > 1 else ''} {', '.join(moved)}]" if moved else ""
    total = math.fsum(rec.reasons.values()) * rec.boost
    if not math.isclose(total, rec.score, rel_tol=1e-6, abs_tol=1e-9):  # a plugin re-scored it
        text += f", adjusted to {rec.score:.3f}"
        text = text.replace(f"score {rec.score:.3f} = ", f"score {total:.3f} = ", 1)
    return f"{pinned}; {text}" if pinned else text


def _describe_context(ctx: Context) -> str:
    d, g, t, r = ctx.device, ctx.geo, ctx.time, ctx.referral
    device = d.type + (f" {d.os}" if d.os else "") + (f"/{d.browser}" if d.browser else "")
    where = "/".join(x for x in (g.country, g.city) if x) or "unknown place"
    where += f" ({g.source}"
    where += f", {g.climate}" if g.climate else ""
    where += ")"
    when = "unknown time"
    if t.local is not None:
        when = f"{t.local:%a %H:%M} {t.timezone or ''}".strip()
        when += "".join(f", {x}" for x in (t.daypart, t.season) if x)
    came = r.source + (f" via {r.site}" if r.site else "")
    came += f" (campaign {r.campaign})" if r.campaign else ""
    return f"{device}; {where}; {when}; from {came}"
