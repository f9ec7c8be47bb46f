"""Hypothesis strategies for hostile and malformed literal documents (issue 12's fuzzers).

``documents(valid)`` draws from three families: documents built from scratch out of the
literal grammar with hostile names (``os:system``, absolute paths, ``..``, NUL, drive letters,
deep nesting, negative sizes), mutations of valid documents (``valid``: real literals of every
kind, one field replaced), and plain JSON that is not a literal at all.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

KINDS = [
    "none",
    "bool",
    "int",
    "float",
    "str",
    "bytes",
    "datetime",
    "date",
    "time",
    "timedelta",
    "decimal",
    "uuid",
    "json",
    "any",
    "list",
    "set",
    "frozenset",
    "tuple",
    "dict",
    "enum",
    "dataclass",
    "pydantic",
    "file",
    "directory",
    "pickle",
    "table",
    "ndarray",
    "declared",
]
HOSTILE_NAMES = [
    "os:system",
    "subprocess:getoutput",
    "subprocess:Popen",
    "builtins:eval",
    "builtins:exec",
    "pickle:loads",
    "antigravity:X",
    "this:s",
    "importlib:import_module",
    "shutil:rmtree",
    "decimal:Decimal",
    "builtins:int",
    "enum:Enum",
    "pydantic:BaseModel",
    "collections:Counter",
    "os.path:join",
    "ctypes:CDLL",
    "__main__:X",
    "unusual_prefix_0_x:Y",
    "a:b.c.d",
    ":",
    "x",
    "tkinter:Tk",
    "turtle:Turtle",
    "xmlrpc.server:SimpleXMLRPCServer",
    "http.server:HTTPServer",
    "smtplib:SMTP",
    "ftplib:FTP",
    "webbrowser:open",
    "pdb:Pdb",
    "tests.core.types._elsewhere:NotAModel",
    "tests.core.types._elsewhere:Spot",
    "tests.core.types._elsewhere:Shade",
    "tests.core.types._elsewhere:Badge",
]
NAMED_KINDS = ["enum", "dataclass", "pydantic"]


def hostile_paths(outside: Path) -> list[str]:
    """Names and entries that try to leave a folder (towards ``outside`` when they can)."""
    return [
        str(outside / "pwn"),
        f"../{outside.name}/pwn",
        "../../../../../../../../tmp/pwn",
        "..",
        ".",
        "",
        "a/../../pwn",
        "/",
        "C:pwn",
        "C:/pwn",
        "c:\\pwn",
        "a\\..\\..\\pwn",
        "nul\x00byte",
        "x" * 300,
        "ok.txt",
        "sub/ok.txt",
        "sub//x",
        "sub/./x",
    ]


def _json() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )


def _type(names: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    base = st.fixed_dictionaries(
        {"kind": st.sampled_from(KINDS) | st.text(max_size=8)},
        optional={"name": names | st.integers() | st.none()},
    )
    return (
        st.recursive(
            base,
            lambda inner: st.fixed_dictionaries(
                {"kind": st.sampled_from(KINDS)},
                optional={"name": names, "args": st.lists(inner, max_size=3) | _json()},
            ),
            max_leaves=6,
        )
        | _json()
    )


def _blob(paths: st.SearchStrategy[str], uris: list[str]) -> st.SearchStrategy[Any]:
    sizes = st.integers(min_value=-(2**40), max_value=2**40) | st.sampled_from([-1, 0]) | _json()
    return (
        st.fixed_dictionaries(
            {},
            optional={
                "uri": st.sampled_from(uris) | st.text(max_size=30),
                "size": sizes,
                "hash": st.text(alphabet="0123456789abcdef", min_size=0, max_size=64) | _json(),
                "format": st.sampled_from(
                    ["json", "bytes", "file", "parquet", "arrow", "npy", "pickle"]
                )
                | _json(),
                "python_type": st.text(max_size=20),
                "rows": sizes,
                "schema": _json(),
                "extra": st.fixed_dictionaries({}, optional={"name": paths, "refs": _json()})
                | _json(),
            },
        )
        | _json()
    )


_DEEP = "\x00deep:"
_DEEP_TEXT = re.compile(r'"\\u0000deep:(\d+)"')


def _deep(depth: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    """A placeholder that :func:`as_text` writes as ``n`` nested lists (too deep to build)."""
    return depth.map(lambda n: f"{_DEEP}{n}")


def _mutate(document: Mapping[str, Any], path: list[Any], replacement: Any) -> Any:
    out = copy.deepcopy(dict(document))
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = replacement
    return out


def _paths_of(value: Any, prefix: list[Any] | None = None) -> Iterator[list[Any]]:
    prefix = prefix or []
    if isinstance(value, dict):
        for key, item in value.items():
            yield [*prefix, key]
            yield from _paths_of(item, [*prefix, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield [*prefix, index]
            yield from _paths_of(item, [*prefix, index])


def documents(
    valid: list[dict[str, Any]], outside: Path, uris: list[str]
) -> st.SearchStrategy[Any]:
    """Hostile or malformed literal documents (dicts, sometimes not even objects)."""
    paths = st.sampled_from(hostile_paths(outside)) | st.text(max_size=12)
    names = st.sampled_from(HOSTILE_NAMES) | st.text(max_size=16)
    replacement = st.one_of(
        _json(), paths, names, _type(names), _blob(paths, uris), _deep(st.integers(60, 3000))
    )
    scratch = st.fixed_dictionaries(
        {"cargohold": st.just(1) | _json(), "type": _type(names)},
        optional={
            "value": _json()
            | _deep(st.integers(60, 3000))
            | st.fixed_dictionaries(
                {"name": paths, "entries": st.lists(st.lists(paths | _json(), max_size=3))}
            ),
            "blob": _blob(paths, uris),
        },
    )

    @st.composite
    def mutated(draw: st.DrawFn) -> Any:
        base = draw(st.sampled_from(valid))
        spots = list(_paths_of(base))
        document = base
        for _ in range(draw(st.integers(1, 3))):
            spot = draw(st.sampled_from(spots))
            document = _mutate(document, spot, draw(replacement))
            spots = list(_paths_of(document))[:200] or spots
        return document

    named = st.fixed_dictionaries(
        {
            "cargohold": st.just(1),
            "type": st.fixed_dictionaries(
                {"kind": st.sampled_from(NAMED_KINDS), "name": st.sampled_from(HOSTILE_NAMES)},
                optional={"args": st.lists(_type(names), max_size=3)},
            ),
            "value": _json(),
        }
    )
    return st.one_of(scratch, named, mutated(), _json())


def as_text(document: Any) -> str:
    """A document as JSON text, deep placeholders written out as nested lists."""
    text = json.dumps(document)
    return _DEEP_TEXT.sub(lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), text)


def as_value(document: Any) -> Any:
    """A document as the parsed JSON a caller would hand over (None when too deep to parse)."""
    try:
        return json.loads(as_text(document))
    except RecursionError:
        return None


@contextmanager
def watched(*, outside: Path, cwd: Path, bound: float) -> Iterator[Callable[[], None]]:
    """Around one call: no module newly imported, nothing written to ``outside`` or ``cwd``,
    and the call ends within ``bound`` seconds (the yielded function checks all three)."""
    before = set(sys.modules)
    started = time.monotonic()

    def check() -> None:
        elapsed = time.monotonic() - started
        new = sorted(set(sys.modules) - before)
        assert not new, f"a document made cargohold import {new}"
        assert not any(outside.iterdir()), f"a file appeared outside: {list(outside.iterdir())}"
        assert not any(cwd.iterdir()), (
            f"a file appeared in the working directory: {list(cwd.iterdir())}"
        )
        assert elapsed < bound, f"one read took {elapsed:.1f} s (bound {bound} s)"

    yield check


def warm_up() -> None:
    """Import what reading any valid literal may import (cargohold's own plugins for its built-in
    kinds and the packages they wrap), so the fuzzers can assert that nothing else is."""
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401
    import pydantic  # noqa: F401

    from cargohold.core.types.engine import TypeEngine

    engine = TypeEngine.default()
    for kind in ("table", "ndarray", "pydantic"):
        engine.transformer_for_kind(kind)
    import polars  # noqa: F401
