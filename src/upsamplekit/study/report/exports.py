"""The data files of the report: ``results.csv`` (one row per candidate) and ``results.json``
(config, machine, device, confidence, budget, candidates with their learning curves, every trial,
recommendation, baseline).

Floats are written so that they read back exactly (``repr``); nan and infinities are empty CSV
cells and JSON nulls.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from ..results import COSTS, Stat, StudySummary
from .formatting import jsonable, rank_labels, recommended_key

__all__ = ["CSV_COLUMNS", "JSON_VERSION", "csv_text", "json_text"]

#: The columns of ``results.csv``, in order. ``rank`` is empty for a candidate that is not ranked
#: (``ranked`` false: with ``--budget halving``, stopped at a rung or still at a lower one); ``rung``
#: is the rung its numbers come from (0 without rungs), ``steps`` its training steps, ``stopped``
#: why a rung stopped it (empty when none did).
CSV_COLUMNS = [
    "rank", "key", "label", "upsampler", "schedule", "learned", "guided", "n_seeds", "seeds",
    "psnr_mean", "psnr_std", "ssim_mean", "ssim_std", "checkerboard_mean", "checkerboard_std",
    "train_seconds_mean", "train_seconds_std", "params", "macs", "latency_ms", "latency_iqr_ms",
    "peak_memory_bytes", "tied_with_best", "pareto_macs", "pareto_latency", "pareto_memory", "recommended",
    "rung", "steps", "ranked", "stopped",
]


def _csv_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ""  # repr round-trips exactly; empty cell for nan/inf
    return str(v)


def csv_text(summary: StudySummary) -> str:
    """``results.csv``: a header of :data:`CSV_COLUMNS`, then one row per candidate in the summary's
    order: the ranked ones by mean PSNR, best first, then the others."""
    rec = recommended_key(summary)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rank, c in zip(rank_labels(summary), summary.candidates):
        row: dict[str, Any] = {
            "rank": rank, "key": c.candidate.key, "label": c.candidate.label, "upsampler": c.candidate.upsampler,
            "schedule": "x".join(map(str, c.candidate.schedule)), "learned": c.learned, "guided": c.guided,
            "n_seeds": len(c.seeds),
            "seeds": ";".join(map(str, c.seeds)), "params": c.params, "macs": c.macs,
            "latency_ms": float(c.latency_ms), "latency_iqr_ms": float(c.latency_iqr_ms),
            "peak_memory_bytes": c.peak_memory_bytes, "tied_with_best": c.tied_with_best,
            "recommended": c.candidate.key == rec, "rung": c.rung, "steps": c.steps, "ranked": c.ranked,
            "stopped": c.stopped,
        }
        for name in ("psnr", "ssim", "checkerboard", "train_seconds"):
            stat: Stat = getattr(c, name)
            row[f"{name}_mean"], row[f"{name}_std"] = float(stat.mean), float(stat.std)
        for cost in COSTS:
            row[f"pareto_{cost}"] = bool(c.pareto.get(cost, False))
        writer.writerow([_csv_value(row[k]) for k in CSV_COLUMNS])
    return buf.getvalue()


#: The version of ``results.json``'s layout. 2 added ``device``, ``confidence`` (null when the study
#: has none), each candidate's ``curve`` and each trial's ``curve``; 3 added ``budget``, each
#: candidate's ``rung``, ``steps``, ``ranked`` and ``stopped`` and each trial's ``rung``.
JSON_VERSION = 3


def json_text(summary: StudySummary) -> str:
    """``results.json``: the whole summary as plain JSON (``"format": "upsamplekit-study-results"``,
    ``"version"``: :data:`JSON_VERSION`).

    Top level: ``format``, ``version``, ``config``, ``machine``, ``device`` (``"cpu"``,
    ``"cuda"``, ``"mps"``), ``pending``, ``confidence`` (:meth:`Confidence.to_dict
    <upsamplekit.study.results.Confidence.to_dict>` or null), ``budget`` (the policy and the
    steps it spent, :attr:`StudySummary.budget <upsamplekit.study.results.StudySummary.budget>`,
    or null), ``candidates`` (each with its statistics, ``curve``: ``[[step, mean PSNR, std],
    ...]`` over its seeds, ``rung``, ``steps``, ``ranked`` and ``stopped``; the ranked ones
    first), ``trials`` (each with its own ``curve`` of ``[step, psnr]`` and its ``rung``; with
    ``--budget halving`` every rung of a candidate is a trial of its own), ``recommendation``,
    ``baseline``, ``images``, ``collapsed``.
    """
    rec = summary.recommendation
    candidates = []
    for c in summary.candidates:
        candidates.append({
            "key": c.candidate.key, "label": c.candidate.label, "upsampler": c.candidate.upsampler,
            "schedule": list(c.candidate.schedule), "learned": c.learned, "guided": c.guided,
            "seeds": list(c.seeds),
            **{name: {"mean": getattr(c, name).mean, "std": getattr(c, name).std, "n": getattr(c, name).n}
               for name in ("psnr", "ssim", "checkerboard", "train_seconds")},
            "params": c.params, "macs": c.macs, "latency_ms": c.latency_ms, "latency_iqr_ms": c.latency_iqr_ms,
            "peak_memory_bytes": c.peak_memory_bytes, "tied_with_best": c.tied_with_best,
            "pareto": {cost: bool(c.pareto.get(cost, False)) for cost in COSTS},
            "recommended": rec is not None and c.candidate == rec.candidate,
            "curve": [[step, s.mean, s.std] for step, s in c.curve],
            "rung": c.rung, "steps": c.steps, "ranked": c.ranked, "stopped": c.stopped,
        })
    doc = {
        "format": "upsamplekit-study-results", "version": JSON_VERSION,
        "config": summary.config, "machine": summary.machine, "device": summary.device, "pending": summary.pending,
        "confidence": None if summary.confidence is None else summary.confidence.to_dict(),
        "budget": summary.budget,
        "candidates": candidates,
        "trials": [t.to_dict() for t in summary.trials],
        "recommendation": None if rec is None else {"candidate": rec.candidate.key, "label": rec.candidate.label,
                                                     "reasons": list(rec.reasons)},
        "baseline": summary.baseline,
        "images": sorted(summary.images),
        "collapsed": [{"candidate": c.key, "label": c.label, "seed": seed, "reason": reason}
                      for c, seed, reason in summary.collapsed],
    }
    return json.dumps(jsonable(doc), indent=2, allow_nan=False) + "\n"
