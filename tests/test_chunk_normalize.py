"""Golden tests for chunking (boundaries, offsets) and the normalised search copy."""

from __future__ import annotations

from index.chunk import chunk_paragraphs
from index.normalize import normalize
from index.structure import Paragraph
from index.tokens import person_names, tokenize


def _paragraph(text: str, kind: str = "body") -> Paragraph:
    return Paragraph("doc", 1, 0, len(text), text, kind, "一、标题", "review")  # type: ignore[arg-type]


def test_worked_example_boundaries() -> None:
    text = (
        "经济运行稳中有升。全区一般公共预算收入137亿元,固定资产投资384亿元;"
        "金融业增加值超850亿元,增长10%。万元GDP能耗下降。"
    )
    chunks = chunk_paragraphs([_paragraph(text)], chunk_size=30, chunk_overlap=0)
    assert [c.text for c in chunks] == [
        "经济运行稳中有升。",
        "全区一般公共预算收入137亿元,固定资产投资384亿元;",
        # The splitter recursed into the over-long middle sentence, so its tail is not merged
        # with the next sentence: that is langchain's behaviour, pinned here.
        "金融业增加值超850亿元,增长10%。",
        "万元GDP能耗下降。",
    ]
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.context == "一、标题" and chunk.paragraph == 1


def test_no_chunk_starts_with_punctuation_and_offsets_map_back() -> None:
    text = "一是甲乙丙丁。二是戊己庚辛，壬癸子丑；寅卯辰巳！午未申酉？" * 8
    for size, overlap in ((20, 0), (40, 10), (60, 20)):
        chunks = chunk_paragraphs([_paragraph(text)], chunk_size=size, chunk_overlap=overlap)
        assert chunks
        for chunk in chunks:
            assert chunk.text[0] not in "。，；！？,;"
            assert text[chunk.start : chunk.end] == chunk.text
            assert len(chunk.text) <= size
        # Together the chunks cover the whole paragraph.
        covered = set()
        for chunk in chunks:
            covered.update(range(chunk.start, chunk.end))
        assert covered == set(range(len(text)))


def test_headings_are_not_chunked_and_empty_input_gives_nothing() -> None:
    assert chunk_paragraphs([_paragraph("一、全面纾困惠企", kind="heading")], 100, 10) == []
    assert chunk_paragraphs([], 100, 10) == []


def test_chunks_of_bundled_reports(fake_index) -> None:
    for chunk in fake_index.chunks:
        paragraph = fake_index.paragraphs[(chunk.doc_id, chunk.paragraph)]
        assert paragraph.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text[0] not in "。，；！？,;:："


def test_normalize_folds_width_script_and_lost_middle_dot() -> None:
    assert normalize("ＧＤＰ１２３，") == "gdp123,"
    assert normalize("一般公共預算收入") == "一般公共预算收入"
    assert normalize("“水贝?中国珠宝指数”") == "“水贝·中国珠宝指数”"
    assert normalize("What?") == "what?"  # a real question mark stays
    assert normalize("") == ""


def test_tokenize_drops_punctuation_and_question_words() -> None:
    tokens = tokenize(normalize("2020年罗湖区一般公共预算收入是多少？"))
    assert "多少" not in tokens and "？" not in tokens and "是" not in tokens
    assert {"罗湖", "罗湖区", "预算", "收入", "2020"} <= set(tokens)
    assert tokenize("") == [] and tokenize("？！。,,") == []


def test_person_names_are_names_not_words_jieba_tags_as_persons() -> None:
    assert person_names("罗湖区区长刘智勇向大会作报告") == ("刘智勇",)
    assert person_names("专家孙喜琢、诸葛亮和迈克尔·乔丹") == ("孙喜琢", "诸葛亮", "迈克尔", "乔丹")
    # jieba tags these report words as persons (nr / nrt); none is a name.
    assert person_names("智慧城区建设，惠民工程荣获表彰，四纵四横，二中") == ()
