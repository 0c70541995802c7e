"""Load benchmark for the chat app's HTTP API (a script, not a unit test).

    .venv/bin/python -m eval.load            # starts app.py on a free port; 500 questions, 16 clients
    .venv/bin/python -m eval.load --questions 1000 --clients 32 --max-seconds 600
    .venv/bin/python -m eval.load --url http://127.0.0.1:7860/ [--pid PID]   # an app already running

Starts ``python app.py --host 127.0.0.1 --port P`` (the real index and model, as ``make run`` does),
waits until ``/ask`` answers, then sends questions drawn from eval/datasets/luohu_qa.jsonl (the
questions only) from concurrent clients, each a thread with its own HTTP connection to the gradio
API (``POST /gradio_api/call/ask``, then the event stream), bounded in count and in time. Prints
throughput, latency percentiles, errors (a non-zero exit when any), the app's resident memory before
and after, the machine and the settings; stops the app it started. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from eval.report import machine as machine_facts

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT / "eval" / "datasets" / "luohu_qa.jsonl"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)  # seconds, successful questions
    errors: list[str] = field(default_factory=list)
    not_sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def dataset_questions(path: Path) -> list[str]:
    """Every question of a JSON Lines dataset, in file order (the other fields are not used)."""
    questions = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                question = json.loads(line).get("question")
                if isinstance(question, str) and question.strip():
                    questions.append(question)
    return questions


def load_questions(path: Path, count: int, seed: int) -> list[str]:
    """``count`` questions from the dataset (questions only), cycled and shuffled reproducibly."""
    pool = dataset_questions(path)
    if not pool:
        raise SystemExit(f"no questions in {path}")
    rng = random.Random(seed)
    questions: list[str] = []
    while len(questions) < count:
        batch = pool[:]
        rng.shuffle(batch)
        questions.extend(batch)
    return questions[:count]


class AskClient:
    """One client: its own keep-alive HTTP connection to the app's /ask endpoint."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def _request(self, method: str, path: str, body: bytes | None = None) -> bytes:
        for attempt in (1, 2):  # one retry on a connection the server closed while idle
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                headers = {"Content-Type": "application/json"} if body is not None else {}
                self.connection.request(method, self.prefix + path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status} for {path}: {data[:200]!r}")
            return data
        raise AssertionError("unreachable")

    def ask(self, question: str) -> dict:
        body = json.dumps({"data": [question]}, ensure_ascii=False).encode("utf-8")
        event_id = json.loads(self._request("POST", "/gradio_api/call/ask", body))["event_id"]
        stream = self._request("GET", f"/gradio_api/call/ask/{event_id}").decode("utf-8")
        event, data = None, None
        for line in stream.splitlines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                data = line[len("data: ") :]
        if event != "complete" or data is None:
            raise RuntimeError(f"event {event}: {(data or '')[:200]}")
        answer = json.loads(data)[0]
        if not isinstance(answer, dict) or not answer.get("passages"):
            raise RuntimeError(f"unexpected answer: {str(answer)[:200]}")
        return answer

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of ``pid`` in MiB (psutil if installed, else /proc/PID/status VmRSS)."""
    if pid is None:
        return None
    try:
        import psutil  # type: ignore[import-not-found]

        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        pass
    except Exception:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def machine() -> str:
    """The CPU line of the evaluation report, plus usable cores and memory."""
    facts = machine_facts()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else facts["cores"]
    memory = ""
    try:
        total = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal"))
        memory = f", {int(total.split()[1]) / 2**20:.1f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return (
        f"{facts['cpu']}, {facts['cores']} logical cores ({usable} usable){memory}; "
        f"{platform.system()} {platform.release()}; Python {facts['python']}"
    )


def app_settings() -> dict[str, object]:
    """What the started app runs with: the default index's model and size, and its queue concurrency."""
    found: dict[str, object] = {}
    match = re.search(r"default_concurrency_limit=(\d+)", (ROOT / "app.py").read_text(encoding="utf-8"))
    if match:
        found["app_concurrency_limit"] = int(match.group(1))
    try:
        index_dir = Path(os.environ.get("GOVQA_INDEX_DIR", ROOT / ".index"))
        build = index_dir / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        found.update(index=str(build), model=manifest["model"], chunks=manifest["counts"]["chunks"])
    except (OSError, ValueError, KeyError, TypeError):
        found["index"] = "unknown"
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(port: int, log_path: Path) -> subprocess.Popen:
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    log = log_path.open("wb")
    return subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # our own process group: stopped with everything it started
    )


def stop_app(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def wait_until_answering(
    url: str, process: subprocess.Popen | None, timeout: float, log_path: Path | None
) -> float:
    """Seconds until /ask answers a question; exits with the app's log tail if it dies or stalls."""
    started = time.monotonic()
    client = AskClient(url, timeout=60)
    last = ""
    while time.monotonic() - started < timeout:
        if process is not None and process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:] if log_path else ""
            raise SystemExit(f"the app exited with status {process.returncode} before answering:\n{tail}")
        try:
            client.ask("2020年罗湖区一般公共预算收入是多少？")
            client.close()
            return time.monotonic() - started
        except (OSError, RuntimeError, ValueError, http.client.HTTPException) as error:
            last = str(error)
            client.close()
            time.sleep(1)
    raise SystemExit(f"the app at {url} did not answer within {timeout:.0f} s (last error: {last})")


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-share * len(ordered) // 1))))
    return ordered[rank - 1]


def run_load(
    url: str, questions: list[str], clients: int, max_seconds: float, request_timeout: float
) -> Results:
    results = Results()
    next_index = iter(range(len(questions)))
    index_lock = threading.Lock()
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        client = AskClient(url, request_timeout)
        try:
            while True:
                with index_lock:
                    i = next(next_index, None)
                if i is None:
                    return
                if time.monotonic() >= deadline:
                    with results.lock:
                        results.not_sent += 1
                    continue
                started = time.perf_counter()
                try:
                    client.ask(questions[i])
                except Exception as error:
                    client.close()
                    with results.lock:
                        results.errors.append(f"{questions[i][:30]}: {type(error).__name__}: {error}")
                    continue
                elapsed = time.perf_counter() - started
                with results.lock:
                    results.latencies.append(elapsed)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, name=f"client-{n}", daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline - time.monotonic()) + request_timeout)
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Load benchmark for the chat app's /ask API (127.0.0.1 only)."
    )
    parser.add_argument(
        "--url", help="an app already running, e.g. http://127.0.0.1:7860/ (default: start one)"
    )
    parser.add_argument("--pid", type=int, help="with --url: the app's process id, to report its memory")
    parser.add_argument("--port", type=int, help="port for the app this script starts (default: a free one)")
    parser.add_argument("--questions", type=int, default=500, help="questions to send (default 500)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument(
        "--max-seconds", type=float, default=900, help="stop sending after this (default 900)"
    )
    parser.add_argument(
        "--request-timeout", type=float, default=120, help="per request, seconds (default 120)"
    )
    parser.add_argument(
        "--startup-timeout", type=float, default=600, help="for the app to answer (default 600)"
    )
    parser.add_argument("--dataset", type=Path, default=DATASET, help="JSON Lines with a 'question' field")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.questions < 1 or args.clients < 1:
        parser.error("--questions and --clients must be positive")
    if args.url:
        host = urlsplit(args.url).hostname
        if host not in LOCAL_HOSTS:
            parser.error(f"--url must point at this machine (127.0.0.1), not {host}")
        args.url = args.url if args.url.endswith("/") else args.url + "/"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    questions = load_questions(args.dataset, args.questions, args.seed)
    process = None
    log_path = None
    pid = args.pid
    if args.url:
        url = args.url
    else:
        port = args.port or free_port()
        url = f"http://127.0.0.1:{port}/"
        log_path = Path(tempfile.gettempdir()) / f"govqa-load-app-{port}.log"
        process = start_app(port, log_path)
        pid = process.pid
    try:
        startup = wait_until_answering(url, process, args.startup_timeout, log_path)
        # Warm the other worker threads' caches a little, then measure memory at rest.
        warm = AskClient(url, args.request_timeout)
        for question in questions[:5]:
            warm.ask(question)
        warm.close()
        rss_before = rss_mb(pid)
        started = time.perf_counter()
        results = run_load(url, questions, args.clients, args.max_seconds, args.request_timeout)
        wall = time.perf_counter() - started
        rss_after = rss_mb(pid)
    finally:
        if process is not None:
            stop_app(process)

    done = len(results.latencies)
    figures = {
        "url": url,
        "machine": machine(),
        "settings": {
            "questions": args.questions,
            "clients": args.clients,
            "max_seconds": args.max_seconds,
            "dataset": str(
                args.dataset.relative_to(ROOT) if args.dataset.is_relative_to(ROOT) else args.dataset
            ),
            "app": "started by this script (python app.py, default settings)"
            if process
            else "already running",
            **(app_settings() if process else {}),
        },
        "startup_seconds": round(startup, 1),
        "answered": done,
        "errors": len(results.errors),
        "not_sent_before_deadline": results.not_sent,
        "wall_seconds": round(wall, 2),
        "throughput_qps": round(done / wall, 2) if wall else None,
        "latency_ms": {
            name: round(percentile(results.latencies, share) * 1000, 1) if done else None
            for name, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
        },
        "rss_mb": {
            "before": round(rss_before, 1) if rss_before is not None else None,
            "after": round(rss_after, 1) if rss_after is not None else None,
        },
    }
    latency = figures["latency_ms"]
    rss = figures["rss_mb"]
    print(f"machine     {figures['machine']}")
    print(f"settings    {json.dumps(figures['settings'], ensure_ascii=False)}")
    print(f"app         {url} (answering after {figures['startup_seconds']} s)")
    print(
        f"answered    {done} of {args.questions} in {figures['wall_seconds']} s "
        f"({figures['not_sent_before_deadline']} not sent before the deadline)"
    )
    print(f"throughput  {figures['throughput_qps']} questions/s")
    print(
        f"latency     p50 {latency['p50']} ms, p95 {latency['p95']} ms, p99 {latency['p99']} ms, "
        f"max {latency['max']} ms"
    )
    print(f"errors      {len(results.errors)}")
    for error in results.errors[:10]:
        print(f"  {error}")
    print(f"memory      RSS {rss['before']} MiB before, {rss['after']} MiB after (pid {pid})")
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 1 if results.errors or done == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
