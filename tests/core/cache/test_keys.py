"""Cache keys: stability, what changes them, what does not, and bad input."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from cargohold.core.cache import (
    CacheKey,
    CacheService,
    Interface,
    cached,
    compute_key,
    function_interface,
    key_for_call,
)
from cargohold.core.errors import CacheError, UnhashableInputError
from cargohold.core.hold import Cargohold
from cargohold.core.types.literals import Literal, LiteralType

from . import _workers

INT = LiteralType(kind="int")


def _int(value: int) -> Literal:
    return Literal(type=INT, value=value)


def _key(**changes: object) -> CacheKey:
    args: dict[str, object] = {
        "task": "t",
        "version": "1",
        "inputs": {"a": _int(1), "b": _int(2)},
    }
    args.update(changes)
    return compute_key(**args)  # type: ignore[arg-type]


def test_golden_key_is_pinned() -> None:
    # Changing the key scheme invalidates every cache in the field: do it on purpose only.
    assert _workers.golden_key() == (
        "968f4121cc3204a475d2ab82ca1704833545aedfe4dc65f331367aeeee850569"
    )


def test_key_is_stable_and_input_order_free() -> None:
    assert _key().digest == _key(inputs={"b": _int(2), "a": _int(1)}).digest
    assert _key().dataset_name == "cache.t"
    assert _key().dataset_version.startswith("1-")


def test_version_input_task_and_interface_change_the_key() -> None:
    base = _key().digest
    assert _key(version="2").digest != base
    assert _key(task="u").digest != base
    assert _key(inputs={"a": _int(1), "b": _int(3)}).digest != base
    other = Interface(inputs={"a": "int", "b": "float"}, outputs={"o0": "int"})
    assert _key(interface=other).digest != base
    assert _key(interface=other).dataset_version != _key().dataset_version


def test_ignored_inputs_leave_the_hash_but_the_ignore_set_is_interface() -> None:
    one = _key(ignore=["b"])
    two = _key(inputs={"a": _int(1), "b": _int(99)}, ignore=["b"])
    assert one.digest == two.digest
    assert _key(ignore="b").digest == one.digest  # a string names one input
    assert one.digest != _key().digest


def test_empty_version_is_refused_with_a_message() -> None:
    with pytest.raises(CacheError, match="non-empty string"):
        _key(version="")
    with pytest.raises(CacheError, match="non-empty string"):
        cached(version="  ")
    with pytest.raises(CacheError, match="'/'"):
        _key(version="a/b")


def test_function_interface_from_hints() -> None:
    def f(x: int, ys: list[str], z=1) -> dict[str, int]:  # type: ignore[no-untyped-def]
        return {}

    iface = function_interface(f)
    assert iface.inputs == {"x": "int", "ys": "list[str]", "z": "any"}
    assert iface.outputs == {"o0": "dict[str, int]"}


def test_interface_change_changes_the_key(tmp_path: Path) -> None:
    hold = Cargohold(store_url=(tmp_path / "s").as_uri(), catalog_url="sqlite://")

    def f(x: int) -> int:
        return x

    def g(x: int) -> str:
        return str(x)

    g.__qualname__ = f.__qualname__
    kf = key_for_call(f, {"x": 1}, version="1", hold=hold)
    kg = key_for_call(g, {"x": 1}, version="1", hold=hold)
    assert kf.task == kg.task
    assert kf.digest != kg.digest


def test_unhashable_input_names_the_input_and_its_type(tmp_path: Path) -> None:
    hold = Cargohold(store_url=(tmp_path / "s").as_uri(), catalog_url="sqlite://")

    class Opaque:
        pass

    def f(x: int, thing: object) -> int:
        return x

    with pytest.raises(UnhashableInputError, match=r"input 'thing' of type .*Opaque"):
        key_for_call(f, {"x": 1, "thing": Opaque()}, version="1", hold=hold)
    with pytest.raises(UnhashableInputError, match="'x'"):
        compute_key(task="t", version="1", inputs={"x": 3})  # type: ignore[dict-item]
    # ignoring the input makes the call cacheable
    key_for_call(f, {"x": 1, "thing": Opaque()}, version="1", hold=hold, ignore=["thing"])


def test_ignore_must_name_parameters(tmp_path: Path) -> None:
    with pytest.raises(CacheError, match="verbos"):

        @cached(version="1", ignore=["verbos"])
        def f(x: int, verbose: bool = False) -> int:
            return x


def test_blob_input_key_is_computed_without_reading_the_blob(tmp_path: Path) -> None:
    hold = Cargohold(
        store_url=(tmp_path / "s").as_uri(), catalog_url=f"sqlite:///{tmp_path / 'c.db'}"
    )
    big = hold.put(b"x" * 200_000)
    assert big.blob is not None
    service = CacheService(catalog=hold.catalog)

    def f(data: bytes) -> int:
        return len(data)

    key = key_for_call(f, {"data": big}, version="1", hold=hold)
    service.put(key, {"o0": hold.put(200_000)})
    hold.store.delete_blob(big.blob.hash)  # the input's bytes are gone ...
    again = key_for_call(f, {"data": Literal.from_json(big.to_json())}, version="1", hold=hold)
    assert again.digest == key.digest  # ... the key does not need them
    entry = service.get(again)
    assert entry is not None
    assert hold.get(entry.outputs["o0"]) == 200_000
    hold.catalog.close()


def test_raw_big_values_hash_by_content(tmp_path: Path) -> None:
    hold = Cargohold(store_url=(tmp_path / "s").as_uri(), catalog_url="sqlite://")

    def f(data: bytes) -> int:
        return len(data)

    one = key_for_call(f, {"data": b"y" * 100_000}, version="1", hold=hold)
    two = key_for_call(f, {"data": b"y" * 100_000}, version="1", hold=hold)
    three = key_for_call(f, {"data": b"y" * 99_999 + b"z"}, version="1", hold=hold)
    assert one.digest == two.digest != three.digest


def test_key_is_the_same_in_another_process(tmp_path: Path) -> None:
    store_url, catalog_url = (tmp_path / "s").as_uri(), f"sqlite:///{tmp_path / 'c.db'}"
    hold = Cargohold(store_url=store_url, catalog_url=catalog_url)
    mine = _workers._square(hold, 0.3).cache_key(7, "/tmp/unused", 0.0).digest
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    process = spawn.Process(target=_workers.key_of_call, args=(store_url, catalog_url, results))
    process.start()
    golden, theirs = results.get(timeout=60)
    process.join(30)
    assert (golden, theirs) == (_workers.golden_key(), mine)
