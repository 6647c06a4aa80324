"""Product selectors (``where:``) resolved through product fields instead of per product.

A rule's selector is compiled twice at load: into a predicate over a product's facts (by the
rule engine), and here, from the condition as written, into a *guard*: for each of a few
static fields (``id``, ``brand``, ``category`` at any level, ``tags``, ``in_stock``), the
values of which a product must hold at least one to possibly match. When the guard says
everything (``{category: shoes}``, ``{brand: {$in: [a, b]}}``, ``$or`` of those, ``in_stock``)
it is *exact* and the predicate never runs; otherwise (``{category: shoes, price: {$lt: 20}}``)
the guard narrows the products and the predicate confirms the few that pass it. A selector
with no guard (``$not``, ``$nor``, prices, attributes ...) runs its predicate on every
candidate, remembering each answer per product.

:class:`SelectorTable` merges the selectors of all the actions of one request into one dict
per field, so applying 100 boosts to 400 candidates costs a few dict lookups per candidate,
not 40,000 predicate calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any

from personalize._models import Product
from personalize.catalog import Catalog
from personalize.rules import Predicate

__all__ = ["INDEXED_FIELDS", "BoostTable", "GuardIndex", "Selector", "SelectorTable", "guard_of"]

#: Fields a guard may name, most selective first (the order an ``$and`` picks its guard in).
INDEXED_FIELDS = ("id", "tags", "brand", "category", "in_stock")
#: Fields holding several values (a bare value or ``$in`` matches any of them).
_ARRAY_FIELDS = frozenset({"category", "tags"})
#: How to read each field of a product (every guarded field is a ``Product`` attribute).
_READ: Mapping[str, Callable[[Product], Any]] = {f: attrgetter(f) for f in INDEXED_FIELDS}
#: Fields holding one string (``$eq`` is equality).
_STRING_FIELDS = frozenset({"id", "brand"})
#: Answers a selector remembers before it starts over (bounds memory on huge catalogs).
_CACHE_LIMIT = 200_000

#: Exact guards a :class:`GuardIndex` numbers before it starts over.
_GUARD_LIMIT = 4096

#: Field name to the values a product may match it by.
Guard = dict[str, frozenset[Any]]
#: A guard as a hashable value (equal guards match the same products).
GuardKey = frozenset[tuple[str, frozenset[Any]]]


def guard_of(condition: Any) -> tuple[Guard, bool] | None:
    """The guard of a ``where:`` condition and whether it is exact, or ``None`` if it has none.

    A product can match ``condition`` only if, for some field of the guard, one of the
    product's values of that field is among the guard's values; when the guard is exact,
    every such product matches.
    """
    if not isinstance(condition, Mapping) or not condition:
        return None
    parts: list[tuple[Guard, bool] | None] = []
    for key, value in condition.items():
        if key == "$and":
            parts.append(_all_of(value))
        elif key == "$or":
            parts.append(_any_of(value))
        elif key in INDEXED_FIELDS:
            parts.append(_field(key, value))
        else:
            parts.append(None)
    return _conjunction(parts)


def _all_of(value: Any) -> tuple[Guard, bool] | None:
    if not isinstance(value, list | tuple) or not value:
        return None
    return _conjunction([guard_of(item) for item in value])


def _any_of(value: Any) -> tuple[Guard, bool] | None:
    if not isinstance(value, list | tuple) or not value:
        return None
    merged: dict[str, set[Any]] = {}
    exact = True
    for item in value:
        part = guard_of(item)
        if part is None:  # one alternative may match anything: no guard
            return None
        guard, item_exact = part
        exact = exact and item_exact
        for field, values in guard.items():
            merged.setdefault(field, set()).update(values)
    return {field: frozenset(values) for field, values in merged.items()}, exact


def _conjunction(parts: Sequence[tuple[Guard, bool] | None]) -> tuple[Guard, bool] | None:
    """Any one guarded conjunct guards the whole; it is exact only when it is all there is."""
    guarded = [part for part in parts if part is not None]
    if not guarded:
        return None
    best = min(guarded, key=lambda part: max(INDEXED_FIELDS.index(f) for f in part[0]))
    return best[0], best[1] and len(parts) == 1


def _field(field: str, value: Any) -> tuple[Guard, bool] | None:
    if field == "in_stock":
        if isinstance(value, Mapping) and set(value) == {"$eq"}:
            value = value["$eq"]
        return ({field: frozenset({value})}, True) if isinstance(value, bool) else None
    if isinstance(value, str):
        return {field: frozenset({value})}, True
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    ((op, arg),) = value.items()
    if op == "$in" and isinstance(arg, list | tuple) and all(isinstance(v, str) for v in arg):
        return {field: frozenset(arg)}, True
    if op == "$eq" and field in _STRING_FIELDS and isinstance(arg, str):
        return {field: frozenset({arg})}, True
    return None


class Selector:
    """One compiled ``where:`` selector: its predicate and, when it has one, its guard.

    Args:
        predicate: The compiled selector, over a product's facts.
        condition: The condition it was compiled from (``None``: unknown, no guard).
        catalog: Where products and their facts come from.

    Thread-safe: the answers it remembers are filled idempotently.
    """

    __slots__ = ("_answers", "_catalog", "_many", "_one", "exact", "guard", "predicate")

    def __init__(
        self, predicate: Predicate, condition: Mapping[str, Any] | None, catalog: Catalog
    ) -> None:
        shape = guard_of(condition) if condition is not None else None
        self.predicate = predicate
        self.guard: Guard | None = shape[0] if shape is not None else None
        self.exact = shape is not None and shape[1]
        guard = self.guard or {}
        self._one = tuple((_READ[f], v) for f, v in guard.items() if f not in _ARRAY_FIELDS)
        self._many = tuple((_READ[f], v) for f, v in guard.items() if f in _ARRAY_FIELDS)
        self._catalog = catalog
        self._answers: dict[str, bool] = {}

    def confirm(self, pid: str) -> bool:
        """Whether the predicate holds for product ``pid`` (remembered per product)."""
        answers = self._answers
        hit = answers.get(pid)
        if hit is None:
            if len(answers) >= _CACHE_LIMIT:
                answers.clear()
            facts = self._catalog.facts(pid)
            hit = answers[pid] = bool(facts is not None and self.predicate(facts))
        return hit

    def matches(self, pid: str, product: Product) -> bool:
        """Whether the selector holds for ``product`` (whose id is ``pid``)."""
        if self.guard is None:
            return self.confirm(pid)
        hit = any(read(product) in values for read, values in self._one) or any(
            not values.isdisjoint(read(product)) for read, values in self._many
        )
        return hit and (self.exact or self.confirm(pid))


class SelectorTable:
    """The selectors of several actions, merged to find each product's matches at once.

    Args:
        selectors: The selectors, in action order.
    """

    __slots__ = ("_exact", "_many", "_one", "_selectors", "_unguarded")

    def __init__(self, selectors: Sequence[Selector]) -> None:
        self._selectors = tuple(selectors)
        fields: dict[str, dict[Any, list[int]]] = {}
        unguarded: list[int] = []
        for i, selector in enumerate(self._selectors):
            if selector.guard is None:
                unguarded.append(i)
                continue
            for field, values in selector.guard.items():
                table = fields.setdefault(field, {})
                for value in values:
                    table.setdefault(value, []).append(i)
        self._one = tuple((_READ[f], t) for f, t in fields.items() if f not in _ARRAY_FIELDS)
        self._many = tuple((_READ[f], t) for f, t in fields.items() if f in _ARRAY_FIELDS)
        self._unguarded = tuple(unguarded)
        self._exact = not unguarded and all(s.exact for s in self._selectors)

    def __bool__(self) -> bool:
        return bool(self._selectors)

    def match_all(
        self, pids: Iterable[str], products: Mapping[str, Product]
    ) -> list[tuple[str, list[int]]]:
        """Each of ``pids`` that some selector holds for, with :meth:`matching`'s answer.

        Unknown products match nothing.
        """
        if not self._exact:
            out = []
            for pid in pids:
                product = products.get(pid)
                if product is not None and (matched := self.matching(pid, product)):
                    out.append((pid, matched))
            return out
        # Exact guards only (the common case): the dict lookups alone decide.
        one, many = self._one, self._many
        get = products.get
        hits: list[tuple[str, list[int]]] = []
        for pid in pids:
            product = get(pid)
            if product is None:
                continue
            # _guard_hits inlined: this loop runs for every candidate of every request.
            found: list[int] = []
            for read, table in one:
                hit = table.get(read(product))
                if hit is not None:
                    found += hit
            for read, table in many:
                for value in read(product):
                    hit = table.get(value)
                    if hit is not None:
                        found += hit
            if found:
                hits.append((pid, sorted(set(found)) if len(found) > 1 else found))
        return hits

    def matching(self, pid: str, product: Product) -> list[int]:
        """Positions of the selectors that hold for ``product``, in ascending order."""
        found = _guard_hits(self._one, self._many, product)
        if not found and not self._unguarded:
            return found
        selectors = self._selectors
        if len(found) > 1:
            found = sorted(set(found))
        kept = [i for i in found if selectors[i].exact or selectors[i].confirm(pid)]
        if self._unguarded:
            kept += [i for i in self._unguarded if selectors[i].confirm(pid)]
            kept.sort()
        return kept


_Tables = tuple[tuple[Callable[[Product], Any], dict[Any, list[int]]], ...]


def _guard_hits(one: _Tables, many: _Tables, product: Product) -> list[int]:
    """The numbers of the guards naming one of ``product``'s field values (may repeat):
    ``one`` reads single-valued fields, ``many`` array fields (tags, category levels)."""
    found: list[int] = []
    for read, table in one:
        hit = table.get(read(product))
        if hit is not None:
            found += hit
    for read, table in many:
        for value in read(product):
            hit = table.get(value)
            if hit is not None:
                found += hit
    return found


def _tables(guards: Iterable[tuple[int, Guard | GuardKey]]) -> tuple[_Tables, _Tables]:
    """Per field: how to read it and value -> the numbers of the guards naming the value;
    single-valued fields first, then array fields."""
    fields: dict[str, dict[Any, list[int]]] = {}
    for number, guard in guards:
        for field, values in dict(guard).items():
            table = fields.setdefault(field, {})
            for value in values:
                table.setdefault(value, []).append(number)
    one = tuple((_READ[f], t) for f, t in fields.items() if f not in _ARRAY_FIELDS)
    many = tuple((_READ[f], t) for f, t in fields.items() if f in _ARRAY_FIELDS)
    return one, many


class GuardIndex:
    """Exact guards, numbered, with the numbers each product matches remembered.

    A product's fields never change, so what it matches is worked out once per index; a
    request then reads one tuple per candidate. An index is never changed once others can
    see it: to add guards, build a bigger one (:meth:`with_guards`).

    Args:
        guards: The exact guards to number.
    """

    __slots__ = ("_many", "_one", "memo", "numbers")

    def __init__(self, guards: Iterable[GuardKey] = ()) -> None:
        self.numbers: dict[GuardKey, int] = {}
        for key in guards:
            self.numbers.setdefault(key, len(self.numbers))
        self._one, self._many = _tables((n, key) for key, n in self.numbers.items())
        #: Product id to the numbers of the guards it matches, ascending.
        self.memo: dict[str, tuple[int, ...]] = {}

    def with_guards(self, keys: Iterable[GuardKey]) -> GuardIndex:
        """An index numbering these guards too (from scratch when it grew too big)."""
        keys = [key for key in keys if key not in self.numbers]
        if len(self.numbers) + len(keys) > _GUARD_LIMIT:
            return GuardIndex(keys)
        return GuardIndex([*self.numbers, *keys])

    def numbers_of(self, pid: str, product: Product) -> tuple[int, ...]:
        """The numbers of the guards ``product`` matches (remembered)."""
        found = _guard_hits(self._one, self._many, product)
        numbers = tuple(sorted(set(found)))
        if len(self.memo) >= _CACHE_LIMIT:
            self.memo.clear()
        self.memo[pid] = numbers
        return numbers


def guard_key(selector: Selector) -> GuardKey | None:
    """The hashable guard of an exact selector, else ``None``."""
    if not selector.exact or selector.guard is None:
        return None
    return frozenset(selector.guard.items())


class BoostTable:
    """The selectors of several actions: exact ones matched through a :class:`GuardIndex`,
    the others through a :class:`SelectorTable`.

    Args:
        selectors: The selectors, in action order.
        guards: An index numbering the guards of every exact selector among them.
    """

    __slots__ = ("_by_number", "_guards", "_rest", "_rest_positions")

    def __init__(self, selectors: Sequence[Selector], guards: GuardIndex) -> None:
        by_number: dict[int, list[int]] = {}
        rest: list[int] = []
        for i, selector in enumerate(selectors):
            key = guard_key(selector)
            if key is None:
                rest.append(i)
            else:
                by_number.setdefault(guards.numbers[key], []).append(i)
        self._guards = guards
        self._by_number = {n: tuple(positions) for n, positions in by_number.items()}
        self._rest = SelectorTable([selectors[i] for i in rest]) if rest else None
        self._rest_positions = tuple(rest)

    def match_all(
        self, pids: Iterable[str], products: Mapping[str, Product]
    ) -> list[tuple[str, list[int]]]:
        """Each of ``pids`` that some selector holds for, with the positions of those
        selectors, ascending. Unknown products match nothing."""
        memo, numbers_of = self._guards.memo, self._guards.numbers_of
        by_number, rest, rest_positions = self._by_number, self._rest, self._rest_positions
        out: list[tuple[str, list[int]]] = []
        for pid in pids:
            numbers = memo.get(pid)
            product = None
            if numbers is None or rest is not None:
                product = products.get(pid)
                if product is None:
                    continue
                if numbers is None:
                    numbers = numbers_of(pid, product)
            found: list[int] = []
            for number in numbers:
                positions = by_number.get(number)
                if positions is not None:
                    found += positions
            if rest is not None and product is not None:
                found += [rest_positions[i] for i in rest.matching(pid, product)]
            if found:
                out.append((pid, sorted(set(found)) if len(found) > 1 else found))
        return out
