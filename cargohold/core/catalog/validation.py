"""Checks on caller input. Each raises :class:`InvalidArgumentError` saying what was expected."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from cargohold.core.errors import InvalidArgumentError
from cargohold.core.types.literals import Literal, canonical_json

__all__ = [
    "MAX_NAME_LENGTH",
    "check_heartbeat",
    "check_key",
    "check_limit",
    "check_metadata",
    "check_name",
    "check_partition_keys",
    "check_partitions",
    "normalize_partition_value",
    "partition_key_string",
]

MAX_NAME_LENGTH = 255
MAX_LIMIT = 10_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_name(value: object, *, what: str) -> str:
    """Return ``value`` if it is a valid name: a non-empty str of at most 255 characters without
    ``/``, ``..`` or control characters.

    Raises:
        InvalidArgumentError: it is not.
    """
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be a str, got {type(value).__name__}")
    if not value or not value.strip():
        raise InvalidArgumentError(f"{what} must be a non-empty string")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidArgumentError(
            f"{what} must be at most {MAX_NAME_LENGTH} characters, got {len(value)}"
        )
    if "/" in value or ".." in value or _CONTROL.search(value):
        raise InvalidArgumentError(
            f"{what} {value!r} must not contain '/', '..' or control characters"
        )
    return value


def check_key(value: object, *, what: str) -> str:
    """Return ``value`` if it is a valid opaque key (an owner id): a non-empty str of at most
    255 characters without control characters; ``/`` is allowed.

    Raises:
        InvalidArgumentError: it is not.
    """
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be a str, got {type(value).__name__}")
    if not value.strip() or len(value) > MAX_NAME_LENGTH or _CONTROL.search(value):
        raise InvalidArgumentError(
            f"{what} must be a non-empty string of at most {MAX_NAME_LENGTH} characters "
            f"without control characters, got {value!r:.80}"
        )
    return value


def normalize_partition_value(value: object, *, key: str) -> str:
    """The canonical string of a partition value.

    ``date`` and midnight ``datetime`` values become ISO dates (``2026-11-01``); other
    ``datetime`` values their ISO form; ints their decimal form; strings stay as they are.

    Raises:
        InvalidArgumentError: the value is of another type, empty or too long.
    """
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            text = value.date().isoformat()
        else:
            text = value.isoformat()
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, bool):
        raise InvalidArgumentError(
            f"partition {key!r} must be a str, int, date or datetime, got bool"
        )
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise InvalidArgumentError(
            f"partition {key!r} must be a str, int, date or datetime, got {type(value).__name__}"
        )
    if not text or len(text) > MAX_NAME_LENGTH or _CONTROL.search(text):
        raise InvalidArgumentError(
            f"partition {key!r} must be a non-empty value of at most {MAX_NAME_LENGTH} "
            f"characters without control characters, got {text!r:.80}"
        )
    return text


def check_partition_keys(keys: object) -> tuple[str, ...]:
    """Validate a dataset's partition keys: a sequence of distinct names.

    Raises:
        InvalidArgumentError: not a sequence of names, or a key repeats.
    """
    if isinstance(keys, str) or not isinstance(keys, Sequence):
        raise InvalidArgumentError(
            f"partition_keys must be a list of names, got {type(keys).__name__}"
        )
    out = tuple(check_name(key, what="partition key") for key in keys)
    if len(set(out)) != len(out):
        raise InvalidArgumentError(f"partition_keys must be distinct, got {list(out)}")
    return out


def check_partitions(
    partitions: Mapping[str, object] | None, *, expected: Sequence[str], dataset: str
) -> dict[str, str]:
    """Normalise an artifact's partitions; their keys must equal the dataset's partition keys.

    Raises:
        InvalidArgumentError: keys differ from ``expected`` or a value is malformed.
    """
    given = dict(partitions or {})
    if set(given) != set(expected):
        raise InvalidArgumentError(
            f"dataset {dataset} expects partition keys {sorted(expected)}, "
            f"got {sorted(map(str, given))}"
        )
    return {key: normalize_partition_value(given[key], key=key) for key in expected}


def partition_key_string(partitions: Mapping[str, str]) -> str:
    """The canonical key of a set of partition values: sorted JSON pairs (``[]`` for none)."""
    return canonical_json(sorted([k, v] for k, v in partitions.items())).decode()


def check_metadata(metadata: Mapping[str, Any] | None, *, what: str = "metadata") -> dict[str, str]:
    """Validate key/value metadata: str keys (names) and str values.

    Raises:
        InvalidArgumentError: not a mapping, a key is not a name, a value not a str.
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidArgumentError(
            f"{what} must be a mapping of str to str, got {type(metadata).__name__}"
        )
    out: dict[str, str] = {}
    for key, value in metadata.items():
        check_name(key, what=f"{what} key")
        if not isinstance(value, str):
            raise InvalidArgumentError(f"{what}[{key!r}] must be a str, got {type(value).__name__}")
        out[key] = value
    return out


def check_data(data: Mapping[str, Any] | None, *, allow_empty: bool) -> dict[str, Literal]:
    """Validate an artifact's named data: names mapped to :class:`Literal` values.

    Raises:
        InvalidArgumentError: a bad name, a value that is not a Literal, or nothing when
            something is required.
    """
    if data is None or not isinstance(data, Mapping):
        raise InvalidArgumentError(
            f"data must be a mapping of names to Literal, got {type(data).__name__}"
        )
    if not data and not allow_empty:
        raise InvalidArgumentError("data must name at least one Literal")
    out: dict[str, Literal] = {}
    for name, value in data.items():
        check_name(name, what="data name")
        if not isinstance(value, Literal):
            raise InvalidArgumentError(
                f"data[{name!r}] must be a cargohold Literal (Cargohold.put(value) makes one), "
                f"got {type(value).__name__}"
            )
        out[name] = value
    return out


def check_heartbeat(heartbeat_interval: object) -> timedelta:
    """A positive heartbeat interval (a timedelta or seconds).

    Raises:
        InvalidArgumentError: not positive or not a duration.
    """
    if isinstance(heartbeat_interval, bool):
        raise InvalidArgumentError("heartbeat_interval must be a timedelta or seconds")
    if isinstance(heartbeat_interval, int | float):
        heartbeat_interval = timedelta(seconds=heartbeat_interval)
    if not isinstance(heartbeat_interval, timedelta):
        raise InvalidArgumentError(
            f"heartbeat_interval must be a timedelta or seconds, "
            f"got {type(heartbeat_interval).__name__}"
        )
    if heartbeat_interval <= timedelta(0):
        raise InvalidArgumentError(f"heartbeat_interval must be positive, got {heartbeat_interval}")
    return heartbeat_interval


def check_limit(limit: object) -> int:
    """A page size between 1 and 10,000.

    Raises:
        InvalidArgumentError: out of range or not an int.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgumentError(f"limit must be an int from 1 to {MAX_LIMIT}, got {limit!r}")
    return limit
