"""End to end in a real browser: Debian's Chromium, driven by Playwright, against the chat page.

The page runs in this process (a gradio server thread on 127.0.0.1 and a free port) over the
fake-embedder index from conftest, so the test needs no model. It asks a question, sees the quoted
answer with [1], picks the citation, sees the paragraph with the quote in <mark>, pages to the
next and previous paragraphs, checks that typed markup stays text, that an over-long question
gets a Chinese warning, and that no request left the machine. The last view is saved to
tests/artifacts/browser.png.

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


@pytest.fixture()
def page_url(answerer):
    _need_browser()
    import app

    demo = app.build_demo(answerer)
    port = _free_port()
    app.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def test_ask_cite_and_show_source_in_chromium(page_url, answerer):
    from playwright.sync_api import expect, sync_playwright

    expected = answerer.ask(QUESTION)
    assert expected.found, "the fake index must answer the example question"
    first = expected.citations[0]
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
            citations.get_by_text(f"[1] {first.title}", exact=False).click()
            source = page.locator("#govqa-source")
            expect(source.locator("mark")).to_have_text(expected.quotes[0].text)
            expect(source).to_contain_text(f"{first.title}（{first.year}年）")
            expect(source).to_contain_text(f"第{first.paragraph}段")

            # Next and previous paragraphs.
            page.locator("#govqa-next").click()
            expect(source).to_contain_text(f"第{first.paragraph + 1}段")
            expect(source.locator("mark")).to_have_count(0)
            page.locator("#govqa-prev").click()
            expect(source.locator("mark")).to_have_text(expected.quotes[0].text)

            page.screenshot(path=str(ARTIFACTS / "browser.png"), full_page=True)
        finally:
            browser.close()

    assert requests, "the page made no request at all"
    web = [url for url in requests if urlparse(url).scheme in ("http", "https", "ws", "wss")]
    outside = [url for url in web if urlparse(url).hostname not in LOCAL_HOSTS]
    assert not outside, f"the page reached outside hosts: {outside}"
