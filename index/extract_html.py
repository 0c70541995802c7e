"""HTML extraction: a saved web page in, the report text it carries out.

In: the bytes of a .html/.htm file as a browser saved it (UTF-8, GBK/GB2312/GB18030, Big5 or another
encoding, declared in a <meta> or not), and the file's name for messages.
Out: ``Extracted(format="html")`` whose text is the page's main text, one paragraph or heading a
line, without navigation, breadcrumbs, the info line (来源/发布时间/字号/打印), share and related
links, footers (主办单位/ICP备/公网安备/网站标识码), scripts, styles and comments; the report's
title (from <h1>, a title meta tag or <title>) is its first line and its ``title``.

How, and why this way (eval/results/extract-html.md has the measurements):
1. Decode: a BOM, then UTF-8, then the declared charset, then detection (charset-normalizer).
   Valid UTF-8 wins over a declaration because saved pages often keep the server's old <meta>.
   UTF-8 and the declared charset may have one bad byte sequence per 20,000 bytes (shown as U+FFFD,
   as a browser does); more than that, and nothing else decoding, refuses the page.
2. Parse with lxml (libxml2), then walk the tree once, iteratively (no recursion, so deep nesting
   cannot overflow the stack), into lines: every block element and every <br> ends a line, since
   many government pages set a whole report in one <p> with <br><br>; table cells of a row are
   joined by a tab. Inside a line white space collapses to one space, and a line break of the
   HTML source between two Chinese characters disappears (as CSS Text specifies for CJK), so a
   paragraph that a Word export wrapped every 70 characters still reads as one.
3. The main content is found by prose, not by markup: the smallest element that holds at least
   half the page's prose (lines with sentence punctuation that are not mostly links) is the core,
   then it widens to its parent while what the parent adds is mostly prose too (a 注释 part in a
   sibling <div>), and stops where the parent adds navigation, an info line or a footer.
4. Lines of that element that are mostly link text, or that are known furniture phrases of Chinese
   government sites (当前位置, 来源：, 字号, 打印, 分享到, 相关链接, ICP备, 网站标识码 …), are dropped.
Refused with ExtractError: renamed binaries, MHTML, undecodable bytes, and pages that hold no report
text (a script shell whose content JavaScript would load, or navigation only).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer
import lxml.etree
import lxml.html

from index.extract import MAX_FILE_BYTES, MIN_TEXT_CHARS, Extracted, ExtractError

# Elements that end a line before and after them. Table cells are handled apart (joined by a tab).
BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd details dialog dir div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li listing main menu "
    "nav ol p plaintext pre section summary table tbody tfoot thead tr ul xmp".split()
)
CELL_TAGS = frozenset(("td", "th"))
# Never text a reader sees on the page. <noscript> only says the browser lacks JavaScript.
SKIP_TAGS = frozenset(
    "script style noscript template iframe frame frameset object embed applet svg math canvas head "
    "title select option optgroup button input textarea map area audio video source track datalist "
    "meta link base param".split()
)

# Stands for a cell boundary until white space is normalised, then becomes a tab: a private-use
# character, since the ASCII separators (\x1c–\x1f) count as white space to Python's regexes.
CELL_MARK = "\ue000"
CJK = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u2014-\u201f\u2026\u3000-\u303f"
# Source line breaks between two CJK characters are not spaces (CSS Text: segment break transformation).
CJK_SOFT_BREAK = re.compile(rf"(?<=[{CJK}])[ \t\r\n\f]*[\r\n][ \t\r\n\f]*(?=[{CJK}])")
WHITESPACE_RUN = re.compile(r"[\s\u00a0\u3000\u2000-\u200a\u202f\u205f]+")
# C0/C1 controls other than white space, and zero-width characters that break exact matching.
INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0e-\x1e\x7f-\x9f\u00ad\u200b-\u200d\u2060\ufeff\ufffe]")
SENTENCE_MARKS = frozenset("。！？；，、!?;")

# The core holds at least this share of the page's prose; a parent is taken in while the lines it
# adds are at least WIDEN_DENSITY prose and at most WIDEN_LINKS link text (by characters).
CORE_SHARE = 0.5
WIDEN_DENSITY = 0.4
WIDEN_LINKS = 0.1
LINK_SHARE = 0.5  # a line whose characters are at least half link text is navigation
PROSE_MIN_CHARS = 10
MAX_TAGS = 1_500_000  # ~1 GB of lxml nodes; no saved report page comes near (they have < 20,000)

# Furniture phrases of Chinese government and news sites, matched against a whole (short) line.
FURNITURE_LINE = re.compile(
    r"^(?:"
    r"(?:当前位置|您(?:现在)?的位置|您所在的位置|所在位置|现在位置)\s*[:：]?.*"  # breadcrumb
    r"|[^。，；]{1,20}(?:\s*(?:>>?|＞|»|›)\s*[^。，；>＞»›]{1,20}){2,}\s*(?:>>?|＞|»|›)?"  # a > b > c
    r"|(?:信息|文章|稿件)?来源\s*[:：].{0,60}"
    # An info line that opens with the date: 「2026年02月02日08:30 | 来源：…」
    r"|.{0,30}\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}.{0,30}(?:来源|作者|编辑|发布)\s*[:：].{0,40}"
    r"|(?:视频|图集|组图|音频)\s*[:：][^。]{0,40}"  # a media label
    r"|(?:发布|更新|成文|印发)?(?:时间|日期)\s*[:：].{0,60}"
    r"|(?:作者|责任编辑|编辑|审核|校对|撰稿|供稿|摄影|记者)\s*[:：].{0,40}"
    r"|[(（【\[]?(?:责任编辑|责编|编辑|来源)\s*[:：][^。]{0,30}[)）】\]]?"
    r"|(?:浏览|阅读|点击|访问)(?:次数|量|数)?\s*[:：]\s*\d*.{0,30}"
    # A bare publication date: numeric, or 年月日 with a time (a report's own 「2026年1月27日」 line stays).
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|\d{4}年\d{1,2}月\d{1,2}日\s*\d{1,2}:\d{2}(?::\d{2})?"
    r"|(?:分享到|分享至|分享\s*[:：]|转发到|扫一扫|微信扫一扫|手机扫一扫|扫码).{0,40}|分享"
    r"|(?:相关(?:链接|文章|新闻|阅读|报道|稿件|专题|解读|信息|附件|推荐)|延伸阅读|推荐阅读|热点推荐"
    r"|热门文章|猜你喜欢|网友评论|我要评论|附件下载)\s*[:：>]?"
    r"|(?:上一篇|下一篇|上一条|下一条|上篇|下篇)\s*[:：].*"
    r")$"
)
# Words that alone make up toolbar lines (【字号：大 中 小】【打印】【关闭】 分享到 微信 微博 …).
TOOLBAR_WORDS = frozenset(
    "大 中 小 默认 超大 特大 加大 还原 减小 字号 字体 打印 打印本页 打印此页 打印文章 "
    "关闭 关闭窗口 关闭本页 返回 返回顶部 顶部 收藏 收藏本页 加入收藏 下载 全屏 "
    "分享 分享到 微信 微博 新浪微博 腾讯微博 QQ空间 QQ 人人网 豆瓣 朋友圈 纠错 我要纠错 "
    "保存 存档 字号大 字号中 字号小 A A+ A- 放大 缩小 【 】 [ ] | ： :".split()
)
TOOLBAR_SPLIT = re.compile(r"[\s|｜/、【】\[\]()（）:：·•]+")
# Footer markers: any short line containing one is footer, wherever on the line it stands.
FOOTER_MARK = re.compile(
    r"ICP备|ICP证|公网安备|网站标识码|网站识别码|主办单位\s*[:：]|承办单位\s*[:：]|主办\s*[:：]|承办\s*[:：]|"
    r"运行维护单位|"
    r"运维单位|技术支持\s*[:：]|版权所有|Copyright|©|联系我们|网站地图|使用帮助|隐私声明|网站声明|免责声明|"
    r"建议使用.{0,30}分辨率|分辨率.{0,20}浏览|政府网站找错|无障碍浏览|扫一扫在手机|手机打开当前页|"
    r"当前页面|打印本页|关闭窗口|【打印】|【关闭】|字号\s*[:：]|字体\s*[:：]",
    re.IGNORECASE,
)
FOOTER_MAX_CHARS = 150  # a body paragraph that mentions 版权 is longer, and has a full stop

BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF 文件，请把扩展名改为 .pdf 再添加"),
    (b"PK\x03\x04", "ZIP 压缩包或 Word(.docx) 文件，Word 文件请用 .docx 扩展名添加"),
    (b"\xd0\xcf\x11\xe0", "旧版 Office 文件（.doc/.xls），请用 Word 另存为 .docx 后添加"),
    (b"\x89PNG", "PNG 图片，请添加保存下来的网页文件"),
    (b"\xff\xd8\xff", "JPEG 图片，请添加保存下来的网页文件"),
    (b"GIF8", "GIF 图片，请添加保存下来的网页文件"),
    (b"\x1f\x8b", "gzip 压缩文件，请先解压"),
    (b"Rar!", "RAR 压缩包，请先解压"),
    (b"7z\xbc\xaf", "7z 压缩包，请先解压"),
)
# Label families browsers treat as one encoding (WHATWG): GB2312 and GBK pages are decoded as GB18030,
# their superset, because servers labelled gb2312 send characters GB2312 lacks (镕, 喆, 堃 …).
ENCODING_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "euc_cn": "gb18030",
    "hz": "gb18030",
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
    "latin_1": "cp1252",
    "ascii": "cp1252",
    "iso8859_1": "cp1252",
    "utf_16": "utf-8",
    "utf_16_le": "utf-8",
    "utf_16_be": "utf-8",  # a <meta> can't be read in UTF-16
}
META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")
STRAY_BYTES_PER = 20_000  # bad byte sequences tolerated: one per this many bytes of the page
SINGLE_BYTE_WESTERN = frozenset(("cp1252",)) | {f"iso8859_{n}" for n in range(2, 17)}

NO_TEXT = (
    "网页里没有报告正文（可能是空白页、只有导航，或正文要靠脚本加载），"
    "请在浏览器中等正文显示后用“另存为 → 网页，全部”保存，或打印为 PDF 后添加"
)


@dataclass
class _Line:
    text: str
    chars: int  # non-space characters
    link_chars: int  # of which inside <a href>
    prose: int  # characters that count as report prose (0 for navigation, toolbars, short labels)


@dataclass
class _Block:
    depth: int
    first: int  # index of its first line
    end: int  # one past its last line


def extract_html(data: bytes, name: str) -> Extracted:
    """The report text of a saved web page, or ExtractError saying what is wrong and what to do."""
    _check_bytes(data, name)
    text = decode_html(data, name)
    root = _parse(text, name)
    page_title = _page_title(root)
    body = root.find("body")
    lines, blocks = _walk(body if body is not None else root)
    kept = _main_lines(lines, blocks)
    if sum(len(line) for line in kept) < MIN_TEXT_CHARS:
        raise ExtractError(f"{name}: {NO_TEXT}")
    if page_title:
        if page_title in kept[:3]:
            kept.remove(page_title)
        kept.insert(0, page_title)
    return Extracted(text="\n".join(kept) + "\n", format="html", title=page_title)


def _check_bytes(data: bytes, name: str) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise ExtractError(f"{name}: 文件超过 {MAX_FILE_BYTES // 2**20} MB，请只保存报告所在的网页")
    head = data[:4096].lstrip()
    if not head:
        raise ExtractError(f"{name}: {NO_TEXT}")
    for magic, what in BINARY_MAGIC:
        if head.startswith(magic):
            raise ExtractError(f"{name}: 这不是网页，而是{what}")
    if re.match(rb"(?i)(From:|MIME-Version:|Content-Type:\s*multipart/related)", head) or (
        b"multipart/related" in head[:1024].lower()
    ):
        raise ExtractError(
            f"{name}: 这是“单个文件”网页（MHTML），"
            "请在浏览器中用“另存为 → 网页，全部”保存为 .html，或打印为 PDF"
        )
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if not utf16 and b"\x00" in data[:8192]:
        raise ExtractError(f"{name}: 这不是网页文件（内容是二进制数据），请添加浏览器保存下来的 .html 网页")
    if data.count(b"<") > MAX_TAGS:
        raise ExtractError(f"{name}: 网页标记过多，无法处理，请只保存报告所在的网页，或打印为 PDF")


def _codec(label: str) -> str | None:
    """Python's codec name for a charset label, with browsers' aliases applied; None if unknown."""
    label = label.strip().lower()
    label = label.removeprefix("x-")  # x-gbk, x-euc-cn: old browser labels
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        return None
    return ENCODING_ALIASES.get(codec.replace("-", "_"), codec)


def declared_encoding(data: bytes) -> str | None:
    """The codec a page declares in an XML declaration or <meta> (first 16 KB), if any Python knows."""
    head = data[:16384]
    match = XML_ENCODING.match(head) or META_CHARSET.search(head)
    return _codec(match.group(1).decode("ascii")) if match else None


def decode_html(data: bytes, name: str) -> str:
    """The page's text: BOM, then strict UTF-8, then its declared charset, then detection."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                break
    # Valid UTF-8 with non-ASCII text is almost never another encoding by chance, while a saved page's
    # <meta> often still names the server's old charset: try UTF-8 before the declaration.
    # A page with a stray bad byte (a truncated save, a CMS that cut a character) still reads as a
    # browser shows it, with U+FFFD there; only UTF-8 and a declared CJK encoding get this leeway,
    # since a wrong guess decodes with many errors, and GB18030 decodes UTF-8 bytes with few.
    stray = max(1, len(data) // STRAY_BYTES_PER)
    text = _decode_leniently(data, "utf-8", stray)
    if text is not None:
        return text
    declared = declared_encoding(data)
    # A Western single-byte label decodes any bytes, so it proves nothing: detection decides then.
    if declared and declared != "utf-8" and declared not in SINGLE_BYTE_WESTERN:
        text = _decode_leniently(data, declared, stray)
        if text is not None:
            return text
    detected = charset_normalizer.from_bytes(data[:2_000_000]).best()
    candidates = [_codec(detected.encoding) if detected else None, declared, "gb18030"]
    for codec in candidates:
        if codec and codec != "utf-8":
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                continue
    raise ExtractError(
        f"{name}: 无法识别网页的文字编码（不是 UTF-8、GBK 等常见编码，或文件已损坏），"
        "请在浏览器中重新保存网页，或打印为 PDF 后添加"
    )


def _decode_leniently(data: bytes, codec: str, stray: int) -> str | None:
    """``data`` in ``codec`` if it decodes with at most ``stray`` bad sequences (each then U+FFFD)."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        pass
    text = data.decode(codec, errors="replace")
    return text if text.count("\ufffd") <= stray else None


def _parse(text: str, name: str) -> lxml.html.HtmlElement:
    if "<" not in text:
        raise ExtractError(f"{name}: 文件里没有网页标记，不是网页；如果是纯文本，请把扩展名改为 .txt 再添加")
    # Re-encoded as UTF-8 and told so, libxml2 ignores the page's own <meta charset>. huge_tree lifts
    # libxml2's nesting cap of 256, past which it silently drops the rest of the page (unclosed <div>s
    # in a sloppy template nest that deep); the file size cap bounds what that lets in.
    parser = lxml.html.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True, no_network=True
    )
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8", "surrogatepass"), parser=parser)
    except (lxml.etree.ParserError, ValueError) as error:
        raise ExtractError(f"{name}: {NO_TEXT}") from error
    # Past 2,048 levels libxml2 stops and keeps only what it had: refuse rather than lose text silently.
    if any(entry.type_name == "ERR_RESOURCE_LIMIT" for entry in parser.error_log):
        raise ExtractError(
            f"{name}: 网页的标记嵌套过深（超过 2048 层，多半是未闭合的标签），无法完整读取，"
            "请在浏览器中打印为 PDF 后添加"
        )
    return root


def _page_title(root: lxml.html.HtmlElement) -> str:
    """The report title the page gives: an <h1> that agrees with <title>, a title meta tag, <title>.

    Many sites' <h1> is the logo (「XX省人民政府」) and their <title> ends in the site name
    (「…_XX省人民政府网」), so the <title> is split on its separators and site names are set aside.
    """
    title_tag = root.find(".//title")
    segments = _title_segments(_normalise(title_tag.text_content()) if title_tag is not None else "")
    metas = [
        _normalise(meta.get("content") or "")
        for meta in root.iter("meta")
        if (meta.get("name") or meta.get("property") or "").lower() in ("articletitle", "og:title", "title")
    ]
    headings = [_normalise(h.text_content()) for tag in ("h1", "h2") for h in root.iter(tag)][:8]
    sensible = [t for t in headings + metas + segments if _sensible_title(t)]
    for heading in headings:
        if _sensible_title(heading) and any(heading in s or s in heading for s in segments + metas if s):
            return heading
    for candidate in metas + segments:
        if _sensible_title(candidate):
            return candidate
    return next((t for t in sensible if "报告" in t), "")


def _title_segments(title: str) -> list[str]:
    # Separators between the page's and the site's names: _ | ｜, or a dash between Chinese words
    # (not the one of 「2021-2025年」).
    separators = r"\s*[_|｜]\s*|\s+[-–—－]+\s+|(?<=[\u4e00-\u9fff）)])\s*(?:[-–－]|——)\s*(?=[\u4e00-\u9fff])"
    parts = [p.strip() for p in re.split(separators, title) if p.strip()]
    parts.sort(key=lambda p: ("报告" not in p, _site_name(p), -len(p)))
    return parts


def _site_name(text: str) -> bool:
    return bool(
        re.search(r"(人民政府|政府|门户网站|门户|网站|网|首页|频道|办公厅|新闻|日报|在线|政务公开)$", text)
    )


def _sensible_title(text: str) -> bool:
    return (
        4 <= len(text) <= 80
        and not _site_name(text)
        and "。" not in text
        and not FURNITURE_LINE.match(text)
        and not FOOTER_MARK.search(text)
    )


def _normalise(text: str) -> str:
    """One line of page text as a reader sees it: invisible characters gone, white space collapsed."""
    text = INVISIBLE.sub("", text)
    text = CJK_SOFT_BREAK.sub("", text)
    return WHITESPACE_RUN.sub(" ", text).strip()


def _hidden(element: lxml.html.HtmlElement) -> bool:
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    style = (element.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def _walk(root: lxml.html.HtmlElement) -> tuple[list[_Line], list[_Block]]:
    """Every line of text under ``root`` in document order, and each block element's span of lines.

    Iterative on purpose: a recursive walk would overflow Python's stack on a hostile page.
    """
    lines: list[_Line] = []
    blocks: list[_Block] = []
    pieces: list[tuple[str, bool]] = []  # (text, inside a link) of the line being built
    links = 0  # open <a href> elements
    pre = 0  # open <pre> elements: their line breaks are real

    def end_line() -> None:
        nonlocal pieces
        if pieces:
            line = _make_line(pieces)
            if line is not None:
                lines.append(line)
            pieces = []

    def add_text(text: str | None) -> None:
        if not text:
            return
        text = text.replace(CELL_MARK, "")
        if pre:
            first, *rest = text.split("\n")
            pieces.append((first, links > 0))
            for part in rest:
                end_line()
                pieces.append((part, links > 0))
        else:
            pieces.append((text, links > 0))

    # Stack entries: (element, depth, entering?, first line index when entered).
    stack: list[tuple[lxml.html.HtmlElement, int, bool, int]] = [(root, 0, True, 0)]
    while stack:
        element, depth, entering, first = stack.pop()
        tag = element.tag if isinstance(element.tag, str) else ""
        if not entering:
            if tag in BLOCK_TAGS or tag in CELL_TAGS:
                if tag in CELL_TAGS:
                    pieces.append((CELL_MARK, False))
                if tag in BLOCK_TAGS:
                    end_line()
                blocks.append(_Block(depth, first, len(lines)))
            if tag == "a" and element.get("href") is not None:
                links -= 1
            elif tag == "pre":
                pre -= 1
            if depth:  # the root's tail is outside the walked part
                add_text(element.tail)
            continue
        if not tag or tag in SKIP_TAGS or _hidden(element):
            if depth:
                add_text(element.tail)
            continue
        if tag == "br":
            end_line()
            add_text(element.tail)
            continue
        if tag in BLOCK_TAGS:
            end_line()
        elif tag in CELL_TAGS:
            pieces.append((CELL_MARK, False))
        elif tag == "a" and element.get("href") is not None:
            links += 1
        elif tag == "pre":
            pre += 1
        stack.append((element, depth, False, len(lines)))
        add_text(element.text)
        stack.extend((child, depth + 1, True, 0) for child in reversed(element))
    end_line()
    return lines, blocks


def _make_line(pieces: list[tuple[str, bool]]) -> _Line | None:
    raw = "".join(text for text, _ in pieces)
    text = _normalise(raw)
    if CELL_MARK in text:
        text = re.sub(rf"\s*{CELL_MARK}[\s{CELL_MARK}]*", "\t", text).strip("\t ")
    if not text:
        return None
    chars = len(re.sub(r"\s", "", text))
    link_chars = sum(len(re.sub(r"\s", "", INVISIBLE.sub("", t))) for t, in_link in pieces if in_link)
    prose = 0
    if (
        chars >= PROSE_MIN_CHARS
        and link_chars < LINK_SHARE * chars
        and SENTENCE_MARKS.intersection(text)
        and not _furniture(text)
    ):
        prose = chars
    return _Line(text, chars, min(link_chars, chars), prose)


def _furniture(text: str) -> bool:
    """A line that is page furniture by its words alone (toolbar, breadcrumb, info line, footer)."""
    if FURNITURE_LINE.match(text):
        return True
    if len(text) <= FOOTER_MAX_CHARS and "。" not in text and FOOTER_MARK.search(text):
        return True
    words = [w for w in TOOLBAR_SPLIT.split(text) if w]
    return bool(words) and all(w in TOOLBAR_WORDS for w in words)


def _main_lines(lines: list[_Line], blocks: list[_Block]) -> list[str]:
    """The lines of the main-content element, furniture and link lines left out."""
    total = sum(line.prose for line in lines)
    if not total:
        return []
    prefix = [0]
    for line in lines:
        prefix.append(prefix[-1] + line.prose)

    def prose(block: _Block) -> int:
        return prefix[block.end] - prefix[block.first]

    # The core: the deepest block with at least CORE_SHARE of the prose. Blocks holding more than half
    # of it all contain one another, so "deepest" is well defined.
    holding = [b for b in blocks if prose(b) >= CORE_SHARE * total]
    core = max(holding, key=lambda b: (b.depth, -(b.end - b.first)))
    first, end = core.first, core.end
    # Widen to each enclosing block in turn while what it adds is mostly prose.
    enclosing = sorted(
        (b for b in blocks if b.first <= first and b.end >= end and b.depth < core.depth),
        key=lambda b: -b.depth,
    )
    for block in enclosing:
        added = lines[block.first : first] + lines[end : block.end]
        added_chars = sum(line.chars for line in added)
        added_prose = sum(line.prose for line in added)
        added_links = sum(line.link_chars for line in added)
        # A column of news items with one-line summaries is prose too, but a tenth of it is links.
        if added_chars and (
            added_prose < WIDEN_DENSITY * added_chars or added_links > WIDEN_LINKS * added_chars
        ):
            break
        first, end = block.first, block.end
    kept = []
    for line in lines[first:end]:
        if line.link_chars >= LINK_SHARE * line.chars and not (line.chars >= 50 and "。" in line.text):
            continue
        if _furniture(line.text):
            continue
        kept.append(line.text)
    return kept
