"""The ``Personalizer`` facade: wires context, rules, ranking, landing, offers, experiments.

A configuration is compiled (by :mod:`personalize._compile`) into one immutable state, with
one compiled configuration per experiment-variant combination, all built at load.
``personalize`` reads the current state once, so a concurrent :meth:`Personalizer.reload`
-- which builds the new state completely and then swaps one reference -- never shows a
request half of each.

This module is the request boundary. Exceptions are caught broadly in two places only:
here, where a failing stage falls back to its default, and in
:func:`personalize.plugins.guarded`, which wraps every call into a plugin (operator, fact,
action, scorer, candidate source). Both report through one channel,
:meth:`Personalizer._degrade`: a line in ``Result.trace.errors`` (so ``Result.degraded`` is
true and ``explain()`` lists it) and a call to ``on_error(exception, where)``, where
``where`` is the stage (``ranking``), or the stage and the plugin call
(``landing: operator $rainy (weather)``).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from personalize._compile import Compiled, ConfigCompiler
from personalize._models import Event, History, Request, as_utc, bounded_id, bounded_ids
from personalize._tracking import (
    DEFAULT_STORE,
    StoreOption,
    Tracking,
    Visitor,
    aware,
    recordable,
    served_events,
)
from personalize.catalog import Catalog
from personalize.config import IndexConfig, PersonalizerConfig, load_config
from personalize.context import CDNName, Context, ContextResolver, ForwardedHeader
from personalize.experiments import Assignment, Exposure
from personalize.offers import OfferChoice, OfferNote
from personalize.plugins import ErrorSink, Plugin, Registry, load_entry_point_plugins
from personalize.ranking import (
    ContinueShopping,
    InteractionIndex,
    continue_shopping,
)
from personalize.result import DecisionTrace, Result
from personalize.rules import Evaluation, RuleOutcome
from personalize.store import AsyncStore, EventError, Store

__all__ = ["ErrorHandler", "ExposureHandler", "Personalizer"]

#: Called with the exception and where it happened: the stage (``context``, ``rules``,
#: ``ranking`` ...), and for a plugin the call (``offers: operator $rainy (weather)``).
ErrorHandler = Callable[[BaseException, str], None]
#: Called once per decision and experiment the visitor is enrolled in.
ExposureHandler = Callable[[Exposure], None]

_T = TypeVar("_T")
_EMPTY_HISTORY = History()


class Personalizer:
    """Personalizes requests: ranked products, a landing choice and offers, with reasons.

    Args:
        config: A :class:`PersonalizerConfig`, a mapping, or the path of a YAML/JSON/TOML file.
        catalog: The products that can be recommended.
        interactions: Events of all customers to build the interaction index from, an
            already built :class:`InteractionIndex`, or the path of a saved index.
        geoip: Path of a MaxMind City or Country database (e.g. GeoLite2-City.mmdb).
        plugins: Plugins to install explicitly.
        autoload_plugins: Also install plugins found under the ``personalize.plugins``
            entry-point group (``PERSONALIZE_DISABLE_PLUGIN_AUTOLOAD=1`` switches it off);
            one named like a plugin of ``plugins`` is left out (the one given wins).
        trusted_proxies: How many proxies of yours stand in front of the app; overrides
            ``settings.trusted_proxies`` (``None``: take the setting).
        forwarded_header: The one header those proxies write (``forwarded``,
            ``x-forwarded-for`` or ``x-real-ip``); overrides ``settings.forwarded_header``.
        trusted_cdn: The CDNs whose geo headers are believed; overrides
            ``settings.trusted_cdn``.
        on_error: Called with each exception a request recovered from, and where it
            happened (see :data:`ErrorHandler`).
        on_exposure: Called once per decision and experiment the visitor is enrolled in.
        resolver: A ready :class:`ContextResolver` (``geoip``, ``trusted_proxies``,
            ``forwarded_header`` and ``trusted_cdn`` are then ignored).
        freeze_gc: Once loaded (and after each :meth:`reload`), collect garbage and then
            move every live object -- catalog, index, compiled configuration, and the
            rest of the process -- into the collector's permanent generation
            (:func:`gc.freeze`), so full collections stop traversing them: with a million
            products one collection drops from about a second to a millisecond. Frozen
            objects are still freed by reference counting, but never by the cycle
            collector (call :func:`gc.unfreeze` to undo). Pass ``False`` if the
            application manages the collector itself.
        store: Where visitor state lives (:mod:`personalize.store`): a ``Store``, an
            ``AsyncStore`` (for :meth:`apersonalize` and :meth:`atrack` only), the default
            ``"memory"`` (a bounded in-process ``MemoryStore``), or ``None`` for none (the
            caller then passes every ``History``).

    The client-address and CDN options are read when the personalizer is built;
    :meth:`reload` does not change them.

    Raises:
        ConfigError: The configuration is invalid; every problem is listed.
    """

    def __init__(
        self,
        config: PersonalizerConfig | Mapping[str, Any] | str | Path | None = None,
        *,
        catalog: Catalog | None = None,
        interactions: Iterable[Event] | InteractionIndex | str | Path | None = None,
        geoip: str | Path | None = None,
        plugins: Sequence[Plugin] = (),
        autoload_plugins: bool = True,
        trusted_proxies: int | None = None,
        forwarded_header: ForwardedHeader | None = None,
        trusted_cdn: Iterable[CDNName] | None = None,
        on_error: ErrorHandler | None = None,
        on_exposure: ExposureHandler | None = None,
        resolver: ContextResolver | None = None,
        freeze_gc: bool = True,
        store: StoreOption = DEFAULT_STORE,
    ) -> None:
        self._on_error = on_error
        self._on_exposure = on_exposure
        self._registry = Registry.with_builtins()
        for plugin in [*plugins, *_discovered(plugins, autoload_plugins)]:
            self._registry.install(plugin)
        self._catalog = catalog if catalog is not None else Catalog()
        checker = ConfigCompiler(self._registry, self._catalog, None)
        parsed = load_config(
            config if config is not None else {}, also_check=checker.raw_condition_problems
        )
        self._index = _as_index(interactions, self._catalog, parsed.ranking.index)
        self._compiler = ConfigCompiler(self._registry, self._catalog, self._index)
        self._startup_notes: tuple[str, ...] = ()
        settings = parsed.settings
        if trusted_proxies is None:
            trusted_proxies = settings.trusted_proxies
        self._resolver = resolver or self._make_resolver(
            geoip,
            parsed,
            trusted_proxies=trusted_proxies,
            forwarded_header=forwarded_header or settings.forwarded_header,
            trusted_cdn=tuple(settings.trusted_cdn if trusted_cdn is None else trusted_cdn),
        )
        self._reload_lock = threading.Lock()
        self._state = self._compiler.state(parsed)
        self._tracking = Tracking(
            store,
            timedelta(minutes=settings.session_timeout),
            fold=(parsed.ranking.order_decay, parsed.ranking.personal_half_life_days),
        )
        self._freeze_gc = freeze_gc
        if freeze_gc:
            _freeze_loaded()

    # -- construction --------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> Personalizer:
        """Build from a YAML, JSON or TOML configuration file; see the class for ``kwargs``."""
        return cls(Path(path), **kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], **kwargs: Any) -> Personalizer:
        """Build from a configuration mapping; see the class for ``kwargs``."""
        return cls(data, **kwargs)

    def _make_resolver(
        self,
        geoip: str | Path | None,
        config: PersonalizerConfig,
        *,
        trusted_proxies: int,
        forwarded_header: ForwardedHeader | None,
        trusted_cdn: tuple[CDNName, ...],
    ) -> ContextResolver:
        make = partial(
            ContextResolver,
            default_timezone=config.settings.timezone,
            trusted_proxies=trusted_proxies,
            forwarded_header=forwarded_header,
            trusted_cdn=trusted_cdn,
        )
        if geoip is not None:
            try:
                return make(geoip)
            except (OSError, ValueError) as exc:
                self._startup_notes = (f"geo database unavailable ({exc}); geo from headers only",)
                self._report(exc, "geoip")
        return make()

    # -- public API ----------------------------------------------------------------------

    @property
    def config(self) -> PersonalizerConfig:
        """The configuration in force."""
        return self._state.base.config

    @property
    def catalog(self) -> Catalog:
        """The catalog products are recommended from."""
        return self._catalog

    @property
    def index(self) -> InteractionIndex:
        """The interaction index (co-purchase, co-view, popularity ...)."""
        return self._index

    @property
    def registry(self) -> Registry:
        """This personalizer's plugin registry."""
        return self._registry

    def reload(self, config: PersonalizerConfig | Mapping[str, Any] | str | Path) -> None:
        """Compile a new configuration and swap it in atomically.

        Requests in flight finish on the configuration they started with; requests that
        start after the swap see the new one. On error nothing changes.

        Raises:
            ConfigError: The new configuration is invalid; the old one stays in force.
        """
        parsed = load_config(config, also_check=self._compiler.raw_condition_problems)
        with self._reload_lock:
            state = self._compiler.state(parsed)
            self._state = state
            if self._freeze_gc:
                _freeze_loaded()

    def personalize(
        self,
        request: Request,
        history: History | None = None,
        *,
        customer_id: str | None = None,
        placement: str = "home",
        limit: int | None = None,
        product_id: str | None = None,
        channel: str = "web",
    ) -> Result:
        """Decide what this visitor sees. Never raises on request or history data.

        Without ``history``, the history is read from the store (for ``customer_id``, else
        ``request.user_id``; the session is ``request.session_id``), and what was served
        is recorded there as ``settings.record`` says. A store that fails degrades to no
        history, with a line in ``trace.errors``.

        Args:
            request: The incoming request.
            history: The customer's past events, loyalty details and profile; given, the
                store is neither read nor written.
            customer_id: Whose state the store holds (default ``request.user_id``).
            placement: Where the products show: ``home``, ``pdp``, ``cart``, ``category`` ...
            limit: How many products (default ``settings.default_limit``).
            product_id: The product being viewed, for ``pdp`` and ``cart`` complements.
            channel: Where the decision goes out: ``web`` (the site) or ``email`` (a
                campaign); rules and offers restricted to other ``channels`` are skipped.

        Returns:
            The decision, with ``explain()`` for its reasons.
        """
        if history is not None or not self._tracking.enabled:
            return self._decide(
                request, history, placement, limit, product_id, DecisionTrace(), channel
            )
        trace = DecisionTrace()
        visitor = Visitor.of(request, customer_id)
        stored = self._read_history(request, visitor, trace)
        result = self._decide(request, stored, placement, limit, product_id, trace, channel)
        self._write(self._served(result, request, visitor, stored), trace)
        return result

    def _decide(
        self,
        request: Request,
        history: History | None,
        placement: str,
        limit: int | None,
        product_id: str | None,
        trace: DecisionTrace,
        channel: str = "web",
    ) -> Result:
        """The decision itself: no store I/O (see :meth:`personalize`)."""
        state = self._state
        history = history if history is not None else _EMPTY_HISTORY
        base = state.base
        limit = limit if limit is not None else base.config.settings.default_limit
        notes = list(self._startup_notes)
        request = bounded_ids(request, notes)
        product_id = bounded_id(product_id, "product_id", notes)

        moment = _aware(request.now)  # the clock is read once per request
        ctx = self._guard(
            "context",
            trace,
            lambda: self._resolver.resolve(request, history, now=moment, notes=notes),
            None,
        )
        query = ctx.query if ctx is not None else None  # None: the plan parses the URL
        if ctx is None:
            ctx = Context(user_id=request.user_id, session_id=request.session_id, notes=(*notes,))
        facts = ctx.facts()
        ctx = self._plugin_facts(ctx, facts, trace)
        now = ctx.time.local or moment

        assignment = self._guard(
            "experiments",
            trace,
            lambda: state.plan.assign(
                request,
                facts,
                evaluation=self._evaluation(now, trace, "experiments"),
                query=query,
            ),
            None,
        )
        compiled = base
        experiments: dict[str, str] = {}
        if assignment is not None:
            experiments = dict(assignment.variants)
            compiled = state.variants.get(assignment.config_key, base)
            trace.lines("experiments").extend(assignment.notes)
            self._expose(assignment, trace)

        if assignment is not None and assignment.holdout:
            return self._holdout(compiled, ctx, trace, experiments, placement, limit, product_id)

        outcome = self._guard(
            "rules",
            trace,
            lambda: compiled.rules.evaluate(
                facts,
                placement=placement,
                now=now,
                on_error=self._reporter(trace, "rules"),
                channel=channel,
            ),
            None,
        )
        later: Mapping[str, Any] = facts  # what landing and offers read
        if outcome is not None:
            later = outcome.facts  # with the segments (read only from here on)
            if outcome.segments != ctx.segments:
                ctx = replace(ctx, segments=outcome.segments)
            trace.defer("rules", lambda: outcome.trace.render().splitlines())
        actions = outcome.actions if outcome is not None else ()
        ranking = self._guard(
            "ranking",
            trace,
            lambda: compiled.ranker.rank(
                ctx,
                placement=placement,
                limit=limit,
                product_id=product_id,
                actions=actions,
                on_error=self._reporter(trace, "ranking"),
            ),
            None,
        )
        if ranking is not None:
            trace.defer("ranking", lambda: list(ranking.trace))
        landing_lines = trace.lines("landing")
        landing = self._guard(
            "landing",
            trace,
            lambda: compiled.landing.choose(
                later, landing_lines, evaluation=self._evaluation(now, trace, "landing")
            ),
            None,
        )
        offer_notes: list[OfferNote] = []  # formatted only when the trace is read
        trace.defer("offers", partial(compiled.offers.describe, offer_notes))
        no_offers: list[OfferChoice] = []
        offers = self._guard(
            "offers",
            trace,
            lambda: compiled.offers.choose(
                later,
                events=history.events,
                profile=history.profile,
                now=now,
                visitor_local=ctx.time.local,
                placement=placement,
                notes=offer_notes,
                evaluation=self._evaluation(now, trace, "offers"),
                channel=channel,
            ),
            no_offers,
        )
        shopping = self._guard(
            "continue_shopping",
            trace,
            lambda: continue_shopping(ctx, self._catalog),
            ContinueShopping(),
        )
        return Result(
            products=list(ranking.products) if ranking is not None else [],
            landing=landing,
            offers=offers,
            continue_shopping=shopping,
            segments=ctx.segments,
            experiments=MappingProxyType(experiments),
            context=ctx,
            placement=placement,
            rules=_fired(outcome),
            trace=trace,
            currency=base.config.settings.currency,
        )

    # -- visitor state: the store, tracking, asyncio (see personalize._tracking) ---------

    @property
    def store(self) -> Store | AsyncStore | None:
        """The store visitor state is read from and written to (``None``: no store)."""
        tracking = self._tracking
        return tracking.store if tracking.store is not None else tracking.async_store

    @property
    def failed_writes(self) -> int:
        """Store writes (tracking and recording) that failed, since the start."""
        return self._tracking.failed_writes

    def track(self, event: Event) -> None:
        """Write one event to the store. See :meth:`track_many`."""
        self.track_many((event,))

    def track_many(self, events: Iterable[Event]) -> None:
        """Write events to the store (``customer_id`` or ``session_id`` says whose).

        A store that fails does not raise here: the failure goes to ``on_error`` (where
        ``track``) and :attr:`failed_writes` (a ``RedisStore`` also buffers the events and
        sends them when Redis is back).

        Raises:
            EventError: An event is invalid (unknown type, NaN price ...); nothing of the
                batch is stored.
            RuntimeError: The store is an ``AsyncStore`` (use :meth:`atrack`), or there is
                no store.
        """
        store = self._tracking.store
        if store is None:
            raise RuntimeError(_NO_SYNC_STORE if self._tracking.enabled else _NO_STORE)
        try:
            store.append(events)
        except EventError:
            raise
        except Exception as exc:  # the store failed: never into the request
            self._tracking.failed_writes += 1
            self._report(exc, "track")

    async def atrack(self, event: Event) -> None:
        """The asyncio :meth:`track`."""
        await self.atrack_many((event,))

    async def atrack_many(self, events: Iterable[Event]) -> None:
        """The asyncio :meth:`track_many`: store I/O is awaited."""
        if self._tracking.async_store is None:
            self.track_many(events)
            return
        try:
            await self._tracking.async_store.append(list(events))
        except EventError:
            raise
        except Exception as exc:  # the store failed: never into the request
            self._tracking.failed_writes += 1
            self._report(exc, "track")

    async def apersonalize(
        self,
        request: Request,
        history: History | None = None,
        *,
        customer_id: str | None = None,
        placement: str = "home",
        limit: int | None = None,
        product_id: str | None = None,
        channel: str = "web",
    ) -> Result:
        """The asyncio :meth:`personalize`: store I/O is awaited, the decision is computed
        in this thread (it does no I/O)."""
        tracking = self._tracking
        if history is not None or tracking.async_store is None:
            if tracking.store is not None and history is None:
                return self.personalize(
                    request,
                    customer_id=customer_id,
                    placement=placement,
                    limit=limit,
                    product_id=product_id,
                    channel=channel,
                )
            return self._decide(
                request, history, placement, limit, product_id, DecisionTrace(), channel
            )
        trace = DecisionTrace()
        visitor = Visitor.of(request, customer_id)
        stored = _EMPTY_HISTORY
        if visitor is not None:
            try:
                stored = await tracking.async_store.history(
                    visitor.customer_id,
                    visitor.session_id,
                    now=_store_now(request),
                    **tracking.summary_only,
                )
            except Exception as exc:  # the store failed: serve without history
                self._degrade(trace, "store", exc)
        result = self._decide(request, stored, placement, limit, product_id, trace, channel)
        events = self._served(result, request, visitor, stored)
        if events:
            try:
                await tracking.async_store.append(events)
            except Exception as exc:  # recording must not fail the request
                tracking.failed_writes += 1
                self._degrade(trace, "store: record", exc)
        return result

    def _read_history(
        self, request: Request, visitor: Visitor | None, trace: DecisionTrace
    ) -> History:
        """The visitor's history from the sync store; on failure none, with a trace line."""
        store = self._tracking.store
        if visitor is None:
            return _EMPTY_HISTORY
        if store is None:
            trace.error("store", _NO_SYNC_STORE)
            return _EMPTY_HISTORY
        try:
            return store.history(
                visitor.customer_id,
                visitor.session_id,
                now=_store_now(request),
                **self._tracking.summary_only,
            )
        except Exception as exc:  # StoreUnavailable, or any backend failure: degrade
            self._degrade(trace, "store", exc)
            return _EMPTY_HISTORY

    def _served(
        self, result: Result, request: Request, visitor: Visitor | None, history: History
    ) -> list[Event]:
        if visitor is None:
            return []
        now = _store_now(request)
        if not recordable(now):
            result.trace.lines("store").append(
                f"nothing recorded: the request time {now.isoformat()} is outside the"
                " store's range (after 2000, at most a day ahead)"
            )
            return []
        record = self._state.base.config.settings.record
        return served_events(result, request, visitor, history, record, now)

    def _write(self, events: list[Event], trace: DecisionTrace) -> None:
        """Record served events in the sync store; a failure is a trace line, never raised."""
        store = self._tracking.store
        if not events or store is None:
            return
        try:
            store.append(events)
        except Exception as exc:  # recording must not fail the request
            self._tracking.failed_writes += 1
            self._degrade(trace, "store: record", exc)

    # -- internals -----------------------------------------------------------------------

    def _holdout(
        self,
        compiled: Compiled,
        ctx: Context,
        trace: DecisionTrace,
        experiments: dict[str, str],
        placement: str,
        limit: int,
        product_id: str | None,
    ) -> Result:
        """A holdout visitor sees the shop unpersonalized: popular products (and, on a
        product page, what goes with that product, never the product itself), the default
        landing page, no offers."""
        anonymous = Context(time=ctx.time, user_id=ctx.user_id, session_id=ctx.session_id)
        trace.lines("experiments").append("holdout: no personalization")
        ranking = self._guard(
            "ranking",
            trace,
            lambda: compiled.ranker.rank(
                anonymous,
                placement=placement,
                limit=limit,
                product_id=product_id,
                on_error=self._reporter(trace, "ranking"),
            ),
            None,
        )
        landing = self._guard(
            "landing",
            trace,
            lambda: compiled.landing.choose(
                Context().facts(), evaluation=self._evaluation(None, trace, "landing")
            ),
            None,
        )
        return Result(
            products=list(ranking.products) if ranking is not None else [],
            landing=landing,
            offers=[],
            continue_shopping=ContinueShopping(),
            segments=frozenset(),
            experiments=MappingProxyType(experiments),
            context=ctx,
            placement=placement,
            trace=trace,
            currency=compiled.config.settings.currency,
        )

    def _plugin_facts(self, ctx: Context, facts: dict[str, Any], trace: DecisionTrace) -> Context:
        """Add the facts of plugin providers to ``facts`` and to the context's ``extra``."""
        if not self._registry.facts:
            return ctx
        extra = self._registry.collect_facts(facts, on_error=self._reporter(trace, "context"))
        facts.update(extra)
        return replace(ctx, extra=MappingProxyType({**ctx.extra, **extra}))

    def _reporter(self, trace: DecisionTrace, stage: str) -> ErrorSink:
        """Where the plugin calls of ``stage`` report a failure (``label`` names the call)."""

        def report(exc: Exception, label: str) -> None:
            self._degrade(trace, f"{stage}: {label}", exc)

        return report

    def _evaluation(self, now: datetime | None, trace: DecisionTrace, stage: str) -> Evaluation:
        """What the conditions of ``stage`` evaluate with: the time and the reporter."""
        return Evaluation(now, self._reporter(trace, stage))

    def _expose(self, assignment: Assignment, trace: DecisionTrace) -> None:
        callback = self._on_exposure
        if callback is None:
            return
        for exposure in assignment.exposures:
            self._guard("on_exposure", trace, partial(callback, exposure), None)

    def _guard(self, stage: str, trace: DecisionTrace, run: Callable[[], _T], default: _T) -> _T:
        """Run one stage; on any exception degrade to ``default`` and report it."""
        try:
            return run()
        except Exception as exc:  # the request boundary: degrade, never raise
            self._degrade(trace, stage, exc)
            return default

    def _degrade(self, trace: DecisionTrace, where: str, exc: Exception) -> None:
        """The error channel: every failure a request recovers from comes through here."""
        trace.error(where, exc)
        self._report(exc, where)

    def _report(self, exc: BaseException, where: str) -> None:
        """Hand ``exc`` to ``on_error`` (also for failures outside a request, at startup)."""
        if self._on_error is None:
            return
        try:
            self._on_error(exc, where)
        except Exception:  # a failing error handler must not break the request either
            return


def _freeze_loaded() -> None:
    """Collect garbage, then move every live object out of the collector's way.

    What is loaded once -- products, the interaction index, compiled rules -- lives as long
    as the process; once frozen, full collections no longer traverse it. The collection
    first keeps garbage that is already unreachable from being frozen for good.
    """
    gc.collect()
    gc.freeze()


_NO_STORE = "this personalizer has no store (Personalizer(store=...))"
_NO_SYNC_STORE = "the store is an AsyncStore: use apersonalize() and atrack()"


def _store_now(request: Request) -> datetime:
    """The request's time for the store, aware (naive is UTC); the clock without one."""
    return aware(request.now)


def _fired(outcome: RuleOutcome | None) -> tuple[str, ...]:
    return outcome.fired if outcome is not None else ()


def _aware(value: datetime | None) -> datetime:
    return datetime.now(UTC) if value is None else as_utc(value)


def _as_index(
    interactions: Iterable[Event] | InteractionIndex | str | Path | None,
    catalog: Catalog,
    options: IndexConfig,
) -> InteractionIndex:
    """The index given, loaded, or built from events with the ``ranking.index`` options."""
    if isinstance(interactions, InteractionIndex):
        return interactions
    if isinstance(interactions, str | Path):
        return InteractionIndex.load(interactions)
    return InteractionIndex.build(
        interactions or (),
        catalog=catalog,
        half_life_days=options.half_life_days,
        trending_half_life_days=options.trending_half_life_days,
        trending_rise=options.trending_rise,
        max_neighbours=options.max_neighbours,
        co_purchase_scope=options.co_purchase_scope,
        country_top_size=options.country_top_size,
        category_top_size=options.category_top_size,
    )


def _discovered(given: Sequence[Plugin], autoload: bool) -> list[Plugin]:
    """The entry-point plugins to install beside ``given``: none without ``autoload``, and
    none named like one of ``given`` (an instance the application configured itself, such
    as ``Weather(path)``, replaces the one its package advertises)."""
    if not autoload:
        return []
    names = {getattr(plugin, "name", None) for plugin in given}
    return [plugin for plugin in load_entry_point_plugins() if plugin.name not in names]
