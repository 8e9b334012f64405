"""Exact and near-duplicate detection: normalised-text hashes, then MinHash + LSH.

Near duplicates: shingles are character 5-grams for zh and word 5-grams for en, after
NFKC, lower-casing and punctuation removal, hashed with numpy (a rolling hash over code
points or word hashes: no Python string per shingle); signatures come from `rensa` (Rust
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
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

_NON_WORD = re.compile(r"[\W_]+")  # punctuation and whitespace runs: one space


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


def normalize(text: str) -> str:
    """NFKC, lower case, no punctuation, single spaces: what both dedups compare.
    Punctuation goes first: Chinese text is full of full-width marks, which alone would
    make every document need NFKC; what remains is usually NFKC already (a C-fast check)."""
    text = _NON_WORD.sub(" ", text)
    if not unicodedata.is_normalized("NFKC", text):
        text = _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text))
    return text.lower().strip()


def exact_key(text: str) -> bytes:
    return hashlib.blake2b(normalize(text).encode("utf-8"), digest_size=16).digest()


def shingles(text: str, lang: str, n: int = 5) -> list[str]:
    """Character n-grams (spaces removed) for zh, word n-grams otherwise."""
    norm = normalize(text)
    if lang == "zh":
        chars = norm.replace(" ", "")
        return [chars[i:i + n] for i in range(max(1, len(chars) - n + 1))] if chars else []
    words = norm.split()
    return [" ".join(words[i:i + n]) for i in range(max(1, len(words) - n + 1))] if words else []


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _rolling(units: np.ndarray, n: int) -> np.ndarray:
    """One 64-bit hash per run of `n` consecutive units (uint64 arithmetic wraps)."""
    if len(units) < n:
        units = np.concatenate([units, np.zeros(n - len(units), dtype=np.uint64)])
    m = len(units) - n + 1
    h = np.zeros(m, dtype=np.uint64)
    for k in range(n):
        h = (h ^ units[k:k + m]) * _MIX
    return h ^ (h >> np.uint64(29))


def shingle_hashes(text: str, lang: str, n: int = 5) -> np.ndarray:
    """The hashes of `shingles(text, lang, n)`, computed with numpy (no Python strings):
    character code points for zh, rensa's word hashes for en."""
    norm = normalize(text)
    if lang == "zh":
        chars = norm.replace(" ", "") or " "
        units = np.frombuffer(chars.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    else:
        from rensa import RMinHash

        units = np.asarray(RMinHash.hash_token_sets([norm.split() or [""]])[0], dtype=np.uint64)
    return _rolling(units, n)


def signatures(texts: list[str], lang: str, config: DedupConfig) -> np.ndarray:
    """MinHash signatures, one row of `num_perm` uint32 per text (rensa over the shingle hashes)."""
    from rensa import RMinHash

    hashes = [shingle_hashes(t, lang, config.ngram) for t in texts]
    offsets = np.zeros(len(hashes) + 1, dtype=np.uint64)
    np.cumsum([len(h) for h in hashes], out=offsets[1:])
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(np.concatenate(hashes), offsets, config.num_perm,
                                                           config.seed)
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
