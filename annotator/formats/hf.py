"""Hugging Face dataset folder: Parquet files per split and a dataset card.

``datasets.load_dataset(folder)`` loads the folder as it is, offline, through
the ``configs`` of the card's YAML front matter (Hugging Face Hub
documentation, "Manual Configuration" of datasets and "Dataset Cards"). Layout::

    README.md                     dataset card: YAML front matter + description
    gold/train.parquet            config "gold" (the default when there is a gold)
    gold/validation.parquet
    gold/test.parquet
    annotators/train.parquet      config "annotators": one row per (document, annotator);
    ...                           the default when there is no gold row

The first configuration of the card is the default, the one
``load_dataset(folder)`` gives: ``gold`` when the export has gold rows, else
``annotators`` (no gold yet, or the ``annotators`` scope); the card's "Loading"
snippet names the one it is.

Only submitted work: the ``annotators`` configuration holds the annotation sets
that annotators submitted, never a set still ``assigned`` or ``in_progress``
(``annotator.services.exports`` leaves those out before the records reach this
module, and the card says how many), so a row without spans means "found no
argument", not "not started". Its ``status`` column is therefore ``submitted``;
the canonical JSONL export keeps every set with its status.

    gold_bio/train.parquet        config "gold_bio": the gold rows as tokens and BIO tags
    annotators_bio/...            config "annotators_bio": the annotators' rows likewise

A split with no row has no file and is left out of the card; an export with no
row at all writes an empty ``train`` split (the schema, no row) for each
configuration of its scope, so that it still loads. Rows of the ``gold``
config: ``id``, ``title``, ``text``, ``meta`` (JSON), ``spans`` (a list of
``{id, start, end, label, text, attributes (JSON), note, suggested_by}``) and
``relations`` (a list of ``{id, source, target, type}``, ``source`` and
``target`` being span ids). Rows of ``annotators`` add ``annotator`` and
``status``. Offsets are Unicode code points into ``text`` (Python ``str``
indices), ``start`` inclusive, ``end`` exclusive. A span's ``label`` and a
relation's ``type`` are ``ClassLabel`` features: the index of the name in the
schema's order, the names in the card and in the Parquet schema's
``huggingface`` metadata (:func:`arrow_schema`).

Rows of the ``*_bio`` configs: ``id`` (and ``annotator``, ``status``),
``tokens`` (the maximal runs of non-whitespace, the unit of agreement,
../DESIGN.md), ``starts``, ``ends`` (their offsets) and one ``tags_<label>``
column per span label: a ``ClassLabel`` per token, ``O``/``B-<label>``/``I-<label>``,
by the rule of the CoNLL export (:func:`annotator.formats.conll.bio_columns`),
whose exceptions the writer counts (``bio_problems``).

Design note: the split
----------------------
The split is by document, so that no document's text is in two splits (the
annotators' rows of a document are in the split of its gold row). A document
goes to the split where ``u = int(sha256(f"{seed}:{id}")[:16 hex]) / 16**16``
falls, against the cumulative ratios (0.8 / 0.1 / 0.1 by default). It depends
on nothing but the seed and the document's id: re-exporting after adding
documents keeps every old document in its split, and no random state is kept.
A document whose corpus says its split (``meta["split"]``, from the folders
train/dev/test of an import or a JSONL's meta) keeps that one instead
(``dev``, ``valid`` and ``val`` are written as ``validation``, the Hub's name).

The Parquet files are written a row group at a time (``ROW_GROUP_DOCUMENTS``
rows), so memory does not grow with the project. pyarrow is imported only
when a dataset is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from annotator.formats.records import AnnotationRecord, DocumentRecord
from annotator.text.tokens import token_offsets

__all__ = [
    "DEFAULT_SPLIT_RATIOS",
    "SPLITS",
    "CardInfo",
    "HFDatasetWriter",
    "dataset_card",
    "document_split",
]

SPLITS = ("train", "validation", "test")
DEFAULT_SPLIT_RATIOS = (0.8, 0.1, 0.1)
#: Rows buffered per split and config before they are written as a Parquet row group:
#: a few MiB of briefs, enough for fast reads, small enough to keep memory flat.
ROW_GROUP_DOCUMENTS = 256
GOLD_CONFIG = "gold"
ANNOTATORS_CONFIG = "annotators"

_BIO_SUFFIX = "_bio"
#: Every configuration, in the order of the card (the first one present is the default).
CONFIGS = (GOLD_CONFIG, ANNOTATORS_CONFIG, GOLD_CONFIG + _BIO_SUFFIX,
           ANNOTATORS_CONFIG + _BIO_SUFFIX)
#: The configurations an export with no row at all still writes (empty), by scope.
_EMPTY_CONFIGS = {"gold": (GOLD_CONFIG, GOLD_CONFIG + _BIO_SUFFIX),
                  "annotators": (ANNOTATORS_CONFIG, ANNOTATORS_CONFIG + _BIO_SUFFIX)}
#: A BIO column's class names: index 0 is outside, 1 begins a span, 2 continues it.
BIO_PREFIXES = ("O", "B-", "I-")
TAGS_PREFIX = "tags_"


class ClassNames(tuple):
    """A ``datasets.ClassLabel``: the value is the index of its name (int64 in Arrow)."""


# A feature is "string" or "int32" (a datasets.Value), a ClassNames, a one-item list
# (a datasets.List of that item) or a dict of name -> feature (a struct).
def _fields(config: str, labels: Sequence[str], types: Sequence[str]) -> dict:
    """The columns of a configuration, given the schema's label and relation type names."""
    fields: dict = {"id": "string"}
    if config.endswith(_BIO_SUFFIX):
        if config.startswith(ANNOTATORS_CONFIG):
            fields |= {"annotator": "string", "status": "string"}
        fields |= {"tokens": ["string"], "starts": ["int32"], "ends": ["int32"]}
        for label in labels:
            fields[TAGS_PREFIX + label] = [ClassNames(
                p + label if p != "O" else "O" for p in BIO_PREFIXES)]
        return fields
    fields |= {"title": "string", "text": "string", "meta": "string"}
    if config == ANNOTATORS_CONFIG:
        fields |= {"annotator": "string", "status": "string"}
    fields["spans"] = [{
        "id": "string", "start": "int32", "end": "int32", "label": ClassNames(labels),
        "text": "string", "attributes": "string", "note": "string",
        # The recommender whose accepted suggestion the span is; "" when drawn by hand.
        "suggested_by": "string",
    }]
    fields["relations"] = [{"id": "string", "source": "string", "target": "string",
                            "type": ClassNames(types)}]
    return fields


#: The corpus's own split names, as the Hub's.
_CORPUS_SPLITS = {"train": "train", "test": "test", "dev": "validation", "valid": "validation",
                  "val": "validation", "validation": "validation"}


def corpus_split(meta: dict) -> str | None:
    """The split the corpus gave a document (``meta["split"]``), as a split of the export.

    >>> corpus_split({"split": "dev"}), corpus_split({}), corpus_split({"split": "Train"})
    ('validation', None, 'train')
    """
    value = meta.get("split") if isinstance(meta, dict) else None
    return _CORPUS_SPLITS.get(value.lower()) if isinstance(value, str) else None


def document_split(
    document_id: str, *, seed: int = 0, ratios: Sequence[float] = DEFAULT_SPLIT_RATIOS
) -> str:
    """The split of a document: a pure function of its id and the seed.

    Parameters
    ----------
    document_id : str
    seed : int
    ratios : sequence of 3 floats
        Shares of train, validation and test; they must sum to 1.

    Examples
    --------
    >>> document_split("brief-1", seed=0), document_split("brief-1", seed=0)
    ('train', 'train')
    >>> from collections import Counter
    >>> counts = Counter(document_split(f"b{n}", seed=7) for n in range(10_000))
    >>> [round(counts[s] / 10_000, 2) for s in SPLITS]
    [0.8, 0.1, 0.1]
    """
    _check_ratios(ratios)
    digest = hashlib.sha256(f"{seed}:{document_id}".encode()).hexdigest()
    u = int(digest[:16], 16) / 16**16
    cumulative = 0.0
    for name, share in zip(SPLITS, ratios, strict=True):
        cumulative += share
        if u < cumulative:
            return name
    return SPLITS[-1]


def _check_ratios(ratios: Sequence[float]) -> None:
    if len(ratios) != 3 or any(r < 0 for r in ratios) or abs(sum(ratios) - 1) > 1e-9:
        raise ValueError(f"split ratios must be 3 non-negative numbers summing to 1, not {ratios}")


# --- rows and schema ----------------------------------------------------------------


def _row(record: DocumentRecord, annotation: AnnotationRecord, *, with_set: bool,
         label_index: dict[str, int], type_index: dict[str, int]) -> dict:
    row = {
        "id": record.external_id,
        "title": record.title,
        "text": record.text,
        "meta": json.dumps(record.meta, ensure_ascii=False, sort_keys=True),
    }
    if with_set:
        row["annotator"] = annotation.annotator
        row["status"] = annotation.status
    row["spans"] = [
        {
            "id": span.id,
            "start": span.start,
            "end": span.end,
            "label": _index(label_index, span.label, "span label"),
            "text": record.text[span.start : span.end],
            "attributes": json.dumps(span.attributes, ensure_ascii=False, sort_keys=True),
            "note": span.note,
            "suggested_by": span.suggested_by,
        }
        for span in annotation.spans
    ]
    row["relations"] = [
        {"id": r.id, "source": r.source, "target": r.target,
         "type": _index(type_index, r.type, "relation type")}
        for r in annotation.relations
    ]
    return row


def _index(names: dict[str, int], name: str, what: str) -> int:
    if name not in names:
        raise ValueError(f"{what} {name!r} is not in the schema the dataset was given")
    return names[name]


def _bio_row(record: DocumentRecord, annotation: AnnotationRecord, *, with_set: bool,
             labels: Sequence[str], tokens: list[tuple[int, int]],
             report: Callable[[str, str], None]) -> dict:
    """A row of a ``*_bio`` configuration: the tokens and one BIO column per label, by the
    CoNLL export's rule (:func:`annotator.formats.conll.bio_columns`)."""
    from annotator.formats.conll import bio_columns

    row: dict = {"id": record.external_id}
    if with_set:
        row["annotator"] = annotation.annotator
        row["status"] = annotation.status
    row["tokens"] = [record.text[start:end] for start, end in tokens]
    row["starts"] = [start for start, _ in tokens]
    row["ends"] = [end for _, end in tokens]
    columns = bio_columns(annotation.spans, labels, tokens, report)
    for label in labels:
        row[TAGS_PREFIX + label] = [0 if tag == "O" else 1 if tag[0] == "B" else 2
                                    for tag in columns[label]]
    return row


def _arrow_type(feature):
    import pyarrow as pa

    if isinstance(feature, ClassNames):
        return pa.int64()
    if isinstance(feature, list):
        return pa.list_(_arrow_type(feature[0]))
    if isinstance(feature, dict):
        return pa.struct([pa.field(name, _arrow_type(sub)) for name, sub in feature.items()])
    return {"string": pa.string(), "int32": pa.int32()}[feature]


def _hf_dict(feature):
    """A feature as ``datasets.Features.to_dict`` writes it (datasets 4 and later)."""
    if isinstance(feature, ClassNames):
        return {"names": list(feature), "_type": "ClassLabel"}
    if isinstance(feature, list):
        return {"feature": _hf_dict(feature[0]), "_type": "List"}
    if isinstance(feature, dict):
        return {name: _hf_dict(sub) for name, sub in feature.items()}
    return {"dtype": feature, "_type": "Value"}


def arrow_schema(fields: dict):
    """The Parquet schema, with the ``huggingface`` metadata that ``datasets`` writes.

    ``datasets`` keeps a dataset's features in the Arrow schema's metadata, key
    ``huggingface``, value ``{"info": {"features": Features.to_dict()}}`` (datasets,
    ``Features.arrow_schema`` and ``ArrowWriter._build_metadata``); reading a Parquet
    file, ``Features.from_arrow_schema`` takes them back, so a ``ClassLabel`` column
    (stored as int64, https://huggingface.co/docs/datasets/about_dataset_features)
    keeps its names even without the card.
    """
    import pyarrow as pa

    metadata = {"info": {"features": {name: _hf_dict(f) for name, f in fields.items()}}}
    return pa.schema([pa.field(name, _arrow_type(f)) for name, f in fields.items()],
                     metadata={"huggingface": json.dumps(metadata)})


def _yaml_feature(name: str | None, feature, indent: str) -> list[str]:
    """One feature in the YAML form of ``datasets.Features._to_yaml_list``."""
    head = f"{indent}- name: {name}" if name is not None else None
    lines = [head] if head else []
    inner = indent + "  "
    if isinstance(feature, ClassNames):
        lines += [f"{inner}dtype:", f"{inner}  class_label:", f"{inner}    names:"]
        lines += [f"{inner}      '{i}': {_q(n)}" for i, n in enumerate(feature)]
    elif isinstance(feature, list) and isinstance(feature[0], dict):
        lines.append(f"{inner}list:")
        for sub_name, sub in feature[0].items():
            lines += _yaml_feature(sub_name, sub, inner)
    elif isinstance(feature, list) and isinstance(feature[0], ClassNames):
        lines += [f"{inner}list:", f"{inner}  class_label:", f"{inner}    names:"]
        lines += [f"{inner}      '{i}': {_q(n)}" for i, n in enumerate(feature[0])]
    elif isinstance(feature, list):
        lines.append(f"{inner}list: {feature[0]}")
    else:
        lines.append(f"{inner}dtype: {feature}")
    return lines


def _features_yaml(fields: dict, indent: str) -> list[str]:
    """``dataset_info.features`` in the YAML form of ``datasets.Features._to_yaml_list``."""
    lines: list[str] = []
    for name, feature in fields.items():
        lines += _yaml_feature(name, feature, indent)
    return lines


# --- the writer ---------------------------------------------------------------------


class _SplitFile:
    def __init__(self, path: Path, fields: dict):
        self.path = path
        self.fields = fields
        self.rows: list[dict] = []
        self.count = 0
        self.nbytes = 0  # in Arrow memory, what the card's ``num_bytes`` means
        self._writer = None

    def add(self, row: dict) -> None:
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= ROW_GROUP_DOCUMENTS:
            self.flush()

    def _open(self):
        import pyarrow.parquet as pq

        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, arrow_schema(self.fields),
                                            compression="zstd")
        return self._writer

    def flush(self) -> None:
        if not self.rows:
            return
        import pyarrow as pa

        self._open()
        schema = arrow_schema(self.fields)
        table = pa.Table.from_pylist(self.rows, schema=schema)
        self.nbytes += table.nbytes
        self._writer.write_table(table)
        self.rows = []

    def close(self, *, even_empty: bool = False) -> None:
        """Finish the file; ``even_empty`` writes one without rows: the schema and no row
        group (``datasets`` refuses a row group of 0 rows)."""
        self.flush()
        if even_empty:
            self._open()
        if self._writer is not None:
            self._writer.close()
            self._writer = None


@dataclass
class CardInfo:
    """What the dataset card says beyond the data: the project, its schema, agreement."""

    name: str
    slug: str
    description: str = ""
    license: str = "other"
    language: Sequence[str] = ("en",)
    #: ``(name, description)`` of each span label, in schema order.
    span_labels: Sequence[tuple[str, str]] = ()
    #: ``(name, description, allowed pairs)`` of each relation type.
    relation_types: Sequence[tuple[str, str, Sequence[Sequence[str]]]] = ()
    #: The report of the latest finished agreement run (DESIGN.md shape), or None.
    agreement: dict | None = None
    #: One line saying which run the figures come from.
    agreement_source: str = ""
    scope: str = "both"
    generated_at: str = ""
    #: Annotators' sets left out because they were not submitted (assigned, in progress).
    unfinished_sets: int = 0
    #: How to cite the corpus (the project's BibTeX), quoted as it is.
    citation: str = ""
    #: Spans per label and relations per type, per configuration (set by the writer).
    label_counts: dict = field(default_factory=dict)


@dataclass
class SplitCounts:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # config -> split -> rows


class HFDatasetWriter:
    """Write documents into a dataset folder, then the card (``close``).

    Parameters
    ----------
    folder : path
        An existing, empty folder.
    seed : int
        Seed of the document-level split.
    ratios : sequence of 3 floats
        Shares of train, validation, test.
    labels, relation_types : sequence of str
        The schema's span labels and relation types, in order: the names of the
        ``ClassLabel`` features (a span's ``label`` is the index of its name).
    scope : str
        ``gold``, ``annotators`` or ``both``: the configurations an export without
        any row still writes, empty, so that it loads.
    """

    def __init__(
        self, folder: str | Path, *, seed: int = 0, ratios: Sequence[float] = DEFAULT_SPLIT_RATIOS,
        labels: Sequence[str] = (), relation_types: Sequence[str] = (), scope: str = "both",
    ):
        _check_ratios(ratios)
        self.folder = Path(folder)
        self.seed = seed
        self.ratios = tuple(ratios)
        self.labels = list(labels)
        self.relation_types = list(relation_types)
        self.scope = scope
        self._label_index = {name: i for i, name in enumerate(self.labels)}
        self._type_index = {name: i for i, name in enumerate(self.relation_types)}
        self._files: dict[tuple[str, str], _SplitFile] = {}
        self.documents = 0
        #: config -> Counter of span labels and of relation types ("type:" + name).
        self.label_counts: dict[str, Counter] = {}
        #: Spans the ``*_bio`` configurations could not hold exactly: ``left out`` (a span
        #: of the same label shares its tokens, or it covers none) or ``widened`` to tokens.
        self.bio_problems: Counter = Counter()

    def fields(self, config: str) -> dict:
        return _fields(config, self.labels, self.relation_types)

    def _file(self, config: str, split: str) -> _SplitFile:
        key = (config, split)
        if key not in self._files:
            self._files[key] = _SplitFile(self.folder / config / f"{split}.parquet",
                                          self.fields(config))
        return self._files[key]

    def add(self, record: DocumentRecord) -> None:
        split = corpus_split(record.meta) or document_split(
            record.external_id, seed=self.seed, ratios=self.ratios
        )
        self.documents += 1
        tokens = token_offsets(record.text)
        sets = [(GOLD_CONFIG, record.gold)] if record.gold is not None else []
        sets += [(ANNOTATORS_CONFIG, annotation) for annotation in record.annotations]
        for config, annotation in sets:
            with_set = config == ANNOTATORS_CONFIG
            self._file(config, split).add(_row(
                record, annotation, with_set=with_set, label_index=self._label_index,
                type_index=self._type_index))
            self._count(config, annotation)
            problems: dict[str, str] = {}  # span -> the worse of what happened to it
            self._file(config + _BIO_SUFFIX, split).add(_bio_row(
                record, annotation, with_set=with_set, labels=self.labels, tokens=tokens,
                report=lambda item, problem, seen=problems: seen.__setitem__(
                    item, "left out" if "widened" not in problem else seen.get(item, "widened"))))
            self.bio_problems.update(problems.values())

    def _count(self, config: str, annotation) -> None:
        counter = self.label_counts.setdefault(config, Counter())
        counter.update(span.label for span in annotation.spans)
        counter.update("type:" + relation.type for relation in annotation.relations)

    def counts(self) -> dict[str, dict[str, int]]:
        """Rows per config and split, for the splits that have a file."""
        out: dict[str, dict[str, int]] = {}
        for config in CONFIGS:
            for split in SPLITS:
                split_file = self._files.get((config, split))
                if split_file is not None and (split_file.count or not self.documents_written):
                    out.setdefault(config, {})[split] = split_file.count
        return out

    @property
    def documents_written(self) -> bool:
        return any(split_file.count for split_file in self._files.values())

    def sizes(self) -> dict[str, dict[str, int]]:
        """Bytes (in Arrow memory) per config and split, for the card's ``num_bytes``."""
        return {
            config: {split: self._files[(config, split)].nbytes for split in splits}
            for config, splits in self.counts().items()
        }

    def close(self, card: CardInfo) -> dict[str, dict[str, int]]:
        """Finish the Parquet files and write ``README.md``; return the row counts.

        An export without any row still writes the configurations of its scope, each
        with an empty ``train`` split (the schema, no row), so that it loads.
        """
        if not self.documents_written:
            for config in _EMPTY_CONFIGS.get(self.scope, CONFIGS):
                self._file(config, SPLITS[0])
        empty = not self.documents_written
        for split_file in self._files.values():
            split_file.close(even_empty=empty)
        counts = self.counts()
        card = dataclasses.replace(card, label_counts=self.label_counts)
        (self.folder / "README.md").write_text(
            dataset_card(card, counts, seed=self.seed, ratios=self.ratios, sizes=self.sizes()),
            encoding="utf-8",
        )
        return counts


# --- the card -----------------------------------------------------------------------


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON string escapes are valid YAML escapes)."""
    return json.dumps(value, ensure_ascii=False)


def _front_matter(
    card: CardInfo, counts: dict[str, dict[str, int]], sizes: dict[str, dict[str, int]]
) -> list[str]:
    lines = ["---", f"license: {_q(card.license)}", "language:"]
    lines += [f"- {_q(code)}" for code in card.language]
    lines += [
        "task_categories:",
        "- token-classification",
        "- text-classification",
        "tags:",
        "- argument-mining",
        "- argumentation",
        "- warrant",
        f"pretty_name: {_q(card.name)}",
    ]
    configs = [c for c in CONFIGS if c in counts]
    labels = [name for name, _ in card.span_labels]
    types = [name for name, _, _ in card.relation_types]
    if configs:
        lines.append("configs:")
        for index, config in enumerate(configs):
            lines.append(f"- config_name: {config}")
            if index == 0:
                lines.append("  default: true")
            lines.append("  data_files:")
            for split in counts[config]:
                lines.append(f"  - split: {split}")
                lines.append(f"    path: {config}/{split}.parquet")
        lines.append("dataset_info:")
        for config in configs:
            lines.append(f"- config_name: {config}")
            lines.append("  features:")
            lines += _features_yaml(_fields(config, labels, types), "  ")
            lines.append("  splits:")
            for split, rows in counts[config].items():
                lines.append(f"  - name: {split}")
                lines.append(f"    num_bytes: {sizes.get(config, {}).get(split, 0)}")
                lines.append(f"    num_examples: {rows}")
    lines.append("---")
    return lines


def _figure(value) -> str:
    if value is None:
        return "undefined"
    if isinstance(value, int | float):
        return f"{value:.3f}"
    return str(value)


def _interval(interval: dict | None) -> str:
    """``[low, high]``, or "none" when the bootstrap gave no interval.

    >>> _interval({"low": 0.61, "high": 0.8, "undefined": 0}), _interval({"low": None})
    ('[0.610, 0.800]', 'none')
    """
    if not interval or interval.get("low") is None or interval.get("high") is None:
        return "none"
    return f"[{_figure(interval['low'])}, {_figure(interval['high'])}]"


def _dig(report: dict, *path: str):
    node = report
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _agreement_section(card: CardInfo) -> list[str]:
    lines = ["## Inter-annotator agreement", ""]
    report = card.agreement
    if not report:
        lines += [
            "No agreement run has been computed for this project yet, so this card gives "
            "no agreement figures. Compute one in Warrant (the project's Agreement page, or "
            "`manage.py agreement SLUG`) and export again.",
            "",
        ]
        return lines
    annotators = report.get("annotators") or []
    if card.agreement_source:
        lines += [card.agreement_source, ""]
    bootstrap = report.get("intervals") or {}
    intervals = bootstrap.get("intervals") or {}
    level = f"{float(bootstrap.get('confidence', 0.95)):.0%}"
    lines += [
        f"Unit: {report.get('unit', 'token')}; documents: {report.get('documents', '?')}; "
        f"annotators: {', '.join(map(str, annotators)) or '?'}. Figures pool every document; "
        "\"undefined\" means the figure is mathematically undefined (one category only, "
        "nothing to pair).",
        "",
    ]
    if intervals:
        lines += [
            f"The {level} intervals are percentile bootstrap intervals over documents "
            f"({bootstrap.get('n_resamples', '?')} resamples of the documents with "
            f"replacement, seed {bootstrap.get('seed', '?')}); \"none\" means too few "
            "documents, or no resample where the figure is defined.",
            "",
        ]
    else:
        lines += ["This run stored no confidence intervals.", ""]
    lines += [f"| measure | value | {level} interval |", "| --- | --- | --- |"]
    measures = [
        ("Krippendorff's alpha (nominal)", ("overall", "krippendorff_alpha", "value"),
         "krippendorff_alpha"),
        ("Cohen's kappa (mean over pairs)", ("overall", "cohen_kappa", "value"), "cohen_kappa"),
        ("Fleiss' kappa", ("overall", "fleiss_kappa", "value"), "fleiss_kappa"),
        ("Unitizing alpha", ("overall", "unitizing_alpha", "value"), "unitizing_alpha"),
        ("Span F1, exact", ("overall", "span_f1", "exact", "value"), "span_f1_exact"),
        ("Span F1, overlap", ("overall", "span_f1", "overlap", "value"), "span_f1_overlap"),
        ("Span F1, Jaccard >= 0.5", ("overall", "span_f1", "jaccard50", "value"),
         "span_f1_jaccard50"),
        ("Relation F1", ("overall", "relation_f1", "value"), "relation_f1"),
    ]
    for name, path, key in measures:
        if _dig(report, *path[:-1]) is not None:
            lines.append(f"| {name} | {_figure(_dig(report, *path))} | "
                         f"{_interval(intervals.get(key)) if intervals else '—'} |")
    per_label = _dig(report, "overall", "krippendorff_alpha", "per_label") or {}
    if per_label:
        lines += ["", "Krippendorff's alpha per label (covered by the label or not):", "",
                  "| label | alpha |", "| --- | --- |"]
        lines += [f"| {label} | {_figure(value)} |" for label, value in per_label.items()]
    lines.append("")
    lines += _suggestion_lines(report.get("suggestions"))
    return lines


def _suggestion_lines(split: dict | None) -> list[str]:
    """The agreement split by spans from accepted suggestions and by hand (issue 16).

    >>> split = {"recommenders": {"cues": 3},
    ...          "suggested": {"spans": 3, "pair_f1_exact": 1.0, "gold_precision_exact": None},
    ...          "hand": {"spans": 9, "pair_f1_exact": 0.5, "gold_precision_exact": None}}
    >>> "| drawn by hand | 9 | 0.500 | undefined |" in _suggestion_lines(split)
    True
    """
    if not split:
        return []
    sources = ", ".join(f"{name}: {count}" for name, count in split["recommenders"].items())
    lines = [
        "### Suggested or drawn by hand", "",
        f"Some spans were accepted from Warrant's suggestions ({sources}), the others drawn by "
        "hand. Span F1 (exact) between two annotators counts one group's spans on both sides; "
        "much higher agreement on suggested spans may come from the suggestions rather than "
        "the annotators. Each span's `suggested_by` field names its recommender.", "",
        "| spans | count | span F1 between annotators, exact | share in the final gold, exact |",
        "| --- | --- | --- | --- |",
    ]
    for group, words in (("suggested", "from accepted suggestions"), ("hand", "drawn by hand")):
        row = split[group]
        lines.append(f"| {words} | {row['spans']} | {_figure(row['pair_f1_exact'])} | "
                     f"{_figure(row['gold_precision_exact'])} |")
    lines.append("")
    return lines


def _loading_section(counts: dict[str, dict[str, int]]) -> list[str]:
    """How to load the folder; the default configuration is the first in the front matter."""
    configs = [c for c in CONFIGS if c in counts]
    lines = ["## Loading", ""]
    if not configs:
        lines += ["This export holds no row (no annotation set in its scope), so there is "
                  "nothing to load.", ""]
        return lines
    if not any(any(splits.values()) for splits in counts.values()):
        lines += ["This export holds no row (no document, or no submitted annotation set in "
                  "its scope): each configuration has an empty `train` split with the "
                  "features below, written as `datasets` writes an empty dataset (a Parquet "
                  "file with its schema and no row group). Load it with "
                  "`load_dataset(..., streaming=True)`, or read the file with pyarrow or "
                  "pandas: `load_dataset` without streaming refuses any empty split "
                  "(\"corresponds to no data\"), its own `to_parquet` output included.", ""]
    default, *others = configs
    lines += [
        "```python",
        "from datasets import load_dataset",
        "",
        f'{default} = load_dataset("path/to/this/folder")  # the default configuration: '
        f"{default}",
    ]
    lines += [f'{config} = load_dataset("path/to/this/folder", "{config}")' for config in others]
    lines += ["```", ""]
    if default == ANNOTATORS_CONFIG:
        lines += ["There is no `gold` configuration in this export (no gold standard in its "
                  "scope), so the default configuration is `annotators`.", ""]
    return lines


def _cell(value: str) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def _counts_section(card: CardInfo) -> list[str]:
    """Spans per label and relations per type in each configuration of this export."""
    if not card.label_counts:
        return []
    configs = [c for c in (GOLD_CONFIG, ANNOTATORS_CONFIG) if c in card.label_counts]
    names = [name for name, _ in card.span_labels]
    names += sorted({k for c in configs for k in card.label_counts[c]
                     if not k.startswith("type:") and k not in names})
    types = [name for name, _, _ in card.relation_types]
    types += sorted({k[5:] for c in configs for k in card.label_counts[c]
                     if k.startswith("type:") and k[5:] not in types})
    lines = ["", "### Counts in this export", "",
             "| | " + " | ".join(f"`{c}`" for c in configs) + " |",
             "| --- |" + " ---: |" * len(configs)]
    for name in names:
        lines.append(f"| span {_cell(name)} | "
                     + " | ".join(str(card.label_counts[c][name]) for c in configs) + " |")
    for name in types:
        lines.append(f"| relation {_cell(name)} | "
                     + " | ".join(str(card.label_counts[c]["type:" + name]) for c in configs)
                     + " |")
    return lines


def dataset_card(
    card: CardInfo,
    counts: dict[str, dict[str, int]],
    *,
    seed: int = 0,
    ratios: Sequence[float] = DEFAULT_SPLIT_RATIOS,
    sizes: dict[str, dict[str, int]] | None = None,
) -> str:
    """The ``README.md`` of the dataset folder: YAML front matter, then Markdown.

    ``counts`` and ``sizes`` give the rows and bytes of each config's splits.

    Examples
    --------
    >>> card = CardInfo(name="Sanctions briefs", slug="sanctions", license="cc-by-4.0",
    ...                 span_labels=[("Claim", "A contestable statement.")])
    >>> text = dataset_card(card, {"gold": {"train": 8, "test": 1}})
    >>> text.splitlines()[:3]
    ['---', 'license: "cc-by-4.0"', 'language:']
    >>> "    path: gold/train.parquet" in text and "No agreement run" in text
    True
    """
    lines = _front_matter(card, counts, sizes or {})
    lines += ["", f"# {card.name}", ""]
    if card.description.strip():
        lines += [card.description.strip(), ""]
    lines += [
        f"Argument structure annotated with Warrant, project `{card.slug}`: labelled spans "
        "of the documents and the relations between them. "
        f"Exported {card.generated_at or datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, "
        f"scope: {card.scope}.",
        "",
    ]
    if card.scope != "gold":  # the scope includes annotators
        left_out = card.unfinished_sets
        lines += [
            "Only the annotation sets that annotators **submitted** are included (and the gold "
            "standard): a set still assigned or in progress is left out, so an annotator's row "
            "without spans means they found no argument, not that they had not started. "
            + (f"This export left out {left_out} unfinished annotation "
               f"set{'' if left_out == 1 else 's'}. " if left_out else
               "This export left out no unfinished annotation set. ")
            + "Warrant's canonical JSONL export keeps every set with its status.",
            "",
        ]
    lines += _loading_section(counts)
    lines += ["## Configurations and splits", "",
              "| configuration | a row is | " + " | ".join(SPLITS) + " |",
              "| --- | --- |" + " --- |" * len(SPLITS)]
    for config, splits in counts.items():
        what = {GOLD_CONFIG: "one row per document with a gold standard",
                ANNOTATORS_CONFIG: "one row per document and annotator",
                GOLD_CONFIG + _BIO_SUFFIX: "the gold rows as tokens and BIO tags",
                ANNOTATORS_CONFIG + _BIO_SUFFIX: "the annotators' rows as tokens and BIO tags",
                }[config]
        lines.append(f"| `{config}` | {what} | "
                     + " | ".join(str(splits.get(s, 0)) for s in SPLITS) + " |")
    if not counts:
        lines.append("| (none) | the project had no annotation set in this scope |"
                     + " 0 |" * len(SPLITS))
    lines += [
        "",
        "The split is by document (a document's rows are all in one split): a document goes to "
        f"the split where `int(sha256(f\"{{seed}}:{{id}}\").hexdigest()[:16], 16) / 16**16` "
        f"falls against the cumulative shares {' / '.join(f'{r:g}' for r in ratios)} "
        f"(train / validation / test), with seed `{seed}`. Documents keep their split when "
        "others are added.",
        "",
        "## Fields",
        "",
        "- `id`, `title`, `text`: the document; `text` is its canonical text "
        "(line ends are `\\n`).",
        "- `meta`: the document's metadata, a JSON object as a string.",
    ]
    if ANNOTATORS_CONFIG in counts:
        lines.append("- `annotator`, `status` (`annotators` only): whose annotation set the row "
                     "holds and how far it got; always `submitted` here, since unfinished sets "
                     "are left out.")
    lines += [
        "- `spans`: `id`, `start`, `end`, `label`, `text` (the text at the offsets), "
        "`attributes` (a JSON object as a string), `note`, `suggested_by`. `label` is a "
        "`ClassLabel`: the index of the label's name in the schema's order "
        "(`features[\"spans\"].feature[\"label\"].int2str(i)` gives the name).",
        "- `relations`: `id`, `source`, `target` (span ids of the same row), `type` (a "
        "`ClassLabel` of the relation types).",
        "- `gold_bio`, `annotators_bio`: the same rows as tokens for token classification. "
        "`tokens` are the maximal runs of non-whitespace (the unit of agreement), `starts` "
        "and `ends` their offsets; one column `tags_<label>` per span label holds a "
        "`ClassLabel` per token, `O` (0), `B-<label>` (1) or `I-<label>` (2), so nested and "
        "overlapping spans of different labels are all there. A span that starts or ends "
        "inside a token is widened to whole tokens; of two spans of one label that share a "
        "token the earlier (by start, then the longer) is kept; relations are in the span "
        "configurations only.",
        "",
        "## Offsets",
        "",
        "`start` and `end` count **Unicode code points** into `text` (Python `str` indices): "
        "`start` is inclusive, `end` exclusive, so `text[start:end] == span[\"text\"]` in "
        "Python. JavaScript strings count UTF-16 code units, which differ after any character "
        "outside the Basic Multilingual Plane (emoji, some CJK); convert with "
        "`Array.from(text).slice(start, end).join(\"\")`. Byte offsets into the UTF-8 Parquet "
        "strings differ after any non-ASCII character.",
        "",
        "## Labels",
        "",
        "| span label | definition |",
        "| --- | --- |",
    ]
    lines += [f"| {_cell(name)} | {_cell(text) or '—'} |" for name, text in card.span_labels]
    lines += _counts_section(card)
    if card.relation_types:
        lines += ["", "| relation type | definition | allowed (source → target) |",
                  "| --- | --- | --- |"]
        for name, text, allowed in card.relation_types:
            pairs = ", ".join(f"{s} → {t}" for s, t in allowed) or "none"
            lines.append(f"| {_cell(name)} | {_cell(text) or '—'} | {_cell(pairs)} |")
        lines += ["", "`*` stands for any span label."]
    lines.append("")
    lines += _agreement_section(card)
    if card.citation.strip():
        lines += ["## Citation", "", "```bibtex", card.citation.strip(), "```", ""]
    lines += ["## Licence", "",
              f"The annotations and texts are distributed under `{card.license}` as set by the "
              "project that exported them; check the licences of the source briefs before "
              "redistributing.", ""]
    return "\n".join(lines)
