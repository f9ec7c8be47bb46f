"""moto's S3 server, serving a ranged GET from its range alone, as S3 does.

    .venv/bin/python bench/support/ranged_moto.py -H 127.0.0.1 -p 5000   # moto.server's options

Stock moto answers every GET of a key by copying the whole object under the key's lock and then
slicing the range out of the copy (``FakeKey.value``; ``bench/s3/moto_get_cost.py`` measures
it: 0.14 s per GET of a 256 MiB object, 8 at once served one after another). A download split
into ranged GETs therefore meets a ceiling that real S3, which serves requests in parallel, does
not have. Here one thing changes: while moto answers a GET whose Range is a single
``bytes=first-last`` span, the key's value is a view that reads only the sliced span from the
key's buffer (under the same lock, for that span's copy only). Everything else, the HTTP server,
signatures, ETags, conditions, multipart uploads and whole-object GETs, is moto's own.
"""

from __future__ import annotations

import re
import sys
import threading
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
"""This script, for ``tests.support.services.moto_s3(server_script=SCRIPT)`` (importing this
module does not import moto)."""

_SPAN = re.compile(r"bytes=(\d+)-(\d*)")
_answering = threading.local()  # set while this thread answers a single-span ranged GET


class _SpanReader:
    """A key's bytes that are read from its buffer only where sliced."""

    def __init__(self, key: Any) -> None:
        self._key = key

    def __len__(self) -> int:
        return int(self._key.size)

    def __getitem__(self, span: slice) -> bytes:
        start, stop, _ = span.indices(len(self))
        with self._key.lock:
            self._key._value_buffer.seek(start)
            data: bytes = self._key._value_buffer.read(max(0, stop - start))
        return data


def install() -> None:
    """Make this process's moto serve single-span ranged GETs from the span."""
    from moto.s3 import models, responses

    stock_value: Any = models.FakeKey.value
    stock_get_object = responses.S3Response.get_object

    def value(key: Any) -> Any:
        if getattr(_answering, "span", False):
            return _SpanReader(key)
        return stock_value.fget(key)

    def get_object(self: Any) -> Any:
        match = _SPAN.fullmatch(self.headers.get("range") or "")
        _answering.span = match is not None and (not match[2] or int(match[1]) <= int(match[2]))
        try:
            return stock_get_object(self)
        finally:
            _answering.span = False

    models.FakeKey.value = property(value, stock_value.fset)  # type: ignore[method-assign]
    responses.S3Response.get_object = get_object  # type: ignore[method-assign]


if __name__ == "__main__":
    install()
    from moto.server import main

    sys.exit(main())
