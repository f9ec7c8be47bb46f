"""The trust boundary for types named in documents: nothing a literal names is imported or called
unless the reader vouches for it.

A literal of kind ``enum``, ``dataclass`` or ``pydantic`` names its class (``module:qualname``).
That name was written by whoever could write the document (an XCom row, a catalog row, a blob), so
it decides nothing on its own. :func:`resolve_type` returns, in this order:

1. the type the consumer declares (``as_type=``, an annotated Dagster input, an operator's
   argument), used as it is;
2. a type registered with the :class:`~cargohold.core.types.engine.TypeEngine` (the Python types
   of its transformers, and classes given to ``TypeEngine.register_type``), matched by exact name;
3. a class allowed by the setting ``allowed_types`` (``CARGOHOLD_ALLOWED_TYPES``): glob patterns
   matched against ``module.qualname`` *before* anything else happens, then looked up among the
   modules already imported (``sys.modules``) through their ``__dict__`` only, so no import, no
   module ``__getattr__`` and no descriptor runs.

Whatever is found must be of the kind the document claims (an ``Enum`` subclass for ``enum``, a
dataclass type for ``dataclass``, a pydantic model for ``pydantic``) before anything calls it.
Anything else raises :class:`~cargohold.core.errors.UntrustedTypeError`, which names the type and
the setting.
"""

from __future__ import annotations

import dataclasses
import enum
import fnmatch
import sys
import types
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cargohold.core.errors import TypeMismatchError, UntrustedTypeError

if TYPE_CHECKING:
    from cargohold.core.types.transformer import TransformContext

__all__ = ["KIND_CHECKS", "is_allowed", "resolve_type", "split_type_name"]

_MAX_NAME = 512


def _is_enum(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, enum.Enum)


def _is_dataclass(obj: Any) -> bool:
    return isinstance(obj, type) and dataclasses.is_dataclass(obj)


def _is_pydantic(obj: Any) -> bool:
    pydantic = sys.modules.get("pydantic")
    base = getattr(pydantic, "BaseModel", None) if pydantic is not None else None
    return isinstance(obj, type) and isinstance(base, type) and issubclass(obj, base)


KIND_CHECKS = {
    "enum": (_is_enum, "an Enum subclass"),
    "dataclass": (_is_dataclass, "a dataclass type"),
    "pydantic": (_is_pydantic, "a pydantic model"),
}


def split_type_name(name: object) -> tuple[str, str] | None:
    """``(module, qualname)`` of a ``module:qualname`` name, None when it is not one."""
    if not isinstance(name, str) or not name or len(name) > _MAX_NAME:
        return None
    module, sep, qualname = name.partition(":")
    if not sep or not module or not qualname:
        return None
    parts = module.split(".") + qualname.split(".")
    if not all(part.isidentifier() for part in parts):
        return None
    return module, qualname


def is_allowed(dotted: str, patterns: Iterable[str]) -> bool:
    """Whether ``module.qualname`` matches one of the glob ``patterns`` (case-sensitive)."""
    return any(fnmatch.fnmatchcase(dotted, pattern) for pattern in patterns)


def resolve_type(kind: str, name: object, declared: Any, ctx: TransformContext) -> Any:
    """The class to decode a literal of ``kind`` as (see the module docstring).

    Raises:
        TypeMismatchError: the declared type is not of the literal's kind.
        UntrustedTypeError: no declared type, and the named one is not registered, not allowed,
            not already imported, or not of the literal's kind.
    """
    check, what = KIND_CHECKS[kind]
    if _is_open(kind, declared):
        declared = None
    if declared is not None:
        if not check(declared):
            raise TypeMismatchError(
                f"a literal of kind {kind} cannot load as {declared!r}: that is not {what}"
            )
        return declared
    shown = name if isinstance(name, str) else repr(name)
    shown = shown[:200]
    parts = split_type_name(name)
    if parts is None:
        raise UntrustedTypeError(shown, kind, "that is not a 'module:qualname' class name")
    module_name, qualname = parts
    found = ctx.engine.registered_type(f"{module_name}:{qualname}")
    if found is None:
        dotted = f"{module_name}.{qualname}"
        if not is_allowed(dotted, ctx.allowed_types):
            patterns = " ".join(ctx.allowed_types) or "(none)"
            raise UntrustedTypeError(
                shown,
                kind,
                f"it is not declared, not registered, and matches none of the "
                f"allowed patterns ({patterns})",
            )
        found = _loaded_class(module_name, qualname, ctx.namespaces or {})
        if found is None:
            raise UntrustedTypeError(
                shown,
                kind,
                f"module {module_name} is not imported in this process (cargohold "
                f"never imports a module a document names) or has no class {qualname}",
            )
    if not check(found):
        raise UntrustedTypeError(shown, kind, f"it is not {what}")
    return found


def _is_open(kind: str, declared: Any) -> bool:
    """Whether ``declared`` names no class in particular (``object``, ``Enum``, ``BaseModel``):
    then the literal's own name is resolved, with the same checks."""
    if declared is None or declared is object:
        return True
    if kind == "enum" and _is_enum(declared):
        return not declared.__members__
    if kind == "pydantic" and _is_pydantic(declared):
        return str(declared.__module__).startswith("pydantic.")
    return False


def _loaded_class(
    module_name: str, qualname: str, namespaces: Mapping[str, Mapping[str, Any]]
) -> Any:
    """The class ``qualname`` of an already imported module (or of a namespace the caller
    gave for that module name), read through ``__dict__`` only (no import, no module
    ``__getattr__``, no descriptor)."""
    namespace: Mapping[str, Any] | None = namespaces.get(module_name)
    if namespace is None:
        module = sys.modules.get(module_name)
        if not isinstance(module, types.ModuleType):
            return None
        namespace = object.__getattribute__(module, "__dict__")
    target: Any = None
    for index, part in enumerate(qualname.split(".")):
        if index:
            if not isinstance(target, type):
                return None
            namespace = object.__getattribute__(target, "__dict__")
        assert namespace is not None
        if part not in namespace:
            return None
        target = namespace[part]
    return target
