"""Exact and near-duplicate detection: normalised-text hashes, then MinHash + LSH.

Near duplicates: shingles are character 5-grams for zh and word 5-grams for en, after
NFKC, lower-casing and punctuation removal. Normalising and shingling run on numpy over
a whole batch (a code-point table for word characters instead of a per-character regular
expression; a rolling hash over code points or word hashes: no Python string per
shingle), so their per-call cost is paid once per batch, not per document; signatures come from `rensa` (Rust
MinHash over the flat hash buffer, far faster than datasketch); `bands` x `rows`
LSH buckets (default 16 x 8 of 128 permutations) give candidate pairs, a candidate is an
edge when the signatures agree on at least `threshold` of their positions, and clusters
are the connected components (union-find). The first document of a cluster, in input
order, is kept: the choice does not depend on process count.

LSH S-curve, P(candidate) = 1 - (1 - s^rows)^bands for Jaccard s: with 16 x 8,
s = 0.70: 0.66, 0.75: 0.82, 0.80: 0.95, 0.85: 0.99, 0.90: >0.999.
"""
from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from ..codepoints import classify, codepoints


@dataclass(frozen=True)
class DedupConfig:
    """MinHash and LSH parameters (defaults find pairs at Jaccard 0.8 with probability 0.95)."""

    num_perm: int = 128
    bands: int = 16
    rows: int = 8
    ngram: int = 5
    threshold: float = 0.7   # share of equal signature positions that makes a candidate an edge
    seed: int = 42

    def __post_init__(self) -> None:
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows ({self.bands} x {self.rows}) exceeds num_perm ({self.num_perm})")


def _spaced(texts: list[str]) -> list[str]:
    """`re.sub(r"[\\W_]+", " ", text)` for each text, vectorised over the batch: each run
    of non-word characters becomes one space (the regular expression takes ~70 us per
    1000 characters, one step per character; this pays numpy's per-call cost once)."""
    cps = codepoints("".join(texts))
    ends = np.cumsum([len(t) for t in texts], dtype=np.int64)
    starts = ends - np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    word = classify(cps, "alnum")  # what `\w` matches, less `_`
    keep = word.copy()
    keep[1:] |= word[:-1]                     # a run's first character stands for the run,
    keep[starts[starts < ends]] = True        # a text's first character starts a run
    out = np.where(word[keep], cps[keep], np.uint32(32))
    kept = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
    joined = out.tobytes().decode("utf-32-le", "surrogatepass")
    return [joined[a:b] for a, b in zip(kept[starts].tolist(), kept[ends].tolist())]


def normalize_batch(texts: list[str]) -> list[str]:
    """NFKC, lower case, no punctuation, single spaces: what both dedups compare.
    Punctuation goes first: Chinese text is full of full-width marks, which alone would
    make every document need NFKC; what remains is usually NFKC already (a C-fast check)."""
    spaced = _spaced(texts) if texts else []
    for k, text in enumerate(spaced):
        if not unicodedata.is_normalized("NFKC", text):
            spaced[k] = _spaced([unicodedata.normalize("NFKC", text)])[0]
    return [text.lower().strip() for text in spaced]


def normalize(text: str) -> str:
    return normalize_batch([text])[0]


def digest(norm: str) -> bytes:
    """The exact-duplicate key of a normalised text."""
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=16).digest()


def shingles(text: str, lang: str, n: int = 5) -> list[str]:
    """Character n-grams (spaces removed) for zh, word n-grams otherwise; a text shorter
    than n units is one shingle. `shingle_hashes` hashes exactly these, without strings."""
    norm = normalize(text)
    if lang == "zh":
        chars = norm.replace(" ", "")
        return [chars[i:i + n] for i in range(max(1, len(chars) - n + 1))] if chars else []
    words = norm.split()
    return [" ".join(words[i:i + n]) for i in range(max(1, len(words) - n + 1))] if words else []


_MIX = np.uint64(0x9E3779B97F4A7C15)
_POLY = np.uint64(0x100000001B3)
_POWERS = np.ones(1, dtype=np.uint64)
_INVERSE = np.ones(1, dtype=np.uint64)


def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """_POLY ** k and its inverse modulo 2^64 (_POLY is odd) for k < size, grown on demand."""
    global _POWERS, _INVERSE
    if len(_POWERS) < size:
        size = max(size, 2 * len(_POWERS))
        grown = np.full(size, _POLY, dtype=np.uint64)
        grown[0] = 1
        _POWERS = np.cumprod(grown)  # uint64 products wrap: arithmetic modulo 2^64
        grown[1:] = np.uint64(pow(int(_POLY), -1, 2 ** 64))
        _INVERSE = np.cumprod(grown)
    return _POWERS[:size], _INVERSE[:size]


def _word_hashes(chars: np.ndarray, first: np.ndarray) -> np.ndarray:
    """One 64-bit hash per word: `chars` holds the words' code points back to back and
    `first` where each word starts. A polynomial over the code points (positions counted
    from the batch's start, then shifted to the word's by the inverse power), finalised."""
    powers, inverse = _powers(len(chars))
    h = np.add.reduceat(chars.astype(np.uint64) * powers[:len(chars)], first) * inverse[first]
    h = (h ^ (h >> np.uint64(31))) * _MIX
    return h ^ (h >> np.uint64(29))


def shingle_hashes(norms: list[str], lang: str, n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """The hashes of `shingles` of normalised texts, flat, with each text's offsets into
    them (`offsets[i]:offsets[i+1]`). Units are code points for zh and word hashes for en;
    a rolling hash covers each run of n units inside one text. One pass over the batch."""
    cps = codepoints("".join(norms))
    lengths = np.fromiter(map(len, norms), dtype=np.int64, count=len(norms))
    doc = np.repeat(np.arange(len(norms)), lengths)
    letter = cps != 32  # a normalised text is words and single spaces
    if lang == "zh":
        units, unit_doc = cps[letter].astype(np.uint64), doc[letter]
    else:
        start = letter.copy()
        start[1:] &= ~letter[:-1]
        start[(np.cumsum(lengths) - lengths)[lengths > 0]] = True  # a text starts with a word
        units = _word_hashes(cps[letter], np.flatnonzero(start[letter])) if letter.any() else \
            np.zeros(0, dtype=np.uint64)
        unit_doc = doc[start]
    counts = np.bincount(unit_doc, minlength=len(norms))
    short = np.flatnonzero(counts < n)
    if len(short):  # a text shorter than n units is one shingle: zero units pad it
        pad = np.repeat(short, n - counts[short])
        at = np.searchsorted(unit_doc, pad, side="right")
        units, unit_doc = np.insert(units, at, 0), np.insert(unit_doc, at, pad)
        if lang == "zh":  # an empty zh text counts as one space
            units[np.searchsorted(unit_doc, short[counts[short] == 0])] = 32
    m = len(units) - n + 1
    h = np.zeros(m, dtype=np.uint64)
    for k in range(n):
        h = (h ^ units[k:k + m]) * _MIX
    h ^= h >> np.uint64(29)
    offsets = np.zeros(len(norms) + 1, dtype=np.uint64)
    np.cumsum(np.maximum(counts, n) - n + 1, out=offsets[1:])
    return h[unit_doc[:m] == unit_doc[n - 1:]], offsets


def signatures(texts: list[str], lang: str, config: DedupConfig, normalized: bool = False) -> np.ndarray:
    """MinHash signatures, one row of `num_perm` uint32 per text (rensa over the shingle hashes)."""
    from rensa import RMinHash

    flat, offsets = shingle_hashes(texts if normalized else normalize_batch(texts), lang, config.ngram)
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, config.num_perm, config.seed)
    return np.asarray(matrix.to_rows(), dtype=np.uint32).reshape(len(texts), config.num_perm)


def band_keys(sigs: np.ndarray, config: DedupConfig) -> np.ndarray:
    """One 64-bit key per (document, band): a hash of the band's rows."""
    rows = sigs[:, : config.bands * config.rows].reshape(len(sigs), config.bands, config.rows).astype(np.uint64)
    key = np.zeros((len(sigs), config.bands), dtype=np.uint64)
    for r in range(config.rows):  # FNV-style mixing, vectorised; collisions are checked by `threshold`
        key = (key ^ rows[:, :, r]) * np.uint64(1099511628211)
    return key


@dataclass
class Clusters:
    """Union-find over document indices; the root of a cluster is its first document."""

    parent: list[int] = field(default_factory=list)

    def add(self) -> int:
        self.parent.append(len(self.parent))
        return self.parent[-1]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # the earlier document stays the root


class NearDuplicates:
    """Feed documents in input order (`add_batch`); then `duplicate_of(i)` is the index of
    the kept document of i's cluster (i itself when i is kept)."""

    def __init__(self, config: DedupConfig = DedupConfig()):
        self.config = config
        self.buckets: list[dict[int, int]] = [dict() for _ in range(config.bands)]
        self.clusters = Clusters()
        self._sigs: list[np.ndarray] = []  # every signature, for the edge check
        self.candidates = 0

    def add_batch(self, texts: list[str], lang: str) -> None:
        if texts:
            self.add_signatures(signatures(texts, lang, self.config))

    def add_signatures(self, sigs: np.ndarray) -> None:
        """Insert documents by their signatures (computed anywhere: a worker, a Ray task)."""
        for sig, row in zip(sigs, band_keys(sigs, self.config).tolist()):
            i = self.clusters.add()
            self._sigs.append(sig)
            # the earlier documents sharing a band, each once (a near copy shares most bands)
            earlier = {j for bucket, key in zip(self.buckets, row) if (j := bucket.setdefault(key, i)) != i}
            for j in sorted(earlier):
                if self.clusters.find(j) != self.clusters.find(i):
                    self.candidates += 1
                    if np.count_nonzero(self._sigs[j] == sig) / len(sig) >= self.config.threshold:
                        self.clusters.union(i, j)

    def duplicate_of(self, i: int) -> int:
        return self.clusters.find(i)

    def cluster_sizes(self) -> dict[int, int]:
        """Cluster size -> number of clusters of that size (size >= 2 only)."""
        sizes: dict[int, int] = {}
        for root, n in _counts(self.clusters.find(i) for i in range(len(self.clusters.parent))).items():
            if n > 1:
                sizes[n] = sizes.get(n, 0) + 1
        return dict(sorted(sizes.items()))


def _counts(items) -> dict:
    out: dict = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out
