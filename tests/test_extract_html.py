"""Saved web pages in, report text out: every paragraph kept exactly, no furniture, bad files refused.

The fixtures (tests/fixtures/html, made by tests/fixtures/make_html.py) are an excerpt of the 浙江省
report saved in three templates of real government sites; the slow test runs all 15 provincial
reports in every template of eval/extract_html.py.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from index.extract import MIN_TEXT_CHARS, ExtractError
from index.extract_html import decode_html, extract_html

HTML = Path(__file__).resolve().parent / "fixtures" / "html"
TRUTH = (HTML / "excerpt.txt").read_text(encoding="utf-8").splitlines()
TITLE = TRUTH[0]
TEMPLATES = ("govcn.html", "one-p-gb2312.html", "left-col-gbk.html")

# Furniture of the fixtures' pages, by the phrases users would see if it leaked.
FURNITURE = re.compile(
    r"ICP备|公网安备|网站标识码|主办单位|运行维护|联系我们|网站地图|版权所有|分享到|微信|微博|QQ空间|当前位置|您的位置|"
    r"来源：|发布时间|字号|字体：|打印|关闭|相关链接|相关文章|上一篇|下一篇|附件|首页|政务公开|长者模式|热点专题"
)


def lines_of(text: str) -> list[str]:
    return text.split("\n")[:-1]


def assert_clean_text(text: str) -> None:
    assert text.endswith("\n") and not text.startswith("\ufeff")
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", text), "control characters other than \\n"
    for line in lines_of(text):
        assert line and line == line.strip(), f"blank or untrimmed line: {line!r}"


@pytest.mark.parametrize("page", TEMPLATES)
def test_every_paragraph_is_an_exact_line_and_nothing_else(page: str) -> None:
    extracted = extract_html((HTML / page).read_bytes(), page)
    lines = lines_of(extracted.text)
    assert extracted.format == "html" and extracted.pages == ()
    assert extracted.title == TITLE
    assert lines[0] == TITLE
    missing = [line for line in TRUTH if line not in lines]
    assert not missing, f"paragraphs lost: {missing[:3]}"
    extra = [line for line in lines if line not in TRUTH]
    assert not extra, f"lines that are not report text: {extra[:5]}"
    assert lines == TRUTH  # and in order
    assert not [line for line in lines if FURNITURE.search(line) and line not in TRUTH]
    assert_clean_text(extracted.text)


def test_headings_stay_at_line_starts() -> None:
    lines = lines_of(extract_html((HTML / "one-p-gb2312.html").read_bytes(), "p.html").text)
    headings = [
        line for line in lines if re.match(r"^[一二三四五六七八九十]+、|^（[一二三四五六七八九十]+）", line)
    ]
    assert headings and all(h in TRUTH for h in headings)


def test_gbk_page_without_declaration_is_detected() -> None:
    data = (HTML / "left-col-gbk.html").read_bytes()
    assert b"charset" not in data.lower()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert TRUTH[5] in decode_html(data, "p.html")


def test_page_declaring_the_wrong_encoding_still_decodes() -> None:
    utf8 = (HTML / "govcn.html").read_bytes()
    text = utf8.decode("utf-8")
    declared_utf8_sent_gbk = text.encode("gb18030")
    declared_gbk_sent_utf8 = text.replace('charset="utf-8"', 'charset="gbk"').encode("utf-8")
    for data in (declared_utf8_sent_gbk, declared_gbk_sent_utf8):
        assert lines_of(extract_html(data, "p.html").text) == TRUTH


@pytest.mark.parametrize("page", ["govcn.html", "one-p-gb2312.html"])
def test_a_stray_bad_byte_is_shown_as_a_replacement_character(page: str) -> None:
    data = (HTML / page).read_bytes()
    at = data.index(TRUTH[6][60:70].encode("utf-8" if page == "govcn.html" else "gb18030")) + 6
    damaged = data[:at] + b"\xff" + data[at:]
    lines = lines_of(extract_html(damaged, page).text)
    assert sum(line.count("\ufffd") for line in lines) == 1
    assert sum(1 for line in TRUTH if line not in lines) == 1  # only the damaged paragraph differs


def test_entities_nbsp_indentation_and_soft_wraps() -> None:
    page = (
        "<html><head><title>测试报告_某某省人民政府网</title></head><body><div id='c'>"
        "<p>&nbsp;&nbsp;&nbsp;&nbsp;&ldquo;十四五&rdquo;规划目标任务全面完成"
        "&mdash;&mdash;地区生产总值增长5%&#12290;</p>"
        "<p>\u3000\u3000全省上下团结奋斗，\n   经济运行\r\n稳中有升，"
        "<span>发展</span>\n<b>质量</b>稳步提升。</p>"
        "<p>经济总量突破 6 万亿元，PM<br>2.5浓度持续下降，人民生活水平不断提高。</p>"
        + "<p>各项事业取得新进展新成效。</p>" * 12
        + "</div></body></html>"
    )
    lines = lines_of(extract_html(page.encode(), "p.html").text)
    assert "“十四五”规划目标任务全面完成——地区生产总值增长5%。" in lines
    assert "全省上下团结奋斗，经济运行稳中有升，发展质量稳步提升。" in lines
    assert "经济总量突破 6 万亿元，PM" in lines and "2.5浓度持续下降，人民生活水平不断提高。" in lines


def test_table_row_is_one_line_with_tab_separated_cells() -> None:
    rows = "".join(f"<tr><td>指标{i}</td><td>{i}.5%</td></tr>" for i in range(3))
    page = (
        "<html><body><div>"
        + "<p>全年地区生产总值增长百分之五，城镇新增就业保持稳定，居民收入稳步增长。</p>" * 8
        + f"<table>{rows}</table></div></body></html>"
    )
    lines = lines_of(extract_html(page.encode(), "p.html").text)
    assert "指标1\t1.5%" in lines


def test_notes_in_a_sibling_container_are_kept_but_a_news_column_is_not() -> None:
    body = "".join(
        f"<p>第{i}段正文，全省经济运行稳中有进，发展质量持续提升，人民生活不断改善。</p>" for i in range(40)
    )
    notes = "<p>［1］两新：</p><p>指新一轮大规模设备更新和消费品以旧换新，推动经济持续回升向好。</p>"
    column = "".join(
        f'<li><a href="/n/{i}">新闻标题{i}</a>'
        "<p>记者从有关部门获悉，今年以来各项工作进展顺利，成效明显。</p></li>"
        for i in range(4)
    )
    page = (
        f"<html><body><div class='main'><div class='article'><div class='content'>{body}</div>"
        f"<div class='notes'>{notes}</div></div><div class='side'><ul>{column}</ul></div></div></body></html>"
    )
    lines = lines_of(extract_html(page.encode(), "p.html").text)
    assert (
        "［1］两新：" in lines and "指新一轮大规模设备更新和消费品以旧换新，推动经济持续回升向好。" in lines
    )
    assert not [line for line in lines if "记者从有关部门获悉" in line or "新闻标题" in line]


def test_title_prefers_the_heading_that_agrees_with_the_title_tag() -> None:
    body = "<p>全省地区生产总值增长百分之五，城镇新增就业六十万人，居民人均可支配收入稳步增长。</p>" * 6
    page = (
        "<html><head><title>2026年某某省政府工作报告_某某省人民政府门户网站</title></head><body>"
        "<div class='logo'><h1>某某省人民政府</h1></div>"
        f"<div><h1>2026年某某省政府工作报告</h1>{body}</div></body></html>"
    )
    extracted = extract_html(page.encode(), "p.html")
    assert extracted.title == "2026年某某省政府工作报告"
    assert extracted.text.startswith("2026年某某省政府工作报告\n")
    no_heading = page.replace("<h1>2026年某某省政府工作报告</h1>", "")
    assert extract_html(no_heading.encode(), "p.html").title == "2026年某某省政府工作报告"


@pytest.mark.parametrize("page", ["empty.html", "script-shell.html", "nav-only.html"])
def test_pages_without_report_text_are_refused(page: str) -> None:
    with pytest.raises(ExtractError) as error:
        extract_html((HTML / page).read_bytes(), page)
    message = str(error.value)
    assert "\n" not in message and "没有报告正文" in message and "另存为" in message and "PDF" in message


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(200), "PDF"),
        (b"PK\x03\x04" + bytes(200), "ZIP"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), ".doc"),
        (b"<html>" + bytes(100) + b"</html>", "二进制"),
        (b"", "没有报告正文"),
        (b"From: <Saved by Blink>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related;\r\n", "MHTML"),
        ("这只是一段纯文本，没有任何网页标记。".encode() * 20, ".txt"),
        # A GBK page with one byte no encoding allows.
        (
            ("<html><body><p>" + "经济运行稳中有升。" * 40 + "</p></body></html>")
            .encode("gbk")
            .replace(b"\xd0", b"\xff", 1),
            "编码",
        ),
    ],
)
def test_bad_files_are_refused_with_one_line(data: bytes, says: str) -> None:
    with pytest.raises(ExtractError) as error:
        extract_html(data, "bad.html")
    message = str(error.value)
    assert "\n" not in message and message.startswith("bad.html: ") and says in message


def test_short_page_is_refused() -> None:
    page = "<html><body><p>政府工作报告摘要。</p></body></html>"
    assert len(page) < MIN_TEXT_CHARS
    with pytest.raises(ExtractError):
        extract_html(page.encode(), "p.html")


@pytest.mark.parametrize(
    "page",
    [
        "<html><body>" + "<div>" * 50_000 + "<p>正文。</p>" + "</div>" * 50_000 + "</body></html>",
        "<html><body>" + "<span><p>经济运行稳中有升，发展质量持续提升。</p>" * 5_000 + "</body></html>",
    ],
    ids=["nested-divs", "unclosed-spans"],
)
def test_hostile_nesting_is_refused_fast(page: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ExtractError) as error:
        extract_html(page.encode(), "p.html")
    assert time.perf_counter() - start < 5
    assert "嵌套过深" in str(error.value)


def test_large_page_finishes_in_bounded_time() -> None:
    paragraph = (
        "<p>　　经济运行稳中有升，全区一般公共预算收入137亿元，固定资产投资384亿元，完成率居全市第一。</p>\n"
    )
    page = ("<html><body><div>" + paragraph * 40_000 + "</div></body></html>").encode()  # ~6 MB
    start = time.perf_counter()
    extracted = extract_html(page, "big.html")
    assert time.perf_counter() - start < 15
    assert len(lines_of(extracted.text)) == 40_000


@pytest.mark.slow
def test_all_provincial_reports_in_every_template() -> None:
    from eval.extract_html import TEMPLATES as ALL_TEMPLATES
    from eval.extract_html import provincial_sources

    for source in provincial_sources():
        for template, render in ALL_TEMPLATES.items():
            extracted = extract_html(render(source), f"{source.name}.{template}.html")
            lines = lines_of(extracted.text)
            missing = [line for line in source.body if line not in lines]
            assert not missing, f"{source.name} {template}: lost {missing[:2]}"
            assert extracted.title == source.title and lines[0] == source.title
            assert not [line for line in lines if FURNITURE.search(line) and line not in source.truth]
            assert_clean_text(extracted.text)
