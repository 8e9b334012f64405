"""Reading QA replies: JSON and its usual slips, tagged fields, near misses."""
import pytest

from longdata.qa.parse import FormatError, ParsedQA, parse_qa_reply

GOOD = ParsedQA("Q?", "A quote.", "An answer.")


@pytest.mark.parametrize("reply", [
    '{"question": "Q?", "quote": "A quote.", "answer": "An answer."}',
    'Here you go:\n```json\n{"question": "Q?", "quote": "A quote.", "answer": "An answer.",}\n```',
    '{"Question": " Q? ", "QUOTE": "A quote.", "answer": "An answer."} Hope this helps.',
    "<question>Q?</question>\n<quote>A quote.</quote>\n<answer>An answer.</answer>",
    "Question: Q?\nQuote: A quote.\nAnswer: An answer.",
    "**Question**: Q?\n**Quote**: A quote.\n**Answer**: An answer.",
])
def test_reads_json_and_tagged_replies(reply):
    assert parse_qa_reply(reply) == GOOD


@pytest.mark.parametrize("reply, near", [
    ('Sure: {"q": "Q?", "citation": "A quote.", "response": "An answer."}', True),
    ('{"question": "Q?", "quote": "", "answer": "An answer."}', True),
    ('{"question": "Q?", "quote": "A quote." "answer": "x"', True),
    ("Question: Q?\nAnswer: An answer.", True),
    ("I cannot help with that.", False),
    ("", False),
    (None, False),
])
def test_format_errors_and_near_misses(reply, near):
    err = parse_qa_reply(reply)
    assert isinstance(err, FormatError) and err.near_miss is near and err.message
