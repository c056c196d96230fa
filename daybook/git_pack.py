"""Git objects written as one pack (and its index) rather than one loose file each.

An update's commit stores some 1,400 objects (a blob per file written, the trees on the
way to them). As loose objects each is a file created and renamed into place, some
250 µs apiece on the machine of BENCHMARKS.md; as one pack it is two files. The formats
are git's (Documentation/gitformat-pack.txt): a version 2 pack of whole objects (no
deltas: ``git gc`` makes those when it repacks) and a version 2 index.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import threading
import zlib

from daybook.errors import GitError

# The zlib level git compresses objects with (core.compression's default)...
COMPRESSION = 1
# ... but an object larger than this is stored (level 0, valid zlib all the same): the tree
# of a flat folder of 160,000 pages is 9 MB that level 1 takes 90 ms to compress, at every
# commit. Larger on disk until ``git gc`` repacks it (and makes it a delta) anyway.
STORE_ABOVE = 512 * 1024
TYPES = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}
# Left by a run killed while it wrote a pack: removed by the next (``remove_leftovers``).
TEMPORARY_PREFIX = "tmp_daybook_"


def object_id(kind: bytes, body: bytes) -> bytes:
    """The binary SHA-1 git names an object by."""
    digest = hashlib.sha1(b"%s %d\0" % (kind, len(body)), usedforsecurity=False)
    digest.update(body)
    return digest.digest()


def entry_header(kind: bytes, size: int) -> bytes:
    """A packed object's header: its type and size, 4 bits then 7 bits a byte, little end first."""
    out = bytearray()
    byte = (TYPES[kind] << 4) | (size & 0x0F)
    size >>= 4
    while size:
        out.append(byte | 0x80)
        byte = size & 0x7F
        size >>= 7
    out.append(byte)
    return bytes(out)


def pack_index(entries: list[tuple[bytes, int, int]], pack_checksum: bytes) -> bytes:
    """The version 2 index of a pack: ``entries`` (object id, CRC-32 of its packed bytes,
    offset in the pack), in any order."""
    entries = sorted(entries)
    fanout = [0] * 256
    for oid, _, _ in entries:
        fanout[oid[0]] += 1
    running = 0
    for at in range(256):
        running += fanout[at]
        fanout[at] = running
    small: list[int] = []
    large: list[int] = []
    for _, _, offset in entries:
        if offset < 0x80000000:
            small.append(offset)
        else:  # an index into the table of 8-byte offsets
            small.append(0x80000000 | len(large))
            large.append(offset)
    body = b"".join(
        [
            b"\377tOc",
            struct.pack(">I", 2),
            struct.pack(">256I", *fanout),
            *(oid for oid, _, _ in entries),
            struct.pack(f">{len(entries)}I", *(crc for _, crc, _ in entries)),
            struct.pack(f">{len(small)}I", *small),
            struct.pack(f">{len(large)}Q", *large),
            pack_checksum,
        ]
    )
    return body + hashlib.sha1(body, usedforsecurity=False).digest()


class PackWriter:
    """Collects objects and writes them as one pack into ``pack_folder`` (a repository's
    ``objects/pack``) at ``finish``. Objects given before then are not in the repository
    yet: git sees them once ``finish`` returns. Safe to use from several threads."""

    def __init__(self, pack_folder: bytes, label: str) -> None:
        self._folder = pack_folder
        self._label = label  # the repository, for errors
        self._lock = threading.Lock()
        self._chunks: list[bytes] = []
        self._entries: list[tuple[bytes, int, int]] = []  # (id, crc, offset)
        self._ids: set[bytes] = set()
        self._offset = 12  # after the pack's header

    def write(self, kind: bytes, body: bytes) -> bytes:
        """Add an object (once, however often given); its binary id."""
        oid = object_id(kind, body)
        with self._lock:
            if oid in self._ids:
                return oid
            self._ids.add(oid)
        packer = zlib.compressobj(COMPRESSION if len(body) <= STORE_ABOVE else 0)
        packed = entry_header(kind, len(body)) + packer.compress(body) + packer.flush()
        with self._lock:
            self._entries.append((oid, zlib.crc32(packed), self._offset))
            self._chunks.append(packed)
            self._offset += len(packed)
        return oid

    def finish(self) -> str | None:
        """Write the pack and its index (each to a temporary file renamed into place, the
        pack first: git takes a pack only once its index is there); its name, or None if
        no object was given. The writer starts empty again."""
        with self._lock:
            chunks, entries = self._chunks, self._entries
            self._chunks, self._entries, self._ids, self._offset = [], [], set(), 12
        if not entries:
            return None
        digest = hashlib.sha1(usedforsecurity=False)
        header = b"PACK" + struct.pack(">II", 2, len(entries))
        digest.update(header)
        for chunk in chunks:
            digest.update(chunk)
        checksum = digest.digest()
        name = b"pack-" + checksum.hex().encode()
        try:
            os.makedirs(self._folder, exist_ok=True)
            self._place(name + b".pack", [header, *chunks, checksum])
            self._place(name + b".idx", [pack_index(entries, checksum)])
        except OSError as error:
            raise GitError(f"{self._label}: cannot write a git pack: {error}") from None
        return name.decode()

    def _place(self, name: bytes, parts: list[bytes]) -> None:
        target = os.path.join(self._folder, name)
        if os.path.exists(target):  # the same objects, packed before
            return
        handle, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX.encode(), dir=self._folder)
        try:
            os.fchmod(handle, 0o444)  # read-only, as git makes them
            with open(handle, "wb") as out:
                out.writelines(parts)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise


def remove_leftovers(pack_folder: bytes, older_than: float, now: float) -> None:
    """Remove the temporary files of packs a killed run left (older than ``older_than``
    seconds: a younger one may be another run's, at work)."""
    try:
        names = os.listdir(pack_folder)
    except FileNotFoundError:
        return
    for name in names:
        if name.startswith(TEMPORARY_PREFIX.encode()):
            path = os.path.join(pack_folder, name)
            try:
                if now - os.stat(path).st_mtime > older_than:
                    os.unlink(path)
            except FileNotFoundError:
                pass
