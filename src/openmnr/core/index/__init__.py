"""Match indices: PDQ hashes within a Hamming radius, and MD5 / SHA-256 digests exactly.

The whole public interface::

    from openmnr.core.index import PDQIndex, ExactIndex, DIGEST_SIZES

    pdq = PDQIndex.build(hashes, ids)          # or PDQIndex() and add()
    pdq.query(h) / pdq.query_batch(hs) / pdq.query_variants(dihedral_hs)   # -> Matches
    pdq.add(hs, ids); pdq.remove(ids); pdq.compact(); len(pdq)
    pdq.save(path); PDQIndex.load(path)        # one file, mapped read-only on load

    md5 = ExactIndex.build(DIGEST_SIZES["md5"], digests, ids)
    md5.query(d) -> ids / md5.query_batch(ds) -> [ids]; add, remove, save, load as above

Hashes and digests are given as hex strings, raw bytes or uint8 numpy arrays; ids are int64 values
chosen by the caller (a bank entry's primary key). Bad input raises ``IndexInputError`` and a bad
file ``IndexFileError``, both ``MatchIndexError``. Nothing here logs or returns hash values in
errors: hash lists are sensitive.

``pdq.py`` explains how the index is organised and kept current; ``mih.py`` the search algorithm;
docs/matching.md the design and its benchmark.
"""

from openmnr.core.index.errors import IndexFileError, IndexInputError, MatchIndexError
from openmnr.core.index.exact import DIGEST_SIZES, ExactIndex
from openmnr.core.index.pdq import DEFAULT_RADIUS, MAX_RADIUS, Matches, PDQIndex

__all__ = [
    "DEFAULT_RADIUS",
    "DIGEST_SIZES",
    "MAX_RADIUS",
    "ExactIndex",
    "IndexFileError",
    "IndexInputError",
    "Matches",
    "MatchIndexError",
    "PDQIndex",
]
