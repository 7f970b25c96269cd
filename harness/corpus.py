"""A run's corpus: the gold (harness.gold), or a summary-only corpus read from local data files with `datasets`.

Both become the same Corpus, so everything downstream (adapters, scoring, the report) treats them alike.
"""

from __future__ import annotations

from pathlib import Path

from harness.config import CorpusConfig
from harness.errors import UserError, unknown_name_error
from harness.records import Corpus, Document, Summary


def load_corpus(spec: CorpusConfig) -> Corpus:
    """The corpus a run config names: the gold (validated), or a summary-only corpus from data files."""
    if spec.kind == "gold":
        from harness import gold

        return gold.load_valid(spec.path)
    return load_dataset_corpus(spec)


def load_dataset_corpus(spec: CorpusConfig) -> Corpus:
    """A summary-only corpus from local json/csv/parquet files: one Summary per reference, no claims."""
    from harness.adapters.base import require
    from harness.gold import gold_hash

    datasets = require("datasets", "datasets", "a dataset corpus")
    try:
        data = datasets.load_dataset(spec.format, data_files=list(spec.files), split=spec.split)
    except (ValueError, KeyError, FileNotFoundError) as err:
        raise UserError(f"corpus: datasets could not load the files: {err}", spec.files[0]) from None
    columns = list(data.column_names)
    for role, column in (("id", spec.id_column), ("text", spec.text_column),
                         *(("reference", c) for c in spec.reference_columns)):
        if column is not None and column not in columns:
            raise unknown_name_error(f"{role} column", column, columns, Path(spec.files[0]), None, "columns")
    documents, seen = [], set()
    for i, row in enumerate(data):
        if spec.limit is not None and i >= spec.limit:
            break
        doc_id = str(row[spec.id_column]) if spec.id_column else f"row{i:06d}"
        text = row[spec.text_column]
        if not isinstance(text, str):
            raise UserError(f"row {i}: the text column holds {type(text).__name__}, not text", spec.files[0],
                            field=spec.text_column)
        if doc_id in seen:
            raise UserError(f"row {i}: duplicate document id {doc_id!r}", spec.files[0], field=spec.id_column)
        seen.add(doc_id)
        summaries = []
        for column in spec.reference_columns:
            value = row[column]
            values = value if isinstance(value, list) else [value]
            for j, ref in enumerate(v for v in values if isinstance(v, str) and v.strip()):
                summaries.append(Summary(f"{column}" if len(values) == 1 else f"{column}-{j}", "reference", ref))
        if not summaries:
            raise UserError(f"row {i} (document {doc_id}): no reference summary", spec.files[0],
                            field=spec.reference_columns[0])
        documents.append(Document(doc_id=doc_id, text=text, summaries=tuple(summaries)))
    if not documents:
        raise UserError("corpus: no rows", spec.files[0])
    documents.sort(key=lambda d: d.doc_id)
    return Corpus(tuple(documents), gold_hash(documents), ", ".join(spec.files))
