"""The HTML report: no network, no script, every interpolated string escaped.

Model output is hostile input here: a summary may contain markup meant to run in a reader's
browser. Every string goes through `e()` (html.escape with quotes), images are base64 data: URIs,
and a Content-Security-Policy forbids scripts as a second wall should an escape ever be missed.

A small corpus gives one self-contained report.html. A larger one (more than PAGE_DOCUMENTS documents)
keeps report.html to the summary (leaderboard, plots, failures, sensitivity and an index) and puts the
per-document detail in pages of PAGE_DOCUMENTS documents beside it (report/documents-0001.html, …), each
self-contained too: at 2,000 documents one file of everything was 78 MB, more than a browser opens gladly.
Pages are rendered one at a time, so memory does not grow with the corpus.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from harness.records import Corpus, Document, Prediction
from harness.report import systems as S
from harness.report import run_tables as T

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:1rem 2rem;color:#1d1d1f}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:13px}th,td{border:1px solid #ddd;padding:3px 7px;vertical-align:top}
th{background:#f4f4f6;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.meta{color:#555;font-size:12px;word-break:break-all}.note{color:#555}
nav a{margin-right:1rem}figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #eee}
details{margin:.4rem 0}details>summary{cursor:pointer;font-weight:600}details.system{margin-left:1rem}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:1rem}.text{white-space:pre-wrap;background:#fafafa;border:1px solid #eee;padding:.5rem;margin:.3rem 0}
.matched{color:#1a7f37}.missed{color:#b42318}.optional{color:#6e6e73}.why{color:#9a6700}
.fail{color:#b42318;font-weight:600}.warn{background:#fff4e5;border-left:4px solid #b54708;padding:.4rem .7rem}
dl.legend{display:grid;grid-template-columns:max-content 1fr;gap:0 .8rem;font-size:12px;color:#555;margin:-.5rem 0 1rem}
dl.legend dt{font-weight:600}dl.legend dd{margin:0}
"""

PAGE_DOCUMENTS = 50
PAGES_FOLDER = "report"
FAILURES_LISTED = 50  # failed documents named on the summary page; the rest are counted


@dataclass(frozen=True)
class Detail:
    """What the per-document sections read: each (doc_id, system)'s prediction, and its decision-log rows
    built on demand (a large run never holds the whole log)."""

    predictions: Mapping[tuple[str, str], Prediction]
    decisions: Callable[[str, str], list[dict]]  # (system, doc_id) -> rows


REASONS = {
    "below_threshold": "below threshold",
    "duplicate": "duplicate (its best gold claim was already matched by another prediction)",
    "excluded_content": "excluded page content (caption, byline, related story …)",
    "optional": "matched an optional gold claim (not counted)",
}


def e(value: object) -> str:
    """Escape anything for HTML text or a quoted attribute."""
    return escape("" if value is None else str(value), quote=True)


def _cell(value: object) -> str:
    if isinstance(value, float) or value is None:
        return f'<td class="num">{e(T.fmt(value))}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{e(value)}</td>'
    return f"<td>{e(value)}</td>"


def html_table(rows: Sequence[dict], columns: Sequence[str]) -> str:
    head = "".join(f"<th>{e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(r.get(c)) for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _reason(row: dict, threshold: float | None) -> str:
    outcome = row["outcome"]
    if outcome.startswith("veto:"):
        return f"vetoed ({outcome[5:]} mismatch) although similarity {row['score']:.3f} passed the threshold"
    if outcome == "below_threshold" and threshold is not None:
        return f"below threshold: best similarity {row['score']:.3f} < {threshold:.2f}"
    return REASONS.get(outcome, outcome)


# --------------------------------------------------------------------------- sections

def _header(results: dict, manifest: dict | None, paged: bool) -> str:
    n_sys = len(results["systems"])
    parts = [f"<h1>Evaluation report</h1><p>{e(n_sys)} system(s) on {e(results['n_documents'])} documents.</p>",
             f'<p class="meta">gold sha256 {e(results["gold_sha256"])}<br>signature {e(results["signature"])}</p>']
    if manifest:
        dumped = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, default=str)
        parts.append(f'<details><summary>Run manifest</summary><pre class="text">{e(dumped)}</pre></details>')
    documents = ('<a href="#failures">Failures</a><a href="#sensitivity">Threshold sensitivity</a>'
                 '<a href="#documents">Documents (pages)</a>' if paged else
                 '<a href="#per-doc">Per document</a><a href="#sensitivity">Threshold sensitivity</a>'
                 '<a href="#documents">Documents</a>')
    parts.append(f'<nav><a href="#leaderboard">Leaderboard</a><a href="#pairwise">Pairwise</a><a href="#plots">Plots</a>'
                 f'{documents}</nav>')
    return "\n".join(parts)


def _leaderboard(results: dict) -> str:
    board = T.leaderboard(results)
    parts = ['<section id="leaderboard"><h2>Leaderboard</h2>']
    for task in board["tasks"]:
        rows, columns = T.task_rows(board, task)
        parts.append(f"<h3>{e(T.TASK_TITLES[task])}</h3>{html_table(rows, columns)}"
                     f"{T.table_legend(rows, columns, 'html')}")
    parts += [f'<p class="warn">{e(w)}</p>' for w in T.warnings_lines(board)]
    parts.append(f'<p class="note">n = {e(board["n_documents"])} documents. {e(T.CI_NOTE)}</p></section>')
    return "\n".join(parts)


PAIRWISE_COLUMNS = ["metric", "best", "other", "best value", "other value", "delta", "p (docs)", "p floor",
                    "McNemar p", "McNemar floor"]
PAIRWISE_NOTES = {"best": "the competitor with the highest value of the metric (ceilings left out)",
                  "other": "another competitor", "delta": "best value minus other value",
                  "McNemar p": "exact McNemar test over the gold claims only one of the two matched",
                  "McNemar floor": "smallest p-value the McNemar test could reach with that many differing claims"}


def _pairwise(results: dict) -> str:
    """The best competitor of each task against each other competitor, with the paired tests of
    `harness compare --systems` (and their p floors: with few documents nothing can be significant)."""
    from harness.compare import fmt_p
    from harness.pairwise import best_against_rest
    from harness.report import legend

    pairs = best_against_rest(results)
    parts = ['<section id="pairwise"><h2>Systems compared pairwise</h2><p class="note">The best competitor on '
             "each task's main metric paired, document by document, against each other competitor (the same tests "
             "as <code>harness compare --systems A B RUN</code>).</p>"]
    rows = [{"metric": r["primary"], "best": r["best"], "other": r["other"], "best value": r["best_value"],
             "other value": r["other_value"], "delta": T.fmt(r["delta"]), "p (docs)": fmt_p(r["p_value"]),
             "p floor": fmt_p(r["p_floor"]), "McNemar p": fmt_p(r["mcnemar_p"]),
             "McNemar floor": fmt_p(r["mcnemar_floor"])} for task_rows in pairs.values() for r in task_rows]
    if not rows:
        parts.append("<p>Fewer than two competitors on every task: nothing to pair.</p></section>")
        return "\n".join(parts)
    parts.append(html_table(rows, PAIRWISE_COLUMNS))
    notes = [(term, PAIRWISE_NOTES.get(term) or legend.NOTES[term]) for term in PAIRWISE_COLUMNS if
             term in PAIRWISE_NOTES or term in legend.NOTES]
    parts.append('<dl class="legend">' + "".join(f"<dt>{e(t)}</dt><dd>{e(m)}</dd>" for t, m in notes) + "</dl>")
    floors = sorted({r["p_floor"] for task_rows in pairs.values() for r in task_rows if r["p_floor"] is not None})
    if floors and floors[0] > 0.05:
        parts.append(f'<p class="note">With {e(results["n_documents"])} documents no document-level test can reach '
                     f"p &lt; 0.05 (smallest possible p = {e(fmt_p(floors[0]))}): a difference here is not evidence "
                     "unless the claim-level McNemar test shows it.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _plots(plots: dict[str, dict[str, bytes]]) -> str:
    captions = {"metrics": "Each metric per system; whiskers are 95% bootstrap intervals where computed.",
                "precision_recall": "Claim precision against recall; dashed lines are equal F1.",
                "sensitivity": "Claim F1 when rescored at each match threshold; the dotted line is the run's."}
    parts = ['<section id="plots"><h2>Plots</h2>']
    for name, files in plots.items():
        data = base64.b64encode(files["svg"]).decode("ascii")
        parts.append(f'<figure><img alt="{e(name)} plot" src="data:image/svg+xml;base64,{data}">'
                     f"<figcaption>{e(captions.get(name, name))}</figcaption></figure>")
    if not plots:
        parts.append("<p>No plots (no scores).</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _trend(svg: str | None) -> str:
    """The release-history chart (claim F1 across recorded runs), an SVG the harness drew itself."""
    if not svg:
        return ""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (f'<section id="history"><h2>Release history</h2><figure><img alt="claims.f1 across recorded runs" '
            f'src="data:image/svg+xml;base64,{data}"><figcaption>claims.f1 per system across the runs in the '
            f'history database; red marks a drop larger than the tolerance.</figcaption></figure></section>')


def _per_doc(rows: list[dict]) -> str:
    """The per-document score table (rows of run_tables.per_doc, for the documents of this page)."""
    named, columns = T.labelled(rows, T.per_doc_columns(rows))
    return (f'<section id="per-doc"><h2>Per-document scores</h2>{html_table(named, columns)}'
            f"{T.table_legend(named, columns, 'html')}</section>")


def _sensitivity(results: dict) -> str:
    rows = T.sensitivity_rows(results)
    if not rows:
        return (f'<section id="sensitivity"><h2>Threshold sensitivity</h2><p>{e(T.sensitivity_absent(results))}</p>'
                "</section>")
    run = (results.get("sensitivity") or {}).get("run_threshold")
    return (f'<section id="sensitivity"><h2>Threshold sensitivity</h2><p class="note">Claim scores with the whole run '
            f"rescored at each match threshold (the run used {e(T.fmt(run))}).</p>"
            f"{html_table(rows, T.SENSITIVITY_COLUMNS)}{T.table_legend(rows, T.SENSITIVITY_COLUMNS, 'html')}</section>")


def _system_block(doc, name: str, entry: dict, prediction: Prediction | None, decisions: list[dict],
                  threshold: float | None, shown: str | None = None) -> str:
    summary, claims = entry.get("summary"), entry.get("claims")
    head = [f"<b>{e(shown or name)}</b>"]
    if summary:
        head.append(f"RL {e(T.fmt(summary['rougeL']['fmeasure']))}")
    if claims:
        head.append(f"claims P {e(T.fmt(claims['precision']))} R {e(T.fmt(claims['recall']))} "
                    f"F1 {e(T.fmt(claims['f1']))}")
    if entry.get("failure"):
        head.append(f'<span class="fail">failure: {e(entry["failure"])}</span>')
    parts = [f'<details class="system"><summary>{" · ".join(head)}</summary>']
    if summary is not None:
        refs = "".join(f'<div><i>{e(s.length)} ({e(s.id)})</i><p class="text">{e(s.text)}</p></div>'
                       for s in doc.summaries)
        text = prediction.summary if prediction and prediction.summary is not None else ""
        parts.append(f'<div class="cols"><div><h4>Summary</h4><p class="text">{e(text)}</p>'
                     f"<p>claim coverage {e(T.fmt(summary['claim_coverage']))}; covered: "
                     f"{e(', '.join(summary.get('covered_claims', [])) or 'none')}</p></div>"
                     f"<div><h4>References</h4>{refs}</div></div>")
    if claims is not None:
        parts.append(_claims_block(doc, claims, prediction, decisions, threshold))
    parts.append("</details>")
    return "\n".join(parts)


def _claims_block(doc, claims: dict, prediction: Prediction | None, decisions: list[dict],
                  threshold: float | None) -> str:
    matched = set(claims.get("matched", []))
    texts = [c.text for c in (prediction.claims or ())] if prediction else []
    by_gold = {d["gold_id"]: d for d in decisions if d["gold_id"]}
    nearest: dict[str, list[dict]] = {}
    for d in decisions:
        if not d["gold_id"] and d["best_gold"]:
            nearest.setdefault(d["best_gold"], []).append(d)
    rows = []
    order = {"missed": 0, "matched": 1, "optional": 2}  # misses first: they are what a reader looks for
    for claim in sorted(doc.claims, key=lambda c: order["matched" if c.id in matched else
                                                            "optional" if c.optional else "missed"]):
        hit = by_gold.get(claim.id)
        if claim.id in matched:
            status, cls = "matched", "matched"
        elif claim.optional:
            status, cls = "optional" + (" (matched, not counted)" if hit else ""), "optional"
        else:
            status, cls = "missed", "missed"
        if hit:
            by = f"#{hit['prediction']} ({hit['score']:.3f}): {_text(texts, hit)}"
        elif claim.id in nearest:
            near = max(nearest[claim.id], key=lambda d: d["score"])
            by = (f"closest: #{near['prediction']} ({near['score']:.3f}, {_reason(near, threshold)}): "
                  f"{_text(texts, near)}")
        else:
            by = ""
        rows.append(f'<tr><td>{e(claim.id)}</td><td class="{cls}">{e(status)}</td><td>{e(claim.text)}</td>'
                    f"<td>{e(by)}</td></tr>")
    parts = [f"<h4>Gold claims: {e(len(matched))} matched, {e(claims['fn'])} missed</h4>",
             "<table><thead><tr><th>id</th><th>status</th><th>gold claim</th><th>matched by / closest prediction</th>"
             f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"]
    unmatched = [d for d in decisions if d["outcome"] != "matched"]
    gold_text = {c.id: c.text for c in doc.claims}
    if unmatched:
        rows = [f'<tr><td class="num">{e(d["prediction"])}</td><td>{e(_text(texts, d))}</td>'
                f'<td class="why">{e(_reason(d, threshold))}</td><td class="num">{d["score"]:.3f}</td>'
                f"<td>{e(d['best_gold'] or '')}: {e(gold_text.get(d['best_gold'] or '', ''))}</td></tr>"
                for d in unmatched]
        parts.append(f"<h4>Predictions that matched nothing ({e(len(unmatched))})</h4><table><thead><tr><th>#</th>"
                     "<th>prediction</th><th>why</th><th>score</th><th>closest gold claim</th></tr></thead>"
                     f"<tbody>{''.join(rows)}</tbody></table>")
    else:
        parts.append(f"<p>All {e(len(texts))} predicted claims matched a gold claim.</p>")
    return "\n".join(parts)


def _text(texts: list[str], decision: dict) -> str:
    i = decision["prediction"]
    return texts[i] if i < len(texts) else decision.get("text", "")


def _documents(results: dict, documents: Sequence[Document], detail: Detail) -> str:
    threshold = (results.get("sensitivity") or {}).get("run_threshold")
    systems = S.ranked_systems(results)
    parts = ['<section id="documents"><h2>Documents</h2><p class="note">For each document and system: the summary '
             "beside its references, the gold claims matched and missed, and the predictions that matched nothing "
             "with the reason from the decision log.</p>"]
    for doc in documents:
        title = f"{doc.doc_id}" + (f" — {doc.headline}" if doc.headline else "")
        parts.append(f'<details class="doc" id="doc-{e(doc.doc_id)}"><summary>{e(title)}</summary>')
        for name in systems:
            entry = results["systems"][name]["per_doc"].get(doc.doc_id)
            if entry is None:
                continue
            parts.append(_system_block(doc, name, entry, detail.predictions.get((doc.doc_id, name)),
                                       detail.decisions(name, doc.doc_id), threshold, S.display_name(results, name)))
        parts.append("</details>")
    parts.append("</section>")
    return "\n".join(parts)


def _page_file(number: int) -> str:
    return f"documents-{number:04d}.html"


def _page_name(number: int) -> str:
    return f"{PAGES_FOLDER}/{_page_file(number)}"


def _failures(results: dict, page_of: Mapping[str, str]) -> str:
    """Failed documents per system, linked to their page: what a reader of a large run looks for first."""
    rows = [(name, doc_id, entry["failure"]) for name in S.ranked_systems(results)
            for doc_id, entry in sorted(results["systems"][name]["per_doc"].items()) if entry.get("failure")]
    if not rows:
        return '<section id="failures"><h2>Failures</h2><p>No document failed.</p></section>'
    counts: dict[str, int] = {}
    for name, _, _ in rows:
        counts[name] = counts.get(name, 0) + 1
    items = "".join(f'<tr><td>{e(name)}</td><td><a href="{e(page_of.get(doc_id, ""))}#doc-{e(doc_id)}">'
                    f'{e(doc_id)}</a></td><td class="fail">{e(message)}</td></tr>'
                    for name, doc_id, message in rows[:FAILURES_LISTED])
    more = (f'<p class="note">… and {e(len(rows) - FAILURES_LISTED)} more (every one is in per_doc.csv and '
            "predictions.jsonl).</p>" if len(rows) > FAILURES_LISTED else "")
    summary = "; ".join(f"{e(name)}: {e(n)} of {e(results['n_documents'])} documents" for name, n in counts.items())
    return (f'<section id="failures"><h2>Failures</h2><p>{summary}</p><table><thead><tr><th>system</th>'
            f"<th>document</th><th>failure</th></tr></thead><tbody>{items}</tbody></table>{more}</section>")


def _page_index(pages: Sequence[tuple[str, Sequence[Document]]], results: dict) -> str:
    failed = {doc_id for system in results["systems"].values()
              for doc_id, entry in system["per_doc"].items() if entry.get("failure")}
    rows = "".join(f'<tr><td><a href="{e(name)}">{e(name)}</a></td><td>{e(docs[0].doc_id)} … {e(docs[-1].doc_id)}'
                   f'</td><td class="num">{e(len(docs))}</td><td class="num">{e(sum(d.doc_id in failed for d in docs))}'
                   "</td></tr>" for name, docs in pages)
    return ('<section id="documents"><h2>Documents</h2><p class="note">Per-document scores and detail (the summary '
            "beside its references, the gold claims matched and missed, the predictions that matched nothing and "
            f"why) are on {e(len(pages))} pages of up to {PAGE_DOCUMENTS} documents; per_doc.csv has every score in "
            "one file.</p><table><thead><tr><th>page</th><th>documents</th><th>count</th><th>with a failure</th>"
            f"</tr></thead><tbody>{rows}</tbody></table></section>")


def _page(results: dict, documents: Sequence[Document], rows: list[dict], detail: Detail, number: int,
          total: int) -> str:
    links = ['<a href="../report.html">Summary (report.html)</a>']
    if number > 1:
        links.append(f'<a href="{e(_page_file(number - 1))}">Previous page</a>')
    if number < total:
        links.append(f'<a href="{e(_page_file(number + 1))}">Next page</a>')
    body = "\n".join([f"<h1>Documents {e(documents[0].doc_id)} … {e(documents[-1].doc_id)}</h1>"
                      f'<p class="meta">page {e(number)} of {e(total)} · signature {e(results["signature"])}</p>'
                      f"<nav>{''.join(links)}</nav>",
                      _per_doc(rows), _documents(results, documents, detail)])
    return _html(f"harness report: documents {documents[0].doc_id} … {documents[-1].doc_id}", body)


def report_files(results: dict, corpus: Corpus, detail: Detail, plots: dict[str, dict[str, bytes]],
                 manifest: dict | None = None, trend_svg: str | None = None) -> Iterator[tuple[str, str]]:
    """(file name relative to the results folder, HTML) for every file of the report, report.html last.

    Up to PAGE_DOCUMENTS documents: report.html alone, with everything. More: the pages first, one at a time,
    then report.html with the summary and an index of the pages."""
    documents = corpus.documents
    paged = len(documents) > PAGE_DOCUMENTS
    pages = [(_page_name(i // PAGE_DOCUMENTS + 1), documents[i:i + PAGE_DOCUMENTS])
             for i in range(0, len(documents), PAGE_DOCUMENTS)] if paged else []
    rows = T.per_doc(results)
    by_doc: dict[str, list[tuple[int, dict]]] = {}
    for position, row in enumerate(rows):
        by_doc.setdefault(row["doc_id"], []).append((position, row))
    for number, (name, docs) in enumerate(pages, start=1):
        in_order = sorted(item for d in docs for item in by_doc.get(d.doc_id, []))  # the table's order
        yield name, _page(results, docs, [row for _, row in in_order], detail, number, len(pages))
    head = [_header(results, manifest, paged), _leaderboard(results), _pairwise(results), _plots(plots),
            _trend(trend_svg)]
    if paged:
        page_of = {d.doc_id: name for name, docs in pages for d in docs}
        tail = [_failures(results, page_of), _sensitivity(results), _page_index(pages, results)]
    else:
        tail = [_per_doc(rows), _sensitivity(results), _documents(results, documents, detail)]
    yield "report.html", _html(f"harness report: {', '.join(S.ranked_systems(results))}", "\n".join(head + tail))


def _html(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{e(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n")
