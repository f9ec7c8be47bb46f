"""Artifact references on the command line: a full id, a unique id prefix (the short ids that
``cargohold lineage`` and the tables print), or a ``cargohold://`` URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cargohold.core.errors import InvalidArgumentError, NotFoundError

if TYPE_CHECKING:
    from cargohold.cli.app import App
    from cargohold.core.catalog.objects import Artifact

__all__ = ["MIN_PREFIX", "expand_id", "resolve_artifact"]

MIN_PREFIX = 4
_FULL_ID = 36
_SHOWN_MATCHES = 10


def expand_id(app: App, text: str) -> str:
    """The full artifact id ``text`` names: itself when it is one, else the one id starting
    with it.

    Raises:
        InvalidArgumentError: the prefix is shorter than 4 characters, or several ids start
            with it (the message lists them).
        NotFoundError: no artifact id starts with it.
    """
    from sqlalchemy import Connection, select

    from cargohold.core.catalog.models import ArtifactRow

    wanted = text.strip().lower()
    if len(wanted) >= _FULL_ID:
        return wanted
    if len(wanted) < MIN_PREFIX:
        raise InvalidArgumentError(
            f"artifact id prefix {text!r} is too short: give at least {MIN_PREFIX} characters"
        )

    def _matches(conn: Connection) -> list[str]:
        query = (
            select(ArtifactRow.id)
            .where(ArtifactRow.id.startswith(wanted, autoescape=True))
            .order_by(ArtifactRow.id)
            .limit(_SHOWN_MATCHES + 1)
        )
        return [str(found) for found in conn.execute(query).scalars()]

    matches = app.catalog.database.read(_matches)
    if not matches:
        raise NotFoundError(
            f"no artifact id starts with {text!r} in the catalog {app.catalog_shown}"
        )
    if len(matches) > 1:
        more = ", ..." if len(matches) > _SHOWN_MATCHES else ""
        raise InvalidArgumentError(
            f"artifact id prefix {text!r} is ambiguous: it matches "
            f"{', '.join(matches[:_SHOWN_MATCHES])}{more}; give more characters"
        )
    return matches[0]


def resolve_artifact(app: App, ref: str) -> Artifact:
    """The artifact an id, an id prefix or a ``cargohold://`` URL names.

    Raises:
        InvalidArgumentError: a too short or ambiguous prefix.
        ProxyError: a malformed ``cargohold://`` URL.
        NotFoundError: no such artifact.
    """
    if "://" in ref:
        return app.proxy().resolve_artifact(ref)
    return app.catalog.get_artifact(artifact_id=expand_id(app, ref))
