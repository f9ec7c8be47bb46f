"""Cache keys: task identity + interface + cache version + the hashes of the input literals.

A :class:`CacheKey` is computed from

* the **task**: a stable name (``module.qualname`` of a function, or what an adapter passes,
  such as ``dag_id.task_id``);
* the **interface**: input names and types, output names and types, and the ignored inputs,
  canonicalised as JSON and hashed;
* the **cache version** the user bumps when the logic changes;
* the canonical hash (:attr:`Literal.hash`) of every input literal except the ignored ones.

A literal that references a blob hashes by the blob's content hash, so a key over a 10 GB frame
never reads the frame. Raw Python values are first turned into literals by the type engine
(:func:`input_literals`): a large value is then written to the store once (content addressed, so a
second put of the same bytes is deduplicated); pass literals to avoid even that write.

Everything here is pure: the same inputs give the same key in any process on any machine.
"""

from __future__ import annotations

import inspect
import re
import sys
import typing
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cargohold.core.errors import (
    CacheError,
    SerializationError,
    UnhashableInputError,
    UnsupportedTypeError,
)
from cargohold.core.types.literals import Literal, canonical_json, content_hash

if TYPE_CHECKING:
    from cargohold.core.hold import Cargohold

__all__ = [
    "KEY_SCHEME",
    "CacheKey",
    "Interface",
    "compute_key",
    "function_interface",
    "ignore_names",
    "input_literals",
    "key_for_call",
    "load_value",
    "put_value",
    "task_name",
    "type_name",
]

KEY_SCHEME = 1
DEFAULT_OUTPUT = "o0"
_MAX_TASK_IN_NAME = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/]")


@dataclass(frozen=True, kw_only=True)
class Interface:
    """The names and types of a task's inputs and outputs (types as stable strings)."""

    inputs: Mapping[str, str]
    outputs: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form hashed into keys."""
        return {"inputs": dict(self.inputs), "outputs": dict(self.outputs)}


@dataclass(frozen=True, kw_only=True)
class CacheKey:
    """The identity of one cached result.

    ``digest`` (64 hex digits) names the entry; ``dataset_name`` and ``dataset_version`` name the
    catalog dataset that holds every entry of this task, version and interface.
    """

    task: str
    version: str
    interface_hash: str
    digest: str

    @property
    def dataset_name(self) -> str:
        """``cache.<task>``, made a valid catalog name (long names keep a hash suffix)."""
        task = _UNSAFE.sub("_", self.task)
        while ".." in task:
            task = task.replace("..", ".")
        if len(task) > _MAX_TASK_IN_NAME:
            task = task[:_MAX_TASK_IN_NAME] + "-" + content_hash(self.task.encode())[:8]
        return f"cache.{task}"

    @property
    def dataset_version(self) -> str:
        """``<cache version>-<first 8 digits of the interface hash>``."""
        return f"{self.version}-{self.interface_hash[:8]}"

    def __str__(self) -> str:
        return f"{self.task}@{self.dataset_version}:{self.digest[:16]}"


def check_version(version: object) -> str:
    """Return ``version`` if it is a usable cache version.

    Raises:
        CacheError: empty, not a str, too long, or holding ``/``, ``..`` or control characters.
    """
    if not isinstance(version, str) or not version.strip():
        raise CacheError(
            f"a cache version must be a non-empty string, got {version!r}; pass e.g. "
            f'version="1" and bump it whenever the cached function\'s logic changes'
        )
    if len(version) > 100 or ".." in version or _UNSAFE.search(version):
        raise CacheError(
            f"cache version {version!r} must be at most 100 characters without '/', '..' "
            f"or control characters"
        )
    return version


def ignore_names(ignore: Collection[str]) -> frozenset[str]:
    """The ignored input names (a single string names one input, not its characters).

    Raises:
        CacheError: a name is not a string.
    """
    names = (ignore,) if isinstance(ignore, str) else tuple(ignore)
    for name in names:
        if not isinstance(name, str):
            raise CacheError(f"ignore must list parameter names, got {name!r}")
    return frozenset(names)


def compute_key(
    *,
    task: str,
    version: str,
    inputs: Mapping[str, Literal],
    interface: Interface | None = None,
    ignore: Collection[str] = (),
) -> CacheKey:
    """The key of a call of ``task`` with these input literals.

    ``interface`` defaults to the input literals' types and no declared outputs. Inputs named in
    ``ignore`` are left out of the hash (the set of ignored names is part of the interface).
    No blob is read: a reference hashes by its content hash.

    Raises:
        CacheError: an empty version or task name.
        UnhashableInputError: an input is not a :class:`Literal`.
    """
    check_version(version)
    ignore = ignore_names(ignore)
    if not isinstance(task, str) or not task.strip():
        raise CacheError(f"a cache key needs a non-empty task name, got {task!r}")
    ignored = sorted(set(ignore))
    hashes: dict[str, str] = {}
    for name, literal in inputs.items():
        if name in ignored:
            continue
        if not isinstance(literal, Literal):
            raise UnhashableInputError(
                f"input {name!r} of type {_value_type(literal)} is not a Literal; turn values "
                f"into literals first (input_literals / Cargohold.put)"
            )
        hashes[name] = literal.hash
    if interface is None:
        interface = Interface(
            inputs={name: str(lit.type) for name, lit in inputs.items() if name not in ignored},
            outputs={},
        )
    iface = {**interface.to_dict(), "ignore": ignored}
    interface_hash = content_hash(canonical_json(iface))
    document = {
        "scheme": KEY_SCHEME,
        "task": task,
        "version": version,
        "interface": interface_hash,
        "inputs": hashes,
    }
    return CacheKey(
        task=task,
        version=version,
        interface_hash=interface_hash,
        digest=content_hash(canonical_json(document)),
    )


def task_name(fn: Callable[..., Any]) -> str:
    """The stable identity of a function: ``module.qualname``.

    A function of the main script is named by the script's module spec or file stem, so it gets
    the same name in the parent and in spawned children (where ``__main__`` is ``__mp_main__``).
    """
    module = getattr(fn, "__module__", None) or "unknown"
    if module in ("__main__", "__mp_main__"):
        main = sys.modules.get(module)
        spec = getattr(main, "__spec__", None)
        if spec is not None and spec.name not in ("__main__", "__mp_main__"):
            module = spec.name
        elif getattr(main, "__file__", None):
            module = Path(str(getattr(main, "__file__", ""))).stem
    qualname = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    return f"{module}.{qualname}"


def type_name(annotation: Any) -> str:
    """A stable string for a type annotation (``int``, ``pandas.DataFrame``, ``list[int]``);
    ``any`` when there is none."""
    if annotation is inspect.Parameter.empty or annotation is Any or annotation is None:
        return "any" if annotation is not None else "None"
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type) and not typing.get_args(annotation):
        module = annotation.__module__
        return (
            annotation.__qualname__
            if module == "builtins"
            else f"{module}.{annotation.__qualname__}"
        )
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is not None and args:
        inner = ", ".join(type_name(arg) for arg in args)
        return f"{type_name(origin)}[{inner}]"
    return repr(annotation)


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolvable forward references: keep the raw annotations
        return dict(getattr(fn, "__annotations__", {}) or {})


def function_interface(
    fn: Callable[..., Any],
    *,
    outputs: Mapping[str, Any] | None = None,
) -> Interface:
    """The interface of a function from its signature and type hints.

    Inputs are its parameters in order; the output is ``o0`` typed by the return annotation,
    unless ``outputs`` names the outputs and their types explicitly.
    """
    hints = _hints(fn)
    signature = inspect.signature(fn)
    inputs = {
        name: type_name(hints.get(name, inspect.Parameter.empty)) for name in signature.parameters
    }
    if outputs is None:
        outputs = {DEFAULT_OUTPUT: hints.get("return", inspect.Parameter.empty)}
    return Interface(inputs=inputs, outputs={n: type_name(t) for n, t in outputs.items()})


def put_value(hold: Cargohold, value: Any, declared: Any) -> Literal:
    """``hold.put(value, python_type=declared)``; a declared type the type engine cannot handle
    (``object`` in ``dict[str, object]``) counts as ``Any``: the value's runtime type is used.

    Raises:
        SerializationError: the value cannot be made a literal either way.
        StorageError: writing to the store failed.
    """
    try:
        return hold.put(value, python_type=declared)
    except UnsupportedTypeError:
        if declared is None:
            raise
        return hold.put(value)


def load_value(hold: Cargohold, literal: Literal, declared: Any) -> Any:
    """``hold.get(literal, as_type=declared)``, falling back to the literal's own type when the
    type engine cannot handle ``declared`` (see :func:`put_value`).

    Raises:
        SerializationError: the literal cannot be loaded; StorageError: the store failed.
    """
    try:
        return hold.get(literal, as_type=declared)
    except UnsupportedTypeError:
        if declared is None:
            raise
        return hold.get(literal)


def input_literals(
    arguments: Mapping[str, Any],
    *,
    hold: Cargohold,
    types: Mapping[str, Any] | None = None,
    ignore: Collection[str] = (),
) -> dict[str, Literal]:
    """Turn call arguments into literals (a :class:`Literal` is kept as it is).

    Raw values go through ``hold.put`` with the declared type from ``types``: large values are
    written to the store once (content addressed) so that they hash by content.

    Raises:
        UnhashableInputError: an input has no transformer or does not fit its type; the message
            names the input and its type.
        StorageError: writing a large input to the store failed.
    """
    types = types or {}
    out: dict[str, Literal] = {}
    for name, value in arguments.items():
        if name in ignore:
            continue
        if isinstance(value, Literal):
            out[name] = value
            continue
        try:
            out[name] = put_value(hold, value, types.get(name))
        except SerializationError as exc:
            raise UnhashableInputError(
                f"cannot hash input {name!r} of type {_value_type(value)} into a cache key: "
                f"{exc}. Pass a value cargohold can turn into a literal, register a "
                f"transformer for the type, or add {name!r} to ignore=[...]"
            ) from exc
    return out


def key_for_call(
    fn: Callable[..., Any],
    arguments: Mapping[str, Any] | inspect.BoundArguments,
    *,
    version: str,
    hold: Cargohold,
    ignore: Collection[str] = (),
    task: str | None = None,
    outputs: Mapping[str, Any] | None = None,
) -> CacheKey:
    """The key of calling ``fn`` with ``arguments`` (a mapping of parameter names to values, or
    ``inspect.signature(fn).bind(...)``; defaults are applied).

    ``task`` overrides the function's identity (adapters pass ``dag_id.task_id`` or the asset
    key); ``outputs`` overrides the output names and types.

    Raises:
        CacheError: an empty version; ``ignore`` names a parameter ``fn`` does not have.
        UnhashableInputError: an input cannot be made a literal (names the input and its type).
        TypeError: ``arguments`` do not fit the signature.
    """
    check_version(version)
    ignore = ignore_names(ignore)
    signature = inspect.signature(fn)
    unknown = sorted(set(ignore) - set(signature.parameters))
    if unknown:
        raise CacheError(
            f"ignore names {unknown}, which are not parameters of {task_name(fn)} "
            f"(parameters: {list(signature.parameters)})"
        )
    if isinstance(arguments, inspect.BoundArguments):
        bound = arguments
    else:
        bound = signature.bind(**dict(arguments))
    bound.apply_defaults()
    hints = _hints(fn)
    values = dict(bound.arguments)
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL and name in values:
            values[name], hints[name] = list(values[name]), None
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD and name in values:
            values[name], hints[name] = dict(values[name]), None
    literals = input_literals(values, hold=hold, types=hints, ignore=ignore)
    return compute_key(
        task=task or task_name(fn),
        version=version,
        inputs=literals,
        interface=function_interface(fn, outputs=outputs),
        ignore=ignore,
    )


def _value_type(value: object) -> str:
    cls = type(value)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )
