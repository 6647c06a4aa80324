"""The index build at scale: event files streamed in columnar chunks (CSV, JSON lines,
Parquet; gzipped or not), with a column mapping for a store's own export.

``build_index_from_files`` gives the same :class:`~personalize.ranking.InteractionIndex` as
``InteractionIndex.build`` over the same events, in bounded memory; ``personalize index
build`` is its command line. See ``docs/scale.md``.
"""

try:
    import pyarrow  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
    raise ModuleNotFoundError(
        "personalize.indexing reads files with pyarrow: pip install 'personalize[arrow]'"
    ) from exc

from personalize.indexing._bad import BadLine
from personalize.indexing._build import BuildReport, build_index_from_files, read_event_columns

__all__ = ["BadLine", "BuildReport", "build_index_from_files", "read_event_columns"]
