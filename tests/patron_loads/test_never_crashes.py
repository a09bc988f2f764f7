"""Damaged input of any kind ends in a result or a PatronLoadFileError, never another exception."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import PatronLoadFileError
from reconciler.patron_loads import count_file

from .helpers import ALMA_NS, users_document, write_zip

XML = users_document(["01", "02", ""], namespace=ALMA_NS)


def _zip_bytes(compression: int) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = write_zip(
            Path(folder) / "p.zip", {"a.xml": XML, "b.xml": XML}, compression=compression
        )
        return path.read_bytes()


ORIGINALS = {
    "xml": XML,
    "stored.zip": _zip_bytes(zipfile.ZIP_STORED),
    "deflated.zip": _zip_bytes(zipfile.ZIP_DEFLATED),
}


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(ORIGINALS)))
    data = bytearray(ORIGINALS[name])
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if action == "flip" and data:
            data[where] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[where:]
        elif action == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=8))
        elif data:
            del data[where : where + draw(st.integers(1, 16))]
    return name, bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=damaged())
def test_damaged_files_fail_cleanly(case: tuple[str, bytes]) -> None:
    """Flipped, cut, inserted or deleted bytes never raise anything but our error."""
    name, data = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            result = count_file(path)
        except PatronLoadFileError as error:
            message = str(error)
        else:
            message = str(path)
            assert result.users == sum(count for _, count in result.users_by_group)
        assert message.startswith(str(path))
