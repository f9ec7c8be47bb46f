"""Conformance: list_artifacts filters, sorting and keyset pagination."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from cargohold.core.catalog import Artifact, ArtifactSource, Catalog, OneOf, Range
from cargohold.core.errors import InvalidArgumentError, NotFoundError

from .conftest import FakeClock
from .helpers import inline


@pytest.fixture
def seeded(make_catalog: Callable[..., Catalog], clock: FakeClock) -> Catalog:
    """12 artifacts over 4 dates x 2 regions, a minute apart, from two jobs."""
    catalog = make_catalog(clock=clock)
    catalog.create_dataset(dataset="sales", partition_keys=["date", "region"])
    for i in range(12):
        clock.advance(minutes=1)
        catalog.create_artifact(
            dataset="sales",
            data={"n": inline(i)},
            partitions={"date": f"2026-10-{28 + i % 4:02d}", "region": ["eu", "us"][i % 2]},
            metadata={"parity": str(i % 2), "i": str(i)},
            source=ArtifactSource(job=f"job{i % 3}", run_id=f"run{i}"),
            tags=["first"] if i == 0 else [],
        )
    return catalog


def numbers(items: tuple[Artifact, ...] | list[Artifact]) -> list[int]:
    return [a.data["n"].value for a in items]


def test_equality_range_and_one_of(seeded: Catalog) -> None:
    page = seeded.list_artifacts(dataset="sales", partitions={"date": "2026-10-28"})
    assert sorted(numbers(page.items)) == [0, 4, 8]
    page = seeded.list_artifacts(dataset="sales", partitions={"date": "2026-10-28", "region": "eu"})
    assert sorted(numbers(page.items)) == [0, 4, 8]
    page = seeded.list_artifacts(dataset="sales", partitions={"date": Range(ge="2026-10-30")})
    assert sorted(numbers(page.items)) == [2, 3, 6, 7, 10, 11]
    page = seeded.list_artifacts(
        dataset="sales",
        partitions={"date": Range(gt=datetime(2026, 10, 28), lt="2026-10-31"), "region": "us"},
    )
    assert sorted(numbers(page.items)) == [1, 5, 9]
    page = seeded.list_artifacts(
        dataset="sales", partitions={"date": OneOf(["2026-10-29", "2026-10-31"])}
    )
    assert sorted(numbers(page.items)) == [1, 3, 5, 7, 9, 11]
    page = seeded.list_artifacts(dataset="sales", partitions={"date": Range(le="2026-10-28")})
    assert sorted(numbers(page.items)) == [0, 4, 8]


def test_tag_metadata_source_and_time_filters(seeded: Catalog, clock: FakeClock) -> None:
    assert numbers(seeded.list_artifacts(dataset="sales", tag="first").items) == [0]
    assert sorted(
        numbers(seeded.list_artifacts(dataset="sales", metadata={"parity": "1"}).items)
    ) == [1, 3, 5, 7, 9, 11]
    assert sorted(numbers(seeded.list_artifacts(dataset="sales", job="job1").items)) == [
        1,
        4,
        7,
        10,
    ]
    assert numbers(seeded.list_artifacts(run_id="run5").items) == [5]
    start = datetime(2026, 11, 1, 12, 0) + timedelta(minutes=3)
    window = seeded.list_artifacts(
        dataset="sales",
        created_after=start,
        created_before=start + timedelta(minutes=3),
        descending=False,
    )
    assert numbers(window.items) == [2, 3, 4]


def test_sort_orders(seeded: Catalog) -> None:
    newest_first = numbers(seeded.list_artifacts(dataset="sales").items)
    assert newest_first == list(range(11, -1, -1))
    oldest_first = numbers(seeded.list_artifacts(dataset="sales", descending=False).items)
    assert oldest_first == list(range(12))
    by_version = seeded.list_artifacts(dataset="sales", sort_by="version", descending=True)
    versions = [a.version for a in by_version]
    assert versions == sorted(versions, reverse=True)
    assert versions[0] == 3


@pytest.mark.parametrize("sort_by", ["created_at", "version"])
@pytest.mark.parametrize("descending", [True, False])
def test_pages_cover_everything_once(seeded: Catalog, sort_by: str, descending: bool) -> None:
    seen: list[int] = []
    token = None
    while True:
        page = seeded.list_artifacts(
            dataset="sales",
            sort_by=sort_by,  # type: ignore[arg-type]
            descending=descending,
            limit=5,
            page_token=token,
        )
        seen += numbers(page.items)
        token = page.next_token
        if token is None:
            break
    assert sorted(seen) == list(range(12))


def test_pages_stay_stable_under_inserts(seeded: Catalog, clock: FakeClock) -> None:
    first = seeded.list_artifacts(dataset="sales", limit=5)
    assert numbers(first.items) == [11, 10, 9, 8, 7]
    for i in range(100, 106):
        clock.advance(minutes=1)
        seeded.create_artifact(
            dataset="sales", data={"n": inline(i)}, partitions={"date": "x", "region": "eu"}
        )
    second = seeded.list_artifacts(dataset="sales", limit=5, page_token=first.next_token)
    assert numbers(second.items) == [6, 5, 4, 3, 2]
    ascending = seeded.list_artifacts(dataset="sales", limit=5, descending=False)
    clock.advance(minutes=1)
    seeded.create_artifact(
        dataset="sales", data={"n": inline(200)}, partitions={"date": "a", "region": "eu"}
    )
    rest = list(
        seeded.iter_artifacts(dataset="sales", descending=False, limit=5)
    )  # fresh iteration sees everything
    assert len(rest) == 12 + 6 + 1
    nxt = seeded.list_artifacts(
        dataset="sales", limit=5, descending=False, page_token=ascending.next_token
    )
    assert numbers(nxt.items) == [5, 6, 7, 8, 9]


def test_bad_tokens_and_filters(seeded: Catalog) -> None:
    page = seeded.list_artifacts(dataset="sales", limit=2)
    assert page.next_token is not None
    with pytest.raises(InvalidArgumentError, match="different query"):
        seeded.list_artifacts(dataset="sales", limit=2, tag="first", page_token=page.next_token)
    with pytest.raises(InvalidArgumentError, match="malformed"):
        seeded.list_artifacts(dataset="sales", page_token="not-a-token!")
    with pytest.raises(InvalidArgumentError, match="partition keys"):
        seeded.list_artifacts(dataset="sales", partitions={"shop": "1"})
    with pytest.raises(InvalidArgumentError, match="sort_by"):
        seeded.list_artifacts(dataset="sales", sort_by="size")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="limit"):
        seeded.list_artifacts(dataset="sales", limit=0)
    with pytest.raises(InvalidArgumentError, match="at least one"):
        Range()
    with pytest.raises(NotFoundError):
        seeded.list_artifacts(dataset="missing")


@pytest.mark.parametrize("descending", [True, False])
def test_pages_of_one_range_filter(seeded: Catalog, clock: FakeClock, descending: bool) -> None:
    """A single partition filter pages straight from the partition index (the fast path)."""
    seen: list[int] = []
    token = None
    while True:
        page = seeded.list_artifacts(
            dataset="sales",
            partitions={"date": Range(ge="2026-10-29")},
            descending=descending,
            limit=4,
            page_token=token,
        )
        seen += numbers(page.items)
        if token is None:
            clock.advance(minutes=1)  # an insert between pages changes nothing
            seeded.create_artifact(
                dataset="sales",
                data={"n": inline(99)},
                partitions={"date": "2026-10-30", "region": "us"},
            )
        token = page.next_token
        if token is None:
            break
    expected = [i for i in range(12) if i % 4 != 0]
    if descending:
        assert seen == expected[::-1]
    else:
        assert seen == [*expected, 99]
    by_region = seeded.list_artifacts(dataset="sales", partitions={"region": "eu"}, limit=2)
    assert numbers(by_region.items) == [10, 8]
