"""The watch pipeline: registered stages that turn a ``RawDoc`` into a ``Processed`` document.

Stages, in order: ``text`` (markup left in a document is extracted, text cleaned), ``dedup`` (exact
hash and MinHash signature; duplicates of documents the pipeline has seen, or of ``known_hashes``
from storage, and near-duplicates from the ``NearDuplicateIndex``), ``language`` (W1's
``amane.watch.lang.detect_language``), ``normalise`` (folded words, ``text.fold_text``), ``selectors``
(forensics extractors), ``watchlist`` (``Watchlist.match``), ``classify`` (W1's
``amane.watch.classify.classify``). A stage is a function ``(pipeline, state) -> None`` that fills
fields of the state; ``register_stage`` adds one (a unique name, placed after another).

Pure and database-free: the caller gives the known hashes and the index, and stores the result.
``process_parallel`` runs the per-document stages in worker processes and keeps the duplicate
decisions, which depend on document order, in the calling process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .dedup import NearDuplicateIndex, hash_folded, signature
from .selectors import Selector, extract_selectors
from .sources import RawDoc
from .text import clean_text, fold_text, html_to_text, looks_like_html
from .watchlist import Hit, Watchlist

if TYPE_CHECKING:
    from .classify import Classification
    from .lang import LanguageResult


@dataclass
class Processed:
    doc: RawDoc
    content_hash: str
    signature: bytes
    duplicate_of: str | None  # key (source:external_id) of an earlier document with the same hash
    near_duplicate_of: str | None  # key of the most similar earlier document above the threshold
    language: LanguageResult | None
    normalized: str
    selectors: list[Selector]
    hits: list[Hit]
    classification: Classification | None
    #: The text the stages read (extracted and cleaned): offsets of selectors, hits and evidence
    #: refer to it, so it is what gets stored.
    text: str = ""

    @property
    def key(self) -> str:
        return doc_key(self.doc)


@dataclass
class State:
    """What the stages fill in, one document at a time."""

    doc: RawDoc
    text: str
    content_hash: str = ""
    signature: bytes = b""
    duplicate_of: str | None = None
    near_duplicate_of: str | None = None
    language: Any = None
    normalized: str = ""
    selectors: list[Selector] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    classification: Any = None


Stage = Callable[["Pipeline", State], None]


def doc_key(doc: RawDoc) -> str:
    """The key a document is known by in the pipeline's indexes: ``source:external_id``."""
    return f"{doc.source}:{doc.external_id}"


# -- built-in stages ------------------------------------------------------------------------------


def stage_text(p: Pipeline, s: State) -> None:
    if s.doc.media_type == "html" and looks_like_html(s.text):
        s.text = html_to_text(s.text).text
    else:
        s.text = clean_text(s.text)


def stage_dedup(p: Pipeline, s: State) -> None:
    s.normalized = fold_text(s.text)  # the normalise stage keeps it
    s.content_hash = hash_folded(s.normalized)
    s.signature = signature(s.text, p.num_perm)
    if p.decide_duplicates:
        p.decide(s)


def stage_language(p: Pipeline, s: State) -> None:
    fn = _optional("amane.watch.lang", "detect_language")
    if fn is not None:
        s.language = fn(s.text)


def stage_normalise(p: Pipeline, s: State) -> None:
    if not s.normalized:
        s.normalized = fold_text(s.text)


def stage_selectors(p: Pipeline, s: State) -> None:
    s.selectors = extract_selectors(s.text)


def stage_watchlist(p: Pipeline, s: State) -> None:
    if p.watchlist is not None and len(p.watchlist):
        s.hits = p.watchlist.match(s.text)


def stage_classify(p: Pipeline, s: State) -> None:
    fn = _optional("amane.watch.classify", "classify")
    if fn is not None:
        s.classification = fn(s.text, language=s.language)


_OPTIONAL: dict[tuple[str, str], Any] = {}


def _optional(module: str, name: str) -> Any:
    """A function of a module that may not be installed yet (None then; looked up once)."""
    key = (module, name)
    if key not in _OPTIONAL:
        import importlib

        try:
            _OPTIONAL[key] = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            _OPTIONAL[key] = None
    return _OPTIONAL[key]


STAGES: dict[str, Stage] = {
    "text": stage_text,
    "dedup": stage_dedup,
    "language": stage_language,
    "normalise": stage_normalise,
    "selectors": stage_selectors,
    "watchlist": stage_watchlist,
    "classify": stage_classify,
}


def register_stage(name: str, fn: Stage, *, after: str | None = None) -> None:
    """Add a stage, at the end or right after ``after``; a duplicate name is an error."""
    if name in STAGES:
        raise ValueError(f"name: unique: stage {name!r} is already registered")
    if after is not None and after not in STAGES:
        raise ValueError(f"after: unknown stage {after!r}; known: {', '.join(STAGES)}")
    if after is None:
        STAGES[name] = fn
        return
    items = list(STAGES.items())
    at = [k for k, _ in items].index(after) + 1
    items.insert(at, (name, fn))
    STAGES.clear()
    STAGES.update(items)


class Pipeline:
    """Runs the registered stages (or the named subset, in registered order) on documents.

    ``known_hashes`` maps content hashes already stored to their document keys; the pipeline adds
    every new document's hash and signature to its own copy and to ``index`` as it goes, so that
    a batch finds duplicates within itself."""

    def __init__(
        self,
        watchlist: Watchlist | None = None,
        index: NearDuplicateIndex | None = None,
        known_hashes: Mapping[str, str] | None = None,
        stages: Sequence[str] | None = None,
    ) -> None:
        self.watchlist = watchlist
        self.index = index if index is not None else NearDuplicateIndex()
        self.num_perm = self.index.num_perm
        self.hashes: dict[str, str] = dict(known_hashes or {})
        if stages is None:
            self.stages = list(STAGES)
        else:
            unknown = [s for s in stages if s not in STAGES]
            if unknown:
                raise ValueError(f"stages: unknown stage(s) {', '.join(unknown)}; known: {', '.join(STAGES)}")
            self.stages = [s for s in STAGES if s in stages]
        self.decide_duplicates = True

    def decide(self, s: State) -> None:
        """Duplicate and near-duplicate decisions for a state with its hash and signature; then the
        document joins the known hashes and the index."""
        key = doc_key(s.doc)
        earlier = self.hashes.get(s.content_hash)
        if earlier is not None and earlier != key:
            s.duplicate_of = earlier
            return
        if earlier is None:
            self.hashes[s.content_hash] = key
        near = self.index.query(s.signature) if s.signature else None
        if near is not None and near != key:
            s.near_duplicate_of = near
        if s.signature:
            self.index.add(key, s.signature)

    def process(self, doc: RawDoc) -> Processed:
        state = State(doc, doc.text)
        for name in self.stages:
            STAGES[name](self, state)
        return _processed(state)

    def process_many(self, docs: Iterable[RawDoc], *, batch: int = 64) -> Iterator[Processed]:
        """Every document, in order; the classifier's sentence vectors are computed ``batch``
        documents at a time (several times faster than one at a time)."""
        chunk: list[RawDoc] = []
        for doc in docs:
            chunk.append(doc)
            if len(chunk) >= batch:
                yield from self.process_batch(chunk)
                chunk = []
        if chunk:
            yield from self.process_batch(chunk)

    def process_batch(self, docs: Sequence[RawDoc]) -> list[Processed]:
        """:meth:`process` for a list of documents, with the ``classify`` stage run once for all."""
        many = _optional("amane.watch.classify", "classify_many")
        if "classify" not in self.stages or many is None or len(docs) < 2:
            return [self.process(d) for d in docs]
        at = self.stages.index("classify")
        states = []
        for doc in docs:
            state = State(doc, doc.text)
            for name in self.stages[:at]:
                STAGES[name](self, state)
            states.append(state)
        for state, c in zip(states, many([st.text for st in states], languages=[st.language for st in states]),
                            strict=True):
            state.classification = c
            for name in self.stages[at + 1:]:
                STAGES[name](self, state)
        return [_processed(st) for st in states]

    def process_parallel(self, docs: Iterable[RawDoc], *, workers: int = 2, chunksize: int = 64) -> Iterator[Processed]:
        """Like ``process_many`` with the stages run in ``workers`` processes; results come in input
        order, and duplicates are decided here, in that order (the same answers as ``process``)."""
        if workers <= 1:
            yield from self.process_many(docs)
            return
        ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        with ctx.Pool(workers, initializer=_worker_init, initargs=(self.watchlist, self.stages, self.num_perm)) as pool:
            # each worker takes ``chunksize`` documents at a time and classifies them in one batch
            for batch in pool.imap(_worker_batch, _chunks(docs, chunksize)):
                for p in batch:
                    if "dedup" in self.stages:
                        state = State(p.doc, "", p.content_hash, p.signature)
                        self.decide(state)
                        p.duplicate_of, p.near_duplicate_of = state.duplicate_of, state.near_duplicate_of
                    yield p


def _one_thread_each() -> None:
    """In a worker process: numeric libraries and the sentence encoder use one thread, so that N
    workers on N cores do not fight over them."""
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        from amane.watch import classify

        classify.ENCODER_THREADS = 1
        classify._encoder.cache_clear()
    except ImportError:  # the classifier is optional
        pass


def _processed(s: State) -> Processed:
    return Processed(
        doc=s.doc,
        content_hash=s.content_hash,
        signature=s.signature,
        duplicate_of=s.duplicate_of,
        near_duplicate_of=s.near_duplicate_of,
        language=s.language,
        normalized=s.normalized,
        selectors=s.selectors,
        hits=s.hits,
        classification=s.classification,
        text=s.text,
    )


_WORKER: Pipeline | None = None


def _worker_init(watchlist: Watchlist | None, stages: list[str], num_perm: int) -> None:
    global _WORKER
    _one_thread_each()
    _WORKER = Pipeline(watchlist, NearDuplicateIndex(num_perm=num_perm), stages=stages)
    _WORKER.decide_duplicates = False


def _worker_process(doc: RawDoc) -> Processed:
    assert _WORKER is not None
    return _WORKER.process(doc)


def _worker_batch(docs: list[RawDoc]) -> list[Processed]:
    assert _WORKER is not None
    return _WORKER.process_batch(docs)


def _chunks(docs: Iterable[RawDoc], n: int) -> Iterator[list[RawDoc]]:
    chunk: list[RawDoc] = []
    for d in docs:
        chunk.append(d)
        if len(chunk) >= n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
