"""Shared pieces of the LLM tests: a small deterministic corpus, the test server, and a
generator tuned for speed (short timeout, millisecond backoff).

Also runnable (`python tests/llm_support.py URL CACHE OUT N`) as the child process that the
resume test kills half way.
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from longdata.documents import Document  # noqa: E402
from longdata.qa.base import QA, QARequest, Reject  # noqa: E402
from longdata.qa.llm_writer import LLMQAWriter  # noqa: E402

API_KEY = "sk-test-SECRET-9f8e7d6c5b4a"
_PEOPLE = ["Anna Weber", "Ben Okafor", "Carla Ruiz", "Deng Hui", "Emil Novak", "Fatima Haddad"]
_THINGS = ["bridge", "harbour", "library", "railway station", "observatory", "market hall", "dam"]
_ZH_PLACES = ["青石镇", "白沙村", "临江县", "云岭乡", "北湖区", "东山镇"]
_ZH_THINGS = ["石拱桥", "图书馆", "火车站", "天文台", "水库", "集市", "码头"]


def make_docs(n: int, lang: str = "en", seed: int = 0, sentences: int = 8) -> list[Document]:
    """Distinct documents of invented facts (so quotes are unambiguous)."""
    rng = random.Random(f"{seed}:{lang}")
    docs = []
    for i in range(n):
        if lang == "zh":
            sents = [f"{1800 + rng.randint(0, 220)}年，{rng.choice(_ZH_PLACES)}第{i}号{rng.choice(_ZH_THINGS)}由"
                     f"{rng.choice('王李张刘陈杨')}{rng.choice('明华强芳静磊')}主持重建，耗资{rng.randint(2, 900)}万元。"
                     for _ in range(sentences)]
            text = "".join(sents)
        else:
            sents = [f"In {1800 + rng.randint(0, 220)} the {rng.choice(_THINGS)} of Town {i} was rebuilt by "
                     f"{rng.choice(_PEOPLE)} at a cost of {rng.randint(2, 900)} thousand pounds."
                     for _ in range(sentences)]
            text = " ".join(sents)
        docs.append(Document(f"{lang}-{i}", text, lang, "test"))
    return docs


def make_requests(docs: list[Document]) -> list[QARequest]:
    return [QARequest(d, f"key-{d.id}", d.lang) for d in docs]


def fast_generator(url: str, cache_path, **kw) -> LLMQAWriter:
    """A generator that retries in milliseconds, so fault tests stay fast."""
    opts = dict(base_url=url, cache_path=cache_path, concurrency=8, timeout=2.0, max_attempts=10,
                backoff_initial=0.005, backoff_max=0.02)
    opts.update(kw)
    return LLMQAWriter.connect("test-model", **opts)


def as_json(results: list[QA | Reject]) -> str:
    return json.dumps([{"type": type(r).__name__, **r.__dict__} for r in results], ensure_ascii=False, sort_keys=True)


if __name__ == "__main__":  # child process of the resume test
    import os

    url, cache, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    os.environ.setdefault("OPENAI_API_KEY", API_KEY)
    gen = fast_generator(url, cache, concurrency=4)
    Path(out).write_text(as_json(gen.make_qas(make_requests(make_docs(n)))), encoding="utf-8")
