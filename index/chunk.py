"""Chunking: ``Paragraph`` objects in, ``Chunk`` objects (the retrieval units) out.

Each body paragraph is split with langchain-text-splitters' ``RecursiveCharacterTextSplitter``,
preferring Chinese sentence ends, then clause marks, then spaces, with ``keep_separator="end"``
so 。 closes the chunk it belongs to instead of opening the next. Every chunk keeps its paragraph
and its exact character offsets in that paragraph (``paragraph.text[start:end] == chunk.text``).

Heading paragraphs are not chunks of their own: their words reach the index through the
``context`` of the chunks below them (the section path), which is searched but never quoted.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from index.structure import Paragraph

# Sentence ends first, then clause marks (full- and half-width: the reports mix both), then spaces.
SEPARATORS = ["\n", "。", "！", "？", "!", "?", "；", ";", "：", ":", "，", ",", "、", " ", ""]


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    paragraph: int  # the paragraph's number in its report
    start: int  # offsets into the paragraph text
    end: int
    text: str  # == paragraph.text[start:end]
    context: str  # section path, searched with the chunk but not shown as a quote

    @property
    def searched(self) -> str:
        """What the index searches for this chunk (before normalisation): section path, then text."""
        return f"{self.context}\n{self.text}" if self.context else self.text


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        strip_whitespace=True,
    )


def chunk_paragraphs(paragraphs: list[Paragraph], chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Chunks of every body paragraph, in paragraph order."""
    splitter = make_splitter(chunk_size, chunk_overlap)
    chunks: list[Chunk] = []
    for paragraph in paragraphs:
        if paragraph.kind != "body":
            continue
        cursor = 0
        for piece in splitter.split_text(paragraph.text):
            # A piece begins after the previous piece's start and at most ``chunk_overlap``
            # characters before its end; searching only from there keeps a repeated phrase from
            # matching an earlier occurrence.
            start = paragraph.text.find(piece, cursor)
            if start < 0:  # the splitter never alters text, so this means a bug, not bad input
                raise AssertionError(f"chunk not found in {paragraph.paragraph_id}: {piece!r}")
            chunks.append(
                Chunk(paragraph.doc_id, paragraph.number, start, start + len(piece), piece, paragraph.section)
            )
            cursor = max(start + 1, start + len(piece) - chunk_overlap)
    return chunks
