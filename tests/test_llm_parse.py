"""Reading QA replies: JSON and its usual slips, tagged fields, near misses."""
import pytest

from longdata.qa.parse import FormatError, ParsedQA, parse_qa_reply

GOOD = ParsedQA("Q?", "A quote.", "An answer.", ("Lumen", "1958"))


@pytest.mark.parametrize("reply", [
    '{"question": "Q?", "quote": "A quote.", "answer": "An answer.", "cues": ["Lumen", "1958"]}',
    'Here you go:\n```json\n{"question": "Q?", "quote": "A quote.", "answer": "An answer.", "cues": ["Lumen", "1958",],}\n```',
    '{"Question": " Q? ", "QUOTE": "A quote.", "answer": "An answer.", "Cues": "Lumen, 1958"} Hope this helps.',
    "<question>Q?</question>\n<quote>A quote.</quote>\n<answer>An answer.</answer>\n<cues>Lumen、1958</cues>",
    "Question: Q?\nQuote: A quote.\nAnswer: An answer.\nCues: Lumen; 1958",
    "**Question**: Q?\n**Quote**: A quote.\n**Answer**: An answer.\n**Cues**: \"Lumen\", \"1958\", Lumen",
])
def test_reads_json_and_tagged_replies(reply):
    assert parse_qa_reply(reply) == GOOD


@pytest.mark.parametrize("reply, near", [
    ('Sure: {"q": "Q?", "citation": "A quote.", "response": "An answer."}', True),
    ('{"question": "Q?", "quote": "", "answer": "An answer.", "cues": ["a", "b"]}', True),
    ('{"question": "Q?", "quote": "A quote." "answer": "x"', True),
    ('{"question": "Q?", "quote": "A quote.", "answer": "An answer."}', True),  # no cues
    ('{"question": "Q?", "quote": "A quote.", "answer": "An answer.", "cues": ["one"]}', True),
    ("Question: Q?\nAnswer: An answer.", True),
    ("I cannot help with that.", False),
    ("", False),
    (None, False),
])
def test_format_errors_and_near_misses(reply, near):
    err = parse_qa_reply(reply)
    assert isinstance(err, FormatError) and err.near_miss is near and err.message
