"""Build orchestration: settings in, a verified index on disk out.

``build_index`` runs clean → structure → chunk → embed → store over a corpus folder.
``open_index`` loads the live build and checks it against the settings and the corpus it was built
from: a missing or out-of-date default index is (re)built with a note on stderr; an explicitly
named index is never rebuilt behind the user's back: the difference is reported instead.
"""

from __future__ import annotations

import errno
import logging
import time
from pathlib import Path

from index.chunk import chunk_paragraphs
from index.clean import split_lines
from index.corpus import corpus_fingerprint, corpus_stat, load_corpus
from index.embed import Embedder, load_embedder
from index.errors import CorpusError, IndexMismatchError, IndexNotFoundError, IndexWriteError
from index.normalize import normalize
from index.settings import Settings
from index.store import (
    Manifest,
    StoredIndex,
    build_lock,
    current_build,
    load_index,
    pipeline_version,
    read_manifest,
    save_index,
)
from index.structure import structure
from index.tokens import tokenize
from index.vectors import CACHE_FOLDER, Progress, VectorCache, embed_in_steps

log = logging.getLogger(__name__)


def write_error(index_dir: Path, error: OSError) -> IndexWriteError:
    """One line naming the folder, the cause and the fix; the previous build is untouched."""
    if error.errno == errno.ENOSPC:
        fix = "free some disk space there"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "make the folder writable for this user"
    else:
        fix = "check that the folder can be written"
    where = f" ({error.filename})" if error.filename and str(error.filename) != str(index_dir) else ""
    return IndexWriteError(
        f"cannot write the index in {index_dir}: {error.strerror or error}{where} — {fix}, "
        f"or build elsewhere: python -m index build --index DIR (any previous index there is unchanged)"
    )


def os_error_line(error: OSError) -> str:
    """One line for a file-system error: which file, what went wrong, what to do."""
    where = f"{error.filename}: " if error.filename else ""
    return (
        f"{where}{error.strerror or error} — check free space and permissions there, "
        "or build elsewhere: python -m index build --index DIR (any previous index is unchanged)"
    )


def settings_embedder(settings: Settings, model: str | None = None) -> Embedder:
    """The embedder the settings ask for (``model`` instead of theirs: an index's own), its ONNX
    export cached under the index folder."""
    return load_embedder(
        model or settings.model,
        settings.query_prefix,
        settings.batch_size,
        settings.quantize,
        settings.backend,
        settings.index_dir / "models",
        settings.embed_threads,
    )


def build_index(
    settings: Settings, embedder: Embedder | None = None, progress: Progress | None = None
) -> Path:
    """Index every report in ``settings.corpus_dir`` into ``settings.index_dir``; ``progress`` is told
    how many of the chunk texts to embed are done."""
    started = time.perf_counter()
    reports = load_corpus(settings.corpus_dir)
    paragraphs = []
    for report in reports:
        found = structure(report, split_lines(report.text))
        if not any(p.kind == "body" for p in found):
            log.warning("skipped %s: no paragraphs of report text found in it", report.path)
            continue
        paragraphs.extend(found)
    if not paragraphs:
        raise CorpusError(f"no report text found in {settings.corpus_dir} — check the files are reports")
    kept_ids = {p.doc_id for p in paragraphs}
    reports = [r for r in reports if r.doc_id in kept_ids]
    chunks = chunk_paragraphs(paragraphs, settings.chunk_size, settings.chunk_overlap)
    texts = [normalize(c.searched) for c in chunks]  # what BM25 and the embedder see

    embedder = embedder or settings_embedder(settings)
    cache = None
    if settings.vector_cache and getattr(embedder, "batch_independent", True):
        # Texts an earlier build of this folder embedded with the same model are read back, not
        # embedded again; the cache logs how many chunk texts it embedded and how many it reused.
        cache = VectorCache(settings.index_dir / CACHE_FOLDER, embedder)
        log.info("%d chunks from %d reports", len(chunks), len(reports))
        vectors = cache.embed(texts, progress)
    else:
        log.info("embedding %d chunks from %d reports with %s", len(chunks), len(reports), embedder.name)
        vectors = embed_in_steps(embedder, texts, progress)
    manifest_fields = dict(
        model=embedder.name,
        quantized=embedder.quantize,
        backend=embedder.backend,
        dimension=embedder.dimension,
        corpus_dir=str(settings.corpus_dir.resolve()),
        corpus_fingerprint=corpus_fingerprint(settings.corpus_dir),
        corpus_stat=corpus_stat(settings.corpus_dir),
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        pipeline=pipeline_version(),
        counts={"reports": len(reports), "paragraphs": len(paragraphs), "chunks": len(chunks)},
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        build_seconds=round(time.perf_counter() - started, 2),
    )
    tokens = [tokenize(t) for t in texts]
    try:
        with build_lock(settings.index_dir):
            folder = save_index(
                settings.index_dir, manifest_fields, reports, paragraphs, chunks, vectors, tokens
            )
    except OSError as error:  # no space, no permission, a file where the folder should be
        raise write_error(settings.index_dir, error) from None
    if cache is not None:
        # Only once the index is live, and outside the build lock: a build whose index cannot be
        # written reports that one fault, and a cache that cannot be written is only a warning.
        cache.save()
    log.info("index built in %.1f s: %s", time.perf_counter() - started, folder)
    return folder


def differences(manifest: Manifest, settings: Settings, same_corpus_dir: bool = True) -> list[str]:
    """What differs between an index and the settings / its corpus, one phrase each.

    ``same_corpus_dir``: the index must have been built from ``settings.corpus_dir`` (the default
    index follows the settings; an index named on the command line serves the folder it was built
    from, still checked for changes to that folder's reports)."""
    found = []
    if manifest.model != settings.model:
        found.append(f"model: index built with {manifest.model}, settings ask for {settings.model}")
    if manifest.quantized != settings.quantize:
        found.append(f"quantize: index built with {manifest.quantized}, settings ask for {settings.quantize}")
    if manifest.backend != settings.backend and manifest.quantized:
        # float32 ONNX and float32 torch give the same vectors (the export is verified to 0.999);
        # their int8 arithmetic differs.
        found.append(f"backend: index built with {manifest.backend}, settings ask for {settings.backend}")
    for name in ("chunk_size", "chunk_overlap"):
        if getattr(manifest, name) != getattr(settings, name):
            found.append(
                f"{name}: index has {getattr(manifest, name)}, settings ask for {getattr(settings, name)}"
            )
    if manifest.pipeline != pipeline_version():
        found.append("pipeline: built by an earlier version of the cleaning, structure or chunking code")
    corpus_dir = Path(manifest.corpus_dir)
    if same_corpus_dir and corpus_dir != settings.corpus_dir.resolve():
        wanted = settings.corpus_dir.resolve()
        found.append(f"corpus: index built from {corpus_dir}, settings ask for {wanted}")
        return found
    try:
        # Files of the same sizes and modification times are taken as unchanged: a start-up does not
        # read every report of a large library again.
        if manifest.corpus_stat and corpus_stat(corpus_dir) == manifest.corpus_stat:
            return found
        fingerprint = corpus_fingerprint(corpus_dir)
    except CorpusError:
        fingerprint = None  # the corpus moved away: the index is still usable as it is
    if fingerprint is not None and fingerprint != manifest.corpus_fingerprint:
        found.append(f"corpus: the reports in {corpus_dir} changed since the index was built")
    return found


def open_index(settings: Settings, rebuild: bool = True, embedder: Embedder | None = None) -> StoredIndex:
    """The index for ``settings``; (re)built first if ``rebuild`` and it is missing or stale."""
    index_dir = settings.index_dir
    try:
        folder = current_build(index_dir)
    except IndexNotFoundError:
        if not rebuild:
            raise
        log.warning("no index at %s yet — building it (takes about a minute)", index_dir)
        build_index(settings, embedder)
        return load_index(index_dir)
    try:
        manifest = read_manifest(folder)
    except IndexMismatchError as error:  # written by another version of this code
        if not rebuild:
            raise
        log.warning("%s — rebuilding", error)
        build_index(settings, embedder)
        return load_index(index_dir)
    stale = differences(manifest, settings, same_corpus_dir=rebuild)
    if stale:
        if not rebuild:
            raise IndexMismatchError(
                f"index {index_dir} is out of date ({'; '.join(stale)}) — "
                f"run: python -m index build --index {index_dir}"
            )
        log.warning("index %s is out of date (%s) — rebuilding", index_dir, "; ".join(stale))
        build_index(settings, embedder)
    return load_index(index_dir)
