"""Count the users per group in one SIS file, streaming, without keeping anything personal.

Alma receives patron loads as a zip of XML files in its user schema (`<users><user>…`); MIT's
generator writes a `<userRecords>` root and templates hold a bare `<user>`, so all three roots
are read, with or without a default namespace. Plain XML is accepted too (people test with it).

Memory stays constant whatever the file size: lxml's iterparse hands over one `<user>` at a
time, only its `user_group` and `record_type` texts are read, and the element and the siblings
before it are deleted at once. Zip members are decompressed as a stream, never extracted.

Parsing is locked down: no DTD loading, no entity substitution, no network, lxml's default size
limits (a text node over 10 MB fails), a cap on the bytes of any one record (libxml2 has none
for an element of millions of small children), and any DOCTYPE is refused outright because a
patron-load file never needs one. A zip member may not inflate past `ReadLimits.max_ratio` times
its compressed size (a zip bomb), and no file may take longer than `ReadLimits.max_seconds`.
Every failure is a `PatronLoadFileError` naming the file (and zip member) and, for XML, line and
column. Messages never quote the file's content, not even the root element's name.

What is kept is chosen for a file committed to git: only group and record-type values shaped
like codes (a name or an email in a shifted column is counted as "unrecognised", never stored);
no delivered file name (it may hold an email), only the load date and the content hash; and the
hash is of the XML itself, so a zip and its unzipped XML are recognised as one load.
"""

from __future__ import annotations

import hashlib
import re
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol, cast

from lxml import etree

from reconciler.errors import PatronLoadFileError
from reconciler.model.history import NO_GROUP, PatronLoadFile, is_code_shaped

ROOTS = ("users", "userRecords", "user")
_CHUNK = 1 << 20
# A date in a file name: patrons_20250301.xml.zip, patrons-2025-03-01.xml, feed_20250301T0600.xml,
# feed_20250301123000.xml (a time may follow the date directly)
_NAME_DATE = re.compile(r"(?<!\d)(20\d\d)([-_]?)(\d\d)\2(\d\d)(?:\d{4}|\d{6})?(?!\d)")
_ZIP_NAME = re.compile(r"\.zip(\.|$)", re.IGNORECASE)
# Zip tools write 1980-01-01 (the format's epoch) when they know no time: not a load date.
_ZIP_EPOCH_YEAR = 1980
MAX_RECORD_BYTES = 2 * 2**20


@dataclass(frozen=True)
class ReadLimits:
    """How far one file may go: inflation of a zip member, and time for the whole file.

    Patron XML compresses about 10-30 to 1; 200 to 1 leaves room for very repetitive files
    while a zip bomb (1000 to 1 and more) is refused after reading a bounded amount.
    """

    max_ratio: int = 200
    ratio_slack_bytes: int = 2**20  # tiny members may inflate more; a megabyte is harmless
    max_seconds: float = 900.0  # a 1 GB file takes about a minute
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)


DEFAULT_LIMITS = ReadLimits()


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...


class _Tally:
    """Running counts for one file; holds code-shaped values and counts, nothing else."""

    def __init__(self) -> None:
        self.users = 0
        self.groups: Counter[str] = Counter()
        self.record_types: set[str] = set()
        self.unrecognised = 0

    def add(self, user: etree._Element) -> None:
        prefix = user.tag[:-4]  # "{namespace}" or "": the tag matched local name "user"
        self.users += 1
        group = (user.findtext(prefix + "user_group") or "").strip()
        if group == NO_GROUP or is_code_shaped(group):
            self.groups[group] += 1
        else:
            self.unrecognised += 1
        record_type = (user.findtext(prefix + "record_type") or "").strip()
        if is_code_shaped(record_type):
            self.record_types.add(record_type)
        elif record_type:
            self.unrecognised += 1


class _Feed:
    """What lxml reads from: hashes as it goes (a plain file is read once) and bounds records.

    libxml2 limits a single text node (10 MB) but not an element made of millions of small
    children, which it would build in memory. So a "record" -- the bytes between two `</user>`
    ends -- may not exceed MAX_RECORD_BYTES; real records are a few kilobytes.
    """

    def __init__(
        self,
        stream: _Readable,
        where: str,
        digest: _Digest,
        *,
        deadline: float,
        limits: ReadLimits,
        max_bytes: int | None = None,
    ) -> None:
        self._stream = stream
        self._where = where
        self._digest = digest  # the XML's bytes are the load's identity, zipped or not
        self._deadline = deadline
        self._limits = limits
        self._max_bytes = max_bytes  # for a zip member: its compressed size times the ratio
        self.position = 0
        self.lines = 0  # newlines read so far: locates a refusal raised outside libxml2
        self.record_start = 0
        self.records = 0

    def read(self, size: int) -> bytes:
        data = self._stream.read(size)
        self._digest.update(data)
        self.position += len(data)
        self.lines += data.count(b"\n")
        self._check_limits()
        if self.position - self.record_start > MAX_RECORD_BYTES:
            # raised inside lxml's read callback; lxml passes our exception through unchanged
            raise PatronLoadFileError(
                f"{self._where}:{self.lines + 1}: after {self.records} user record(s), more than "
                f"{MAX_RECORD_BYTES // 2**20} MB without the end of a <user> element; refusing "
                "a record that large (real records are a few kilobytes)"
            )
        return data

    def _check_limits(self) -> None:
        if self._max_bytes is not None and self.position > self._max_bytes:
            raise PatronLoadFileError(
                f"{self._where}: refused: the zip member inflates to more than "
                f"{self._limits.max_ratio} times its compressed size (a zip bomb?)"
            )
        if self._limits.clock() > self._deadline:
            raise PatronLoadFileError(
                f"{self._where}: refused: reading took longer than "
                f"{self._limits.max_seconds:g} s (after {self.records} user records)"
            )

    def record_done(self) -> None:
        self.records += 1
        self.record_start = self.position

    def drain(self) -> None:
        """Hash whatever lxml left unread after the root's end tag."""
        while data := self._stream.read(_CHUNK):
            self._digest.update(data)
            self.position += len(data)
            self._check_limits()


def count_file(
    path: Path, *, file_date: date | None = None, limits: ReadLimits = DEFAULT_LIMITS
) -> PatronLoadFile:
    """Read one SIS file (zip of XML, or XML) and return its aggregate; nothing personal kept.

    The load date is, in order: `file_date` when given; else a date in the file name
    (`patrons_20250301.xml.zip`, `patrons-2025-03-01.xml`; the first one found); else, for a
    zip, the newest modification time of its XML members (written by the tool that built the
    zip, so it survives copying); else the file's own modification time (UTC date).

    A zip (recognised by its first bytes, or by `.zip` in its name) counts every member whose
    name ends in `.xml`; other members (a readme, macOS `__MACOSX/` debris) are skipped.
    `sha256` and `size_bytes` are those of the XML (a zip's XML members in archive order), and
    the name kept is `<load date>-<sha256 start>.<zip|xml>`: the delivered name is not kept.
    """
    path = Path(path)
    digest = hashlib.sha256()
    deadline = limits.clock() + limits.max_seconds
    try:
        stat = path.stat()
        with path.open("rb") as raw:
            head = raw.read(4)
        # known by content (Alma renames picked-up files to .handled); a .zip name that is not
        # a zip inside must say "not a zip file", not "malformed XML"
        zipped = head.startswith(b"PK") or bool(_ZIP_NAME.search(path.name))
        if zipped:
            tally, member_dates, size = _count_zip(path, digest, deadline, limits)
        else:
            tally, member_dates = _Tally(), []
            with path.open("rb") as raw:
                feed = _Feed(raw, str(path), digest, deadline=deadline, limits=limits)
                _count_stream(feed, str(path), tally)
                feed.drain()
            size = feed.position
    except OSError as exc:
        raise PatronLoadFileError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc
    chosen = (
        file_date
        or date_in_name(path.name)
        or max(member_dates, default=None)
        or datetime.fromtimestamp(stat.st_mtime, UTC).date()
    )
    sha256 = digest.hexdigest()
    try:
        return PatronLoadFile(
            file_name=f"{chosen.isoformat()}-{sha256[:16]}.{'zip' if zipped else 'xml'}",
            sha256=sha256,
            file_date=chosen,
            size_bytes=size,
            record_types=tuple(sorted(tally.record_types)),
            users=tally.users,
            users_by_group=tuple(sorted(tally.groups.items())),
            unrecognised_values=tally.unrecognised,
        )
    except ValueError as exc:  # pragma: no cover - the tally keeps only code-shaped values
        raise PatronLoadFileError(f"{path}: {exc}") from exc


def date_in_name(name: str) -> date | None:
    """The first valid calendar date written as YYYYMMDD or YYYY-MM-DD in a file name."""
    for match in _NAME_DATE.finditer(name):
        try:
            return date(int(match[1]), int(match[3]), int(match[4]))
        except ValueError:
            continue  # 20251399 is a number, not a date: look further
    return None


def _is_xml_member(info: zipfile.ZipInfo) -> bool:
    """A member to count: a file ending in .xml, not a macOS `__MACOSX/` or `._` side file."""
    base = info.filename.rsplit("/", 1)[-1]
    return (
        not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not base.startswith(".")
        and base.lower().endswith(".xml")
    )


def _count_zip(
    path: Path, digest: _Digest, deadline: float, limits: ReadLimits
) -> tuple[_Tally, list[date], int]:
    """Every `.xml` member of the zip, in archive order (other members are ignored); returns
    the tally, the members' dates and the XML bytes read."""
    tally = _Tally()
    dates: list[date] = []
    size = 0
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if _is_xml_member(info)]
            if not members:
                raise PatronLoadFileError(
                    f"{path}: the zip holds no XML file (no member ending in .xml)"
                )
            for info in members:
                where = f"{path}[{info.filename}]"
                # measured on the bytes that come out, not the sizes the zip declares
                ceiling = info.compress_size * limits.max_ratio + limits.ratio_slack_bytes
                try:
                    with archive.open(info) as stream:
                        feed = _Feed(
                            stream,
                            where,
                            digest,
                            deadline=deadline,
                            limits=limits,
                            max_bytes=ceiling,
                        )
                        _count_stream(feed, where, tally)
                        feed.drain()
                        size += feed.position
                except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
                    raise PatronLoadFileError(
                        f"{where}: the zip member is damaged or truncated ({exc})"
                    ) from exc
                except (RuntimeError, NotImplementedError) as exc:
                    # encrypted members, or a compression method Python cannot read
                    raise PatronLoadFileError(
                        f"{where}: cannot read the zip member ({exc})"
                    ) from exc
                dates.extend(_member_date(info))
    except (zipfile.BadZipFile, EOFError, NotImplementedError, ValueError) as exc:
        # a damaged central directory shows as any of these (e.g. "zip file version 20.6")
        raise PatronLoadFileError(
            f"{path}: not a zip file, or a truncated or damaged one ({exc})"
        ) from exc
    return tally, dates, size


def _member_date(info: zipfile.ZipInfo) -> list[date]:
    """The member's modification date, if it has a real one (damaged stamps are skipped)."""
    if info.date_time[0] <= _ZIP_EPOCH_YEAR:
        return []
    try:
        return [date(*info.date_time[:3])]
    except ValueError:
        return []


def _user_events(stream: _Readable) -> Any:
    """lxml's iterparse over `<user>` end events (lxml-stubs 0.5 does not describe it)."""
    return etree.iterparse(
        stream,
        events=("end",),
        tag="{*}user",  # matches the local name with or without a namespace
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _count_stream(feed: _Feed, where: str, tally: _Tally) -> None:
    """Count the users of one XML document into `tally`; `where` names it in errors."""
    # libxml2's error log is per thread, not per parse: start clean so that an error can
    # never be reported with a line from a file read earlier
    etree.clear_error_log()
    events = _user_events(feed)
    checked = False
    try:
        user: etree._Element
        for _, user in events:
            if not checked:
                _check_document(user.getroottree(), where)
                checked = True
            parent = user.getparent()
            if parent is not None and parent.getparent() is not None:
                continue  # a <user> nested inside a record is not a record
            tally.add(user)
            feed.record_done()
            user.clear()
            # drop the cleared records before this one so the root never grows
            if parent is not None:
                while user.getprevious() is not None:
                    del parent[0]
        if not checked:
            _check_document(events.root.getroottree(), where)
    except etree.XMLSyntaxError as exc:
        raise PatronLoadFileError(_syntax_message(where, exc)) from exc


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _check_document(tree: etree._ElementTree, where: str) -> None:
    """Refuse a DOCTYPE (entities, external fetches) and a root that is not a user list."""
    # lxml reports any DOCTYPE, even one without an internal subset, as an internal DTD
    dtd: etree.DTD | None = tree.docinfo.internalDTD
    if dtd is not None:
        raise PatronLoadFileError(
            f"{where}: refused: the file has a DOCTYPE declaration; patron-load files never "
            "need one, and a DTD can define entities (an XML bomb) or fetch other files"
        )
    root = tree.getroot()
    if _local_name(str(root.tag)) not in ROOTS:
        # the root's name is not quoted: in a file that is not a patron load, it is anybody's
        line = cast("int | None", root.sourceline) or 0  # the stubs leave sourceline untyped
        raise PatronLoadFileError(
            f"{where}:{line}: the root element is not <users>, <userRecords> or a single "
            "<user> (Alma's user XML); is this a patron-load file?"
        )


_POSITION_SUFFIX = re.compile(r",? line \d+, column \d+$")
_BYTES_DUMP = re.compile(r"\s*Bytes:.*$", re.DOTALL)
_QUOTED = re.compile(r"'[^']*[^\W_][^']*'")  # quoted words; keeps "'<' not found"


def _syntax_message(where: str, exc: etree.XMLSyntaxError) -> str:
    """`file:line:col: message`, worded from libxml2's report without quoting the content."""
    line, column = exc.position
    message = exc.msg or ""
    log: Any = exc.error_log  # lxml-stubs 0.5 declares the log as an empty class
    if line <= 0 and len(log):
        # with entity substitution off, lxml reports "no element found" at 0:0 and keeps
        # libxml2's real complaint (e.g. an undefined entity) in the log
        entry = log[-1]
        line, column, message = entry.line, entry.column, entry.message
    # libxml2 may echo a few raw bytes of an encoding error: they could be part of a name
    message = _POSITION_SUFFIX.sub("", _BYTES_DUMP.sub("", message)).strip()
    # and quotes names taken from the text ("Entity 'Smith' not defined" for "AT&Smith;")
    message = _QUOTED.sub("(name withheld)", message)
    message = " ".join(message.split())[:200] or "not well-formed XML"
    if "entit" in message.lower():
        message += " (patron-load files must not declare or use entities)"
    if line <= 0:
        return f"{where}: {message} (is the file empty or not XML?)"
    return f"{where}:{line}:{column}: {message}"
