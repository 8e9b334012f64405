"""How many samples a mixture takes from each component and from each length bin.

Pure functions on counts, so the choice is exact and testable without data:
- `component_counts`: `--counts` as asked (an error when the inputs hold fewer), or
  `--ratios` by largest remainder (every component within one sample of its share);
- `allocate`: with a `--length-target`, each component's samples are spread over the
  length bins so the whole mix comes as close to the target profile as the inputs allow
  (the least flexible components, e.g. short instructions that all fall in the first bin,
  are placed first; then each sample goes to the bin furthest below its target).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

COMPONENTS = ("long", "short", "conversations")


@dataclass(frozen=True)
class Bin:
    """Token lengths in (lo, hi]; the first bin also holds 0."""

    lo: int
    hi: int

    @property
    def label(self) -> str:
        return f"{_k(self.lo)}-{_k(self.hi)}"

    def holds(self, n: int) -> bool:
        return self.lo < n <= self.hi or (self.lo == 0 and n == 0)


def _k(n: int) -> str:
    return f"{n // 1024}k" if n and n % 1024 == 0 else str(n)


def _tokens(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kK]?)\s*", text)
    if not m:
        raise ValueError(f"not a token count: {text!r} (write e.g. 8k or 8192)")
    return round(float(m.group(1)) * (1024 if m.group(2) else 1))


def _pairs(text: str, flag: str) -> list[tuple[str, str]]:
    pairs = []
    for item in (x.strip() for x in text.split(",") if x.strip()):
        key, sep, value = item.rpartition(":")
        if not sep or not key.strip():
            raise ValueError(f"{flag}: expected NAME:VALUE items separated by commas, got {item!r}")
        pairs.append((key.strip(), value.strip()))
    if not pairs:
        raise ValueError(f"{flag}: expected at least one NAME:VALUE item")
    return pairs


def parse_components(text: str, flag: str, kind: type) -> dict[str, float]:
    """`long:1000,short:1000` -> {"long": 1000, "short": 1000} (names checked)."""
    out: dict[str, float] = {}
    for name, value in _pairs(text, flag):
        if name not in COMPONENTS:
            raise ValueError(f"{flag}: unknown component {name!r}: use {', '.join(COMPONENTS)}")
        try:
            number = kind(value)
        except ValueError:
            raise ValueError(f"{flag}: {name}:{value} is not a {kind.__name__}") from None
        if number < 0 or (kind is float and not math.isfinite(number)):
            raise ValueError(f"{flag}: {name}:{value} must not be negative")
        out[name] = number
    if not any(out.values()):
        raise ValueError(f"{flag}: every component is 0")
    return out


def parse_length_target(text: str, max_tokens: int) -> list[tuple[Bin, float]]:
    """`0-8k:38,8k-16k:40,16k-32k:22` -> bins with shares summing to 1. Ranges need not
    cover every length: a sample outside all of them is not taken."""
    bins: list[tuple[Bin, float]] = []
    for span, share in _pairs(text, "--length-target"):
        lo, sep, hi = span.partition("-")
        if not sep:
            raise ValueError(f"--length-target: {span!r} is not a range like 8k-16k")
        b = Bin(_tokens(lo), _tokens(hi))
        if b.hi <= b.lo:
            raise ValueError(f"--length-target: empty range {span!r}")
        if bins and b.lo < bins[-1][0].hi:
            raise ValueError(f"--length-target: ranges must be in order without overlap ({span!r})")
        try:
            weight = float(share)
        except ValueError:
            raise ValueError(f"--length-target: share {share!r} of {span} is not a number") from None
        if weight < 0:
            raise ValueError(f"--length-target: share of {span} must not be negative")
        bins.append((b, weight))
    total = sum(w for _, w in bins)
    if total <= 0:
        raise ValueError("--length-target: every share is 0")
    if bins[0][0].lo >= max_tokens:
        raise ValueError(f"--length-target: no range lies within the budget of {max_tokens} tokens")
    return [(b, w / total) for b, w in bins]


def largest_remainder(shares: Sequence[float], total: int) -> list[int]:
    """Integers summing to `total`, each within one of its exact share (ties to the first)."""
    exact = [s * total for s in shares]
    out = [math.floor(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def component_counts(available: Mapping[str, int], counts: Mapping[str, float] | None,
                     ratios: Mapping[str, float] | None, total: int | None) -> dict[str, int]:
    """Samples per component. Counts are exact or an error; ratios give the largest mix the
    inputs allow (or `total`); neither takes everything."""
    if counts:
        short = {c: (int(n), available.get(c, 0)) for c, n in counts.items() if n > available.get(c, 0)}
        if short:
            raise ValueError("--counts asks for more than the inputs hold: " + ", ".join(
                f"{c} {n} but {have} usable" for c, (n, have) in short.items()) + "; lower --counts or add inputs")
        return {c: int(counts.get(c, 0)) for c in COMPONENTS}
    if ratios:
        weight = sum(ratios.values())
        shares = [ratios.get(c, 0) / weight for c in COMPONENTS]
        # no larger mix can fit: each count is more than its exact share minus one
        most = min(int((available.get(c, 0) + 1) / s) for c, s in zip(COMPONENTS, shares) if s > 0)
        n = most if total is None else total
        while n > 0:
            picked = largest_remainder(shares, n)
            if all(k <= available.get(c, 0) for c, k in zip(COMPONENTS, picked)):
                return dict(zip(COMPONENTS, picked))
            if total is not None:
                raise ValueError(f"--ratios with --num-samples {total}: the inputs hold only "
                                 f"{dict(available)}; lower --num-samples or add inputs")
            n -= 1
        raise ValueError(f"--ratios: the inputs hold too little for one sample of the mix ({dict(available)})")
    return {c: available.get(c, 0) for c in COMPONENTS}


def allocate(wanted: Mapping[str, int], available: Mapping[str, Sequence[int]],
             shares: Sequence[float]) -> dict[str, list[int]]:
    """Samples per component and bin: `available[c][b]` candidates, `wanted[c]` in all, as
    close to `shares` of the total as possible. A maximum flow (components -> bins, each
    bin taking at most its target) places as many samples within the targets as the
    inputs allow, which is what minimises the distance to the profile; the rest go where
    they overshoot least. Raises when a component's bins hold too few."""
    comps = [c for c in COMPONENTS if c in wanted]
    bins = range(len(shares))
    target = largest_remainder(shares, sum(wanted.values()))
    have = {c: list(available.get(c, [0] * len(shares))) for c in comps}
    for c in comps:
        if sum(have[c]) < wanted[c]:
            raise ValueError(f"{c}: {wanted[c]} asked but only {sum(have[c])} fall in a --length-target range")
    got = {c: [0] * len(shares) for c in comps}
    while path := _augmenting_path(comps, bins, wanted, have, got, target):
        c_path, b_path = path
        step = _bottleneck(c_path, b_path, wanted, have, got, target)
        for i, c in enumerate(c_path):  # c_path[i] takes b_path[i]; it gives back b_path[i - 1]
            got[c][b_path[i]] += step
            if i:
                got[c][b_path[i - 1]] -= step
    placed = [sum(got[c][b] for c in comps) for b in bins]
    for c in comps:
        for _ in range(wanted[c] - sum(got[c])):
            b = max((b for b in bins if have[c][b] > got[c][b]), key=lambda b: (target[b] - placed[b], -b))
            got[c][b] += 1
            placed[b] += 1
    _even_out(comps, bins, have, got, placed, target)
    return got


def _even_out(comps, bins, have, got, placed, target) -> None:
    """Spread unavoidable overshoot: move samples from a bin further over its target to one
    less over (the distance stays minimal; the largest excess shrinks)."""
    moved = True
    while moved:
        moved = False
        for c in comps:
            for i in bins:
                for j in bins:
                    gap = (placed[i] - target[i]) - (placed[j] - target[j])
                    step = min(got[c][i], have[c][j] - got[c][j], gap // 2)
                    if i != j and placed[i] > target[i] and step > 0:
                        got[c][i] -= step
                        got[c][j] += step
                        placed[i] -= step
                        placed[j] += step
                        moved = True


def _augmenting_path(comps, bins, wanted, have, got, target) -> tuple[list[str], list[int]] | None:
    """The shortest path source -> component -> bin (-> component -> bin ...) -> sink with room
    on every edge, as (components, bins) in path order; None when the flow is maximal."""
    placed = [sum(got[c][b] for c in comps) for b in bins]
    queue = [(c, [c], []) for c in comps if sum(got[c]) < wanted[c]]
    seen_c, seen_b = {c for c, _, _ in queue}, set()
    while queue:
        c, c_path, b_path = queue.pop(0)
        for b in bins:
            if b in seen_b or have[c][b] <= got[c][b]:
                continue
            seen_b.add(b)
            if placed[b] < target[b]:
                return c_path, b_path + [b]
            for c2 in comps:  # a component holding b can move one of its samples elsewhere
                if c2 not in seen_c and got[c2][b] > 0:
                    seen_c.add(c2)
                    queue.append((c2, c_path + [c2], b_path + [b]))
    return None


def _bottleneck(c_path, b_path, wanted, have, got, target) -> int:
    comps = list(got)
    first = c_path[0]
    room = [wanted[first] - sum(got[first]),
            target[b_path[-1]] - sum(got[c][b_path[-1]] for c in comps)]
    for i, c in enumerate(c_path):
        room.append(have[c][b_path[i]] - got[c][b_path[i]])
        if i:
            room.append(got[c][b_path[i - 1]])
    return min(room)
