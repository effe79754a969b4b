"""
RFC 6962 hashing, tree heads and proofs against published reference vectors.

The vectors are copied from transparency-dev/merkle (the Go library behind Trillian and
Tessera, itself carried over from the Certificate Transparency reference code):

- ``rfc6962/rfc6962_test.go`` (TestRFC6962Hasher): the empty root, leaf and node hashes;
- ``proof/verify_test.go``: the eight leaves of RFC 6962's test tree, the roots of its first
  1..8 leaves, and the inclusion and consistency proofs over them, with the same corrupted
  probes (``corruptInclusionProof``, ``corruptConsistencyProof``) that must all fail;
- ``testdata/inclusion/1/happy-path.json`` and ``testdata/consistency/{1,3,4}/happy-path.json``
  verbatim (the same vectors in JSON, base64 encoded).
"""

import base64
import hashlib
import json

import pytest

from audit import merkle

H = bytes.fromhex

# rfc6962/rfc6962_test.go
EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
EMPTY_LEAF = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
LEAF_L123456 = "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
NODE_N123_N456 = "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"

# proof/verify_test.go
LEAVES = [
    H(""),
    H("00"),
    H("10"),
    H("2021"),
    H("3031"),
    H("40414243"),
    H("5051525354555657"),
    H("606162636465666768696a6b6c6d6e6f"),
]
ROOTS = [
    H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    H("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    H("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    H("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    H("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    H("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
# (leaf, size, proof): ``leaf`` counts from 1 there, as in the Go file.
INCLUSION_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (3, 3, [H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        2,
        5,
        [
            H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
CONSISTENCY_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
SOME_HASH = H("abacaba000000000000000000000000000000000000000000060061e00123456")

# testdata/*/happy-path.json, verbatim.
INCLUSION_JSON = (
    '{"leafIdx":0,"treeSize":8,"root":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",'
    '"leafHash":"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",'
    '"proof":["lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",'
    '"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",'
    '"a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="],"desc":"happy path","wantErr":false}'
)
CONSISTENCY_JSON = [
    """{"size1": 1, "size2": 8,
  "root1": "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
  "root2": "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
  "proof": ["lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
    "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
    "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="],
  "desc": "happy path", "wantErr": false}""",
    """{"size1": 2, "size2": 5,
  "root1": "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=",
  "root2": "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
  "proof": ["Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
    "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="],
  "desc": "happy path", "wantErr": false}""",
    """{"size1": 6, "size2": 7,
  "root1": "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=",
  "root2": "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=",
  "proof": ["DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
    "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=",
    "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="],
  "desc": "happy path", "wantErr": false}""",
]

LEAF_HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_hasher_matches_the_reference():
    assert merkle.EMPTY_ROOT.hex() == EMPTY_ROOT
    assert merkle.root([]).hex() == EMPTY_ROOT
    assert merkle.leaf_hash(b"").hex() == EMPTY_LEAF
    assert merkle.leaf_hash(b"L123456").hex() == LEAF_L123456
    assert merkle.node_hash(b"N123", b"N456").hex() == NODE_N123_N456


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_the_reference_tree(size):
    assert merkle.root(LEAF_HASHES[:size]) == ROOTS[size - 1]


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION_PROOFS)
def test_inclusion_proofs_are_the_reference_ones(leaf, size, proof):
    node = merkle.nodes_from_leaves(LEAF_HASHES[:size])
    assert merkle.inclusion_proof(leaf - 1, size, node) == proof
    merkle.verify_inclusion(leaf - 1, size, LEAF_HASHES[leaf - 1], proof, ROOTS[size - 1])


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_PROOFS)
def test_consistency_proofs_are_the_reference_ones(size1, size2, proof):
    node = merkle.nodes_from_leaves(LEAF_HASHES[:size2])
    assert merkle.consistency_proof(size1, size2, node) == proof
    merkle.verify_consistency(size1, size2, proof, ROOTS[size1 - 1], ROOTS[size2 - 1])


def test_the_json_test_data_verifies():
    case = json.loads(INCLUSION_JSON)
    merkle.verify_inclusion(
        case["leafIdx"],
        case["treeSize"],
        b64(case["leafHash"]),
        [b64(p) for p in case["proof"]],
        b64(case["root"]),
    )
    for text in CONSISTENCY_JSON:
        case = json.loads(text)
        merkle.verify_consistency(
            case["size1"],
            case["size2"],
            [b64(p) for p in case["proof"]],
            b64(case["root1"]),
            b64(case["root2"]),
        )


def corrupt_inclusion(index, size, proof, root, leaf):
    """The probes of corruptInclusionProof in proof/verify_test.go."""
    probes = [
        (index - 1, size, root, leaf, proof, "leafIndex - 1"),
        (index + 1, size, root, leaf, proof, "leafIndex + 1"),
        (index ^ 2, size, root, leaf, proof, "leafIndex ^ 2"),
        (index, size * 2, root, leaf, proof, "treeSize * 2"),
        (index, size // 2, root, leaf, proof, "treeSize / 2"),
        (index, size, root, b"WrongLeaf", proof, "wrong leaf"),
        (index, size, H(EMPTY_ROOT), leaf, proof, "empty root"),
        (index, size, SOME_HASH, leaf, proof, "random root"),
        (index, size, root, leaf, [*proof, b""], "trailing garbage"),
        (index, size, root, leaf, [*proof, root], "trailing root"),
        (index, size, root, leaf, [b"", *proof], "preceding garbage"),
        (index, size, root, leaf, [root, *proof], "preceding root"),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 8]) + wrong[i][1:]
        probes.append((index, size, root, leaf, wrong, f"modified proof[{i}] bit 3"))
    if proof:
        probes.append((index, size, root, leaf, proof[:-1], "removed component"))
    if len(proof) > 1:
        probes.append((index, size, root, leaf, [proof[0], SOME_HASH, *proof[1:]], "inserted"))
    return probes


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION_PROOFS)
def test_corrupted_inclusion_proofs_fail(leaf, size, proof):
    root, leaf_hash = ROOTS[size - 1], LEAF_HASHES[leaf - 1]
    for index, tree_size, probe_root, probe_leaf, probe, desc in corrupt_inclusion(
        leaf - 1, size, proof, root, leaf_hash
    ):
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, tree_size, probe_leaf, probe, probe_root)
            pytest.fail(f"verified a corrupted proof: {desc}")


def corrupt_consistency(size1, size2, root1, root2, proof):
    """The probes of corruptConsistencyProof in proof/verify_test.go."""
    probes = [
        (size1 - 1, size2, root1, root2, proof, "size1 - 1"),
        (size1 + 1, size2, root1, root2, proof, "size1 + 1"),
        (size1 ^ 2, size2, root1, root2, proof, "size1 ^ 2"),
        (size1, size2 * 2, root1, root2, proof, "size2 * 2"),
        (size1, size2 // 2, root1, root2, proof, "size2 / 2"),
        (size1, size2, b"WrongRoot", root2, proof, "wrong root1"),
        (size1, size2, root1, b"WrongRoot", proof, "wrong root2"),
        (size1, size2, root2, root1, proof, "swapped roots"),
        (size1, size2, root1, root2, [], "empty proof"),
        (size1, size2, root1, root2, [*proof, b""], "trailing garbage"),
        (size1, size2, root1, root2, [*proof, root1], "trailing root1"),
        (size1, size2, root1, root2, [*proof, root2], "trailing root2"),
        (size1, size2, root1, root2, [b"", *proof], "preceding garbage"),
        (size1, size2, root1, root2, [root1, *proof], "preceding root1"),
        (size1, size2, root1, root2, [root2, *proof], "preceding root2"),
        (size1, size2, root1, root2, [proof[0], *proof], "preceding proof[0]"),
        (size1, size2, root1, root2, proof[:-1], "truncated proof"),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 16]) + wrong[i][1:]
        probes.append((size1, size2, root1, root2, wrong, f"modified proof[{i}] bit 4"))
    return probes


@pytest.mark.parametrize(("size1", "size2", "proof"), [c for c in CONSISTENCY_PROOFS if c[2]])
def test_corrupted_consistency_proofs_fail(size1, size2, proof):
    for s1, s2, r1, r2, probe, desc in corrupt_consistency(
        size1, size2, ROOTS[size1 - 1], ROOTS[size2 - 1], proof
    ):
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(s1, s2, probe, r1, r2)
            pytest.fail(f"verified a corrupted proof: {desc}")


def test_trivial_consistency_as_the_reference_decides():
    """TestVerifyConsistency's table in proof/verify_test.go."""
    root1, root2 = b"don't care 1", b"don't care 2"
    empty = H(EMPTY_ROOT)
    cases = [
        (0, 0, root1, root2, [], True),
        (1, 1, root1, root2, [], True),
        (0, 0, root1, root1, [], False),
        (0, 1, root1, root2, [], False),
        (1, 1, root2, root2, [], False),
        (1, 0, root1, root2, [], True),
        (2, 1, root1, root2, [], True),
        (1, 2, root1, root2, [], True),
        (0, 0, empty, root2, [], True),
        (1, 1, empty, root2, [], True),
        (0, 0, empty, empty, [empty], True),
        (0, 1, empty, empty, [empty], True),
        (1, 1, empty, empty, [empty], True),
    ]
    for size1, size2, r1, r2, proof, want_error in cases:
        if want_error:
            with pytest.raises(merkle.ProofError):
                merkle.verify_consistency(size1, size2, proof, r1, r2)
        else:
            merkle.verify_consistency(size1, size2, proof, r1, r2)


def test_single_entry_inclusion():
    """TestVerifyInclusionSingleEntry: the root of a one-leaf tree is the leaf hash."""
    leaf = merkle.leaf_hash(b"data")
    merkle.verify_inclusion(0, 1, leaf, [], leaf)
    for root, candidate in ((leaf, b""), (b"", leaf), (b"", b"")):
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(0, 1, candidate, [], root)
    for index, size in ((0, 0), (1, 0), (2, 1)):
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, SOME_HASH, [], H(EMPTY_ROOT))


def reference_mth(hashes):
    """MTH exactly as RFC 6962 §2.1 writes it, recursively."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return merkle.node_hash(reference_mth(hashes[:k]), reference_mth(hashes[k:]))


def test_every_proof_of_larger_trees_verifies():
    """Beyond the eight reference leaves: every index and every pair of sizes up to 70."""
    hashes = [merkle.leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(70)]
    node = merkle.nodes_from_leaves(hashes)
    roots = [None] + [merkle.root(hashes[:n]) for n in range(1, 71)]
    for size in range(1, 71):
        assert roots[size] == reference_mth(hashes[:size])
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, node)
            merkle.verify_inclusion(index, size, hashes[index], proof, roots[size])
        for size1 in range(1, size + 1):
            proof = merkle.consistency_proof(size1, size, node)
            merkle.verify_consistency(size1, size, proof, roots[size1], roots[size])
            if size1 < size:
                with pytest.raises(merkle.ProofError):
                    merkle.verify_consistency(size1, size, proof, roots[size1], roots[size - 1])


def test_bad_parameters_are_proof_errors():
    node = merkle.nodes_from_leaves(LEAF_HASHES)
    for call in (
        lambda: merkle.inclusion_proof(8, 8, node),
        lambda: merkle.inclusion_proof(-1, 8, node),
        lambda: merkle.consistency_proof(5, 4, node),
        lambda: merkle.consistency_proof(-1, 4, node),
    ):
        with pytest.raises(merkle.ProofError):
            call()
