"""
The RFC 6962 Merkle tree: hashes, tree heads, inclusion and consistency proofs.

Pure functions over bytes, with no Django and no database, so that the platform, the standalone
verifier and the witness code share one implementation:

- leaf hash ``SHA-256(0x00 || leaf data)`` and node hash ``SHA-256(0x01 || left || right)``
  (RFC 6962 §2.1, the second-preimage protection of RFC 9162 §2.1.1);
- ``root``: the Merkle Tree Hash MTH(D[n]) of a list of leaf hashes;
- ``inclusion_proof`` and ``consistency_proof`` (RFC 6962 §2.1.1 PATH and §2.1.2 PROOF), built
  from any store of perfect-subtree hashes (``node(level, index)``, the hash of leaves
  ``[index * 2**level, (index + 1) * 2**level)``), such as the stored tiles;
- ``verify_inclusion`` and ``verify_consistency``: the verification algorithms of RFC 9162
  §2.1.3.2 and §2.1.4.2, step for step.

Leaf indexes count from 0 (the audit entry of sequence number ``seq`` is leaf ``seq - 1``);
tree sizes count leaves.
"""

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
# MTH({}) = SHA-256() (RFC 6962 §2.1): the root of the empty tree.
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeSource = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof does not verify, or its parameters are out of range."""


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 hash of one leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """Return k, the largest power of two smaller than ``size`` (``size`` >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return MTH(D[n]) of the leaves whose hashes are given, in one left-to-right pass."""
    if not leaf_hashes:
        return EMPTY_ROOT
    # A stack of perfect subtrees (a "compact range"): (level, hash), levels strictly falling.
    stack: list[tuple[int, bytes]] = []
    sha256 = hashlib.sha256
    for value in leaf_hashes:
        level = 0
        while stack and stack[-1][0] == level:
            value = sha256(NODE_PREFIX + stack.pop()[1] + value).digest()
            level += 1
        stack.append((level, value))
    value = stack.pop()[1]
    while stack:
        value = sha256(NODE_PREFIX + stack.pop()[1] + value).digest()
    return value


def split_hashes(data: bytes) -> list[bytes]:
    """Return the hashes of ``data``, hashes of HASH_SIZE bytes one after another (a tile)."""
    return [data[at : at + HASH_SIZE] for at in range(0, len(data), HASH_SIZE)]


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """Return the root of a perfect subtree whose 2**k bottom hashes are given (k >= 0)."""
    level = list(hashes)
    sha256 = hashlib.sha256
    while len(level) > 1:
        level = [
            sha256(NODE_PREFIX + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)
        ]
    return level[0]


def subtree_hash(start: int, end: int, node: NodeSource) -> bytes:
    """
    Return MTH(D[start:end]) from perfect-subtree hashes, for a range that RFC 6962's
    recursion produces: ``start`` a multiple of the smallest power of two >= ``end - start``.

    The range splits into perfect subtrees of falling sizes, folded from the right, exactly
    as MTH splits it.
    """
    if end <= start:
        raise ProofError("empty range")
    pieces = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):  # never for the ranges of the recursion; kept safe
            level -= 1
        pieces.append(node(level, start >> level))
        start += 1 << level
    value = pieces.pop()
    while pieces:
        value = node_hash(pieces.pop(), value)
    return value


def _check_size(index: int, size: int) -> None:
    if not isinstance(index, int) or not isinstance(size, int) or index < 0 or size < 0:
        raise ProofError("indexes and sizes are non-negative integers")


def inclusion_proof(index: int, size: int, node: NodeSource) -> list[bytes]:
    """
    Return the audit path PATH(index, D[size]) of RFC 6962 §2.1.1, nearest the leaf first.

    ``node(level, i)`` gives the hash of the perfect subtree over leaves
    ``[i * 2**level, (i + 1) * 2**level)``, which must lie within the first ``size`` leaves.
    """
    _check_size(index, size)
    if index >= size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    low, high = 0, size
    while high - low > 1:
        k = _split(high - low)
        if index < low + k:
            path.append(subtree_hash(low + k, high, node))
            high = low + k
        else:
            path.append(subtree_hash(low, low + k, node))
            low = low + k
    path.reverse()
    return path


def consistency_proof(size1: int, size2: int, node: NodeSource) -> list[bytes]:
    """
    Return PROOF(size1, D[size2]) of RFC 6962 §2.1.2, from the bottom of the tree up; empty
    when ``size1`` is 0 or equals ``size2`` (nothing to prove).
    """
    _check_size(size1, size2)
    if size1 > size2:
        raise ProofError(f"a tree of {size2} leaves cannot extend one of {size1}")
    if size1 == 0 or size1 == size2:
        return []
    path: list[bytes] = []
    low, high, m, whole = 0, size2, size1, True
    while True:
        if m == high - low:
            if not whole:
                path.append(subtree_hash(low, high, node))
            break
        k = _split(high - low)
        if m <= k:
            path.append(subtree_hash(low + k, high, node))
            high = low + k
        else:
            path.append(subtree_hash(low, low + k, node))
            low, m, whole = low + k, m - k, False
    path.reverse()
    return path


def _check_hashes(proof: Sequence[bytes], *values: bytes) -> None:
    for value in (*proof, *values):
        if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
            raise ProofError("every hash is 32 bytes")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """
    Return the root that ``proof`` leads to from leaf hash ``leaf`` at ``index`` in a tree of
    ``size`` leaves (RFC 9162 §2.1.3.2, steps 1 to 5); raise ProofError when it leads nowhere.
    """
    _check_size(index, size)
    _check_hashes(proof, leaf)
    if index >= size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    fn, sn, value = index, size - 1, bytes(leaf)
    for sibling in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            value = node_hash(sibling, value)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            value = node_hash(value, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is high")
    return value


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """Raise ProofError unless ``proof`` shows leaf hash ``leaf`` at ``index`` under the root."""
    _check_hashes((), expected_root)
    if root_from_inclusion_proof(index, size, leaf, proof) != expected_root:
        raise ProofError("the inclusion proof leads to another root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """
    Raise ProofError unless ``proof`` shows the tree of ``size2`` leaves with root ``root2``
    extends the tree of ``size1`` leaves with root ``root1`` (RFC 9162 §2.1.4.2).

    Equal sizes need equal roots and an empty proof; the empty tree is extended by every
    tree, with an empty proof.
    """
    _check_size(size1, size2)
    if size1 > size2:
        raise ProofError(f"a tree of {size2} leaves cannot extend one of {size1}")
    if size1 == size2:
        if proof:
            raise ProofError("trees of equal size need an empty proof")
        if root1 != root2:
            raise ProofError("trees of equal size with different roots")
        return
    if size1 == 0:
        if proof:
            raise ProofError("the empty tree needs an empty proof")
        return
    _check_hashes(proof, root1, root2)
    # Step 1: an empty proof proves nothing here.
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    # Step 2: a first tree that is a perfect subtree is not in the proof: it starts it.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # Steps 3 and 4.
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    first = second = path[0]
    # Step 6.
    for value in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than needed")
        if fn & 1 or fn == sn:
            first = node_hash(value, first)
            second = node_hash(value, second)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            second = node_hash(second, value)
        fn >>= 1
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise ProofError("the consistency proof is shorter than needed")
    if first != root1:
        raise ProofError("the consistency proof does not lead to the first root")
    if second != root2:
        raise ProofError("the consistency proof does not lead to the second root")


def nodes_from_leaves(leaf_hashes: Sequence[bytes]) -> NodeSource:
    """
    Return a ``node(level, index)`` over leaf hashes held in memory (tests, small trees,
    the standalone verifier), computing each perfect subtree when asked.
    """

    def node(level: int, index: int) -> bytes:
        start = index << level
        hashes = leaf_hashes[start : start + (1 << level)]
        if len(hashes) != 1 << level:
            raise ProofError("no such perfect subtree")
        return perfect_root(hashes)

    return node
