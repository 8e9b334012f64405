"""Offline QA generator: picks a salient passage of 1-3 sentences, asks about its
keywords and answers by quoting the passage verbatim. No model, no network."""
from __future__ import annotations

import importlib.util
import math
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from ..prompts import load_template
from ..seeding import rng_for
from ..text import contains, sentence_spans, split_sentences
from .base import QA, QARequest, Reject

# passage length bounds in characters, per language
PASSAGE_CHARS = {"zh": (20, 160), "en": (60, 420)}
SCORED_CANDIDATES = 2
TOP_KEYWORDS = 6
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|\d[\d,.]*\d|\d")
_EN_STOP = frozenset("""a about above after again against all also am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself just me more
most my myself no nor not now of off on once only or other our ours ourselves out over own same she should
so some such than that the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your yours
yourself yourselves one two many much may might must shall upon its it's s t known called became become
first later often however among within without whose since around several such still well made make use
used using including included part parts""".split())
_ZH_STOP = frozenset("""一个 一种 这个 那个 他们 我们 其中 以及 因为 所以 但是 而且 并且 这些 那些 已经 可以 没有 就是
这样 由于 对于 成为 进行 通过 之一 之后 之前 以后 以来 目前 同时 此外 其他 主要 一些 许多 非常 不仅 不同 也是""".split())


# nouns, names, places, organisations, verbal nouns, other proper nouns, English words
_ZH_POS = ("n", "nr", "ns", "nt", "nz", "vn", "eng")


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    """jieba's IDF table and its median, read as `jieba.analyse` reads them but without
    importing it: that import loads jieba's word and part-of-speech dictionaries (~2.5 s
    per process), which the tagging here (rjieba) does not need."""
    spec = importlib.util.find_spec("jieba")
    path = Path(next(iter(spec.submodule_search_locations))) / "analyse" / "idf.txt"
    freq: dict[str, float] = {}
    for line in path.read_bytes().decode("utf-8").splitlines():
        word, value = line.strip().split(" ")
        freq[word] = float(value)
    return freq, sorted(freq.values())[len(freq) // 2]


class ExtractiveGenerator:
    """Deterministic for a request key: the same document and key give the same QA."""

    name = "extractive"
    local = True  # pure CPU and stateless: the task runs it inside its worker processes

    def warm_up(self, lang: str) -> None:
        """Load the IDF table and rjieba's dictionary now (each worker, while the main process reads)."""
        if lang == "zh":
            import rjieba

            _idf()
            rjieba.tag("预热", hmm=False)

    def make_qas(self, requests: Sequence[QARequest]) -> list[QA | Reject]:
        return [self.make_qa(r) for r in requests]

    resolve = make_qas

    def make_qa(self, req: QARequest) -> QA | Reject:
        doc, lang = req.doc, req.lang
        rng = rng_for(0, "extractive", req.key)
        candidates = _passages(doc.text, lang)
        if not candidates:
            return Reject(doc.id, "no passage", f"no run of 1-3 sentences within {PASSAGE_CHARS[lang]} characters")
        scored = []
        sentences = [text.lower() for text in split_sentences(doc.text, lang)] if lang != "zh" else []
        # keyword extraction is the costly step: score a few random candidates, not all
        for start, end in rng.sample(candidates, min(len(candidates), SCORED_CANDIDATES)):
            kws = _keywords(doc.text[start:end], lang, sentences)
            if len(kws) >= 3:
                scored.append((len(kws), start, end, kws))
        if not scored:
            return Reject(doc.id, "no keywords", "no passage with three distinct keywords")
        choice = _discriminating_cues(scored, doc, req.context, lang)
        if choice is None:
            return Reject(doc.id, "no keywords", "fewer than two word keywords in the passage")
        start, end, kws, cues = choice
        rest = [k for k in kws if k not in cues][:3]
        tpl = load_template(lang, "extractive")
        question = rng.choice(tpl["questions"]).format(cue1=cues[0], cue2=cues[1])
        keywords = _join(rest, tpl["joiner"], tpl["last_joiner"])
        answer = tpl["answer"].format(cue1=cues[0], cue2=cues[1], keywords=keywords)
        return QA(question=question, quote=doc.text[start:end], answer=answer, doc_id=doc.id, cues=tuple(cues))


def _discriminating_cues(scored: list, doc, context, lang: str):
    """The passage and cue pair that the fewest other documents of the context also hold
    (then: cues that occur once in the document, more keywords, earlier passage)."""
    others = [text for doc_id, text in context if doc_id != doc.id]
    holders: dict[str, frozenset[int]] = {}

    def held(word: str) -> frozenset[int]:
        if word not in holders:
            holders[word] = frozenset(i for i, t in enumerate(others) if contains(t, word, lang))
        return holders[word]

    best = None
    for n_kws, start, end, kws in scored:
        words = [k for k in kws if not k[0].isdigit()]
        for i, a in enumerate(words):
            for j in range(i + 1, len(words)):
                b = words[j]
                rank = (len(held(a) & held(b)), (doc.text.count(a) > 1) + (doc.text.count(b) > 1), -n_kws, start, i, j)
                if best is None or rank < best[0]:
                    best = (rank, (start, end, kws, [a, b]))
    return best[1] if best else None


def _join(words: list[str], joiner: str, last: str) -> str:
    return words[0] if len(words) == 1 else joiner.join(words[:-1]) + last + words[-1]


def _passages(text: str, lang: str) -> list[tuple[int, int]]:
    lo, hi = PASSAGE_CHARS[lang]
    spans = sentence_spans(text, lang)
    out = []
    for i in range(len(spans)):
        for j in range(i, min(i + 3, len(spans))):
            start, end = spans[i][0], spans[j][1]
            if "\n" in text[start:end]:
                break
            if lo <= end - start <= hi:
                out.append((start, end))
    return out


def _keywords(passage: str, lang: str, sentences: list[str]) -> list[str]:
    """Salient terms of the passage, as they are written in it."""
    return _zh_keywords(passage, TOP_KEYWORDS) if lang == "zh" else _en_keywords(passage, sentences, TOP_KEYWORDS)


def _zh_keywords(passage: str, top: int) -> list[str]:
    """TF-IDF over the passage's nouns with jieba's IDF table, as jieba.analyse does, but
    tagged from the dictionary alone (no HMM), by rjieba (jieba-rs: jieba's dictionary and
    tags, ~20x faster than jieba.posseg; the same nouns on 544 real articles, test)."""
    import rjieba

    idf, median = _idf()
    tf = Counter(word for word, flag in rjieba.tag(passage, hmm=False)
                 if flag in _ZH_POS and len(word) >= 2 and word not in _ZH_STOP and not word.isdigit())
    score = {w: n * idf.get(w, median) for w, n in tf.items()}
    return sorted(score, key=lambda w: (-score[w], w))[:top]


def _en_keywords(passage: str, sentences: list[str], top: int) -> list[str]:
    """TF-IDF with the document's (lower-cased) sentences as the collection, stop words
    removed; capitalised names and numbers favoured."""
    words = [w for w in _EN_WORD.findall(passage) if w.lower() not in _EN_STOP and len(w) > 2]
    tf = Counter(w.lower() for w in words)
    form: dict[str, str] = {}
    for w in words:
        form.setdefault(w.lower(), w)

    def score(lw: str) -> float:
        df = sum(1 for s in sentences if lw in s)
        bonus = 1.5 if form[lw][0].isupper() or form[lw][0].isdigit() else 1.0
        return tf[lw] * math.log((1 + len(sentences)) / (1 + df)) * bonus + len(lw) / 100

    ranked = sorted(tf, key=lambda lw: (-score(lw), lw))
    return [form[lw] for lw in ranked[:top]]
