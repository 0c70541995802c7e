"""End to end in a real browser: Debian's Chromium, driven by Playwright, against the chat page.

The page runs in this process (a gradio server thread on 127.0.0.1 and a free port) over a small
library of four reports in two levels and three regions (the two 罗湖 reports with their .toml, and
the 浙江 and 湖南 2026 reports from data/examples/), indexed with conftest's fake embedder, so the
test needs no model. It asks a question, sees the quoted answer with [1], picks the citation, sees
the paragraph with the quote in <mark>, pages to the next and previous paragraphs; chooses a region
in the 「地区」 filter and sees an answer cited from that region only; clicks the [1] marker in
that answer and sees its paragraph in 「来源」; checks that typed markup stays text, that an
over-long question gets a Chinese warning, and that no request left the machine. The last view is
saved to tests/artifacts/browser.png (and the 「报告库」 tab to tests/artifacts/library.png).

Needs: ``apt-get install chromium`` and ``pip install playwright`` (no ``playwright install``:
the Debian browser is used). Skipped when they are missing, except under CI=true.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import REPORTS_DIR, FakeEmbedder

from index.build import build_index
from index.settings import PROJECT_ROOT, Settings
from index.store import load_index
from qa.answer import Answerer, citation_label, report_label

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUESTION = "2020年罗湖区一般公共预算收入是多少？"
PROVINCIAL = PROJECT_ROOT / "data" / "examples" / "provincial_2026"
PROVINCIAL_REPORTS = ("浙江省_2026.txt", "湖南省_2026.txt")
# Asked of the whole library it cites 浙江 first; with 湖南省 chosen in 「地区」, 湖南 only.
REGION = "湖南省"
REGION_QUESTION = "2026年城镇新增就业目标是多少？"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
TIMEOUT_MS = 30_000


def _need_browser() -> None:
    in_ci = os.environ.get("CI", "").lower() == "true"
    missing = []
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        missing.append("Chromium (/usr/bin/chromium; apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright for Python (pip install playwright)")
    if missing:
        reason = "browser test needs " + " and ".join(missing)
        if in_ci:
            pytest.fail(reason + " — it must run in CI")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def library_answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    """An answerer over four reports of three regions (no .toml for the provincial ones: their
    metadata is read from their text)."""
    library = tmp_path_factory.mktemp("library")
    shutil.copytree(REPORTS_DIR, library / "luohu")
    (library / "provincial").mkdir()
    for name in PROVINCIAL_REPORTS:
        shutil.copy(PROVINCIAL / name, library / "provincial" / name)
    settings = Settings(corpus_dir=library, index_dir=library.parent / "index", model=FakeEmbedder.name)
    build_index(settings, FakeEmbedder())
    return Answerer(settings, stored=load_index(settings.index_dir), embedder=FakeEmbedder())


@pytest.fixture()
def page_url(library_answerer):
    _need_browser()
    import app

    demo = app.build_demo(library_answerer)
    port = _free_port()
    app.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def test_ask_cite_and_show_source_in_chromium(page_url, library_answerer):
    from playwright.sync_api import expect, sync_playwright

    answerer = library_answerer
    expected = answerer.ask(QUESTION)
    assert expected.found, "the fake index must answer the example question"
    first = expected.citations[0]
    regions = {report.region for report in answerer.stored.reports.values()}
    assert {REGION, "浙江省", "深圳市罗湖区"} <= regions
    in_region = [d for d, r in answerer.stored.reports.items() if r.region == REGION]
    everywhere = answerer.ask(REGION_QUESTION)
    assert {c.region for c in everywhere.citations} - {REGION}, "the filter must change the answer"
    filtered = answerer.ask(REGION_QUESTION, None, in_region)
    assert filtered.found and {c.region for c in filtered.citations} == {REGION}
    requests: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            args=CHROMIUM_ARGS,
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
            context.on("request", lambda request: requests.append(request.url))
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(page_url)
            question = page.locator("#govqa-question textarea")
            send = page.locator("#govqa-send")
            chat = page.locator("#govqa-chat")

            # Typed markup is shown as text, never run.
            question.fill('<img src=x onerror="window.__xss=1"><b>加粗</b>2014年三公经费下降了多少？')
            send.click()
            expect(chat).to_contain_text("<b>加粗</b>")
            assert page.evaluate("window.__xss") is None
            assert chat.locator("img[src='x'], b:text('加粗')").count() == 0

            # An over-long question gets a Chinese warning, not an answer or a traceback.
            question.fill("问" * 600)
            send.click()
            expect(page.get_by_text("问题太长").first).to_be_visible()
            expect(page.get_by_text("Traceback")).to_have_count(0)
            for close in page.locator(".toast-close").all():
                close.click()
            expect(page.locator(".toast-close")).to_have_count(0)

            page.locator("#govqa-clear").click()
            expect(chat.locator("blockquote")).to_have_count(0)

            # Ask: the answer quotes the report with [1] and lists the citations.
            question.fill(QUESTION)
            send.click()
            quote = chat.locator("blockquote").first
            expect(quote).to_contain_text(expected.quotes[0].text)
            expect(quote).to_contain_text("[1]")
            expect(chat).to_contain_text(f"第{first.paragraph}段")

            # Pick citation [1]: the source panel shows the paragraph with the quote marked.
            citations = page.locator("#govqa-citations")
            citations.get_by_text(f"[1] {citation_label(first)}", exact=False).click()
            source = page.locator("#govqa-source")
            expect(source.locator("mark")).to_have_text(expected.quotes[0].text)
            expect(source).to_contain_text(f"{report_label(first.title, first.region)}（{first.year}年）")
            expect(source).to_contain_text(f"第{first.paragraph}段")

            # Next and previous paragraphs.
            page.locator("#govqa-next").click()
            expect(source).to_contain_text(f"第{first.paragraph + 1}段")
            expect(source.locator("mark")).to_have_count(0)
            page.locator("#govqa-prev").click()
            expect(source.locator("mark")).to_have_text(expected.quotes[0].text)

            # Choose a region in the 「地区」 filter (typing narrows the list): the answer cites it only.
            page.locator("#govqa-regions input").click()
            page.keyboard.type(REGION[:2])
            page.get_by_role("option", name=f"{REGION}（{len(in_region)}份）").click()
            page.keyboard.press("Escape")
            expect(page.locator("#govqa-scope")).to_contain_text(
                f"{len(in_region)} / {len(answerer.stored.reports)} 份报告"
            )
            question.fill(REGION_QUESTION)
            send.click()
            answer = chat.locator(".bot").last
            expect(answer.locator("blockquote").first).to_contain_text(filtered.quotes[0].text)
            cited = filtered.citations[0]
            assert REGION in citation_label(cited)
            expect(answer.locator("small")).to_contain_text(f"[1] {citation_label(cited)}")
            for other in regions - {REGION}:
                expect(answer).not_to_contain_text(other)
            expect(citations).to_contain_text(f"[1] {citation_label(cited)}")

            # A click on the quote's [1] opens its paragraph in 「来源」, quote marked.
            answer.locator(".govqa-cite").first.click()
            expect(source.locator("mark")).to_have_text(filtered.quotes[0].text)
            expect(source).to_contain_text(f"第{cited.paragraph}段")
            expect(source).to_contain_text(REGION)

            page.screenshot(path=str(ARTIFACTS / "browser.png"), full_page=True)
            page.get_by_role("tab", name="报告库").click()
            library = page.locator("#govqa-library")
            expect(library.locator("tbody tr")).to_have_count(len(answerer.stored.reports))
            expect(library).to_contain_text("“十五五”2026–2030")
            page.screenshot(path=str(ARTIFACTS / "library.png"), full_page=True)
        finally:
            browser.close()

    assert requests, "the page made no request at all"
    web = [url for url in requests if urlparse(url).scheme in ("http", "https", "ws", "wss")]
    outside = [url for url in web if urlparse(url).hostname not in LOCAL_HOSTS]
    assert not outside, f"the page reached outside hosts: {outside}"
