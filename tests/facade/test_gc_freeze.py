"""After loading, the catalog, index and compiled configuration are out of the collector's way."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from personalize import Catalog, Personalizer, Product


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def _catalog() -> Catalog:
    return Catalog([Product(id=f"p{i}", category="shop > things") for i in range(50)])


def _collected() -> set[int]:
    """Ids of the objects a full collection traverses (the permanent generation is not)."""
    return {id(o) for o in gc.get_objects()}


def test_loading_freezes_the_catalog_index_and_configuration() -> None:
    catalog = _catalog()
    p = Personalizer({"rules": []}, catalog=catalog, autoload_plugins=False)
    traversed = _collected()
    assert gc.get_freeze_count() > 0
    assert id(catalog.products[0]) not in traversed
    assert id(catalog.ids) not in traversed
    assert id(p) not in traversed


def test_freeze_gc_false_leaves_the_collector_alone() -> None:
    catalog = _catalog()
    Personalizer({"rules": []}, catalog=catalog, autoload_plugins=False, freeze_gc=False)
    assert gc.get_freeze_count() == 0
    assert id(catalog.products[0]) in _collected()


def test_reload_freezes_the_new_configuration() -> None:
    p = Personalizer({"rules": []}, catalog=_catalog(), autoload_plugins=False)
    gc.unfreeze()
    p.reload({"landing": [{"page": "/"}]})
    assert gc.get_freeze_count() > 0
    assert id(p) not in _collected()
