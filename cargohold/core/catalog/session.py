"""The one place that opens transactions on the catalog database.

:class:`Database` wraps a SQLAlchemy engine and runs a function inside a transaction:

* :meth:`Database.write` commits when the function returns and rolls back when it raises. On
  SQLite (WAL, ``busy_timeout``) a write transaction starts with ``BEGIN IMMEDIATE``, so writers
  queue for the lock up front instead of failing on upgrade; reads use a deferred ``BEGIN`` and
  never block in WAL mode.
* :meth:`Database.read` runs a read-only function (on PostgreSQL at the server's default READ
  COMMITTED in autocommit mode: every statement takes its own snapshot either way, and a read
  saves the ``BEGIN`` and ``COMMIT`` round trips) and retries it once on a fresh connection when
  the first connection turns out to be dropped (a restarted server, a killed backend). A write
  is retried once too, but only when the connection died before ``COMMIT`` was sent (so the
  server rolled it back); a failure during ``COMMIT`` itself is reported, never repeated. This is
  why the pool does not ping connections before use (a round trip on every call).
* Every SQLAlchemy error is translated at this boundary into :class:`CatalogError` (or what the
  caller's ``on_integrity`` hook returns for a constraint violation), with ``raise ... from exc``.

Nothing connects until the first call.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from cargohold.core.config import DEFAULT_CATALOG_CONNECT_TIMEOUT, DEFAULT_CATALOG_STATEMENT_TIMEOUT
from cargohold.core.errors import CargoholdError, CatalogError, ConfigurationError

__all__ = ["Database", "make_engine"]

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 60_000
_WRITE = "cargohold_write"


def make_engine(
    url: str,
    *,
    connect_timeout: float = DEFAULT_CATALOG_CONNECT_TIMEOUT,
    statement_timeout: float = DEFAULT_CATALOG_STATEMENT_TIMEOUT,
    **engine_options: Any,
) -> Engine:
    """Build the engine for a catalog URL.

    ``postgresql://`` URLs use psycopg 3 with libpq's ``connect_timeout`` (whole seconds, at
    least 2) and PostgreSQL's ``statement_timeout`` set from the arguments, unless the URL's
    query names them itself; ``sqlite:///path`` files get WAL, a busy timeout, foreign keys and
    ``BEGIN IMMEDIATE`` for writes (the parent directory is created when first connecting).

    Raises:
        ConfigurationError: the URL is malformed or names an unsupported database.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # ArgumentError, ValueError
        raise ConfigurationError(f"catalog URL {url!r} is not a database URL: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        options: dict[str, Any] = {"pool_pre_ping": False}
        options.update(engine_options)
        connect_args = dict(options.get("connect_args") or {})
        if "connect_timeout" not in parsed.query:
            connect_args.setdefault("connect_timeout", max(2, math.ceil(connect_timeout)))
        if "options" not in parsed.query and "options" not in connect_args:
            connect_args["options"] = f"-c statement_timeout={math.ceil(statement_timeout * 1000)}"
        options["connect_args"] = connect_args
        try:
            return create_engine(parsed, **options)
        except ImportError as exc:
            raise ConfigurationError(
                "install psycopg (pip install 'cargohold[postgres]') to use a PostgreSQL catalog"
            ) from exc
    if backend == "sqlite":
        return _sqlite_engine(parsed.render_as_string(hide_password=False), **engine_options)
    raise ConfigurationError(
        f"catalog URL {url!r}: cargohold supports sqlite:/// and postgresql:// catalogs"
    )


def _sqlite_engine(url: str, **engine_options: Any) -> Engine:
    parsed = make_url(url)
    database = parsed.database or ""
    directory = None
    options = dict(engine_options)
    if not database or database == ":memory:":
        # One shared connection, or every pooled connection would see its own empty database.
        options.setdefault("poolclass", StaticPool)
        options.setdefault("connect_args", {"check_same_thread": False})
    elif not database.startswith("file:"):
        directory = Path(database).expanduser().absolute().parent
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; _on_begin emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    if directory is not None:

        @event.listens_for(engine, "do_connect")
        def _make_directory(*_args: Any) -> None:
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as exc:
                raise CatalogError(
                    f"cannot create the directory {directory} of the SQLite catalog {url}: "
                    f"{exc}; point CARGOHOLD_CATALOG_URL at a writable place"
                ) from exc

    return engine


class Database:
    """Transactions on one catalog database; see the module docstring."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def write(
        self,
        fn: Callable[[Connection], T],
        *,
        on_integrity: Callable[[IntegrityError], CargoholdError] | None = None,
        single_statement: bool = False,
    ) -> T:
        """Run ``fn`` in one write transaction and commit; roll back if it raises.

        ``single_statement`` says ``fn`` writes with one statement (which is atomic on its own):
        on PostgreSQL it then runs in autocommit mode, saving the ``BEGIN`` and ``COMMIT`` round
        trips. Such a statement is also retried once on a dropped connection; callers only pass
        it for statements that are safe to repeat (a duplicate insert fails on its key, an
        upsert by the same owner repeats itself).

        Raises:
            CatalogError: the database failed; a constraint violation becomes what
                ``on_integrity`` returns when given. Errors ``fn`` raises pass through.
        """
        for attempt in (1, 2):
            try:
                return self._write_once(fn, single_statement=single_statement)
            except _DroppedBeforeCommit as dropped:
                if attempt == 1:
                    continue
                exc = dropped.error
                raise CatalogError(f"catalog database error: {self._summary(exc)}") from exc
            except IntegrityError as exc:
                if on_integrity is not None:
                    raise on_integrity(exc) from exc
                raise CatalogError(f"catalog constraint violated: {self._summary(exc)}") from exc
            except SQLAlchemyError as exc:
                raise CatalogError(f"catalog database error: {self._summary(exc)}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _write_once(self, fn: Callable[[Connection], T], *, single_statement: bool) -> T:
        options: dict[str, Any] = {_WRITE: True}
        if single_statement and self.dialect == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        with self.engine.connect().execution_options(**options) as conn:
            transaction = conn.begin()
            try:
                result = fn(conn)
            except DBAPIError as exc:
                if transaction.is_active:
                    transaction.rollback()
                if exc.connection_invalidated and not _timed_out(exc):
                    # Nothing was committed: the server rolled the transaction back with the
                    # connection, so running it again on a fresh connection is safe.
                    raise _DroppedBeforeCommit(exc) from exc
                raise
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                raise
            transaction.commit()
            return result

    def read(self, fn: Callable[[Connection], T]) -> T:
        """Run the read-only ``fn`` in a transaction; retry once if the connection was dropped.

        Raises:
            CatalogError: the database failed (twice, for a dropped connection).
        """
        for attempt in (1, 2):
            try:
                with self.engine.connect() as conn:
                    if self._autocommit_reads(conn):
                        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                    with conn.begin():
                        return fn(conn)
            except DBAPIError as exc:
                if attempt == 1 and exc.connection_invalidated and not _timed_out(exc):
                    continue
                raise CatalogError(f"catalog database error: {self._summary(exc)}") from exc
            except SQLAlchemyError as exc:
                raise CatalogError(f"catalog database error: {self._summary(exc)}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _autocommit_reads(self, conn: Connection) -> bool:
        """Whether reads may skip ``BEGIN``/``COMMIT``: on PostgreSQL at READ COMMITTED (the
        server's default, not changed by the engine's options) every statement takes its own
        snapshot in a transaction or not, so the transaction only costs two round trips."""
        return (
            self.dialect == "postgresql"
            and conn.default_isolation_level == "READ COMMITTED"
            and "isolation_level" not in conn.get_execution_options()
        )

    def _summary(self, exc: SQLAlchemyError) -> str:
        """The first line of the database's message; for a timeout, also the endpoint and the
        setting that bounds the wait."""
        original = getattr(exc, "orig", None)
        lines = str(original if original is not None else exc).strip().splitlines()
        text = lines[0] if lines else type(exc).__name__
        endpoint = self.engine.url.render_as_string(hide_password=True)
        if _timed_out(exc):
            return (
                f"{text}: the catalog database at {endpoint} did not answer within "
                f"catalog_connect_timeout (CARGOHOLD_CATALOG_CONNECT_TIMEOUT); check that the "
                f"server is up, or raise the timeout"
            )
        if getattr(original, "sqlstate", None) == "57014":
            return (
                f"{text}: a statement on the catalog database at {endpoint} ran past "
                f"catalog_statement_timeout (CARGOHOLD_CATALOG_STATEMENT_TIMEOUT); raise it "
                f"if the statement is legitimately slow"
            )
        return text

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


class _DroppedBeforeCommit(Exception):
    def __init__(self, error: DBAPIError) -> None:
        self.error = error


def _timed_out(exc: SQLAlchemyError) -> bool:
    """Whether connecting gave up after ``connect_timeout`` (retrying would double the wait)."""
    return type(getattr(exc, "orig", None)).__name__ == "ConnectionTimeout"
