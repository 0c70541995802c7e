"""ONNX export: a sentence-transformers model in, a verified ONNX Runtime model folder out.

In: the model setting (``m3e-small``, a local folder or a Hugging Face id) and a cache folder.
Out: ``<cache>/<name>-<key>/`` holding ``model.onnx`` (float32), ``model.int8.onnx`` (dynamic int8
quantisation, when asked for), ``tokenizer.json`` and ``meta.json`` (pooling, maximum length, input
names, dimension, and the cosine of the export against the torch model on a fixed sample).

Run once per model, at the first index build or first question: afterwards the ONNX embedder
(``index.embed.OnnxEmbedder``) answers without importing torch, which is what makes a question take
milliseconds and the page start in seconds on a 2-core machine. The export is verified against the
torch vectors (cosine ≥ ``MIN_COSINE``) and written to a temporary folder renamed into place, so a
failed or interrupted export never leaves a model that would be used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
import warnings
from pathlib import Path

import numpy as np

from index.errors import ModelLoadError

log = logging.getLogger(__name__)

MIN_COSINE = 0.999  # float32 ONNX against torch: the same arithmetic, so anything lower is a bug
MIN_COSINE_INT8 = 0.95  # int8 loses precision by design; below this the quantisation went wrong
# A fixed sample of the kind of text the model sees: questions and report sentences, short and long.
SAMPLE = (
    "罗湖2020年财政收入是多少？",
    "浙江去年GDP增长多少",
    "一般公共预算收入完成112.6亿元，增长3.2%。",
    "全面推进城市更新，加快棚户区改造，新增学位5000个，建成社区健康服务中心12家，"
    "持续改善群众居住条件和公共服务水平，让改革发展成果更多更公平惠及全体人民。",
    "The report, in English: budget revenue rose 3.2%.",
    "“十四五”时期",
)


def source_key(target: str, local: bool) -> str:
    """What identifies the model's weights: a local folder's files (names, sizes, times), or the id."""
    if not local:
        return target
    parts = []
    for path in sorted(Path(target).rglob("*")):
        if path.is_file():
            stat = path.stat()
            parts.append(f"{path.relative_to(target)}:{stat.st_size}:{int(stat.st_mtime)}")
    return f"{target}|" + "|".join(parts)


def export_folder(cache_dir: Path, name: str, key: str) -> Path:
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(name).name)[:40]
    return cache_dir / f"{slug}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _pooling(model) -> str:
    """'mean' or 'cls', from the model's Pooling module; anything else is not exported."""
    for module in model:
        if type(module).__name__ != "Pooling":
            continue
        # sentence-transformers 6 keeps it in the config; earlier versions name it by a method.
        legacy = getattr(module, "get_pooling_mode_str", None)
        found = module.get_config_dict().get("pooling_mode") if legacy is None else legacy()
        if found in ("mean", "cls"):
            return found
        raise ModelLoadError(f"pooling mode {found!r} is not supported by the onnx backend")
    raise ModelLoadError("the model has no pooling module the onnx backend knows")


def export(target: str, folder: Path, quantize: bool) -> Path:
    """Export the model at ``target`` into ``folder`` (see module docstring); returns ``folder``."""
    try:
        import onnxruntime  # noqa: F401  (checked before the slow torch import)
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise ModelLoadError(
            f"the onnx backend needs {error.name} to export the model — run: pip install -e ."
        ) from None
    model = SentenceTransformer(target, device="cpu")
    transformer = model[0].auto_model.eval()
    tokenizer = model.tokenizer
    pooling = _pooling(model)
    inputs = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in tokenizer(["样例"])]

    class Encoder(torch.nn.Module):
        """The transformer called by keyword (its positional order differs between versions)."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *tensors):
            return self.inner(**dict(zip(inputs, tensors, strict=True))).last_hidden_state

    temporary = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}")
    temporary.mkdir(parents=True)
    try:
        example = tokenizer(list(SAMPLE[:2]), padding=True, return_tensors="pt")
        axes = {name: {0: "batch", 1: "sequence"} for name in (*inputs, "last_hidden_state")}
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Encoder().eval(),
                tuple(example[name] for name in inputs),
                str(temporary / "model.onnx"),
                input_names=inputs,
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        tokenizer.save_pretrained(str(temporary))
        if not (temporary / "tokenizer.json").exists():
            raise ModelLoadError("the model's tokenizer has no fast (tokenizer.json) form for onnx")
        meta = {
            "source": target,
            "pooling": pooling,
            "max_length": int(model.max_seq_length or 512),
            "inputs": inputs,
            # Renamed in sentence-transformers 5; the old name still works there but warns.
            "dimension": int(
                (getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension)()
            ),
        }
        (temporary / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        reference = model.encode(list(SAMPLE), normalize_embeddings=True, convert_to_numpy=True)
        meta["cosine"] = _verify(temporary, "model.onnx", reference, MIN_COSINE)
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            root = logging.getLogger()  # the quantiser logs every skipped tensor on the root logger
            level = root.level
            root.setLevel(logging.WARNING)
            try:
                quantize_dynamic(
                    temporary / "model.onnx", temporary / "model.int8.onnx", weight_type=QuantType.QInt8
                )
            finally:
                root.setLevel(level)
            meta["cosine_int8"] = _verify(temporary, "model.int8.onnx", reference, MIN_COSINE_INT8)
        (temporary / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        try:
            os.replace(temporary, folder)
        except OSError:
            if not (folder / "meta.json").exists():  # not another process's finished export
                raise
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    log.info("exported %s to ONNX in %s", target, folder)
    return folder


def _verify(folder: Path, filename: str, reference: np.ndarray, minimum: float) -> float:
    from index.embed import OnnxSession

    vectors = OnnxSession(folder, filename, threads=0).encode(list(SAMPLE))
    cosine = float((vectors * reference).sum(axis=1).min())
    if cosine < minimum:
        raise ModelLoadError(
            f"the ONNX export {filename} gives vectors at cosine {cosine:.4f} from the torch model "
            f'(needs ≥ {minimum}) — use backend = "torch"'
        )
    return round(cosine, 6)
