"""personalize.store's ``__all__`` is sorted, resolvable and documented."""

import personalize.store as store


def test_store_all_is_sorted_resolvable_and_documented() -> None:
    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)

    assert list(store.__all__) == sorted(store.__all__, key=key)
    for name in store.__all__:
        obj = getattr(store, name)
        if callable(obj):
            assert obj.__doc__, f"personalize.store.{name} has no docstring"
