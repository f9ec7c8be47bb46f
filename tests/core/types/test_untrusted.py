"""The trust boundary: a literal chooses no import, no call and no file location (issue 12).

Each hostile document quoted in the issue is a case here, verbatim.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from cargohold import Cargohold, Literal, Settings, TypeEngine
from cargohold.core.errors import (
    CargoholdError,
    SerializationError,
    TypeMismatchError,
    UntrustedTypeError,
)
from tests.core.types import _elsewhere
from tests.core.types._elsewhere import Badge, NotAModel, Shade, Spot

ELSEWHERE = _elsewhere.__name__


def doc(kind: str, name: str, value: Any, **extra: Any) -> str:
    return json.dumps(
        {"cargohold": 1, "type": {"kind": kind, "name": name, **extra}, "value": value}
    )


# -- the documents -------------------------------------------------------------------


def test_enum_naming_subprocess_getoutput_is_refused(hold: Cargohold) -> None:
    text = '{"cargohold":1,"type":{"kind":"enum","name":"subprocess:getoutput"},"value":"id"}'
    with pytest.raises(UntrustedTypeError, match="subprocess:getoutput") as caught:
        hold.get(text)
    assert "CARGOHOLD_ALLOWED_TYPES" in str(caught.value)


def test_enum_naming_os_system_runs_nothing(hold: Cargohold, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = doc("enum", "os:system", f"touch {marker}")
    with pytest.raises(UntrustedTypeError, match="os:system"):
        hold.get(text)
    assert not marker.exists()
    # even when a careless allowlist admits os.*, os.system is no Enum subclass: not called
    lax = Cargohold(settings=hold.settings.with_changes(allowed_types=("os.*",)))
    with pytest.raises(UntrustedTypeError, match="not an Enum subclass"):
        lax.get(text)
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["dataclass", "pydantic", "enum"])
def test_a_named_module_is_never_imported(hold: Cargohold, kind: str) -> None:
    for module in ("antigravity", "this", "tests.core.types._never_imported"):
        assert module not in sys.modules
        with pytest.raises(UntrustedTypeError):
            hold.get(doc(kind, f"{module}:Thing", {}))
        assert module not in sys.modules
    # allowed by pattern, still never imported: only already imported modules are looked in
    lax = Cargohold(settings=hold.settings.with_changes(allowed_types=("*",)))
    with pytest.raises(UntrustedTypeError, match="not imported"):
        lax.get(doc(kind, "tests.core.types._never_imported:Thing", {}))
    assert "tests.core.types._never_imported" not in sys.modules


def test_a_non_dataclass_named_as_a_dataclass_is_not_called(hold: Cargohold) -> None:
    lax = Cargohold(settings=hold.settings.with_changes(allowed_types=(f"{ELSEWHERE}.*",)))
    for kind in ("dataclass", "enum", "pydantic"):
        with pytest.raises(UntrustedTypeError, match="is not"):
            lax.get(doc(kind, f"{ELSEWHERE}:NotAModel", {}, args=[]))
    assert NotAModel.calls == 0
    # the case: a non-dataclass (a builtin, registered or not) named as a dataclass
    with pytest.raises(CargoholdError):
        hold.get(doc("dataclass", "decimal:Decimal", {}, args=[]))
    with pytest.raises(CargoholdError):
        hold.get(doc("dataclass", "builtins:int", {}, args=[]))


@pytest.mark.parametrize(
    "name",
    ["/etc/passwd", "../../escape.txt", "..", "a/b", "C:evil", "nul\x00byte", "", "back\\slash"],
)
def test_file_names_are_checked_like_pep_706(hold: Cargohold, tmp_path: Path, name: str) -> None:
    source = tmp_path / "payload.txt"
    source.write_text("owned")
    from cargohold import File

    document = hold.put(File(str(source))).to_dict()
    document["blob"]["extra"]["name"] = name
    before = set(os.listdir(tmp_path))
    with pytest.raises(SerializationError, match="refused"):
        hold.get(json.dumps(document)).path  # noqa: B018
    assert set(os.listdir(tmp_path)) == before
    assert not Path("/etc/passwd.cargohold").exists()


def test_absolute_file_name_never_overwrites(hold: Cargohold, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    source = tmp_path / "payload.txt"
    source.write_text("owned")
    from cargohold import File

    for name in (str(victim), f"../../../../../../..{victim}"):
        document = hold.put(File(str(source))).to_dict()
        document["blob"]["extra"]["name"] = name
        with pytest.raises(SerializationError):
            hold.get(json.dumps(document)).path  # noqa: B018
    assert victim.read_text() == "precious"


@pytest.mark.parametrize(
    ("dir_name", "entry"),
    [
        ("ok", "../../outside.txt"),
        ("ok", "/tmp/outside.txt"),
        ("ok", "sub/../../outside.txt"),
        ("ok", "C:/outside.txt"),
        ("ok", "a\x00b"),
        ("../..", "x.txt"),
        ("/tmp", "x.txt"),
    ],
)
def test_directory_entries_stay_inside(
    hold: Cargohold, tmp_path: Path, dir_name: str, entry: str
) -> None:
    from cargohold import Directory

    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "x.txt").write_text("x")
    document = hold.put(Directory(str(folder))).to_dict()
    value = document["value"]
    value["name"] = dir_name
    value["entries"][0][0] = entry
    with pytest.raises(SerializationError, match="refused"):
        hold.get(json.dumps(document)).path  # noqa: B018
    assert not (tmp_path / "outside.txt").exists()
    assert not Path("/tmp/outside.txt").exists()


def test_directory_entries_cannot_overlap(hold: Cargohold, tmp_path: Path) -> None:
    from cargohold import Directory

    folder = tmp_path / "folder"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "b").write_text("b")
    (folder / "c").write_text("c")
    document = hold.put(Directory(str(folder))).to_dict()
    entries = document["value"]["entries"]
    entries[1][0] = "a"  # 'a' is a file and also the folder of 'a/b'
    with pytest.raises(SerializationError, match="both a file and a folder"):
        hold.get(json.dumps(document))


def test_a_directory_round_trips(hold: Cargohold, tmp_path: Path) -> None:
    from cargohold import Directory

    folder = tmp_path / "folder"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "b.txt").write_text("b")
    back = hold.get(hold.put(Directory(str(folder))).to_json())
    assert Path(back.path, "a", "b.txt").read_text() == "b"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested deeper"),
        ('{"cargohold":1,"type":' + '{"kind":"list","args":[' * 200 + "]}" * 200 + "}", "deeper"),
        ('{"cargohold":1,"type":{"kind":"json"},"value":' + "[" * 70 + "]" * 70 + "}", "deeper"),
        ('{"cargohold":1,"type":{"kind":"int"},"blob":"x"}', "blob reference"),
        ('{"cargohold":1,"type":{"kind":"bytes"},"value":"not base64!"}', "base64"),
        ('{"cargohold":1,"type":{"kind":"dict","args":[{"kind":"str"}]},"value":{"a":1}}', "2"),
        ('{"cargohold":1,"type":"int","value":1}', "type document"),
        ('{"cargohold":1,"type":{"kind":7},"value":1}', "kind"),
        ('{"cargohold":1,"type":{"kind":"list","args":[]},"value":[1]}', "element type"),
        ('{"cargohold":1,"type":{"kind":"tuple","args":[{"kind":"int"}]},"value":5}', "malformed"),
        ('{"cargohold":1,"type":{"kind":"dataclass","name":"x:Y","args":[]},"value":1}', "x:Y"),
    ],
)
def test_malformed_documents_raise_serialization_errors(
    hold: Cargohold, text: str, error: str
) -> None:
    with pytest.raises(SerializationError, match=error):
        hold.get(text)


@pytest.mark.parametrize("size", [-1, "8", 1.5, True, None])
def test_sizes_must_be_non_negative_integers(size: Any) -> None:
    blob = {"uri": "memory://x/cas/ab/ab", "size": size, "hash": "ab", "format": "bytes"}
    text = json.dumps(
        {"cargohold": 1, "type": {"kind": "bytes"}, "blob": {**blob, "python_type": "bytes"}}
    )
    with pytest.raises(SerializationError, match="blob reference"):
        Literal.from_json(text)


def test_a_size_that_lies_is_refused(hold: Cargohold) -> None:
    document = hold.put(b"x" * 100_000).to_dict()
    document["blob"]["size"] = 10
    with pytest.raises(CargoholdError, match="10 bytes"):
        hold.get(json.dumps(document))


# -- the allowlist -----------------------------------------------------------------------------


def cases() -> list[Any]:
    return [Shade.DARK, Spot(x=3, label="here"), Badge(name="b", level=2)]


@pytest.mark.parametrize("value", cases(), ids=lambda v: type(v).__name__)
def test_unrelated_module_refused_until_allowed(hold: Cargohold, value: Any) -> None:
    text = hold.put(value).to_json()
    with pytest.raises(UntrustedTypeError, match=type(value).__qualname__):
        hold.get(text)
    allowed = Cargohold(settings=hold.settings.with_changes(allowed_types=(f"{ELSEWHERE}.*",)))
    assert allowed.get(text) == value
    exact = (f"{ELSEWHERE}.{type(value).__qualname__}",)
    assert Cargohold(settings=hold.settings.with_changes(allowed_types=exact)).get(text) == value
    # a declared type needs no allowlist
    assert hold.get(text, as_type=type(value)) == value


def test_allowlist_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"CARGOHOLD_HOME": str(tmp_path), "CARGOHOLD_ALLOWED_TYPES": f"{ELSEWHERE}.Sp* other.*"}
    )
    assert settings.allowed_types == (f"{ELSEWHERE}.Sp*", "other.*")
    hold = Cargohold(settings=settings)
    assert hold.get(hold.put(Spot(x=1, label="a")).to_json()) == Spot(x=1, label="a")
    with pytest.raises(UntrustedTypeError):
        hold.get(hold.put(Shade.LIGHT).to_json())
    default = Settings.from_env({"CARGOHOLD_HOME": str(tmp_path)})
    assert default.allowed_types == ("unusual_prefix_*", "__main__.*")
    assert Settings.from_env({"CARGOHOLD_ALLOWED_TYPES": ""}).allowed_types == ()


def test_registered_types_need_no_allowlist(hold: Cargohold) -> None:
    engine = TypeEngine.with_builtins()
    trusting = Cargohold(settings=hold.settings, engine=engine)
    text = trusting.put(Spot(x=2, label="r")).to_json()
    with pytest.raises(UntrustedTypeError):
        trusting.get(text)
    engine.register_type(Spot)
    assert trusting.get(text) == Spot(x=2, label="r")


def test_declared_type_must_be_of_the_literal_kind(hold: Cargohold) -> None:
    text = hold.put(Shade.DARK).to_json()
    with pytest.raises(TypeMismatchError, match="not an Enum subclass"):
        hold.get(text, as_type=Spot)
    with pytest.raises(TypeMismatchError, match="not a dataclass"):
        hold.get(hold.put(Spot(x=1, label="a")).to_json(), as_type=Shade)


def test_nested_fields_follow_their_annotations(hold: Cargohold) -> None:
    """A field's annotation is the declared type: a hostile field type changes nothing."""
    document = hold.put(Spot(x=1, label="a"), python_type=Spot).to_dict()
    document["type"]["args"][0] = {"kind": "enum", "name": "os:system"}
    with pytest.raises(TypeMismatchError):
        hold.get(json.dumps(document), as_type=Spot)


def test_local_classes_and_odd_names_are_refused(hold: Cargohold) -> None:
    lax = Cargohold(settings=hold.settings.with_changes(allowed_types=("*",)))
    for name in ("tests:f.<locals>.C", "os", ":x", "a:", "a b:C", "x" * 600 + ":C"):
        with pytest.raises(UntrustedTypeError):
            lax.get(doc("enum", name, 1))
