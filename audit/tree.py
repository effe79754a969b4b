"""
The audit log's Merkle tree, stored as C2SP tlog-tiles (height 8) in ``audit_tile``.

Leaf ``i`` is the entry of sequence number ``i + 1``; its leaf data is the entry's canonical
text (``chain.entry_text``: the JCS object without ``hash``), exactly the bytes its chain hash
covers, so leaf hash = SHA-256(0x00 || those bytes).

``append`` is the one call sealing makes: in the sealer's transaction, it adds the leaf hashes
of the entries just sealed to the rightmost tile of level 0 and, as tiles fill, the roots of
full tiles to the level above. It reads and writes only the rightmost tile of each level: the
tree is never recomputed. It needs no lock of its own: the sealer's lock already orders appends.

Everything else reads: tree heads, proofs (``audit.merkle`` over the stored tiles), tiles and
entry bundles for the public endpoints. ``build`` catches a tree up with a log sealed before
the tree existed (``manage.py audit_tree_build``).
"""

import hashlib
import struct
from collections.abc import Callable, Iterable

from django.db import connection, transaction

from . import merkle
from .models import TreeTile

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # hashes in a full tile
FULL_TILE_BYTES = TILE_WIDTH * merkle.HASH_SIZE
TABLE = TreeTile._meta.db_table
# Entry bundles length-prefix each entry with a big-endian uint16 (C2SP tlog-tiles).
MAX_ENTRY_BYTES = 0xFFFF
BUILD_BATCH = 20_000


class TreeError(RuntimeError):
    """The stored tree is not the tree of the sealed entries."""


def leaf_data(text: str) -> bytes:
    """Return the leaf data of an entry from its canonical text."""
    return text.encode()


def _edge() -> tuple[int, dict[int, tuple[int, bytearray]]]:
    """
    Return the tree's size and, per level, its rightmost tile (index, hashes) when partial.

    One query: the last tile of every level.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.level, t.{connection.ops.quote_name('index')}, t.hashes FROM {TABLE} t "
            f"WHERE t.{connection.ops.quote_name('index')} = (SELECT MAX(u."
            f"{connection.ops.quote_name('index')}) FROM {TABLE} u WHERE u.level = t.level)"
        )
        rows = cursor.fetchall()
    last = {level: (index, bytearray(hashes)) for level, index, hashes in rows}
    if 0 not in last:
        return 0, {}
    index, hashes = last[0]
    size = index * TILE_WIDTH + len(hashes) // merkle.HASH_SIZE
    partial = {}
    for level, (index, hashes) in last.items():
        width = (size >> (TILE_HEIGHT * level)) % TILE_WIDTH
        expected_index = size >> (TILE_HEIGHT * (level + 1))
        if width and (index, len(hashes)) == (expected_index, width * merkle.HASH_SIZE):
            partial[level] = (index, hashes)
        elif width or len(hashes) != FULL_TILE_BYTES:
            raise TreeError(f"the rightmost tile of level {level} does not match size {size}")
    return size, partial


def size() -> int:
    """Return the number of leaves in the stored tree."""
    return _edge()[0]


def _write(tiles: dict[tuple[int, int], bytearray]) -> None:
    if not tiles:
        return
    index = connection.ops.quote_name("index")
    rows = [(level, idx, bytes(hashes)) for (level, idx), hashes in sorted(tiles.items())]
    with connection.cursor() as cursor:
        # Both SQLite (3.24+) and PostgreSQL take this upsert: a partial tile grows in place.
        cursor.executemany(
            f"INSERT INTO {TABLE} (level, {index}, hashes) VALUES (%s, %s, %s) "
            f"ON CONFLICT (level, {index}) DO UPDATE SET hashes = excluded.hashes",
            rows,
        )


def append_hashes(start: int, hashes: Iterable[bytes]) -> int:
    """
    Append leaf hashes for leaves ``start``, ``start + 1``...; return the new size.

    A tree behind ``start`` is first caught up from the sealed entries (a log sealed before
    the tree existed); a tree beyond it is refused (TreeError).
    """
    current, partial = _edge()
    if current > start:
        raise TreeError(f"the tree holds {current} leaves; leaf {start} is already in it")
    if current < start:
        build(until=start)
        current, partial = _edge()
    tiles: dict[tuple[int, int], bytearray] = {}
    open_tiles = {level: hashes for level, (_, hashes) in partial.items()}
    position = current
    for value in hashes:
        level, index = 0, position
        while True:
            tile_index = index >> TILE_HEIGHT
            tile = open_tiles.get(level)
            if tile is None:
                tile = open_tiles[level] = bytearray()
            tile += value
            tiles[(level, tile_index)] = tile
            if len(tile) < FULL_TILE_BYTES:
                break
            # A full tile: its root becomes the next hash of the level above.
            value = merkle.perfect_root(merkle.split_hashes(bytes(tile)))
            del open_tiles[level]
            level, index = level + 1, tile_index
        position += 1
    _write(tiles)
    return position


def append(start: int, leaves: Iterable[bytes]) -> int:
    """
    Append entries' leaf data for leaves ``start``, ``start + 1``...; return the new size.

    The sealer calls this in the transaction that seals those entries (``start`` is the
    sequence number of the first one minus 1).
    """
    prefix, sha256 = merkle.LEAF_PREFIX, hashlib.sha256
    return append_hashes(start, (sha256(prefix + data).digest() for data in leaves))


def build(
    *, until: int | None = None, progress: Callable[[int], None] | None = None
) -> tuple[int, int]:
    """
    Add the sealed entries that the tree lacks (up to entry ``until`` when given); return
    (leaves added, new size). The caller holds the sealing lock, or nothing seals meanwhile.
    """
    from . import selectors  # selectors read the tree too

    added = 0
    with transaction.atomic():
        start = size()
        batch: list[bytes] = []
        for row in selectors.chain_rows(start_seq=start + 1, end_seq=until):
            batch.append(leaf_data(row.text()))
            if len(batch) == BUILD_BATCH:
                start = append(start, batch)
                added += len(batch)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            start = append(start, batch)
            added += len(batch)
            if progress:
                progress(len(batch))
    return added, start


# --- Reading ---------------------------------------------------------------------------------


class TileReader:
    """
    Perfect-subtree hashes from stored tiles, each tile read once (``node`` for the proof
    functions of ``audit.merkle``).
    """

    def __init__(self) -> None:
        self.tiles: dict[tuple[int, int], bytes] = {}
        self.cache: dict[tuple[int, int], bytes] = {}

    def tile(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self.tiles:
            hashes = (
                TreeTile.objects.filter(level=level, index=index)
                .values_list("hashes", flat=True)
                .first()
            )
            self.tiles[key] = bytes(hashes) if hashes is not None else b""
        return self.tiles[key]

    def prefetch(self, keys: Iterable[tuple[int, int]]) -> None:
        """Read the tiles at ``keys`` (level, index) in one query."""
        wanted = {key for key in keys if key not in self.tiles}
        if not wanted:
            return
        q = TreeTile.objects.none()
        for level in {level for level, _ in wanted}:
            q = q | TreeTile.objects.filter(
                level=level, index__in=[index for lvl, index in wanted if lvl == level]
            )
        for level, index, hashes in q.values_list("level", "index", "hashes"):
            self.tiles[(level, index)] = bytes(hashes)
        for key in wanted:
            self.tiles.setdefault(key, b"")

    def node(self, level: int, index: int) -> bytes:
        """Return the hash of the perfect subtree over leaves [index * 2**level, ...)."""
        key = (level, index)
        value = self.cache.get(key)
        if value is not None:
            return value
        tile_level, height = divmod(level, TILE_HEIGHT)
        first = index << height  # position of its first hash at the tile level
        tile = self.tile(tile_level, first >> TILE_HEIGHT)
        offset = (first % TILE_WIDTH) * merkle.HASH_SIZE
        count = 1 << height
        hashes = tile[offset : offset + count * merkle.HASH_SIZE]
        if len(hashes) != count * merkle.HASH_SIZE:
            raise TreeError(f"the tree has no node {level}/{index}")
        value = merkle.perfect_root(merkle.split_hashes(hashes))
        self.cache[key] = value
        return value


def _proof_tiles(size: int, *indexes: int) -> list[tuple[int, int]]:
    """Return the tiles a proof about leaves ``indexes`` in a tree of ``size`` leaves reads."""
    keys = []
    level = 0
    while (size - 1) >> (TILE_HEIGHT * level) or level == 0:
        shift = TILE_HEIGHT * (level + 1)
        # A path's siblings at this tile level lie in its own tile; the pieces of the tree's
        # right edge lie in the tile of its last leaf.
        for leaf in (*indexes, size - 1):
            keys.append((level, leaf >> shift))
        level += 1
        if TILE_HEIGHT * level >= 64:
            break
    return keys


def proof_reader(tree_size: int, *indexes: int) -> tuple[int | None, TileReader]:
    """
    Return (the newest checkpoint's tree size or None, a TileReader holding the tiles a proof
    about leaves ``indexes`` in the tree of ``tree_size`` leaves needs), in one round trip:
    what the public proofs read per request.
    """
    from .models import Checkpoint

    keys = sorted(set(_proof_tiles(tree_size, *indexes)))
    index = connection.ops.quote_name("index")
    levels = sorted({level for level, _ in keys})
    where = " OR ".join(
        f"(level = %s AND {index} IN ({', '.join(['%s'] * sum(1 for k in keys if k[0] == lvl))}))"
        for lvl in levels
    )
    params: list[int] = []
    for lvl in levels:
        params += [lvl, *(i for level, i in keys if level == lvl)]
    reader = TileReader()
    newest = None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT -1, -1, NULL, (SELECT seq FROM {Checkpoint._meta.db_table} WHERE root <> '' "
            f"ORDER BY seq DESC LIMIT 1) UNION ALL "
            f"SELECT level, {index}, hashes, NULL FROM {TABLE} WHERE {where}",
            params,
        )
        for level, idx, hashes, size in cursor.fetchall():
            if level == -1:
                newest = size
            else:
                reader.tiles[(level, idx)] = bytes(hashes)
    for key in keys:
        reader.tiles.setdefault(key, b"")
    return newest, reader


def root(tree_size: int, reader: TileReader | None = None) -> bytes:
    """Return the RFC 6962 root of the first ``tree_size`` leaves."""
    if tree_size == 0:
        return merkle.EMPTY_ROOT
    reader = reader or TileReader()
    reader.prefetch(_proof_tiles(tree_size))
    return merkle.subtree_hash(0, tree_size, reader.node)


def leaf_hash_at(index: int, reader: TileReader | None = None) -> bytes:
    reader = reader or TileReader()
    return reader.node(0, index)


def inclusion_proof(index: int, tree_size: int) -> tuple[bytes, list[bytes]]:
    """Return (leaf hash, audit path) of leaf ``index`` in the tree of ``tree_size`` leaves."""
    reader = TileReader()
    reader.prefetch(_proof_tiles(tree_size, index))
    return reader.node(0, index), merkle.inclusion_proof(index, tree_size, reader.node)


def consistency_proof(size1: int, size2: int) -> list[bytes]:
    """Return the RFC 6962 consistency proof between the trees of ``size1`` and ``size2``."""
    reader = TileReader()
    reader.prefetch(_proof_tiles(size2, max(size1 - 1, 0)))
    return merkle.consistency_proof(size1, size2, reader.node)


def tile_bytes(level: int, index: int, width: int = TILE_WIDTH) -> bytes | None:
    """Return the first ``width`` hashes of tile ``level``/``index``; None when it has fewer."""
    hashes = TileReader().tile(level, index)
    want = width * merkle.HASH_SIZE
    return hashes[:want] if len(hashes) >= want else None


def entry_bundle(index: int, width: int = TILE_WIDTH) -> bytes | None:
    """
    Return entry bundle ``index`` (C2SP tlog-tiles): the leaf data of entries
    ``index * 256 + 1 ...``, ``width`` of them, each prefixed with its length as a big-endian
    uint16; None when fewer are sealed.
    """
    from . import selectors

    first = index * TILE_WIDTH + 1
    parts = []
    for row in selectors.chain_rows(start_seq=first, end_seq=first + width - 1):
        data = leaf_data(row.text())
        if len(data) > MAX_ENTRY_BYTES:
            raise TreeError(f"entry {row.seq} is longer than an entry bundle can hold")
        parts.append(struct.pack(">H", len(data)) + data)
    if len(parts) != width:
        return None
    return b"".join(parts)


def parse_entry_bundle(bundle: bytes) -> list[bytes]:
    """Return the entries' leaf data in an entry bundle."""
    entries, at = [], 0
    while at < len(bundle):
        if at + 2 > len(bundle):
            raise ValueError("truncated length prefix")
        (length,) = struct.unpack_from(">H", bundle, at)
        at += 2
        if at + length > len(bundle):
            raise ValueError("truncated entry")
        entries.append(bundle[at : at + length])
        at += length
    return entries


def encode_index(index: int) -> str:
    """
    Return a tile index as tlog-tiles writes it: zero-padded 3-digit elements, all but the
    last starting with ``x`` (1234067 -> ``x001/x234/067``).
    """
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    elements = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + e for e in elements[:-1]), elements[-1]])


def tile_path(level: int | str, index: int, width: int | None = None) -> str:
    """
    Return a tile's path below the log's prefix, e.g. ``tile/0/x001/x234/067`` or
    ``tile/entries/000.p/5`` (``level`` "entries" for an entry bundle).
    """
    suffix = f".p/{width}" if width is not None and width < TILE_WIDTH else ""
    return f"tile/{level}/{encode_index(index)}{suffix}"


def parse_tile_address(
    level: str, index: str, width: str | None
) -> tuple[int | None, int, int] | None:
    """
    Return (level, index, width) of a tile path's parts, level None for an entry bundle and
    width 256 for a full tile; None unless the path is written exactly as tlog-tiles says
    (no leading zeros in the level or width, the canonical elements of the index).
    """
    if level == "entries":
        level_number = None
    elif level.isascii() and level.isdigit() and str(int(level)) == level and int(level) < 64:
        level_number = int(level)
    else:
        return None
    if width is None:
        width_number = TILE_WIDTH
    elif width.isascii() and width.isdigit() and str(int(width)) == width:
        width_number = int(width)
        if not 1 <= width_number < TILE_WIDTH:
            return None
    else:
        return None
    digits = index.replace("x", "").replace("/", "")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 21:
        return None
    if encode_index(int(digits)) != index:
        return None
    index_number = int(digits)
    return level_number, index_number, width_number


def tile_covered(address: tuple[int | None, int, int], tree_size: int) -> bool:
    """Return True if the tile (or entry bundle) lies within the tree of ``tree_size`` leaves."""
    level, index, width = address
    span = TILE_WIDTH ** (level or 0)  # leaves under one hash of the tile
    return (index * TILE_WIDTH + width) * span <= tree_size
