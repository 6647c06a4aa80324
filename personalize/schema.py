"""The JSON Schema of the configuration document, for editors and validators.

The document's structure comes from :class:`~personalize.config.PersonalizerConfig`; the
shapes of the rule actions (``boost``, ``pin`` ... and those plugins register) come from the
registry, so the schema describes exactly what a personalizer with that registry accepts.
"""

from __future__ import annotations

from typing import Any

from personalize.config import PersonalizerConfig
from personalize.plugins import Registry

__all__ = ["config_json_schema"]


def config_json_schema(registry: Registry | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the configuration document.

    Args:
        registry: Whose actions ``rules[].then`` may hold (default: the built-ins).
    """
    registry = registry if registry is not None else Registry.with_builtins()
    schema = PersonalizerConfig.model_json_schema(by_alias=True)
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    choices = []
    for name, spec in sorted(registry.actions.items()):
        body = spec.spec_model.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
        defs.update(body.pop("$defs", {}))
        key = f"{spec.spec_model.__name__}"
        defs[key] = body
        choices.append(
            {
                "type": "object",
                "title": name,
                "properties": {name: {"$ref": f"#/$defs/{key}"}},
                "required": [name],
                "additionalProperties": False,
            }
        )
    then = defs["Rule"]["properties"]["then"]
    then["items"] = {"anyOf": choices}
    then["description"] = "Actions, each a one-key mapping such as {boost: {where, by}}."
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "personalize configuration"
    return schema
