from __future__ import annotations

from pathlib import Path

import pytest

import cargohold
from cargohold import Cargohold, ConfigurationError, Settings


def test_embedded_defaults_live_under_dot_cargohold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.store_url == (tmp_path / ".cargohold" / "store").as_uri()
    assert settings.catalog_url == f"sqlite:///{tmp_path / '.cargohold' / 'catalog.db'}"
    assert settings.inline_limit == 64 * 1024
    assert settings.allow_pickle is False
    assert settings.domain == "development"


def test_environment_variables_are_read() -> None:
    settings = Settings.from_env(
        {
            "CARGOHOLD_STORE_URL": "memory://x",
            "CARGOHOLD_CATALOG_URL": "sqlite:///c.db",
            "CARGOHOLD_INLINE_LIMIT": "10",
            "CARGOHOLD_ALLOW_PICKLE": "true",
            "CARGOHOLD_DOMAIN": "production",
            "CARGOHOLD_STORE_OPTIONS": '{"anon": true}',
            "CARGOHOLD_TABLE_FORMAT": "arrow",
        }
    )
    assert (settings.store_url, settings.inline_limit, settings.allow_pickle) == (
        "memory://x",
        10,
        True,
    )
    assert settings.domain == "production"
    assert settings.store_options == {"anon": True}
    assert settings.table_format == "arrow"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CARGOHOLD_INLINE_LIMIT": "big"}, "CARGOHOLD_INLINE_LIMIT must be an integer"),
        ({"CARGOHOLD_INLINE_LIMIT": "-1"}, "inline_limit must be >= 0"),
        ({"CARGOHOLD_ALLOW_PICKLE": "maybe"}, "CARGOHOLD_ALLOW_PICKLE must be true or false"),
        ({"CARGOHOLD_STORE_OPTIONS": "[1]"}, "must be a JSON object"),
        ({"CARGOHOLD_TABLE_FORMAT": "csv"}, r"table_format \(CARGOHOLD_TABLE_FORMAT\) must be"),
        ({"CARGOHOLD_STORE_URL": "s4://x"}, "unknown scheme 's4'; known schemes: file, s3, gs"),
        ({"CARGOHOLD_STORE_URL": "file//data/x"}, "its '://' is mistyped"),
        ({"CARGOHOLD_STORE_URL": "s3:/bucket"}, "its '://' is mistyped"),
        (
            {"CARGOHOLD_CATALOG_URL": "sqlite://relative.db"},
            r"three slashes: sqlite:///relative\.db",
        ),
        ({"CARGOHOLD_CATALOG_URL": "postgresql+psycopg://..."}, "does not name a valid host"),
        ({"CARGOHOLD_CATALOG_URL": "catalog.db"}, "is not a database URL"),
    ],
)
def test_bad_settings_are_explained(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(env)


def test_explicit_arguments_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CARGOHOLD_STORE_URL", "memory://from-env")
    hold = Cargohold(store_url=f"file://{tmp_path}/explicit")
    assert hold.settings.store_url == f"file://{tmp_path}/explicit"
    assert Cargohold.from_env().settings.store_url == "memory://from-env"
    other = hold.with_raw_output_prefix("memory://run-prefix")
    assert other.store.url == "memory://run-prefix"


def test_public_names_are_pinned_and_sorted() -> None:
    assert cargohold.__all__ == sorted(cargohold.__all__)
    for name in cargohold.__all__:
        assert hasattr(cargohold, name), name
