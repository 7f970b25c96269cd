"""Gold × predictions → the scorer's result object (the stable JSON that CI scripts read).

Predictions are scored as they are read, in chunks, on every core once there are enough of them; each
system keeps only its documents' scores as compact columns (harness.aggregate.SystemScores). Memory
therefore grows with the gold corpus and a few hundred bytes per scored document, never with the
predictions' text, and `write_json` streams the per-document rows instead of building them all at once.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import IO

from harness.aggregate import SystemScores
from harness.degenerate import DegenerateWatch
from harness.io import Members, dump_json
from harness.parallel import Workers, ordered_map
from harness.predictions import is_usable
from harness.records import Prediction, ScoringGold
from harness.scoring.jobs import ScoreJob, run_in_worker
from harness.scoring.scorer import DocScore, Scorer, ScoreSettings

CHUNK = 128  # predictions per job
CHUNK_CLAIMS = 1024  # or fewer predictions, when they hold this many claims
PARALLEL_FROM = 16  # jobs scored in this process before worker processes start (about 2,000 predictions)


@dataclass
class Evaluation:
    signature: str
    gold_sha256: str
    n_documents: int
    systems: dict[str, SystemScores]  # by name, sorted
    missing: dict[str, list[str]]  # documents a system had no prediction for (scored as empty output)
    settings: ScoreSettings
    scorer: Scorer  # what scored it (the command line reports what a judge matcher did)
    reads_gold: frozenset[str] = frozenset()  # systems given the gold answers: ceilings, not competitors
    warnings: dict[str, list[str]] = field(default_factory=dict)  # outputs that score 0 without failing
    unusable: tuple[str, ...] = ()  # systems that failed on every document and produced nothing

    def systems_without_output(self) -> list[str]:
        return list(self.unusable)

    @cached_property
    def aggregates(self) -> dict[str, dict]:
        """Each system's summary and claim aggregates with their bootstrap intervals (computed once)."""
        s = self.settings
        return {name: {"summary": scores.summary(s.bootstrap, s.seed), "claims": scores.claims(s.bootstrap, s.seed)}
                for name, scores in self.systems.items()}

    @cached_property
    def sensitivity(self) -> dict:
        """Claim micro P/R/F1 of each system at several match thresholds, from the per-document counts the
        scoring made (harness.scoring.sensitivity); systems without scored claims are left out."""
        from harness.scoring.sensitivity import thresholds

        run_threshold = self.settings.threshold
        at = thresholds(run_threshold)
        rows = {name: scores.sensitivity(at) for name, scores in self.systems.items()}
        return {"thresholds": list(at), "run_threshold": run_threshold, "vetoes": list(self.settings.vetoes),
                "systems": {name: r for name, r in rows.items() if r is not None}}

    def _envelope(self, per_doc, manifest: dict | None) -> dict:
        envelope = {
            "signature": self.signature,
            "gold_sha256": self.gold_sha256,
            "n_documents": self.n_documents,
            "systems": {name: {**self.aggregates[name], "per_doc": per_doc(scores), "failures": scores.failures,
                               "missing": self.missing[name], "reads_gold": name in self.reads_gold,
                               "warnings": self.warnings.get(name, [])}
                        for name, scores in self.systems.items()},
            "sensitivity": self.sensitivity,
        }
        if manifest is not None:
            envelope["manifest"] = manifest
        return envelope

    @cached_property
    def results(self) -> dict:
        """The result object with every per-document row in memory, without a manifest."""
        return self._envelope(lambda scores: dict(scores.per_doc()), None)

    def final_results(self, manifest: dict | None) -> dict:
        """The result object a results.json holds: `results` and, when given, the manifest
        (harness.provenance.build_manifest) saying what produced it."""
        return self.results if manifest is None else {**self.results, "manifest": manifest}

    def overview(self) -> dict:
        """The result object without per-document rows: enough for the leaderboard."""
        return self._envelope(lambda scores: {}, None)

    def write_json(self, out: IO[str], manifest: dict | None = None) -> None:
        """`final_results(manifest)` as JSON, per-document rows written as they are made (so a large run's
        rows are never all in memory at once)."""
        dump_json(self._envelope(lambda scores: Members(scores.per_doc), manifest), out)

    @property
    def doc_scores(self) -> list[DocScore]:
        return [d for name, scores in self.systems.items() for d in scores.doc_scores(name)]


def evaluate(corpus: ScoringGold, predictions: Iterable[Prediction], settings: ScoreSettings = ScoreSettings(),
             scorer: Scorer | None = None, *, reads_gold: Collection[str] = (), workers: Workers | None = None,
             progress: bool = False) -> Evaluation:
    """Score `predictions` (read lazily, in order) against `corpus`. `reads_gold` names the systems that were
    given the gold (ceilings, not competitors).

    `workers`: processes that score alongside this one (harness.parallel.Workers, spawned: a calling script
    needs the usual `if __name__ == "__main__":` guard); the results do not depend on them.
    """
    scorer = scorer or Scorer(corpus, settings)
    workers = workers or Workers()
    systems: dict[str, SystemScores] = {}
    given: dict[str, _Given] = {}
    watch = DegenerateWatch()
    with _progress_bar(progress) as bar:
        for row in _rows(scorer, _noting(predictions, given, corpus, watch), workers):
            systems.setdefault(row[1], SystemScores()).add_row(row)
            bar.update(1)
        doc_ids = corpus.doc_ids()
        missing = {name: [d for d in doc_ids if d not in g.docs] for name, g in given.items()}
        empties = (_empty(doc_id, name, given[name]) for name in sorted(missing) for doc_id in missing[name])
        for row in _rows(scorer, empties, workers):
            systems[row[1]].add_row(row)
            bar.update(1)
    return Evaluation(scorer.signature(), corpus.sha256, len(doc_ids), dict(sorted(systems.items())),
                      {name: missing[name] for name in sorted(missing)}, settings, scorer, frozenset(reads_gold),
                      watch.warnings(), tuple(sorted(name for name, g in given.items() if not g.usable)))


@dataclass
class _Given:
    """What a system's predictions covered: its documents, and whether it attempted each task."""

    docs: set[str] = field(default_factory=set)
    summary: bool = False
    claims: bool = False
    usable: bool = False  # some prediction is usable (harness.predictions.is_usable)


def _noting(predictions: Iterable[Prediction], given: dict[str, _Given], corpus: ScoringGold,
            watch: DegenerateWatch) -> Iterator[Prediction]:
    for p in predictions:
        watch.add(p)
        g = given.setdefault(p.system, _Given())
        g.docs.add(corpus.known_id(p.doc_id))  # the corpus's own string: one copy however many systems
        g.summary |= p.summary is not None
        g.claims |= p.claims is not None
        g.usable = g.usable or is_usable(p)
        yield p


def _empty(doc_id: str, system: str, given: _Given) -> Prediction:
    """A document the system has no prediction for scores as empty output on the tasks it attempted."""
    return Prediction(doc_id, system, "" if given.summary else None, () if given.claims else None, "missing prediction")


def _rows(scorer: Scorer, predictions: Iterable[Prediction], workers: Workers) -> Iterator[tuple]:
    if scorer.settings.matcher != "lexical":
        workers = Workers()  # the embedding model or the judge's cache is held once, in this process
    run_here = lambda job: job.run(scorer.doc_scorer)  # noqa: E731
    for rows in ordered_map(run_here, run_in_worker, _jobs(scorer, predictions), workers, PARALLEL_FROM):
        yield from rows


def _jobs(scorer: Scorer, predictions: Iterable[Prediction]) -> Iterator[ScoreJob]:
    """Chunks of CHUNK predictions, or fewer when they carry many claims (matching is the costly part)."""
    chunk: list[Prediction] = []
    claims = 0
    for p in predictions:
        chunk.append(p)
        claims += len(p.claims or ())
        if len(chunk) == CHUNK or claims >= CHUNK_CLAIMS:
            yield _job(scorer, chunk)
            chunk, claims = [], 0
    if chunk:
        yield _job(scorer, chunk)


def _job(scorer: Scorer, chunk: list[Prediction]) -> ScoreJob:
    slots: dict[str, int] = {}
    for p in chunk:
        slots.setdefault(p.doc_id, len(slots))
    items = tuple((slots[p.doc_id], replace(p, meta={}) if p.meta else p) for p in chunk)  # meta: not scored
    matcher = scorer.matcher if any(scorer.needs_matcher(p) for p in chunk) else None
    return ScoreJob(tuple(scorer.view(doc_id) for doc_id in slots), items, scorer.settings, matcher,
                    scorer.corpus.sha256)


def _progress_bar(enabled: bool):
    from tqdm import tqdm

    # on a terminal only: piped or logged stderr keeps to messages (a bad line is one line)
    return tqdm(desc="scoring", unit=" predictions", file=sys.stderr, disable=not (enabled and sys.stderr.isatty()),
                dynamic_ncols=True, mininterval=0.5)


def decision_log(doc_scores: list[DocScore], predictions: dict[tuple[str, str], Prediction]) -> list[dict]:
    """Every claim decision: which gold claim each prediction matched, or why not, with the score."""
    return [row for s in doc_scores for row in doc_decisions(s, predictions.get((s.doc_id, s.system)))]


def doc_decisions(score: DocScore, prediction: Prediction | None) -> list[dict]:
    """One document's rows of the decision log (built when needed, so a large run never holds the whole log)."""
    if score.claims is None:
        return []
    texts = [c.text for c in (prediction.claims or ())] if prediction else []
    return [{"system": score.system, "doc_id": score.doc_id, "prediction": d.prediction,
             "text": texts[d.prediction] if d.prediction < len(texts) else "",
             "outcome": d.outcome, "gold_id": d.gold_id, "best_gold": d.best_gold,
             "score": round(d.score, 6)} for d in score.claims.decisions]
