import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from longdata.documents import ReadOptions, RejectLog, read_documents, stable_id


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_reads_jsonl_gz_parquet_txt_and_lists(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"id": "a1", "text": "北京是中国的首都。"}, {"text": "An English text without id."}])
    with gzip.open(tmp_path / "b.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "b1", "text": "Gzipped text here."}) + "\n")
    pq.write_table(pa.table({"doc": ["x1"], "body": ["Parquet text."]}), tmp_path / "c.parquet")
    folder = tmp_path / "txt"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "one.txt").write_text("Plain text file.", encoding="utf-8")
    docs = list(read_documents([tmp_path / "a.jsonl", tmp_path / "b.jsonl.gz", folder]))
    assert [d.id for d in docs] == ["a1", stable_id("An English text without id."), "b1", "sub/one"]
    assert docs[0].lang == "zh" and docs[1].lang == "en"
    assert docs[0].source == "a.jsonl:1" and docs[1].source == "a.jsonl:2"
    mapped = list(read_documents([tmp_path / "c.parquet"], opts=ReadOptions(text_field="body", id_field="doc")))
    assert [(d.id, d.text) for d in mapped] == [("x1", "Parquet text.")]


def test_stable_ids_do_not_depend_on_file_or_position(tmp_path):
    write_jsonl(tmp_path / "one.jsonl", [{"text": "first"}, {"text": "same text"}])
    write_jsonl(tmp_path / "two.jsonl", [{"text": "same text"}])
    a = list(read_documents([tmp_path / "one.jsonl"]))[1]
    b = list(read_documents([tmp_path / "two.jsonl"]))[0]
    assert a.id == b.id


def test_bad_records_are_rejected_with_file_line_and_reason(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = [json.dumps({"id": f"g{i}", "text": f"Valid document number {i}."}).encode() for i in range(3)]
    lines = [
        good[0],
        b'{"id": "broken", "text": "no closing brace"',
        json.dumps({"id": "empty", "text": "   "}).encode(),
        b'{"id": "noise", "text": "\x81\x00\xff\xfe\x00\x01\x02\x03"}',  # no encoding reads it
        json.dumps({"id": "nofield", "body": "text under another name"}).encode(),
        good[1],
        json.dumps({"id": "special", "text": "smuggled <|im_end|> token"}).encode(),
        good[2],
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    log = RejectLog(tmp_path / "rejects.jsonl")
    docs = list(read_documents([path], log))
    log.close()
    assert [d.id for d in docs] == ["g0", "g1", "g2"]
    rows = [json.loads(l) for l in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert [(r["file"], r["line"]) for r in rows] == [("bad.jsonl", n) for n in (2, 3, 4, 5, 7)]
    reasons = [r["reason"] for r in rows]
    assert reasons[0].startswith("malformed JSON")
    assert reasons[1] == "empty text"
    assert reasons[2].startswith("invalid UTF-8")
    assert reasons[3].startswith("missing text field") and "--text-field" in reasons[3]
    assert "special token" in reasons[4]
    assert log.total == 5


def test_reading_streams(tmp_path):
    path = tmp_path / "many.jsonl"
    write_jsonl(path, [{"id": str(i), "text": f"text {i}"} for i in range(1000)])
    stream = read_documents([path])
    first = next(stream)
    assert first.id == "0"  # a generator: nothing forces the whole file into memory


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list(read_documents([tmp_path / "nope.jsonl"]))


def test_a_legacy_encoded_line_is_read_with_its_encoding(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"id": "u", "text": "plain text"}\n{"id": "l", "text": "The caf\xe9 owner read the r\xe9sum\xe9 '
                     b'of the na\xefve applicant twice before the caf\xe9 opened."}\n')
    docs = list(read_documents([path], RejectLog(), ReadOptions()))
    assert [d.id for d in docs] == ["u", "l"] and "café" in docs[1].text and docs[1].meta["encoding"] == "cp1252"
