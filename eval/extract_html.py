"""HTML extraction benchmark: which way of getting a report's text out of a saved government page.

    .venv/bin/python -m eval.extract_html            # about 5 minutes on 2 idle cores
    .venv/bin/python -m eval.extract_html --quick    # 5 reports only, no pathological pages

Input: the 15 provincial reports of ``data/examples/provincial_2026`` (one paragraph a line: the
truth for what a page's body is, once the web furniture lines those files carry are set aside) and
the 2 罗湖 reports of ``data/reports`` (news-page text; the truth is the lines ``index.clean`` keeps).
Each report is rendered into saved pages of several templates modelled on real government sites
(``TEMPLATES``), each with navigation, breadcrumbs, an info line, share and related links, a footer,
scripts, styles and comments; the pages are written to ``eval/.cache/extract-html/`` for inspection.

Output: on stdout, the machine and a Markdown table per method (body recall, headings kept, title
found, furniture and other lines leaked, seconds a page), a table by template, timings on pathological
pages; the same written to ``eval/results/extract-html.md`` with the choice and why.

Metrics, per page, averaged: *recall*: the share of the truth's body lines that appear as an exact
line of the output (as a multiset); *headings*: the same over heading lines (「一、」「（一）」, short
title lines); *title*: the method's title equals the page's title; *leaked*: output lines that are
not truth lines, counted by kind (ICP/footer, share, breadcrumb, info/toolbar, related, body text
altered or merged, other). For the 罗湖 pages, furniture lines of the source text (which
``index.clean`` drops downstream) are neither truth nor leaks.
"""

# ruff: noqa: E501 -- the page templates are HTML written as sites write it, in long lines.

from __future__ import annotations

import argparse
import html
import importlib.metadata
import itertools
import os
import platform
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from index.clean import split_lines
from index.extract import ExtractError
from index.extract_html import decode_html, extract_html
from index.settings import PROJECT_ROOT
from index.structure import RUN_IN_AT_START, heading_level

PROVINCIAL = PROJECT_ROOT / "data" / "examples" / "provincial_2026"
LUOHU = PROJECT_ROOT / "data" / "reports"
CACHE = PROJECT_ROOT / "eval" / ".cache" / "extract-html"
RESULTS = PROJECT_ROOT / "eval" / "results" / "extract-html.md"

# Web furniture lines the provincial files carry (toolbar, info line, breadcrumb of the page they were
# copied from): not report text, so not part of the truth. Matched against whole lines.
SOURCE_FURNITURE = re.compile(
    r"^(下载|打印|全屏|收藏|【字号：|加大|还原|减小|】|相关报道：|分享:|首页|>|政府信息公开|省政府工作报告|"
    r"陕西省人民政府|来源：.*|时间：.*|\d{4}-\d\d-\d\d.*|（来源：.*）|编辑：.*|扫一扫在手机打开当前页)$"
)
TITLE_LINE = re.compile(r"^[^。，\s]*政府工作报告$")
ABBREVIATIONS = {
    "河北省": "冀",
    "河南省": "豫",
    "浙江省": "浙",
    "海南省": "琼",
    "湖北省": "鄂",
    "湖南省": "湘",
    "甘肃省": "陇",
    "福建省": "闽",
    "西藏自治区": "藏",
    "贵州省": "黔",
    "辽宁省": "辽",
    "重庆市": "渝",
    "陕西省": "陕",
    "青海省": "青",
    "黑龙江省": "黑",
}


@dataclass
class Source:
    name: str  # file stem
    region: str
    title: str  # the page's title (<h1>)
    body: list[str]  # truth body lines, in order, title excluded
    origin: str  # 来源
    date: str
    allowed: set[str] = field(default_factory=set)  # source furniture lines a method may output

    @property
    def truth(self) -> list[str]:
        return [self.title, *self.body]


def provincial_sources() -> list[Source]:
    titles = dict(
        re.findall(r"^\| (\S+_2026\.txt) \| (\S+) \|", (PROVINCIAL / "README.md").read_text(), re.M)
    )
    published = dict(
        re.findall(
            r"^\| (\S+_2026\.txt) \| \S+ \| (\d{4}-\d\d-\d\d) \|",
            (PROVINCIAL / "README.md").read_text(),
            re.M,
        )
    )
    sources = []
    for path in sorted(PROVINCIAL.glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        opening = lines.index("各位代表：")
        starts = [i for i in range(opening) if TITLE_LINE.match(lines[i]) and "作政府" not in lines[i]]
        first = starts[-1]
        body = [line for line in lines[first + 1 :] if not SOURCE_FURNITURE.match(line)]
        title = titles[path.name]
        if lines[first] != title:
            body.insert(0, lines[first])  # the page repeats 「政府工作报告」 under its own <h1>
        origin = next((line[3:] for line in lines if line.startswith("来源：") and len(line) > 3), "")
        region = path.stem.split("_")[0]
        sources.append(
            Source(path.stem, region, title, body, origin or region + "人民政府", published[path.name])
        )
    return sources


def luohu_sources() -> list[Source]:
    sources = []
    for path in sorted(LUOHU.glob("*.txt")):
        meta = path.with_suffix(".toml").read_text(encoding="utf-8")
        title = re.search(r'^title = "(.+)"', meta, re.M).group(1)
        text = path.read_text(encoding="utf-8")
        lines = split_lines(text)
        body = [line.text for line in lines if line.furniture is None]
        allowed = {line.text for line in lines if line.furniture is not None}
        sources.append(Source(path.stem, "深圳市罗湖区", title, body, "深圳新闻网", "2021-01-29", allowed))
    return sources


# ---------------------------------------------------------------------------------------------------
# Page templates. Each renders a Source as the bytes of a saved page. They imitate the markup of real
# sites (gov.cn's UCAP article page, a TRS provincial CMS with table layout and a Word-pasted body, an
# old table page with the whole report in one <p>, a modern page with a related-links column, a news
# portal), including what makes extraction hard: entities, &nbsp;/「　　」 indentation, run-in bold
# headings, inline links, soft-wrapped source lines, captions, scripts and styles.


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def esc_entities(text: str) -> str:
    """Escaped the way older CMSs do: named entities for quotes and dashes, some numeric ones."""
    text = esc(text)
    for char, entity in (
        ("“", "&ldquo;"),
        ("”", "&rdquo;"),
        ("—", "&mdash;"),
        ("…", "&hellip;"),
        ("·", "&middot;"),
        ("、", "&#x3001;"),
        ("%", "&#37;"),
    ):
        text = text.replace(char, entity)
    return text


def is_heading(line: str) -> bool:
    return heading_level(line) is not None and len(line) <= 40


def run_in(line: str) -> tuple[str, str] | None:
    match = RUN_IN_AT_START.match(line)
    return (match.group(0), line[match.end() :]) if match else None


def is_caption(line: str) -> bool:
    return line.endswith("摄") or "作政府工作报告" in line


def soft_wrap(text: str, width: int = 36) -> str:
    """Line breaks in the HTML source every ``width`` characters, between two Chinese characters only
    (as Word's HTML export and some CMS editors wrap)."""
    out, run = [], 0
    for i, char in enumerate(text):
        out.append(char)
        run += 1
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if run >= width and "\u4e00" <= char <= "\u9fff" and "\u4e00" <= nxt <= "\u9fff":
            out.append("\r\n")
            run = 0
    return "".join(out)


def link_a_word(text: str, index: int) -> str:
    """Every 11th paragraph links a four-character word inside it, as sites link names of programmes."""
    if index % 11 != 5:
        return esc(text)
    match = re.search(r"[\u4e00-\u9fff]{4}", text[10:])
    if not match:
        return esc(text)
    start = 10 + match.start()
    word = text[start : start + 4]
    return (
        f'{esc(text[:start])}<a href="/so/s?q={word}" target="_blank">{esc(word)}</a>{esc(text[start + 4 :])}'
    )


HEAD_SCRIPTS = """<script type="text/javascript" src="/js/jquery-1.12.4.min.js"></script>
<script type="text/javascript">
var _hmt = _hmt || [];
(function() { var hm = document.createElement("script"); hm.src = "https://hm.example.cn/hm.js?abc";
  var s = document.getElementsByTagName("script")[0]; s.parentNode.insertBefore(hm, s); })();
var shareDesc = "分享到：微信 微博 QQ空间"; function doZoom(size) { document.getElementById("zoom").style.fontSize = size + "px"; }
</script>
<!--[if lt IE 9]><script src="/js/html5shiv.js"></script><![endif]-->"""

STYLE = """<style type="text/css">
body { margin: 0; font-family: "Microsoft YaHei", "微软雅黑", SimSun; }
.nav li { float: left; } .footer { background: #eee; color: #666; } p { line-height: 2em; }
/* 正文样式 */ .content p { text-indent: 2em; }
</style>"""


def nav_links(region: str) -> str:
    items = [
        "首页",
        "政务公开",
        "政务服务",
        "互动交流",
        "数据开放",
        f"走进{region[:2]}",
        "专题专栏",
        "政策解读",
    ]
    return "".join(f'<li><a href="/col/{i}/index.html">{item}</a></li>' for i, item in enumerate(items))


def related(region: str, label: str) -> str:
    items = [
        f"2025年{region}政府工作报告",
        f"图解：2026年{region}政府工作报告",
        f"{region}省长答记者问实录",
        f"权威解读｜2026年{region}政府工作报告里的民生“温度”",
        f"{region}人大会议闭幕 政府工作报告获批准",
    ]
    lis = "".join(
        f'<li><a href="/art/2026/2/{i}/art_{i}.html" title="{t}">{esc(t)}</a><span>2026-01-2{i}</span></li>'
        for i, t in enumerate(items)
    )
    return f'<div class="related"><div class="tit">{label}</div><ul>{lis}</ul></div>'


def footer(region: str, *, rich: bool) -> str:
    abbr = ABBREVIATIONS.get(region, "粤")
    parts = [
        '<p><a href="/about/">关于本网</a> | <a href="/sm/">网站声明</a> | <a href="/lxwm/">联系我们</a> | '
        '<a href="/wzdt/">网站地图</a></p>',
        f"<p>主办单位：{region}人民政府办公厅　运行维护单位：{region}大数据中心</p>",
        f'<p>版权所有：{region}人民政府　<a href="https://beian.miit.gov.cn">{abbr}ICP备05003004号</a>　'
        f'<a href="http://www.beian.gov.cn"><img src="/images/ga.png">{abbr}公网安备 13010802000123号</a></p>',
        "<p>网站标识码：1300000040</p>",
    ]
    if rich:
        parts += [
            f"<p>地址：{region}省会市中心路1号　邮编：050051　电话：0311-87901234</p>",
            "<p>建议使用1920×1080分辨率 IE10以上浏览器浏览本网站</p>",
            '<div class="jiucuo"><script id="_jiucuo_" sitecode="1300000040" src="/jiucuo.js"></script>'
            '<a href="/jiucuo"><img src="/images/jiucuo.png" alt="政府网站找错"></a></div>',
        ]
    return '<div class="footer">' + "".join(parts) + "</div>"


def page_govcn(src: Source) -> bytes:
    """gov.cn-style article page: div.article with <h1>, the date/source/字号/打印 line, div#UCAP-CONTENT."""
    paragraphs = []
    for i, line in enumerate(src.body):
        if is_caption(line):
            paragraphs.append('<p style="text-align: center;"><img src="/images/photo.jpg" border="0"></p>')
            paragraphs.append(f'<p style="text-align: center;">{esc(line)}</p>')
        elif is_heading(line):
            paragraphs.append(f'<p style="text-indent: 2em;"><strong>{esc(line)}</strong></p>')
        elif parts := run_in(line):
            paragraphs.append(
                f'<p style="text-indent: 2em;"><strong>{esc(parts[0])}</strong>{esc(parts[1])}</p>'
            )
        else:
            paragraphs.append(
                f'<p style="text-indent: 2em; font-family: 宋体, SimSun;">{link_a_word(line, i)}</p>'
            )
    body = "\n".join(paragraphs)
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head>
<meta charset="utf-8">
<meta name="ArticleTitle" content="{esc(src.title)}">
<meta name="PubDate" content="{src.date} 10:00">
<meta name="ContentSource" content="{esc(src.origin)}">
<title>{esc(src.title)}_{src.region}人民政府网</title>
{STYLE}
{HEAD_SCRIPTS}
</head>
<body>
<div class="header"><div class="logo"><a href="/"><img src="/images/logo.png" alt="{src.region}人民政府网"></a></div>
<div class="nav"><ul>{nav_links(src.region)}</ul></div>
<div class="search"><input type="text" placeholder="请输入关键词"><button>搜索</button></div></div>
<div class="main">
<div class="BreadcrumbNav">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; <a href="/zfgzbg/">政府工作报告</a></div>
<div class="article oneColumn pub_border">
<h1>{esc(src.title)}</h1>
<div class="pages-date">{src.date} 10:00 <span class="font">来源： {esc(src.origin)}</span>
<span class="font index_switchsize">字号：<span>默认</span> <span>大</span> <span>超大</span></span> | <span class="font printIco"><a href="javascript:window.print()">打印</a></span> | </div>
<!-- 正文开始 -->
<div class="pages_content" id="UCAP-CONTENT">
{body}
</div>
<!-- 正文结束 -->
<div class="editor">责任编辑：王某某</div>
<div class="share">分享到：<a class="wx" href="javascript:;" title="微信">微信</a><a class="wb" href="javascript:;">微博</a><a class="qzone" href="javascript:;">QQ空间</a></div>
{related(src.region, "相关链接")}
</div></div>
{footer(src.region, rich=False)}
<script>document.write(unescape("%3Cspan id='_ideConac'%3E%3C/span%3E"));</script>
</body></html>"""
    return page.encode("utf-8")


def page_govcn_old(src: Source) -> bytes:
    """Older gov.cn-style table page: title and 【字体：大 中 小】【打印本页】【关闭窗口】 in table rows,
    div.pages_content with &nbsp; indentation, named entities, empty <p>s and centred bold headings."""
    paragraphs = []
    for i, line in enumerate(src.body):
        if is_heading(line):
            paragraphs.append(f'<p align="center"><b>{esc_entities(line)}</b></p>')
        else:
            paragraphs.append(f"<p>&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; {esc_entities(line)}</p>")
        if i % 7 == 3:
            paragraphs.append("<p>&nbsp;</p>")
    body = "\n    ".join(paragraphs)
    page = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>{esc(src.title)}_滚动新闻_中国政府网</title>
{STYLE}
<script type="text/javascript">function CheckSearch() {{ if (document.search.q.value == "") {{ alert("请输入关键词"); return false; }} }}</script>
</head><body>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0"><tr>
<td><a href="/">首页</a> | <a href="/guowuyuan/">国务院</a> | <a href="/zongli/">总理</a> | <a href="/xinwen/">新闻</a> | <a href="/zhengce/">政策</a> | <a href="/hudong/">互动</a> | <a href="/fuwu/">服务</a> | <a href="/shuju/">数据</a></td>
</tr></table>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0" class="bd1">
<tr><td class="p1"><div class="pages-title">{esc(src.title)}</div></td></tr>
<tr><td class="p2" align="center">来源：{esc(src.origin)}&nbsp;&nbsp;&nbsp;&nbsp;{src.date}&nbsp;&nbsp;&nbsp;&nbsp;【字体：<a href="javascript:doZoom(16)">大</a> <a href="javascript:doZoom(14)">中</a> <a href="javascript:doZoom(12)">小</a>】&nbsp;&nbsp;【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</td></tr>
<tr><td class="p3">
  <div class="pages_content" id="UCAP-CONTENT">
    {body}
  </div>
</td></tr>
<tr><td><div class="pages_print">【<a href="/jiucuo/">我要纠错</a>】 【<a href="javascript:window.print()">打印</a>】 【<a href="javascript:window.close()">关闭</a>】</div></td></tr>
<tr><td>{related(src.region, "相关报道")}</td></tr>
</table>
<table width="1000" align="center"><tr><td align="center">
<a href="/wzdt/">网站地图</a> | <a href="/lxwm/">联系我们</a><br />
版权所有：中国政府网 | 中文域名：中国政府网.政务<br />
网站标识码bm01000001 &nbsp; <a href="https://beian.miit.gov.cn">京ICP备05070218号</a> &nbsp; 京公网安备11010202000001号<br />
主办单位：国务院办公厅 &nbsp; 运行维护单位：中国政府网运行中心
</td></tr></table>
</body></html>"""
    return page.encode("utf-8")


def word_span(text: str) -> str:
    """A Word-pasted run: Latin digits in their own <span lang=EN-US>, the rest soft-wrapped."""
    return re.sub(r"([0-9][0-9.%]*)", r"<span lang=EN-US>\1</span>", soft_wrap(esc(text)))


def page_trs_table(src: Source) -> bytes:
    """Provincial TRS CMS with table layout: a left menu column, the title in a <td> (no <h1>), an info
    row with 浏览次数, and div.TRS_Editor holding its own <style> and Word-pasted, soft-wrapped paragraphs."""
    paragraphs = []
    for line in src.body:
        if is_heading(line):
            paragraphs.append(
                "<p class=MsoNormal style='text-indent:32.0pt;line-height:28.0pt'><b><span "
                f"style='font-size:16.0pt;font-family:黑体'>{word_span(line)}</span></b></p>"
            )
        else:
            paragraphs.append(
                "<p class=MsoNormal style='text-indent:32.0pt;line-height:28.0pt;mso-line-height-rule:exactly'>"
                f"<span style='font-size:16.0pt;font-family:仿宋_GB2312'>{word_span(line)}"
                "<span lang=EN-US><o:p></o:p></span></span></p>"
            )
    body = "\r\n".join(paragraphs)
    menu = "".join(
        f'<tr><td class="lmz"><a href="/col/col{i}/">{item}</a></td></tr>'
        for i, item in enumerate(
            [
                "信息公开指南",
                "信息公开制度",
                "法定主动公开内容",
                "政府工作报告",
                "规划计划",
                "财政预决算",
                "依申请公开",
            ]
        )
    )
    page = f"""<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{src.region}人民政府 - {esc(src.title)}</title>
<link href="/css/style.css" rel="stylesheet" type="text/css">
{HEAD_SCRIPTS}
</head>
<body leftmargin="0" topmargin="0">
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0">
<tr><td colspan="2"><img src="/images/banner.jpg" width="1000" height="120"></td></tr>
<tr><td colspan="2" class="nav"><a href="/">首页</a>&nbsp;|&nbsp;<a href="/zwgk/">政务公开</a>&nbsp;|&nbsp;<a href="/bsfw/">办事服务</a>&nbsp;|&nbsp;<a href="/hdjl/">互动交流</a></td></tr>
<tr>
<td width="230" valign="top" class="left">
  <table width="100%" border="0"><tr><td class="lm">政府信息公开</td></tr>{menu}</table>
</td>
<td valign="top">
  <table width="100%" border="0"><tr><td class="dqwz">您现在的位置：<a href="/">首页</a> &gt;&gt; <a href="/zwgk/">政府信息公开</a> &gt;&gt; <a href="/zwgk/ghjh/">规划计划</a></td></tr></table>
  <table width="96%" border="0" align="center">
  <tr><td align="center" class="bt" height="60">{esc(src.title)}</td></tr>
  <tr><td align="center" class="xx">发布日期：{src.date}&nbsp;&nbsp;&nbsp;来源：{esc(src.origin)}&nbsp;&nbsp;&nbsp;浏览次数：<span id="count">2316</span>&nbsp;&nbsp;&nbsp;【字体：<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a>】</td></tr>
  <tr><td class="zw" id="zoom">
<div class="TRS_Editor"><style type="text/css">
.TRS_Editor P{{margin-top:5px;margin-bottom:5px;line-height:2;font-family:宋体;font-size:12pt;}}.TRS_Editor DIV,.TRS_Editor TD,.TRS_Editor TH,.TRS_Editor SPAN,.TRS_Editor FONT,.TRS_Editor UL,.TRS_Editor LI,.TRS_Editor A{{margin-top:5px;margin-bottom:5px;line-height:2;font-family:宋体;font-size:12pt;}}
</style>
<div class=Custom_UnionStyle>
{body}
</div></div>
  </td></tr>
  <tr><td align="right">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</td></tr>
  </table>
</td></tr></table>
<table width="1000" border="0" align="center" class="foot"><tr><td align="center">
主办：{src.region}人民政府办公厅&nbsp;&nbsp;承办：{src.region}信息中心<br>
网站标识码：1300000040&nbsp;&nbsp;<a href="https://beian.miit.gov.cn">{ABBREVIATIONS.get(src.region, "粤")}ICP备05003004号</a>&nbsp;&nbsp;<a href="http://www.beian.gov.cn">{ABBREVIATIONS.get(src.region, "粤")}公网安备 13010802000123号</a><br>
联系电话：0311-87901234&nbsp;&nbsp;建议使用1024×768分辨率浏览
</td></tr></table>
</body>
</html>"""
    return page.encode("utf-8")


def page_old_onep(src: Source) -> bytes:
    """Old table page in GB2312 (encoded as GB18030, as such servers send): the whole report in one <p>
    with <br><br> and 「　　」 indentation, the title in <font><b> (no <h1>), a breadcrumb without a label."""
    parts = []
    for line in src.body:
        parts.append(f"<b>{esc(line)}</b>" if is_heading(line) else "　　" + esc(line))
    body = "<br>\n<br>\n".join(parts)
    page = f"""<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{esc(src.title)}</title>
<style>td {{ font-size: 12px; }} .content {{ font-size: 14px; line-height: 200%; }}</style>
<script language="javascript">function doZoom(size) {{ document.getElementById('zoom').style.fontSize = size + 'px'; }}</script>
</head>
<body topmargin="0">
<table width="778" border="0" align="center" cellpadding="0" cellspacing="0">
<tr><td><img src="images/top.jpg" width="778" height="100"></td></tr>
<tr><td class="nav" height="28" align="center"><a href="/">首页</a> | <a href="/zwdt/">政务动态</a> | <a href="/xxgk/">政府信息公开</a> | <a href="/bsdt/">办事大厅</a> | <a href="/gzhd/">公众互动</a></td></tr>
</table>
<table width="778" border="0" align="center"><tr><td height="25"><a href="/">首页</a> &gt;&gt; <a href="/xxgk/">政府信息公开</a> &gt;&gt; 政府工作报告</td></tr></table>
<table width="778" border="0" align="center" cellpadding="0" cellspacing="0">
<tr><td align="center" height="50"><font size="4" color="#cc0000"><b>{esc(src.title)}</b></font></td></tr>
<tr><td align="center" height="25">{src.date}&nbsp;&nbsp;来源：{esc(src.origin)}&nbsp;&nbsp;【字号：<a href="javascript:doZoom(16)">大</a> <a href="javascript:doZoom(14)">中</a> <a href="javascript:doZoom(12)">小</a>】</td></tr>
<tr><td class="content" id="zoom"><p style="line-height:200%"><font style="font-size:14px">
{body}
</font></p></td></tr>
<tr><td align="right"><a href="javascript:window.print()">【打印】</a> <a href="javascript:window.close()">【关闭】</a></td></tr>
</table>
<table width="778" border="0" align="center"><tr><td align="center" bgcolor="#eeeeee">
版权所有：{src.region}人民政府办公厅 &nbsp;{ABBREVIATIONS.get(src.region, "粤")}ICP备05001234号<br>
地址：{src.region}省会市中心路1号 &nbsp;邮编：050051 &nbsp;电话：0311-87901234
</td></tr></table>
</body></html>"""
    return page.encode("gb18030")


def page_left_gbk(src: Source) -> bytes:
    """Modern div page served in GBK with no charset declaration: a left column of related links and
    topics before the article in the source, an <h2> title, <h3>/<h4> headings, a subtitle and the
    governor's line in one <p> split by <br/>, 附件 and 上一篇/下一篇 links, a long footer and hidden pop-ups."""
    paragraphs, lines, i = [], src.body, 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if i < 4 and nxt and len(nxt) <= 20 and not is_heading(nxt) and "代表" not in nxt:
            paragraphs.append(f'<p style="text-align:center">{esc(line)}<br/>\n{esc(nxt)}</p>')
            i += 2
            continue
        level = heading_level(line) if is_heading(line) else None
        if level == 1:
            paragraphs.append(f"<h3>{esc(line)}</h3>")
        elif level == 2:
            paragraphs.append(f"<h4>{esc(line)}</h4>")
        else:
            paragraphs.append(f"<p>　　{link_a_word(line, i)}</p>")
        i += 1
    body = "\n".join(paragraphs)
    region = src.region
    lis = "".join(
        f'<li><a href="/art/{n}.html" title="{t}">{t}</a><span>2026-01-{10 + n}</span></li>'
        for n, t in enumerate(
            [
                f"{region}召开政府常务会议 研究部署2026年重点工作",
                f"{region}2025年国民经济和社会发展统计公报",
                "省政府新闻办举行新闻发布会解读政府工作报告",
                "一图读懂2026年政府工作报告",
                "政府工作报告中的十件民生实事",
                f"{region}人民代表大会第四次会议开幕",
                "代表委员热议政府工作报告",
                "2026年重点工作任务分解方案",
            ]
        )
    )
    page = f"""<!DOCTYPE html>
<html><head>
<title>{esc(src.title)}-{region}人民政府门户网站</title>
<meta name="keywords" content="政府工作报告,{region}">
<meta name="description" content="{esc(src.body[0][:60])}">
<meta name="viewport" content="width=device-width, initial-scale=1">
{STYLE}
{HEAD_SCRIPTS}
</head>
<body>
<div id="top"><div class="toplinks"><a href="/wza/">无障碍</a> <a href="/lnb/">长者模式</a> <a href="/en/">English</a> <a href="/login/">登录</a></div>
<div class="nav"><ul>{nav_links(region)}</ul></div></div>
<div class="container">
 <div class="left">
  <div class="box"><h3>相关文章</h3><ul>{lis}</ul></div>
  <div class="box"><h3>热点专题</h3><ul><li><a href="/zt/1/">学习贯彻党的二十届四中全会精神</a></li><li><a href="/zt/2/">优化营商环境</a></li><li><a href="/zt/3/">2026年全国两会</a></li></ul></div>
 </div>
 <div class="right">
  <div class="crumb"><span>您的位置：</span><a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; <a href="/zwgk/zfwj/">政府文件</a> &gt; 正文</div>
  <div class="art-title"><h2>{esc(src.title)}</h2></div>
  <div class="art-info"><span>发布时间：{src.date} 09:30</span> <span>来源：{esc(src.origin)}</span> <span>【字体：<a href="javascript:;">大</a><a href="javascript:;">中</a><a href="javascript:;">小</a>】</span></div>
  <div class="art-share">分享到：<a href="javascript:;" class="wx">微信</a><a href="javascript:;" class="wb">微博</a></div>
  <div class="art-con" id="zoom">
{body}
  </div>
  <div class="art-attach">附件：<a href="/att/2026zfgzbg.pdf">2026年政府工作报告（全文）.pdf</a></div>
  <div class="pagebar"><p>上一篇：<a href="/art/1.html">{region}2025年国民经济和社会发展统计公报</a></p><p>下一篇：<a href="/art/3.html">关于{region}2025年预算执行情况的报告</a></p></div>
  <div class="close"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
 </div>
</div>
<div id="footer">
 <div class="links">政府网站：<select><option>国务院部门网站</option><option>省级政府网站</option></select> <select><option>市县政府网站</option></select></div>
 {footer(region, rich=True)}
 <div class="qr" style="display:none">扫一扫，手机浏览</div>
</div>
<div class="wx-pop" style="display: none;">打开微信，点击底部的“发现”，使用“扫一扫”即可将网页分享至朋友圈。</div>
</body></html>"""
    return page.encode("gb18030")


def page_news_portal(src: Source) -> bytes:
    """A news portal's report page (the 罗湖 texts are copies of such pages): the source's own furniture
    lines (video labels, 详细 and MORE+ links, bullets, pagers) stay in place as links and list items."""
    furniture = {line.text: line.furniture for line in split_lines("\n".join(src.body) + "\n")}
    paragraphs = []
    text = (LUOHU / f"{src.name}.txt").read_text(encoding="utf-8")
    for line in split_lines(text):
        if line.furniture == "navigation bullet":
            paragraphs.append(
                f'<li><a href="/zt/{len(paragraphs)}.html">{esc(line.text.lstrip("• "))}</a></li>'
            )
        elif line.furniture in (
            "news column headline",
            "news item body",
            "page counter",
            "share or author line",
        ):
            paragraphs.append(f'<p class="news">{esc(line.text)}</p>')
        elif line.furniture:
            paragraphs.append(f'<p><a href="/zt/{len(paragraphs)}.html">{esc(line.text)}</a></p>')
        else:
            paragraphs.append(f"<p>{esc(line.text)}</p>")
    del furniture
    body = "\n".join(paragraphs)
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{esc(src.title)}_深圳新闻网</title>
{STYLE}
{HEAD_SCRIPTS}
</head><body>
<div class="topbar"><a href="/">深圳新闻网</a> | <a href="/sz/">深圳</a> | <a href="/gd/">广东</a> | <a href="/gn/">国内</a> | <a href="/video/">视频</a></div>
<div class="crumb"><a href="/">首页</a> &gt; <a href="/zt/">专题</a> &gt; <a href="/zt/lh2021/">罗湖两会</a></div>
<div class="wrap"><div class="main">
<h1 class="title">{esc(src.title)}</h1>
<div class="info">2021-01-29 10:20:00　来源：深圳新闻网　作者：记者</div>
<div class="content">
{body}
</div>
<div class="share">分享到：<a>微信</a> <a>微博</a></div>
</div>
<div class="side"><h3>热点新闻</h3><ul><li><a href="/n/1.html">罗湖区召开区委常委会会议</a></li><li><a href="/n/2.html">罗湖口岸客流回升</a></li></ul></div>
</div>
<div class="footer"><p>深圳新闻网版权所有 Copyright © 2021 All Rights Reserved</p><p><a>粤ICP备05085411号</a> 粤公网安备 44030402000123号</p><p>互联网新闻信息服务许可证：44120170001</p></div>
</body></html>"""
    return page.encode("utf-8")


def page_news_split(src: Source) -> bytes:
    """A news portal's article (people.cn / xinhuanet style): the body interrupted by a video player and
    a photo block, its last part after an 「编者按」-style box in a sibling <div>, a right column of news
    items with one-sentence summaries, and a 网友评论 section whose comments are whole sentences."""
    n = len(src.body)
    cuts = [0, n // 3, (2 * n) // 3, n - max(3, n // 12), n]
    chunks = [src.body[a:b] for a, b in itertools.pairwise(cuts)]

    def part(lines: list[str]) -> str:
        out = []
        for line in lines:
            if is_heading(line):
                out.append(f"<p><strong>{esc(line)}</strong></p>")
            else:
                out.append(f"<p>{esc(line)}</p>")
        return "\n".join(out)

    video = (
        '<div class="video-box"><video src="/v/1.mp4" controls></video>'
        f'<p class="video-title">视频：{esc(src.region)}两会现场</p></div>'
    )
    photo = '<div class="pic"><img src="/p/1.jpg"><p class="pic-note">图为会议现场。新华社记者 摄</p></div>'
    sidebar = "".join(
        f'<li><a href="/n/{i}.html">{t}</a><p>{s}</p></li>'
        for i, (t, s) in enumerate(
            [
                (
                    "春运客流持续回升",
                    "记者从铁路部门获悉，今年春运前十天全国铁路累计发送旅客超过一亿人次，同比增长百分之五。",
                ),
                (
                    "多地出台稳就业新举措",
                    "近期，多地围绕重点群体就业出台新举措，加大对中小微企业吸纳就业的支持力度。",
                ),
                ("冰雪旅游持续升温", "随着气温下降，各地冰雪旅游迎来旺季，景区接待游客人数创同期新高。"),
            ]
        )
    )
    comments = "".join(
        f'<div class="comment"><span class="user">网友{i}</span><p>{c}</p></div>'
        for i, c in enumerate(
            [
                "报告实实在在，民生实事件件落地，为政府点赞！",
                "希望明年在教育和医疗方面投入更多，让老百姓看病更方便。",
                "关于就业的部分写得很好，期待政策早日落实到位。",
            ]
        )
    )
    page = f"""<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>{esc(src.title)}--时政--人民网</title>
{STYLE}
{HEAD_SCRIPTS}
</head><body>
<div class="header"><ul>{nav_links(src.region)}</ul></div>
<div class="path"><a href="/">人民网</a>&gt;&gt;<a href="/politics/">时政</a>&gt;&gt;<a href="/politics/lh/">地方两会</a></div>
<div class="layout">
 <div class="col-left">
  <h1>{esc(src.title)}</h1>
  <div class="box01"><div class="fl">2026年{src.date[5:7]}月{src.date[8:10]}日08:30 | 来源：<a href="/">{esc(src.origin)}</a></div>
   <div class="fr">分享到：<a>微信</a><a>微博</a></div></div>
  <div class="rm_txt_con">
   <div class="part">{part(chunks[0])}</div>
   {video}
   <div class="part">{part(chunks[1])}</div>
   {photo}
   <div class="part">{part(chunks[2])}</div>
  </div>
  <div class="editor-note"><p>（本文为{esc(src.region)}政府工作报告全文，附录及注释见下）</p></div>
  <div class="rm_txt_con appendix">{part(chunks[3])}</div>
  <div class="edit">(责编：张三、李四)</div>
  <div class="comments"><h3>网友评论</h3>{comments}</div>
 </div>
 <div class="col-right"><h3>热点新闻</h3><ul>{sidebar}</ul></div>
</div>
<div class="footer"><p>人民网版权所有，未经书面授权禁止使用</p><p>Copyright © 1997-2026 by www.people.com.cn. all rights reserved</p><p><a>京ICP证000006号</a> 京公网安备11000002000008号</p></div>
</body></html>"""
    return page.encode("utf-8")


TEMPLATES: dict[str, Callable[[Source], bytes]] = {
    "news-split": page_news_split,
    "govcn": page_govcn,
    "govcn-old": page_govcn_old,
    "trs-table": page_trs_table,
    "one-p-gb2312": page_old_onep,
    "left-col-gbk": page_left_gbk,
}


# ---------------------------------------------------------------------------------------------------
# Methods. Each takes the page's bytes and returns (lines, title). The libraries get the text as our
# decoder reads it, so every method is measured on extraction, not on decoding.


def _lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def m_ours(data: bytes) -> tuple[list[str], str]:
    extracted = extract_html(data, "page.html")
    return _lines_of(extracted.text), extracted.title


def m_lxml_all(data: bytes) -> tuple[list[str], str]:
    import lxml.html

    from index.extract_html import _walk

    root = lxml.html.document_fromstring(decode_html(data, "page.html"))
    lines, _ = _walk(root.find("body"))
    return [line.text for line in lines], ""


def m_trafilatura(favor_recall: bool) -> Callable[[bytes], tuple[list[str], str]]:
    def run(data: bytes) -> tuple[list[str], str]:
        import trafilatura

        document = trafilatura.bare_extraction(
            decode_html(data, "page.html"),
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            favor_recall=favor_recall,
            deduplicate=False,
        )
        if document is None:
            return [], ""
        return _lines_of(document.text or ""), document.title or ""

    return run


def m_readability(filtered: bool) -> Callable[[bytes], tuple[list[str], str]]:
    def run(data: bytes) -> tuple[list[str], str]:
        import lxml.html
        from readability import Document

        from index.extract_html import _furniture, _walk

        document = Document(decode_html(data, "page.html"))
        summary = lxml.html.document_fromstring(document.summary(html_partial=True))
        lines, _ = _walk(summary)
        if filtered:
            lines = [
                line
                for line in lines
                if not _furniture(line.text) and not (line.link_chars >= 0.5 * line.chars and line.chars < 50)
            ]
        return [line.text for line in lines], document.short_title()

    return run


def m_justext(data: bytes) -> tuple[list[str], str]:
    import justext

    # No Chinese stop list ships with jusText: its language-independent mode (empty stop list, stop-word
    # thresholds 0) classifies by length and link density alone.
    paragraphs = justext.justext(
        decode_html(data, "page.html"), frozenset(), stopwords_low=0, stopwords_high=0
    )
    return [p.text.strip() for p in paragraphs if not p.is_boilerplate and p.text.strip()], ""


METHODS: dict[str, Callable[[bytes], tuple[list[str], str]]] = {
    "lxml: every line of <body> (baseline)": m_lxml_all,
    "trafilatura 2.3 (default)": m_trafilatura(False),
    "trafilatura 2.3 (favor_recall)": m_trafilatura(True),
    "readability-lxml 0.9 summary → lines": m_readability(False),
    "readability-lxml 0.9 → lines + furniture filter": m_readability(True),
    "jusText 3.0 (no stop list)": m_justext,
    "ours: lxml + prose-core element + line filter": m_ours,
}
CHOSEN = "ours: lxml + prose-core element + line filter"


# ---------------------------------------------------------------------------------------------------
# Scoring.

LEAK_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "footer",
        re.compile(r"ICP|公网安备|标识码|主办|承办|版权|Copyright|©|联系我们|网站地图|分辨率|地址：|纠错"),
    ),
    ("share", re.compile(r"分享|微信|微博|QQ空间|扫一扫")),
    ("breadcrumb", re.compile(r"当前位置|您的位置|您现在的位置|>|＞")),
    (
        "info/toolbar",
        re.compile(r"来源|时间|日期|字号|字体|打印|关闭|浏览次数|责任编辑|作者|^\d{4}-\d\d-\d\d"),
    ),
    ("related/nav", re.compile(r"相关|上一篇|下一篇|附件|热点|首页|政务公开|专题")),
)


def leak_kind(line: str, truth: set[str], squashed: set[str]) -> str:
    if re.sub(r"\s", "", line) in squashed:
        return "body altered"
    if any(line in t for t in truth if len(line) >= 8) or any(t in line for t in truth if len(t) >= 8):
        return "body split/merged"
    for kind, pattern in LEAK_KINDS:
        if pattern.search(line):
            return kind
    return "other"


@dataclass
class Score:
    recall: float
    headings: float
    title: bool
    leaked: Counter
    seconds: float
    error: str = ""


def score(src: Source, lines: list[str], title: str, seconds: float) -> Score:
    truth = Counter(src.body)
    out = Counter(lines)
    found = sum(min(n, out[line]) for line, n in truth.items())
    heads = [line for line in src.body if is_heading(line)]
    heads_found = sum(1 for line in set(heads) if line in out)
    truth_set = set(src.truth)
    squashed = {re.sub(r"\s", "", t) for t in truth_set}
    leaked: Counter = Counter()
    for line in lines:
        if line not in truth_set and line not in src.allowed:
            leaked[leak_kind(line, truth_set, squashed)] += 1
    return Score(
        found / len(src.body), heads_found / max(1, len(set(heads))), title == src.title, leaked, seconds
    )


def run_method(method: Callable[[bytes], tuple[list[str], str]], src: Source, data: bytes) -> Score:
    start = time.perf_counter()
    try:
        lines, title = method(data)
    except ExtractError as error:
        return Score(0.0, 0.0, False, Counter(), time.perf_counter() - start, str(error))
    return score(src, lines, title, time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------------
# Pathological pages, each run in a child process to measure its time and peak memory alone.

PATHOLOGICAL = {
    "49 MB page: a report repeated in <p>s": "big",
    "100,000 nested <div>s": "nested",
    "700,000 tiny tags (<b>x</b>: 1.4 M '<', just under the cap)": "tags",
    "40 MB of text in one <p>, no tags": "onetext",
    "200,000 unclosed <span>s around paragraphs": "unclosed",
    "2,000 unclosed <span>s around paragraphs": "unclosed-2k",
}


def pathological_page(kind: str) -> bytes:
    paragraph = "经济运行稳中有升，全区一般公共预算收入137亿元，固定资产投资384亿元，完成率居全市第一。"
    if kind == "big":
        unit = f"<p>　　{paragraph * 3}</p>\n".encode()
        return b"<html><body><div id='c'>" + unit * (49_000_000 // len(unit)) + b"</div></body></html>"
    if kind == "nested":
        return (
            "<html><body>"
            + "<div>" * 100_000
            + f"<p>{paragraph * 10}</p>"
            + "</div>" * 100_000
            + "</body></html>"
        ).encode()
    if kind == "tags":
        return (
            "<html><body><p>" + paragraph * 20 + "</p>" + "<b>x</b>" * 700_000 + "</body></html>"
        ).encode()
    if kind == "onetext":
        return (
            "<html><body><p>" + paragraph * (40_000_000 // (3 * len(paragraph))) + "</p></body></html>"
        ).encode()
    if kind.startswith("unclosed"):
        count = 2_000 if kind.endswith("2k") else 200_000
        return ("<html><body>" + f"<span><p>{paragraph}</p>" * count + "</body></html>").encode()
    raise ValueError(kind)


def _child(spec: str) -> None:
    kind, method = spec.split(":", 1)
    data = pathological_page(kind)
    start = time.perf_counter()
    try:
        lines, _ = METHODS[method](data)
        outcome = f"{sum(map(len, lines)):,} characters in {len(lines):,} lines"
    except ExtractError as error:
        outcome = f"ExtractError: {error}"
    except Exception as error:  # a library's failure is a result here, not a crash of the benchmark
        outcome = f"{type(error).__name__}: {str(error)[:60]}"
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(data) / 2**20:.1f}\t{seconds:.2f}\t{peak:.0f}\t{outcome}")


PATHOLOGICAL_METHODS = (
    CHOSEN,
    "readability-lxml 0.9 → lines + furniture filter",
    "trafilatura 2.3 (default)",
)
PATHOLOGICAL_TIMEOUT = 120  # seconds; a method still running then counts as hanging


def run_pathological() -> list[list[str]]:
    rows = []
    for label, kind in PATHOLOGICAL.items():
        for method in PATHOLOGICAL_METHODS:
            try:
                done = subprocess.run(
                    [sys.executable, "-m", "eval.extract_html", "--child", f"{kind}:{method}"],
                    capture_output=True,
                    text=True,
                    timeout=PATHOLOGICAL_TIMEOUT,
                    cwd=PROJECT_ROOT,
                )
                fields = done.stdout.strip().split("\t")
                if len(fields) != 4:
                    fields = ["", "", "", (done.stderr.strip().splitlines() or ["no output"])[-1]]
            except subprocess.TimeoutExpired:
                fields = ["", f"> {PATHOLOGICAL_TIMEOUT}", "", "killed: still running"]
            rows.append([label, method.split(":")[0].split(" →")[0], *fields[:3], fields[3][:100]])
            print(f"  {label} / {method}: {fields[1]} s", file=sys.stderr)
    return rows


# ---------------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    cores = len(os.sched_getaffinity(0))
    versions = ", ".join(
        f"{p} {importlib.metadata.version(p)}"
        for p in ("lxml", "trafilatura", "readability-lxml", "jusText", "charset-normalizer")
    )
    return (
        f"cpu {cpu}, {os.cpu_count()} logical cores ({cores} usable); load average {os.getloadavg()[0]:.2f}; "
        f"python {platform.python_version()}; {versions}"
    )


def pages(quick: bool) -> list[tuple[str, Source, bytes]]:
    sources = provincial_sources()[: 5 if quick else None]
    out = [(template, src, render(src)) for src in sources for template, render in TEMPLATES.items()]
    out += [("news-portal (罗湖)", src, page_news_portal(src)) for src in luohu_sources()]
    CACHE.mkdir(parents=True, exist_ok=True)
    for template, src, data in out:
        (CACHE / f"{src.name}.{template.split()[0]}.html").write_bytes(data)
    return out


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--only", help="run only methods whose name contains this")
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    print(machine())
    all_pages = pages(args.quick)
    print(
        f"{len(all_pages)} pages ({len(TEMPLATES)} templates × provincial reports, + 罗湖 news-portal pages)"
    )
    results: dict[str, list[tuple[str, Score]]] = {}
    for name, method in METHODS.items():
        if args.only and args.only not in name:
            continue
        run_method(method, *all_pages[0][1:])  # warm-up: imports and caches are not a page's time
        results[name] = [(template, run_method(method, src, data)) for template, src, data in all_pages]
        print(f"  {name}: done", file=sys.stderr)

    def summary(scores: list[Score]) -> list[str]:
        n = len(scores)
        leaked = sum((s.leaked for s in scores), Counter())
        furniture = sum(v for k, v in leaked.items() if not k.startswith("body") and k != "other")
        kinds = ", ".join(f"{k} {v / n:.1f}" for k, v in leaked.most_common(4)) or "–"
        return [
            f"{sum(s.recall for s in scores) / n:.3f}",
            f"{min(s.recall for s in scores):.3f}",
            f"{sum(s.headings for s in scores) / n:.3f}",
            f"{sum(s.title for s in scores)}/{n}",
            f"{furniture / n:.1f}",
            kinds,
            f"{sum(s.seconds for s in scores) / n:.3f}",
            str(sum(1 for s in scores if s.error)),
        ]

    header = [
        "method",
        "body recall (mean)",
        "recall (worst page)",
        "headings kept",
        "title found",
        "furniture lines leaked / page",
        "leaked lines by kind / page",
        "s / page",
        "refused",
    ]
    main_table = table([[name, *summary([s for _, s in scores])] for name, scores in results.items()], header)
    by_template = []
    for name, scores in results.items():
        for template in dict.fromkeys(t for t, _ in scores):
            by_template.append([name, template, *summary([s for t, s in scores if t == template])[:6]])
    template_table = table(by_template, [*header[:1], "template", *header[1:7]])
    print(main_table)
    print()
    print(template_table)
    patho = ""
    if not args.quick and not args.only:
        patho = table(
            run_pathological(), ["pathological page", "method", "MB", "seconds", "peak RSS MB", "outcome"]
        )
        print()
        print(patho)
    if not args.quick and not args.only:
        write_results(machine(), len(all_pages), main_table, template_table, patho)


def write_results(machine_line: str, n_pages: int, main_table: str, template_table: str, patho: str) -> None:
    RESULTS.write_text(
        f"""# HTML extraction: measured choice

Run: `.venv/bin/python -m eval.extract_html` ({n_pages} pages; generated pages in `eval/.cache/extract-html/`).
Machine: {machine_line}.

Pages: each of the 15 provincial reports of `data/examples/provincial_2026` rendered in {len(TEMPLATES)} templates
modelled on real government sites ({", ".join(TEMPLATES)}), plus the 2 罗湖 reports as news-portal pages.
Every page carries navigation, a breadcrumb, an info line (来源/发布时间/字号/打印), share and related links,
a footer (主办单位/ICP备/公网安备/网站标识码), scripts, styles and comments. Truth: the report's paragraphs
(the provincial files' own web-furniture lines set aside); for 罗湖, the lines `index.clean` keeps.
*Body recall*: share of truth paragraphs found as an exact output line. *Furniture leaked*: output lines
that are neither truth nor altered body text, per page. Times include parsing; ours also decoding.

{main_table}

## By template

{template_table}

## Pathological pages (each run in its own process)

{patho}

## Choice

{CHOICE}
"""
    )


CHOICE = """**lxml + our own main-content selection and line walk** (`index/extract_html.py`); dependencies
lxml (parser) and charset-normalizer (encoding detection), no extraction library.

No library alone keeps every paragraph as an exact line:
- trafilatura (default or favor_recall) is exact on div pages with <p>s (govcn 1.00) but returns table
  layouts as Markdown rows (`| … |`) or picks a navigation table (govcn-old, trs-table), writes a report
  set in one <p> with <br><br> as a single line (one-p-gb2312 0.00), and turns a Word-pasted body's
  source line breaks into spaces inside Chinese text.
- jusText ships no Chinese stop list; in its language-independent mode it drops short lines (headings,
  subtitles, 「各位代表：」) and keeps source line breaks inside paragraphs.
- readability-lxml finds the content element well: its summary walked by our line walk keeps ~0.99 of
  the paragraphs, but it loses a part of the body in a sibling container (news-split: the appendix after
  an editor's box) and gives no usable title (its short_title keeps the site name).
So the combination was measured too (readability's element + our walk and filter), and our own element
choice does at least as well on every template: body recall 1.000, every heading and title, no
furniture leaked. It uses general signals only — prose density (lines with sentence punctuation and few
links) and link density to find the element, known furniture phrases of Chinese government sites for
lines — never class names, ids or the templates' markup; readability agreeing with it on five of six
templates is the independent check that the element it picks is the right one. What still leaks (news-split
only) is text inside the article column that is not the report: a photo caption, an editor's note,
readers' comments.

Hostile pages: ours refuses nesting past 2,048 levels (libxml2 would silently drop the rest of the page)
and more than 1.5 M tags, and otherwise finishes a 47 MB page in about 4 s within ~360 MB. readability
and trafilatura take 4–10 times as long with 1.6–2.3 times the memory, and under libxml2's default limits
(depth 256, 10 MB text nodes) they silently lose text: 252 of 2,000 paragraphs behind unclosed <span>s,
nothing of a 35 MB paragraph."""


if __name__ == "__main__":
    main()
