"""Vector cache: chunk texts in, their passage vectors out, embedding only texts not embedded before.

In: an embedder and the exact texts a build embeds (``normalize(chunk.searched)``).
Out: one float32 vector per text, in the order of the texts. A text that an embedder of the same
identity (model, quantisation and, where the embedder says so, backend) embedded in an earlier
build of this index folder is read from disk; the others are embedded in one call, each distinct
text once, and added. So a rebuild after a settings change that leaves the chunks alone embeds
nothing, and adding a report embeds only its chunks.

Layout (``DIR`` is ``<index_dir>/vector-cache``, ``<hash>`` a short hash of the identity)::

    DIR/<hash>/manifest.json        identity, dimension, entry count, build generation, and the name
                                    and SHA-256 of each array below; replaced atomically, last
    DIR/<hash>/keys-<stamp>.npy     (n,) |S16 — BLAKE2b-128 digest of each embedded text
    DIR/<hash>/vectors-<stamp>.npy  (n, dimension) float32, read with mmap
    DIR/<hash>/used-<stamp>.npy     (n,) int64 — the generation (build) that last used each entry
    DIR/<hash>/.lock                writers exclude each other and readers

Array files are never rewritten in place: a write adds files under a new stamp and then replaces
``manifest.json``, so a crash leaves the previous cache whole. A cache that cannot be read or does
not match its manifest is one warning and is replaced; a cache that cannot be written is one
warning. Neither ever fails a build: the cache only saves time.

Deliberately left out: the texts themselves (the index holds them; digests keep the cache small),
and sharing between index folders (each index folder has its own cache).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.embed import Embedder
from index.store import sha256_file

log = logging.getLogger(__name__)

CACHE_FOLDER = "vector-cache"  # inside the index folder; index/store.py removes only build-* there
MANIFEST = "manifest.json"
# A 128-bit digest: a collision among even a billion texts is far less likely than a disk error.
KEY_BYTES = 16
KEY_DTYPE = np.dtype(f"S{KEY_BYTES}")
ARRAYS = ("keys", "vectors", "used")
# The cache keeps every vector of the latest build and, least recently used dropped first, older
# ones up to max(2 × that build, MIN_CAPACITY) entries: switching a chunk setting back and forth
# stays cheap, and the folder stays bounded (50,000 × 512 float32 is about 100 MB).
MIN_CAPACITY = 50_000


# Told (texts embedded so far, texts to embed) as a build embeds: a progress bar's feed.
Progress = Callable[[int, int], None]
PROGRESS_STEP = 64  # texts embedded between two progress reports: about a second on 2 cores


def embed_in_steps(embedder: Embedder, texts: list[str], progress: Progress | None = None) -> np.ndarray:
    """``embedder.embed_passages(texts)``, in steps of ``PROGRESS_STEP`` texts when ``progress`` is
    given. Steps change only which texts share a padded batch, which moves a float32 vector by
    rounding alone (int8 embeds one text at a time, index/embed.py)."""
    if progress is None or not texts:
        return np.asarray(embedder.embed_passages(texts))
    parts = []
    progress(0, len(texts))
    for at in range(0, len(texts), PROGRESS_STEP):
        parts.append(np.asarray(embedder.embed_passages(texts[at : at + PROGRESS_STEP])))
        progress(min(at + PROGRESS_STEP, len(texts)), len(texts))
    return np.concatenate(parts)


class CacheUnusable(Exception):
    """The cache on disk cannot be used; the message says why."""


def embedder_identity(embedder: Embedder) -> str:
    """What makes two embedders give the same vector for a text (embedders may name it themselves)."""
    return getattr(embedder, "identity", "") or f"{embedder.name}|quantized={embedder.quantize}"


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_BYTES).digest()


@dataclass
class _Entries:
    """The cache as read: arrays row-aligned, and each key's row."""

    keys: np.ndarray
    vectors: np.ndarray
    used: np.ndarray
    generation: int = 0
    files: dict[str, str] = field(default_factory=dict)  # array name → file, as in the manifest
    checksums: dict[str, str] = field(default_factory=dict)  # array name → SHA-256 of its file
    rows: dict[bytes, int] = field(default_factory=dict)

    @classmethod
    def empty(cls, dimension: int) -> _Entries:
        return cls(np.zeros(0, KEY_DTYPE), np.zeros((0, dimension), np.float32), np.zeros(0, np.int64))


@contextlib.contextmanager
def _locked(folder: Path, exclusive: bool) -> Iterator[None]:
    """Hold the cache's lock; a reader that cannot create the lock file (read-only) reads without it."""
    try:
        handle = (folder / ".lock").open("a")
    except OSError:
        if exclusive:
            raise
        handle = None
    if handle is None:
        yield
        return
    with handle:  # closing the file releases the lock
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield


def _read_manifest_bytes(folder: Path) -> bytes | None:
    try:
        return (folder / MANIFEST).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None  # no cache yet: not a fault


def _read_entries(folder: Path, raw: bytes | None, identity: str, dimension: int) -> _Entries:
    """The cache described by the manifest bytes ``raw``; CacheUnusable names any fault."""
    if raw is None:
        return _Entries.empty(dimension)
    try:
        manifest = json.loads(raw)
        count, generation = int(manifest["entries"]), int(manifest["generation"])
        files, checksums = manifest["files"], manifest["checksums"]
        found_identity, found_dimension = manifest["identity"], manifest["dimension"]
    except (ValueError, TypeError, KeyError):
        raise CacheUnusable(f"{folder / MANIFEST} is not a cache manifest") from None
    if found_identity != identity:
        raise CacheUnusable(f"it holds vectors of {found_identity!r}, not {identity!r}")
    if found_dimension != dimension:
        raise CacheUnusable(f"it holds {found_dimension}-dimensional vectors, the model gives {dimension}")
    if not isinstance(files, dict) or set(files) != set(ARRAYS) or not isinstance(checksums, dict):
        raise CacheUnusable(f"{folder / MANIFEST} does not name its {', '.join(ARRAYS)} files")
    arrays = {}
    for name in ARRAYS:
        file_name = files[name]
        if not isinstance(file_name, str) or Path(file_name).name != file_name:
            raise CacheUnusable(f"{folder / MANIFEST} names a file outside the cache folder")
        path = folder / file_name
        if sha256_file(path) != checksums.get(name):
            raise CacheUnusable(f"{path} is damaged (checksum differs from the manifest)")
        # The vectors are the bulk of the cache and only the rows a build reuses are copied out.
        arrays[name] = np.load(path, mmap_mode="r" if name == "vectors" else None, allow_pickle=False)
    keys, vectors, used = arrays["keys"], arrays["vectors"], arrays["used"]
    expected = {
        "keys": (KEY_DTYPE, (count,)),
        "vectors": (np.dtype(np.float32), (count, dimension)),
        "used": (np.dtype(np.int64), (count,)),
    }
    for name, (dtype, shape) in expected.items():
        if arrays[name].dtype != dtype or arrays[name].shape != shape:
            raise CacheUnusable(
                f"{folder / files[name]} holds {arrays[name].dtype} {arrays[name].shape}, "
                f"the manifest says {dtype} {shape}"
            )
    # Slices of the raw buffer, not keys[i]: numpy drops trailing zero bytes from |S items.
    raw_keys = keys.tobytes()
    rows = {raw_keys[i * KEY_BYTES : (i + 1) * KEY_BYTES]: i for i in range(count)}
    if len(rows) != count:
        raise CacheUnusable(f"{folder / files['keys']} holds a text twice")
    return _Entries(keys, vectors, used, generation, dict(files), dict(checksums), rows)


def _save_array(folder: Path, file_name: str, array: np.ndarray) -> str:
    """Write ``array`` as ``file_name`` (via a temporary file, so no half file ever has that name)."""
    temporary = folder / f"{file_name}.{os.getpid()}.tmp"
    try:
        with temporary.open("wb") as handle:
            np.save(handle, array, allow_pickle=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, folder / file_name)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return sha256_file(folder / file_name)


class VectorCache:
    """The cached vectors of one embedder in one index folder: ``embed`` texts, then ``save``.

    ``save`` is separate so that a build writes the cache only once its index is live: a build whose
    index cannot be written reports that one fault, not a cache warning as well.
    """

    def __init__(self, cache_dir: Path, embedder: Embedder, min_capacity: int = MIN_CAPACITY) -> None:
        self.embedder = embedder
        self.identity = embedder_identity(embedder)
        self.dimension = int(embedder.dimension)
        self.folder = cache_dir / hashlib.sha256(self.identity.encode("utf-8")).hexdigest()[:16]
        self.min_capacity = min_capacity
        self._seen: bytes | None = None  # the manifest as read by ``embed``
        self._entries = _Entries.empty(self.dimension)
        # The distinct texts of the latest ``embed``: their keys in first-seen order, and vectors.
        self._used: list[bytes] = []
        self._vectors = np.zeros((0, self.dimension), np.float32)
        self.reused = self.embedded = 0

    def _load(self) -> None:
        try:
            if not self.folder.is_dir():
                return
            with _locked(self.folder, exclusive=False):
                self._seen = _read_manifest_bytes(self.folder)
                self._entries = _read_entries(self.folder, self._seen, self.identity, self.dimension)
        except Exception as error:  # a cache is never a reason to fail a build
            log.warning(
                "vector cache %s is unusable (%s) — embedding without it; it will be replaced",
                self.folder,
                _reason(error),
            )
            self._entries = _Entries.empty(self.dimension)

    def embed(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        """Vectors for ``texts`` in their order; only distinct texts missing from the cache are embedded
        (``progress`` is told how many of those are done, batch by batch)."""
        self._load()
        keys = [text_key(text) for text in texts]
        position: dict[bytes, int] = {}  # key → row among the distinct texts
        distinct_texts = []
        for key, text in zip(keys, texts, strict=True):
            if key not in position:
                position[key] = len(distinct_texts)
                distinct_texts.append(text)
        self._used = list(position)
        vectors = np.empty((len(distinct_texts), self.dimension), np.float32)
        rows = self._entries.rows
        cached = [(at, rows[key]) for key, at in position.items() if key in rows]
        if cached:
            targets, sources = (np.array(column, dtype=np.int64) for column in zip(*cached, strict=True))
            vectors[targets] = self._entries.vectors[sources]
        missing = [at for key, at in position.items() if key not in rows]
        if missing:
            fresh = embed_in_steps(self.embedder, [distinct_texts[at] for at in missing], progress)
            if fresh.shape != (len(missing), self.dimension):
                raise ValueError(
                    f"{self.embedder.name} returned vectors of shape {fresh.shape} for {len(missing)} "
                    f"texts, expected ({len(missing)}, {self.dimension})"
                )
            vectors[missing] = fresh
        self._vectors = vectors
        self.reused, self.embedded = len(cached), len(missing)
        log.info(
            "embedded %d chunk texts with %s, reused %d from the vector cache (%d chunks, %d distinct texts)",
            self.embedded,
            self.embedder.name,
            self.reused,
            len(texts),
            len(distinct_texts),
        )
        return vectors[[position[key] for key in keys]] if texts else vectors

    def save(self) -> None:
        """Add the vectors ``embed`` made and mark the ones it used; a failure is one warning."""
        if not self._used:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with _locked(self.folder, exclusive=True):
                self._write()
        except Exception as error:  # disk full, read-only, a file where the folder should be
            log.warning(
                "cannot write the vector cache %s (%s) — the index is built all the same; "
                "the next build embeds these texts again",
                self.folder,
                _reason(error),
            )

    def _write(self) -> None:
        """Merge this build's keys into the cache as it is on disk now, then switch the manifest."""
        raw = _read_manifest_bytes(self.folder)
        if raw == self._seen:
            entries = self._entries  # unchanged since ``embed`` read it (and warned if unusable)
        else:  # another build wrote it meanwhile: add to what it wrote
            try:
                entries = _read_entries(self.folder, raw, self.identity, self.dimension)
            except Exception:
                entries = _Entries.empty(self.dimension)
        generation = entries.generation + 1
        used = np.array(entries.used, dtype=np.int64)  # a copy: the file may be mapped elsewhere
        used[[entries.rows[key] for key in self._used if key in entries.rows]] = generation
        # What this build embedded, and what it read from a cache that another build has since
        # replaced without it.
        adding = [at for at, key in enumerate(self._used) if key not in entries.rows]
        keys, vectors = entries.keys, entries.vectors
        if adding:
            new_keys = np.frombuffer(b"".join(self._used[at] for at in adding), dtype=KEY_DTYPE)
            keys = np.concatenate([keys, new_keys])
            vectors = np.concatenate([vectors, self._vectors[adding]])
            used = np.concatenate([used, np.full(len(adding), generation, np.int64)])
        capacity = max(2 * len(self._used), self.min_capacity)
        if len(keys) > capacity:
            # The most recently used stay. This build's own entries are the most recent of all and
            # at most half the capacity, so every one of them stays.
            keep = np.sort(np.argsort(-used, kind="stable")[:capacity])
            keys, vectors, used = keys[keep], vectors[keep], used[keep]

        stamp = f"{generation:06d}-{uuid.uuid4().hex[:8]}"
        # Nothing added or dropped: only the small ``used`` array changes, the vectors stay as written.
        unchanged = not adding and len(keys) == len(entries.keys) and set(entries.files) == set(ARRAYS)
        files, checksums = dict(entries.files), dict(entries.checksums)
        for name, array in (("keys", keys), ("vectors", vectors), ("used", used)):
            if name == "used" or not unchanged:
                files[name] = f"{name}-{stamp}.npy"
                checksums[name] = _save_array(self.folder, files[name], np.ascontiguousarray(array))
        manifest = {
            "identity": self.identity,
            "dimension": self.dimension,
            "entries": len(keys),
            "generation": generation,
            "files": files,
            "checksums": checksums,
        }
        pointer = self.folder / f"{MANIFEST}.{os.getpid()}.tmp"
        with pointer.open("w", encoding="utf-8") as handle:
            handle.write(json.dumps(manifest, ensure_ascii=False, indent=2))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(pointer, self.folder / MANIFEST)  # the atomic switch
        self._seen = (self.folder / MANIFEST).read_bytes()
        _remove_unused(self.folder, set(files.values()))


def _remove_unused(folder: Path, keep: set[str]) -> None:
    """Array files no manifest names any more, and what killed writes left; under the lock."""
    for path in folder.iterdir():
        stale_array = path.suffix == ".npy" and path.name not in keep
        if stale_array or path.suffix == ".tmp":
            with contextlib.suppress(OSError):
                path.unlink()


def _reason(error: Exception) -> str:
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror or error}"
    return str(error) or type(error).__name__


def embed_with_cache(
    embedder: Embedder, texts: list[str], cache_dir: Path, min_capacity: int = MIN_CAPACITY
) -> np.ndarray:
    """Vectors for ``texts`` in their order, embedding only texts the cache in ``cache_dir`` lacks."""
    cache = VectorCache(cache_dir, embedder, min_capacity)
    vectors = cache.embed(texts)
    cache.save()
    return vectors
