"""Readers on real-world damage: BOMs, legacy Chinese encodings, random bytes, truncated
and corrupt files; every readable record is kept, each damaged file is one named reject."""
from __future__ import annotations

import gzip
import json
import random

from conftest import run_generate
from longdata.documents import RejectLog, read_documents

ZH = "新华社北京电 国务院新闻办公室今天举行发布会，介绍今年前三季度国民经济运行情况。国家统计局新闻发言人表示，经济运行总体平稳。"


def lines(n: int, prefix: str = "d") -> list[str]:
    return [json.dumps({"id": f"{prefix}{i}", "text": f"{ZH}第{i}条。"}, ensure_ascii=False) for i in range(n)]


def read(path):
    rejects = RejectLog()
    return list(read_documents([path], rejects)), rejects


def test_utf8_bom_loses_no_record(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines(3)).encode("utf-8"))
    docs, rejects = read(path)
    assert [d.id for d in docs] == ["d0", "d1", "d2"] and rejects.total == 0


def test_gb18030_gbk_big5_and_utf16_texts_are_read(tmp_path):
    traditional = "新華社北京電 國務院新聞辦公室今天舉行發布會，介紹今年前三季度國民經濟運行情況。" * 5
    cases = {"gb18030.txt": (ZH * 5, "gb18030", "gb18030"), "gbk.txt": (ZH * 5, "gbk", "gb18030"),
             "big5.txt": (traditional, "big5", "big5"), "utf16.txt": (ZH * 5, "utf-16", "utf-16")}
    for name, (text, codec, recorded) in cases.items():
        (tmp_path / name).write_bytes(text.replace("。", "。\r\n").encode(codec))
    docs, rejects = read(tmp_path)
    assert rejects.total == 0
    by_name = {d.source: d for d in docs}
    for name, (text, _, recorded) in cases.items():
        doc = by_name[name]
        assert doc.meta["encoding"] == recorded and "\r" not in doc.text
        assert doc.text == text.replace("。", "。\n").strip()


def test_gbk_jsonl_lines_are_read(tmp_path):
    path = tmp_path / "gbk.jsonl"
    path.write_bytes("\n".join(lines(4)).encode("gbk"))
    docs, rejects = read(path)
    assert len(docs) == 4 and rejects.total == 0 and docs[0].meta["encoding"] == "gb18030"


def test_random_bytes_are_one_named_reject(tmp_path):
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes(random.Random(0).randrange(256) for _ in range(20000)))
    docs, rejects = read(path)
    assert docs == [] and rejects.total == 1 and "undecodable" in rejects.counts


def test_truncated_gzip_keeps_every_record_before_the_damage(tmp_path):
    data = gzip.compress("\n".join(lines(200)).encode("utf-8"))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    docs, rejects = read(path)
    assert 0 < len(docs) < 200 and [d.id for d in docs] == [f"d{i}" for i in range(len(docs))]
    assert dict(rejects.counts) == {"damaged file": 1}


def test_a_corrupt_parquet_among_good_files_is_one_reject_and_the_build_completes(tmp_path):
    from longdata.data import demo_corpus

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.jsonl").write_bytes(demo_corpus("zh").read_bytes())
    (corpus / "broken.parquet").write_bytes(b"PAR1" + bytes(range(256)) * 4)
    out = tmp_path / "out"
    run_generate("--lang", "zh", "--corpus", str(corpus), "--max-tokens", "8192", "--out", str(out), cwd=tmp_path)
    rejects = [json.loads(l) for l in (out / "rejects" / "multidoc-paraphrase-zh-8k.jsonl").read_text().splitlines()]
    assert [(r["file"], r["reason"].split(":")[0]) for r in rejects] == [("broken.parquet", "damaged file")]


def test_mostly_unreadable_input_fails_with_the_ratio(tmp_path):
    from longdata.data import demo_corpus

    corpus = tmp_path / "c.jsonl"
    good = demo_corpus("en").read_text(encoding="utf-8").splitlines()[:20]
    corpus.write_text("\n".join(good + ["{broken"] * 30) + "\n", encoding="utf-8")
    proc = run_generate("--lang", "en", "--corpus", str(corpus), "--max-tokens", "4096", "--group-size", "10",
                        "--turns", "2", "--out", str(tmp_path / "o"), cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "--max-reject-ratio" in proc.stderr and "30 of 50" in proc.stderr
