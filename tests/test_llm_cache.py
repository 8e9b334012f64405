"""Response cache: stable keys, first answer kept, WAL, a reader beside a writer."""
import sqlite3
import threading

from longdata.llm.cache import CachedResponse, ResponseCache, request_key

MSGS = [{"role": "system", "content": "s"}, {"role": "user", "content": "文档 text"}]


def test_key_is_canonical_and_covers_model_messages_and_params():
    k = request_key("m", MSGS, {"temperature": 0.7, "seed": 1})
    assert k == request_key("m", [dict(reversed(list(m.items()))) for m in MSGS], {"seed": 1, "temperature": 0.7})
    assert len(k) == 64
    assert k != request_key("m2", MSGS, {"temperature": 0.7, "seed": 1})
    assert k != request_key("m", MSGS[:1], {"temperature": 0.7, "seed": 1})
    assert k != request_key("m", MSGS, {"temperature": 0.7, "seed": 2})


def test_put_get_has_meta(tmp_path):
    path = tmp_path / "c.sqlite"
    with ResponseCache(path) as cache:
        assert cache.get("a") is None
        cache.put("a", "m", CachedResponse("hello", 10, 2))
        cache.put("a", "m", CachedResponse("other", 1, 1))  # the first answer stays
        cache.put("b", "m", CachedResponse("x", 3, 4, usage_estimated=True))
        assert cache.has(["a", "b", "c"]) == {"a", "b"}
        cache.set_meta("pending", "[1]")
        assert cache.get_meta("pending") == "[1]"
        cache.set_meta("pending", None)
        assert cache.get_meta("pending") is None
    with ResponseCache(path) as again:  # committed row by row: survives the process
        assert again.get("a") == CachedResponse("hello", 10, 2)
        assert again.get("b").usage_estimated is True
        assert len(again) == 2
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reader_beside_a_writer(tmp_path):
    path = tmp_path / "c.sqlite"
    ResponseCache(path).close()
    errors, seen = [], []

    def write():
        with ResponseCache(path) as c:
            for i in range(300):
                c.put(f"k{i}", "m", CachedResponse(str(i), i, i))

    def read():
        with ResponseCache(path) as c:
            try:
                for _ in range(300):
                    seen.append(len(c))
            except sqlite3.Error as err:  # pragma: no cover - the failure being tested for
                errors.append(err)

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors and seen == sorted(seen)
    with ResponseCache(path) as c:
        assert len(c) == 300
