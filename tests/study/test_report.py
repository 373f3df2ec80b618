"""The study report: confidence, plot data, learning curves, the text table, the four files,
partial and old results, zoom placement.

Summaries are built from synthetic numbers (seeded rng) by ``make_summary``; the Pareto flags
come from a plain dominance reference written here, and the curves' means and stds are
recomputed from the trials with numpy, so the report is checked against numbers it did not
compute. Images are seeded random arrays.
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import math
import re
from dataclasses import asdict, replace
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from upsamplekit.errors import InvalidArgumentError, InvalidTypeError
from upsamplekit.study.report import (
    COSTS,
    confidence_lines,
    curve_plot_data,
    curves_svg,
    format_table,
    pareto_plot_data,
    write_report,
)
from upsamplekit.study.report.grid import grid_data, zoom_region
from upsamplekit.study.report.svg import FONT, MARGIN_LEFT, Scale, spread
from upsamplekit.study.results import (
    Candidate,
    CandidateSummary,
    Confidence,
    Recommendation,
    Stat,
    StudySummary,
    TrialResult,
)

UPSAMPLERS = ["nearest", "bilinear", "bicubic", "subpixel", "transposed", "resize_conv", "carafe", "dysample"]
FIXED = {"nearest", "bilinear", "bicubic"}
COST_OF = {"macs": lambda c: c.macs, "latency": lambda c: c.latency_ms, "memory": lambda c: c.peak_memory_bytes}


def _pareto_reference(cands: list[CandidateSummary], cost: str) -> list[bool]:
    """On the front: no other candidate is at most as costly and strictly better in mean PSNR, or
    strictly cheaper and at least as good."""
    get = COST_OF[cost]
    return [not any((get(o) <= get(c) and o.psnr.mean > c.psnr.mean) or (get(o) < get(c) and o.psnr.mean >= c.psnr.mean)
                    for o in cands if o is not c) for c in cands]


def _smooth_image(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth random RGB image in [0, 1]: an 8x8 random grid enlarged by bilinear interpolation."""
    coarse = rng.random((8, 8, 3))
    t = np.linspace(0, 7, size)
    i0 = np.minimum(t.astype(int), 6)
    f = (t - i0)[:, None, None]
    rows = coarse[i0] * (1 - f) + coarse[i0 + 1] * f
    g = (t - i0)[None, :, None]
    return rows[:, i0] * (1 - g) + rows[:, i0 + 1] * g


STEPS = 150
CHECKPOINTS = [25, 50, 75, 100, 125, 150]
BASELINE = {"name": "bicubic (no network)", "psnr": 21.5, "ssim": 0.69}


def _curve(rng: np.random.Generator, final: float, end: int) -> list[list[float]]:
    """A rising validation curve ``[[step, psnr], ...]`` over the checkpoints up to ``end``, ending at ``final``."""
    steps = [s for s in CHECKPOINTS if s <= end]
    gains = [4.0 * math.exp(-s / 40.0) + 0.15 * float(rng.standard_normal()) for s in steps[:-1]]
    return [[s, final - g] for s, g in zip(steps, gains)] + [[steps[-1], final]]


def _summary_curve(trials: list[TrialResult]) -> list[tuple[int, Stat]]:
    """The candidate's curve as the analysis builds it: the PSNR over seeds at each step every seed reached."""
    common = set.intersection(*({int(s) for s, _ in t.curve} for t in trials))
    return [(step, Stat.of([p for t in trials for s, p in t.curve if s == step])) for step in sorted(common)]


def make_summary(rng: np.random.Generator, n: int = 6, seeds: int = 3, size: int = 48, scale: int = 4,
                 pending: int = 0, images: bool = True, recommend: bool = True, curves: bool = True,
                 short: tuple[int, ...] = (), confidence: bool = True) -> StudySummary:
    """A summary of ``n`` candidates with ``seeds`` trials each, sorted by mean PSNR.

    With ``curves``, every trial has a learning curve (candidate ``i`` in ``short`` stops at step
    75 instead of :data:`STEPS`) and every candidate its curve over seeds; with ``confidence``
    (and a recommendation) the summary has a confident :class:`Confidence`. Trained on cuda.
    """
    schedules = [(scale,), (2, scale // 2)] if scale % 2 == 0 and scale > 2 else [(scale,)]
    curve_rng = np.random.default_rng(1000 * n + seeds)  # its own stream: the other numbers stay as they were
    cands, trials = [], []
    for i in range(n):
        cand = Candidate(UPSAMPLERS[i % len(UPSAMPLERS)], schedules[(i // len(UPSAMPLERS)) % len(schedules)])
        level = 22.0 + 3.0 * rng.random()
        psnrs = [float(level + 0.2 * rng.standard_normal()) for _ in range(seeds)]
        ssims = [float(0.7 + 0.2 * rng.random()) for _ in range(seeds)]
        ckbs = [float(rng.random() * 0.5) for _ in range(seeds)]
        trains = [float(5 + 10 * rng.random()) for _ in range(seeds)]
        macs = int(10 ** rng.uniform(6, 9.5))
        latency, iqr = float(rng.uniform(0.5, 40.0)), float(rng.uniform(0.01, 0.5))
        memory, params = int(rng.uniform(1, 64) * 2**20), int(rng.integers(1_000, 500_000))
        mine = []
        for s in range(seeds):
            mine.append(TrialResult(cand, s, psnrs[s], ssims[s], ckbs[s], params, macs, latency, iqr, memory,
                                    trains[s], 1.0, float(rng.random())))
            if curves:
                mine[-1].curve = _curve(curve_rng, psnrs[s], 75 if i in short else STEPS)
        trials += mine
        cands.append(CandidateSummary(cand, cand.upsampler not in FIXED, list(range(seeds)), Stat.of(psnrs),
                                      Stat.of(ssims), Stat.of(ckbs), Stat.of(trains), params, macs, latency, iqr,
                                      memory, curve=_summary_curve(mine) if curves else []))
    cands.sort(key=lambda c: -c.psnr.mean)
    for cost in COSTS:
        for c, on in zip(cands, _pareto_reference(cands, cost)):
            c.pareto[cost] = on
    for c in cands:
        c.tied_with_best = c.psnr.mean > cands[0].psnr.mean - 0.3 if cands else False
    pictures: dict[str, np.ndarray] = {}
    if images:
        target = _smooth_image(rng, size)
        pictures["target"] = target
        pictures["input"] = target.reshape(size // scale, scale, size // scale, scale, 3).mean(axis=(1, 3))
        for c in cands:
            pictures[c.candidate.key] = np.clip(target + 0.03 * rng.standard_normal(target.shape), 0, 1)
    rec = None
    if recommend and cands:
        rec = Recommendation(cands[1 % len(cands)].candidate,
                             ["Its mean PSNR is within one standard deviation of the best.",
                              "It needs 3.1x fewer MACs than the best candidate."])
    config = {"scale": scale, "steps": STEPS, "seeds": seeds, "data": ["astronaut", "coffee"], "lr": 2e-3}
    conf = None
    if confidence and rec is not None:
        margin = next(c.psnr.mean for c in cands if c.candidate == rec.candidate) - BASELINE["psnr"]
        conf = Confidence(f"Confident: {rec.candidate.label} beats bicubic (no network) by {margin:+.2f} dB, "
                          "separably; the ranking settled by half the budget.", 0.87, True, None, margin, True,
                          sum(not c.tied_with_best for c in cands), 5)
    return StudySummary(config, cands, rec, trials, dict(BASELINE), pictures, {"python": "3.11", "threads": "2"},
                        pending, confidence=conf, device="cuda")


class _Html(HTMLParser):
    """Collects tags and text, and checks that every non-void element is closed in order."""

    VOID = frozenset({"meta", "img", "br", "link", "input", "hr", "source"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(path: Path) -> _Html:
    return _parse_text(path.read_text(encoding="utf-8"))


def _parse_text(text: str) -> _Html:
    parser = _Html()
    parser.feed(text)
    parser.close()
    assert not parser.errors and not parser.stack, (parser.errors, parser.stack)
    return parser


def _decode(uri: str) -> np.ndarray:
    head, _, payload = uri.partition(",")
    assert head == "data:image/png;base64"
    with Image.open(io.BytesIO(base64.b64decode(payload))) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB"))


def _as_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------- files and HTML


def test_write_report_writes_every_file(tmp_path: Path, rng: np.random.Generator) -> None:
    paths = write_report(make_summary(rng), tmp_path / "new" / "dir")
    assert set(paths) == {"html", "csv", "json", "markdown"}
    assert [p.name for p in paths.values()] == ["report.html", "results.csv", "results.json", "recommendation.md"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths.values())


def test_html_is_self_contained_and_complete(tmp_path: Path, rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=7)
    path = write_report(summary, tmp_path)["html"]
    html = _parse(path)
    text = " ".join(html.text)
    for c in summary.candidates:
        assert c.candidate.label in text
    assert summary.recommendation is not None
    for reason in summary.recommendation.reasons:
        assert reason in text
    # Confidence, then the recommendation, the learning curves, the plots, the table, the images.
    order = [text.index(s) for s in ("Confidence", "Recommendation", "Learning curves", "Quality against cost",
                                     "All candidates", "Reconstructions")]
    assert order == sorted(order)
    plots = [a for t, a in html.tags if t == "svg" and "plot" in (a.get("class") or "").split()]
    assert len(plots) == 3 + 1 and plots[0]["class"] == "plot curves"
    # Nothing is fetched: no URL anywhere, no external script, stylesheet or font.
    raw = path.read_text(encoding="utf-8")
    assert "http://" not in raw and "https://" not in raw and "@import" not in raw and "url(" not in raw
    for tag, attrs in html.tags:
        assert tag != "link"
        assert not (tag == "script" and "src" in attrs)
        for name in ("src", "href"):
            assert attrs.get(name) is None or attrs[name].startswith("data:image/png;base64,"), (tag, attrs)
    # Images: input, target and one per candidate, each with its zoom; all decode as PNG.
    uris = [a["src"] for t, a in html.tags if t == "img"]
    assert len(uris) == 2 * (2 + len(summary.candidates))
    decoded = [_decode(u) for u in uris]
    size = summary.images["target"].shape[0]
    assert decoded[0].shape == decoded[2].shape == (size, size, 3)
    # The tiles are the arrays themselves (8-bit), the input enlarged by nearest neighbour.
    scale = summary.config["scale"]
    np.testing.assert_array_equal(decoded[0], _as_uint8(summary.images["input"]).repeat(scale, 0).repeat(scale, 1))
    np.testing.assert_array_equal(decoded[2], _as_uint8(summary.images["target"]))
    key = summary.candidates[0].candidate.key
    np.testing.assert_array_equal(decoded[4], _as_uint8(summary.images[key]))
    # Each zoom is the same region of its tile, enlarged by nearest neighbour.
    top, left, side = map(int, re.search(r'data-zoom="(\d+),(\d+),(\d+)"', raw).groups())
    for tile, zoom in zip(decoded[0::2], decoded[1::2]):
        z = zoom.shape[0] // side
        np.testing.assert_array_equal(zoom, tile[top:top + side, left:left + side].repeat(z, 0).repeat(z, 1))
    assert "Incomplete study" not in text


def test_plot_svg_labels_every_candidate_and_baseline(tmp_path: Path, rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=5)
    raw = write_report(summary, tmp_path)["html"].read_text(encoding="utf-8")
    svgs = re.findall(r'<svg class="plot".*?</svg>', raw, flags=re.DOTALL)
    assert len(svgs) == 3
    for svg in svgs:
        for c in summary.candidates:
            assert f">{c.candidate.label}</text>" in svg
        assert "bicubic (no network) 21.50 dB" in svg
        assert "stroke-dasharray" in svg  # the baseline (and tied marks) are dashed


# ---------------------------------------------------------------------------------------- confidence first


def test_confidence_lines_verdict_first_then_one_fact_a_line(rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=6, images=False)
    conf = summary.confidence
    assert conf is not None
    summary.candidates[1].tied_with_best = True  # the runner-up is not separable: seeds are suggested
    lines = confidence_lines(summary)
    assert lines[0] == conf.verdict
    assert lines[1:] == [
        "Kendall tau 0.87 between half and full budget: settled",
        f"{conf.baseline_margin_db:+.2f} dB over bicubic (no network), separable",
        f"{conf.separable_from_best} of 6 candidates are separably worse than the best",
        "about 5 seeds per candidate would separate the best from the runner-up (this study has 3)",
        "trained on cuda",
    ]
    assert all("\n" not in line and "<" not in line and "\x1b" not in line for line in lines)  # plain text
    # Unsure: still moving, not separable from the baseline, the runner-up already separated; a first look adds
    # no line (the verdict says so).
    summary.confidence = replace(conf, verdict="Unsure: the ranking is still moving.", rank_stability=0.4,
                                 settled=False, steps_suggested=600, baseline_margin_db=0.12, beats_baseline=False,
                                 separable_from_best=1, first_look=True)
    summary.candidates[1].tied_with_best = False
    lines = confidence_lines(summary)
    assert lines[0] == "Unsure: the ranking is still moving." and len(lines) == 6
    assert "Kendall tau 0.40 between half and full budget: still moving; raise --steps to about 600" in lines
    assert "+0.12 dB over bicubic (no network), not separable" in lines
    assert "1 of 6 candidates is separably worse than the best" in lines
    assert "the best is already separable from the runner-up" in lines
    # Negative, nothing measured: no rank stability, no seeds estimate.
    summary.confidence = replace(conf, verdict="No decoder beats bicubic (no network).", rank_stability=None,
                                 baseline_margin_db=-0.3, beats_baseline=False, seeds_needed=None)
    summary.candidates[1].tied_with_best = True
    lines = confidence_lines(summary)
    assert "-0.30 dB against bicubic (no network): no better" in lines
    assert "rank stability not measured (no checkpoint at half the budget)" in lines
    assert "the best is not separable from the runner-up (the seeds needed cannot be estimated)" in lines
    summary.confidence = None
    assert confidence_lines(summary) == []


def test_markdown_opens_with_the_verdict(tmp_path: Path, rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=5, images=False)
    text = write_report(summary, tmp_path)["markdown"].read_text(encoding="utf-8")
    lines = text.splitlines()
    facts = confidence_lines(summary)
    # Title, the verdict as the first paragraph, the facts as a list, then the overview as before.
    assert lines[0] == f"# Recommendation: {summary.recommendation.candidate.label}" and lines[1] == ""
    assert lines[2] == summary.confidence.verdict and lines[3] == ""
    assert lines[4:4 + len(facts) - 1] == [f"- {fact}" for fact in facts[1:]]
    assert lines[4 + len(facts) - 1] == "" and lines[5 + len(facts) - 1].startswith("This study compared 5 ")
    assert "- trained on cuda" in lines


def _sections(raw: str) -> list[tuple[dict[str, str | None], str]]:
    """The page's top-level ``<section>`` elements in order: their attributes and their text."""
    class Sections(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[tuple[dict[str, str | None], list[str]]] = []
            self.depth = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "section":
                if self.depth == 0:
                    self.found.append((dict(attrs), []))
                self.depth += 1

        def handle_endtag(self, tag: str) -> None:
            if tag == "section":
                self.depth -= 1

        def handle_data(self, data: str) -> None:
            if self.depth:
                self.found[-1][1].append(data)

    parser = Sections()
    parser.feed(raw)
    return [(attrs, "".join(text)) for attrs, text in parser.found]


def test_html_opens_with_the_confidence(tmp_path: Path, rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=6, images=False)
    raw = write_report(summary, tmp_path)["html"].read_text(encoding="utf-8")
    sections = _sections(raw)
    attrs, text = sections[0]
    assert attrs["id"] == "confidence" and attrs["class"] == "conf confident"
    assert text.startswith("Confidence" + summary.confidence.verdict)  # the heading, then the verdict
    for fact in confidence_lines(summary)[1:]:
        assert fact in text
    assert "trained on cuda" in text
    # Nothing but the title before it; the verdict is bold.
    assert re.search(r"<main><header><h1>[^<]*</h1></header><section class=\"conf ", raw)
    assert f'<p class="verdict"><b>{summary.confidence.verdict}</b></p>' in raw
    assert [a.get("class") or a.get("id") for a, _ in sections[1:3]] == ["rec", "curves"]
    _parse(tmp_path / "report.html")  # well formed
    # Outcomes colour the box; a first look says so.
    summary.confidence = replace(summary.confidence, settled=False, first_look=True)
    attrs, text = _sections(write_report(summary, tmp_path)["html"].read_text(encoding="utf-8"))[0]
    assert attrs["class"] == "conf unsure" and text.startswith("Confidencefirst look")
    summary.confidence = replace(summary.confidence, baseline_margin_db=-0.2, beats_baseline=False, first_look=False)
    attrs, text = _sections(write_report(summary, tmp_path)["html"].read_text(encoding="utf-8"))[0]
    assert attrs["class"] == "conf negative" and "first look" not in text


def test_old_results_without_confidence_or_curves_render(tmp_path: Path, rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=4, curves=False, confidence=False)
    summary.device = "cpu"
    assert summary.confidence is None and all(not c.curve for c in summary.candidates)
    paths = write_report(summary, tmp_path)
    html = _parse(paths["html"])
    text = " ".join(html.text)
    raw = paths["html"].read_text(encoding="utf-8")
    assert 'id="confidence"' not in raw and "Trained on cpu." in text  # the device is in the lede instead
    labels = ", ".join(c.candidate.label for c in summary.candidates)
    assert f"Not drawn (no learning curve recorded): {labels}." in text
    assert 'class="plot curves"' not in raw
    md = paths["markdown"].read_text(encoding="utf-8")
    assert md.splitlines()[2].startswith("This study compared 4 ")  # the overview, straight under the title
    doc = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert doc["confidence"] is None and doc["device"] == "cpu"
    assert all(c["curve"] == [] for c in doc["candidates"]) and all(t["curve"] == [] for t in doc["trials"])
    assert confidence_lines(summary) == []


def test_json_has_device_confidence_and_curves(tmp_path: Path, rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=5, images=False, short=(2,))
    doc = json.loads(write_report(summary, tmp_path)["json"].read_text(encoding="utf-8"))
    assert doc["version"] == 3 and doc["device"] == "cuda"
    assert doc["confidence"] == asdict(summary.confidence)
    assert doc["confidence"]["verdict"].startswith("Confident: ") and doc["confidence"]["rank_stability"] == 0.87
    for got, c in zip(doc["candidates"], summary.candidates):
        trials = [t for t in summary.trials if t.candidate == c.candidate]
        steps = [int(s) for s, _ in trials[0].curve]
        assert [point[0] for point in got["curve"]] == steps
        for (step, mean, std), want_step in zip(got["curve"], steps):
            values = [p for t in trials for s, p in t.curve if s == want_step]
            assert mean == pytest.approx(np.mean(values), rel=1e-12)
            assert std == pytest.approx(np.std(values, ddof=1), rel=1e-12)
        assert got["curve"][-1][1] == pytest.approx(c.psnr.mean, rel=1e-12)  # the curve ends at the final PSNR
    lengths = {len(c["curve"]) for c in doc["candidates"]}
    assert lengths == {3, 6}  # one candidate stopped at step 75
    assert [TrialResult.from_dict(t) for t in doc["trials"]] == summary.trials  # each trial's curve included


# ---------------------------------------------------------------------------------------- learning curves


def test_curve_plot_data_against_the_trials(rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=16, images=False, short=(3, 9))
    data = curve_plot_data(summary)
    assert [line.key for line in data.lines] == [c.candidate.key for c in summary.candidates]
    assert data.omitted == [] and data.baseline == ("bicubic (no network)", 21.5)
    all_ys = [21.5]
    for line, c in zip(data.lines, summary.candidates):
        trials = [t for t in summary.trials if t.candidate == c.candidate]
        last = int(trials[0].curve[-1][0])
        assert last in (75, 150)
        want = []
        for step in sorted({int(s) for s, _ in trials[0].curve}):
            values = np.array([p for t in trials for s, p in t.curve if s == step])
            want.append((step, values.mean(), values.std(ddof=1)))
        assert [x for x, _, _ in line.points] == [x for x, _, _ in want]
        np.testing.assert_allclose([(y, e) for _, y, e in line.points], [(y, e) for _, y, e in want], rtol=1e-12)
        assert line.end == (float(last), pytest.approx(c.psnr.mean, rel=1e-12))  # the marker: the last step
        assert line.recommended == (c.candidate == summary.recommendation.candidate)
        assert (line.learned, line.tied_with_best) == (c.learned, c.tied_with_best)
        all_ys += [y + s * e for _, y, e in line.points for s in (-1, 1)]
    ends = sorted({line.end[0] for line in data.lines})
    assert ends == [75.0, 150.0] and sum(line.end[0] == 75.0 for line in data.lines) == 2
    assert data.x_range == (0.0, 150.0) and data.half_step == 75.0
    lo, hi = data.y_range
    assert lo < min(all_ys) and hi > max(all_ys)
    # One colour per upsampler, one dash per schedule.
    assert data.upsamplers == sorted(UPSAMPLERS) and len(data.schedules) == 2
    for line, c in zip(data.lines, summary.candidates):
        assert data.upsamplers[line.colour] == c.candidate.upsampler
        assert data.schedules[line.dash] == c.candidate.schedule


def test_curve_plot_data_leaves_out_candidates_without_curves(rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=5, images=False)
    old = [summary.candidates[1], summary.candidates[3]]
    for c in old:
        c.curve = []
    data = curve_plot_data(summary)
    assert data.omitted == [c.candidate.label for c in old]
    assert [line.key for line in data.lines] == [c.candidate.key for c in summary.candidates if c not in old]
    one = make_summary(rng, n=2, seeds=1, images=False)  # one seed: no spread, no band
    assert all(e == 0.0 for line in curve_plot_data(one).lines for _, _, e in line.points)
    empty = curve_plot_data(StudySummary({}, [], None, []))
    assert (empty.lines, empty.half_step, empty.x_range) == ([], None, (0.0, 1.0))


def test_curves_svg_draws_every_candidate_legibly(rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=16, images=False, short=(3, 9))
    data = curve_plot_data(summary)
    svg = curves_svg(data)
    tags = _parse_text(svg).tags
    assert tags[0][0] == "svg" and tags[0][1]["class"] == "plot curves"
    lines = [a for t, a in tags if t == "polyline"]
    assert [a["data-key"] for a in lines].count(summary.recommendation.candidate.key) == 1
    assert sorted(a["data-key"] for a in lines) == sorted(c.candidate.key for c in summary.candidates)
    assert len([a for t, a in tags if t == "polygon" and a.get("class") == "band"]) == 16  # 3 seeds: all have spread
    assert len([a for t, a in tags if a.get("class") == "end"]) == 16
    assert "bicubic (no network) 21.50 dB" in svg and "half budget" in svg
    # Every candidate labelled once; the column labels (curves that reach the last step) do not overlap.
    labels = re.findall(r'<text class="label" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>', svg)
    assert sorted(text for _, _, text in labels) == sorted(c.candidate.label for c in summary.candidates)
    column = sorted(float(y) for x, y, _ in labels if float(x) == max(float(x) for x, _, _ in labels))
    assert len(column) == 14
    assert all(b - a >= FONT for a, b in itertools.pairwise(column))
    # The two short curves end half way across the plot.
    xs = [round(float(a["cx"]) if "cx" in a else float(a["x"]) + 3.2, 1) for t, a in tags if a.get("class") == "end"]
    half, full = sorted(set(xs))
    assert xs.count(half) == 2 and half - MARGIN_LEFT == pytest.approx((full - MARGIN_LEFT) / 2, abs=0.2)
    assert "no learning curves recorded" in curves_svg(curve_plot_data(StudySummary({}, [], None, [])))


def test_spread_keeps_order_and_gap() -> None:
    values = [50.0, 51.0, 49.0, 10.0, 98.0, 99.0]
    out = spread(values, gap=5.0, lo=0.0, hi=100.0)
    order = sorted(range(len(values)), key=values.__getitem__)
    placed = [out[i] for i in order]
    assert all(b - a >= 5.0 - 1e-9 for a, b in itertools.pairwise(placed)) and 0 <= min(out) and max(out) <= 100
    assert out[3] == 10.0  # far from the rest: left where it is
    assert sum(out[:3]) == pytest.approx(150.0)  # a cluster stays centred on its members
    crowded = spread([5.0] * 30, gap=5.0, lo=0.0, hi=100.0)  # does not fit: the gap shrinks
    assert crowded[0] == 0.0 and crowded[-1] == pytest.approx(100.0)


# ---------------------------------------------------------------------------------------- plot data


@pytest.mark.parametrize("cost", COSTS)
def test_pareto_plot_data_is_the_flagged_front(cost: str, rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=9, images=False)
    # Flags are the summary's, not recomputed: an arbitrary set must come back unchanged.
    for c in summary.candidates:
        c.pareto[cost] = bool(rng.random() < 0.5)
    data = pareto_plot_data(summary, cost)
    raw = [COST_OF[cost](c) for c in summary.candidates]
    assert [p.key for p in data.points] == [c.candidate.key for c in summary.candidates]
    assert [p.x for p in data.points] == pytest.approx([v / data.x_divisor for v in raw], rel=1e-12)
    assert [p.y for p in data.points] == [c.psnr.mean for c in summary.candidates]
    assert [p.y_err for p in data.points] == [c.psnr.std for c in summary.candidates]
    flagged = sorted((v / data.x_divisor, c.psnr.mean) for v, c in zip(raw, summary.candidates) if c.pareto[cost])
    assert len(data.front) == len(flagged)
    for got, want in zip(data.front, flagged):
        assert got == pytest.approx(want, rel=1e-12)
    assert [p.recommended for p in data.points] == [c.candidate == summary.recommendation.candidate
                                                    for c in summary.candidates]
    assert [p.learned for p in data.points] == [c.learned for c in summary.candidates]
    assert data.baseline == ("bicubic (no network)", 21.5)
    assert data.x_log == (max(raw) >= 10 * min(raw))
    lo, hi = data.x_range
    assert lo < min(p.x for p in data.points) and hi > max(p.x for p in data.points)
    lo, hi = data.y_range
    assert lo < min(21.5, *(p.y - p.y_err for p in data.points)) and hi > max(p.y + p.y_err for p in data.points)
    assert data.y_title == "PSNR (dB)"


def test_pareto_plot_axes_and_units(rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=4, images=False)
    for i, c in enumerate(summary.candidates):
        c.macs = [2_000_000, 5_000_000, 40_000_000, 300_000_000][i]  # 150x range: log axis, in MMAC
        c.latency_ms = [10.0, 12.0, 15.0, 19.0][i]  # under 2x: linear
        c.peak_memory_bytes = [3, 4, 6, 8][i] * 2**20
    macs = pareto_plot_data(summary, "macs")
    assert (macs.x_unit, macs.x_divisor, macs.x_log) == ("MMAC", 1e6, True)
    assert [p.x for p in macs.points] == [2.0, 5.0, 40.0, 300.0]
    assert "MMAC" in macs.x_title
    latency = pareto_plot_data(summary, "latency")
    assert (latency.x_unit, latency.x_log) == ("ms", False) and "ms" in latency.x_title
    memory = pareto_plot_data(summary, "memory")
    assert (memory.x_unit, memory.x_divisor) == ("MiB", 2.0**20)
    assert [p.x for p in memory.points] == [3.0, 4.0, 6.0, 8.0]
    summary.candidates[0].macs = 3_000_000_000
    assert pareto_plot_data(summary, "macs").x_unit == "GMAC"


def test_pareto_plot_data_rejects_bad_arguments(rng: np.random.Generator) -> None:
    with pytest.raises(InvalidArgumentError, match="cost must be one of .* but got 'mac'; did you mean 'macs'"):
        pareto_plot_data(make_summary(rng, images=False), "mac")
    with pytest.raises(InvalidTypeError, match="summary must be a StudySummary"):
        pareto_plot_data({"candidates": []}, "macs")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------- CSV, JSON, Markdown


def test_csv_round_trips_the_numbers(tmp_path: Path, rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=6, images=False)
    summary.candidates[2].latency_iqr_ms = math.nan  # not measured: an empty cell
    with open(write_report(summary, tmp_path)["csv"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(summary.candidates)
    for rank, (row, c) in enumerate(zip(rows, summary.candidates), start=1):
        assert row["key"] == c.candidate.key and row["label"] == c.candidate.label and int(row["rank"]) == rank
        assert Candidate.from_key(row["key"]) == c.candidate
        for name in ("psnr", "ssim", "checkerboard", "train_seconds"):
            stat = getattr(c, name)
            assert float(row[f"{name}_mean"]) == stat.mean and float(row[f"{name}_std"]) == stat.std  # exact
        assert (int(row["params"]), int(row["macs"]), int(row["peak_memory_bytes"])) == (c.params, c.macs,
                                                                                         c.peak_memory_bytes)
        assert float(row["latency_ms"]) == c.latency_ms
        assert row["latency_iqr_ms"] == ("" if math.isnan(c.latency_iqr_ms) else repr(c.latency_iqr_ms))
        assert row["learned"] == ("true" if c.learned else "false")
        assert row["tied_with_best"] == ("true" if c.tied_with_best else "false")
        assert [row[f"pareto_{cost}"] == "true" for cost in COSTS] == [c.pareto[cost] for cost in COSTS]
        assert (row["recommended"] == "true") == (c.candidate == summary.recommendation.candidate)
        assert [int(s) for s in row["seeds"].split(";")] == c.seeds and int(row["n_seeds"]) == len(c.seeds)


def test_json_holds_everything_and_trials_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=4, images=False)
    summary.trials[0].latency_iqr_ms = math.nan
    summary.config["budget"] = math.inf
    summary.config["shape"] = (1, 64, 32, 32)

    def no_constants(name: str) -> None:
        raise AssertionError(f"non-JSON constant {name}")

    doc = json.loads(write_report(summary, tmp_path)["json"].read_text(encoding="utf-8"), parse_constant=no_constants)
    assert doc["config"]["budget"] is None and doc["config"]["shape"] == [1, 64, 32, 32]
    assert doc["config"]["scale"] == 4 and doc["machine"] == summary.machine and doc["pending"] == 0
    assert doc["baseline"] == summary.baseline
    assert doc["recommendation"] == {"candidate": summary.recommendation.candidate.key,
                                     "label": summary.recommendation.candidate.label,
                                     "reasons": summary.recommendation.reasons}
    assert [c["key"] for c in doc["candidates"]] == [c.candidate.key for c in summary.candidates]
    for got, c in zip(doc["candidates"], summary.candidates):
        assert Stat(**got["psnr"]) == c.psnr and Stat(**got["checkerboard"]) == c.checkerboard
        assert got["pareto"] == c.pareto and got["macs"] == c.macs and got["learned"] == c.learned
    assert doc["trials"][0]["latency_iqr_ms"] is None
    back = [TrialResult.from_dict(t) for t in doc["trials"][1:]]
    assert back == summary.trials[1:]


def test_markdown_has_recommendation_reasons_and_top_table(tmp_path: Path, rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=8, images=False)
    text = write_report(summary, tmp_path)["markdown"].read_text(encoding="utf-8")
    assert text.startswith(f"# Recommendation: {summary.recommendation.candidate.label}\n")
    for reason in summary.recommendation.reasons:
        assert f"- {reason}" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 5  # header and the top five (the recommended one is among them)
    assert "3 more candidates" in text


# ---------------------------------------------------------------------------------------- partial results


def test_partial_summary_renders(tmp_path: Path, rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=5, pending=3, recommend=False)
    one = summary.candidates[3]
    one.seeds, one.psnr, one.ssim = [0], Stat.of([one.psnr.mean]), Stat.of([one.ssim.mean])
    missing = [summary.candidates[1].candidate, summary.candidates[4].candidate]
    for cand in missing:
        del summary.images[cand.key]
    summary.baseline = None
    paths = write_report(summary, tmp_path)
    html = _parse(paths["html"])
    text = " ".join(html.text)
    assert "Incomplete study:" in text and "3 trials pending" in text
    assert "None yet" in text and "The study is incomplete (3 trials pending)." in text
    assert "No reconstruction recorded for: " + ", ".join(c.label for c in missing) in text
    assert len([t for t, _ in html.tags if t == "img"]) == 2 * (2 + 3)
    assert "(no network)" not in text
    md = paths["markdown"].read_text(encoding="utf-8")
    assert md.startswith("# No recommendation") and "3 trials pending" in md
    table = format_table(summary)
    assert "3 trials pending" in table and "seeds" in table.splitlines()[0]  # seed counts differ: shown
    row = next(line for line in table.splitlines() if one.candidate.label in line)
    assert f"{one.psnr.mean:.2f}" in row and "±" not in row  # one seed: the mean alone, no spread
    csv_rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text(encoding="utf-8"))))
    assert csv_rows[3]["n_seeds"] == "1" and float(csv_rows[3]["psnr_std"]) == 0.0


def test_empty_summary_renders(tmp_path: Path) -> None:
    summary = StudySummary({"scale": 2}, [], None, [], pending=8)
    paths = write_report(summary, tmp_path)
    text = " ".join(_parse(paths["html"]).text)
    assert "8 trials pending" in text and "No finished candidates yet." in text
    assert "No images were recorded" in text
    assert list(csv.reader(io.StringIO(paths["csv"].read_text(encoding="utf-8"))))[1:] == []
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["candidates"] == []
    assert "(no finished candidates yet)" in format_table(summary)


def test_bad_arguments_are_named(tmp_path: Path, rng: np.random.Generator) -> None:
    with pytest.raises(InvalidTypeError, match="summary must be a StudySummary"):
        write_report({}, tmp_path)  # type: ignore[arg-type]
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArgumentError, match="out_dir must be a directory"):
        write_report(make_summary(rng, images=False), tmp_path / "file")
    summary = make_summary(rng, n=2)
    key = summary.candidates[0].candidate.key
    summary.images[key] = np.zeros((24, 24, 3))
    with pytest.raises(InvalidArgumentError, match=re.escape(f"summary.images['{key}'] must have the target's shape")):
        write_report(summary, tmp_path / "out")
    summary.images[key] = np.zeros((48, 48, 3, 2))
    with pytest.raises(InvalidArgumentError, match=r"must be an array of shape \(H, W, 3\).* \(48, 48, 3, 2\)"):
        write_report(summary, tmp_path / "out")


# ---------------------------------------------------------------------------------------- text table


@pytest.mark.parametrize("width", [60, 80, 100, 120, None])
def test_format_table_fits_and_lists_every_candidate(width: int | None, rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=16, images=False)
    table = format_table(summary, width=width)
    lines = table.splitlines()
    assert all(len(line) <= (width or 120) for line in lines)
    assert "\x1b" not in table  # no colour codes
    rows = lines[1:1 + len(summary.candidates)]
    for rank, (line, c) in enumerate(zip(rows, summary.candidates), start=1):
        assert line.split()[0] == str(rank)
        label = c.candidate.label
        if (width or 120) >= 100:
            assert label in line
        else:  # labels may be shortened, keeping their start
            assert label[:8] in line
        assert f"{c.psnr.mean:.2f}" in line
        marks = ("*" if c.candidate == summary.recommendation.candidate else " ") + ("=" if c.tied_with_best else " ")
        assert line.endswith(marks + " " + "".join("MLP"[i] if c.pareto[cost] else "." for i, cost in enumerate(COSTS)))
    if width in (120, None):  # everything but the learned/fixed kind fits
        assert lines[0].split() == ["#", "candidate", "PSNR", "dB", "SSIM", "ckb", "params", "MACs", "lat", "ms",
                                    "(IQR)", "mem", "MiB", "train", "s", "marks"]


def test_format_table_rejects_bad_width(rng: np.random.Generator) -> None:
    with pytest.raises(InvalidArgumentError, match="width must be an integer >= 60, but got width=40"):
        format_table(make_summary(rng, images=False), width=40)


# ---------------------------------------------------------------------------------------- zoom placement


def _plant(rng: np.random.Generator, residual: np.ndarray, top: int, left: int, size: int, period: int,
           amplitude: float) -> None:
    """Add a zero-mean ``period``-periodic pattern (a random tile repeated) to a square of ``residual``."""
    tile = rng.standard_normal((period, period, residual.shape[2]))
    tile = amplitude * (tile - tile.mean(axis=(0, 1))) / tile.std()
    reps = -(-size // period)
    residual[top:top + size, left:left + size] += np.tile(tile, (reps, reps, 1))[:size, :size]


@pytest.mark.parametrize("period", [2, 3, 4, 8])
def test_zoom_region_finds_a_planted_periodic_artifact(period: int, rng: np.random.Generator) -> None:
    for _ in range(4):
        size = 96
        residual = 0.05 * rng.standard_normal((size, size, 3))  # aperiodic error everywhere
        patch = period * max(1, round(32 / period))
        top, left = (int(v) * period for v in rng.integers(0, (size - patch) // period + 1, 2))
        _plant(rng, residual, top, left, patch, period, 0.08)
        # A distractor: larger, aperiodic error in another corner must not win.
        far = (0, 0) if top > size // 2 or left > size // 2 else (size - 32, size - 32)
        residual[far[0]:far[0] + 32, far[1]:far[1] + 32] += 0.25 * rng.standard_normal((32, 32, 3))
        assert zoom_region(residual, period, 32) == (top, left, patch)


def test_zoom_region_overlaps_a_misaligned_artifact(rng: np.random.Generator) -> None:
    residual = 0.05 * rng.standard_normal((128, 128))
    pattern = 0.1 * (np.indices((32, 32)).sum(0) % 2 - 0.5)
    residual[37:69, 81:113] += pattern  # odd offsets: not on the period-2 grid the patches start on
    top, left, size = zoom_region(residual, 2, 32)
    overlap = max(0, min(top + size, 69) - max(top, 37)) * max(0, min(left + size, 113) - max(left, 81))
    assert overlap >= 0.9 * 32 * 32


def test_report_zooms_where_the_worst_checkerboard_is(tmp_path: Path, rng: np.random.Generator) -> None:
    summary = make_summary(rng, n=4, size=128, scale=2)
    worst = max(summary.candidates, key=lambda c: c.checkerboard.mean)
    other = next(c for c in summary.candidates if c is not worst)
    target = summary.images["target"]
    for c, (top, left) in ((worst, (64, 32)), (other, (0, 96))):
        residual = 0.02 * rng.standard_normal(target.shape)
        _plant(rng, residual, top, left, 32, 2, 0.1)  # the other candidate's artifact is elsewhere
        summary.images[c.candidate.key] = target + residual  # unclipped: the report clips for display
    raw = write_report(summary, tmp_path)["html"].read_text(encoding="utf-8")
    assert 'data-zoom="64,32,32"' in raw
    assert f"where {worst.candidate.label}, the candidate with the highest checkerboard score" in raw
    assert "framed 32×32 region enlarged 4×" in raw


def test_grid_data_tiles_and_per_image_psnr(rng: np.random.Generator) -> None:
    """The grid is data first: input (enlarged), target, then each candidate; the caption's PSNR on
    the shown image is a plain float64 computation of 10 log10(1 / MSE) of the clipped images."""
    summary = make_summary(rng, n=3, size=48, scale=4)
    key = summary.candidates[0].candidate.key
    summary.images[key] = summary.images[key] + 0.2  # leaves [0, 1]: the grid clips for display
    grid = grid_data(summary)
    assert [t.title for t in grid.tiles] == ["input", "target"] + [c.candidate.label for c in summary.candidates]
    assert grid.tiles[0].caption == "nearest ×4" and grid.tiles[0].rgb.shape == (48, 48, 3)
    shown = np.clip(summary.images[key], 0, 1).astype(np.float32).astype(np.float64)
    target = summary.images["target"].astype(np.float32).astype(np.float64)
    expected = 10 * math.log10(1 / np.mean((shown - target) ** 2))
    assert grid.tiles[2].caption.startswith(f"{expected:.2f} dB on this image · mean ")
    assert grid.missing == [] and grid.zoom_factor * grid.zoom[2] >= 96
    assert grid_data(make_summary(rng, n=2, images=False)).tiles == []


# ---------------------------------------------------------------------------------------- budget halving

#: The halving budget of :func:`make_halving_summary`: eta 3 over 3 rungs of 150 steps. Steps spent, per
#: seed (``budget.spent_steps``: each rung's trunk and its decay): 163 to the last rung, 53 to the second, 17
#: to the first; 4 finalists, one stopped at the second rung and one still at the first, 3 seeds each.
HALVING = {"policy": "halving", "steps_spent": 3 * (4 * 163 + 53 + 17), "steps_full": 6 * 3 * STEPS,
           "finalists": 4, "candidates": 6, "eta": 3, "rung_steps": [17, 50, 150]}
HALVING_LINE = ("Budget: halving (eta 3, rungs end at 17, 50 and 150 steps): 2,166 training steps so far, 80% of the "
                "2,700 that --budget full takes; 4 of 6 candidates reached the last rung.")


def make_halving_summary(rng: np.random.Generator) -> StudySummary:
    """A partial ``--budget halving`` summary: four finalists (rung 3 of 3, 150 steps), then one
    candidate a rung stopped (rung 2, 50 steps, its curve ending there) and one still in progress at
    rung 1 (17 steps), as :func:`upsamplekit.study.analysis.summarize` orders them; 3 trials pending."""
    summary = make_summary(rng, n=6, images=False, pending=3)
    finalists, (stopped, going) = summary.candidates[:4], summary.candidates[4:]
    assert summary.recommendation is not None and summary.recommendation.candidate == finalists[1].candidate
    for c in finalists:
        c.rung, c.steps = 2, STEPS
    best = finalists[0]
    stopped.curve = [(step, s) for step, s in stopped.curve if step <= 50]
    stopped.psnr = stopped.curve[-1][1]
    stopped.rung, stopped.steps, stopped.ranked = 1, 50, False
    stopped.stopped = (f"stopped after rung 2 of 3 (50 steps): {stopped.psnr.mean:.2f} ± {stopped.psnr.std:.2f} dB, "
                       f"separably worse than {best.candidate.label} (24.91 ± 0.05 dB)")
    going.curve = [(17, going.psnr)]
    going.rung, going.steps, going.ranked = 0, 17, False
    for c in (stopped, going):
        c.tied_with_best, c.pareto = False, {}
    for t in summary.trials:
        t.rung = 1 if t.candidate == stopped.candidate else 0 if t.candidate == going.candidate else 2
    assert summary.confidence is not None
    summary.confidence = replace(summary.confidence,
                                 separable_from_best=sum(not c.tied_with_best for c in finalists))
    summary.budget = dict(HALVING)
    return summary


def test_halving_confidence_counts_finalists_and_says_the_budget(rng: np.random.Generator) -> None:
    summary = make_halving_summary(rng)
    conf = summary.confidence
    assert conf is not None
    finalists = summary.candidates[:4]
    k = sum(not c.tied_with_best for c in finalists)
    finalists[1].tied_with_best = True  # the runner-up among the finalists: seeds are suggested
    lines = confidence_lines(summary)
    assert lines[0] == conf.verdict  # the verdict stays first
    assert lines[1:] == [
        "Kendall tau 0.87 between half and full budget: settled",
        f"{conf.baseline_margin_db:+.2f} dB over bicubic (no network), separable",
        f"{k} of the 4 finalists {'is' if k == 1 else 'are'} separably worse than the best",
        "about 5 seeds per candidate would separate the best from the runner-up (this study has 3)",
        HALVING_LINE,
        "trained on cuda",
    ]
    # The rank compared at the previous rung's end, not half the budget, says so.
    summary.confidence = replace(conf, compared_at=50)
    assert "Kendall tau 0.87 between step 50 and full budget: settled" in confidence_lines(summary)
    # Mid-study (the compared candidates are at rung 2 of 3): they are not called finalists.
    for c in finalists:
        c.rung = 1
    assert f"{k} of the 4 candidates at rung 2/3 {'is' if k == 1 else 'are'} separably worse than the best" in \
        confidence_lines(summary)
    # A single finalist: nothing to separate, no runner-up line (the unranked rows are not runners-up).
    for c in finalists[1:]:
        c.ranked, c.stopped = False, "stopped after rung 2 of 3 (50 steps): ..."
    lines = confidence_lines(summary)
    assert not any("separabl" in line and "best" in line and "worse" in line for line in lines)
    assert not any("runner-up" in line or "rank stability not measured" in line for line in lines)


def test_budget_line_wording() -> None:
    def line(budget: dict[str, object], pending: int = 0) -> str | None:
        return confidence_lines(StudySummary({"steps": 400, "seeds": 2}, [], None, [], pending=pending,
                                             confidence=Confidence("Unsure.", None, False, None, None, False, 0, None),
                                             budget=budget))[1]

    halving = {"policy": "halving", "steps_spent": 5210, "steps_full": 12800, "finalists": 4, "candidates": 16,
               "eta": 3, "rung_steps": [44, 133, 400]}
    assert line(halving) == ("Budget: halving (eta 3, rungs end at 44, 133 and 400 steps): 5,210 training steps, "
                             "41% of the 12,800 that --budget full takes; 4 of 16 candidates reached the last rung.")
    full = {"policy": "full", "steps_spent": 12800, "steps_full": 12800, "finalists": 16, "candidates": 16}
    assert line(full) == "Budget: full: 12,800 training steps (16 candidates × 2 seeds × 400 steps)."
    assert line(dict(full, steps_spent=6000), pending=16) == (
        "Budget: full: 6,000 of 12,800 training steps so far (16 candidates × 2 seeds × 400 steps).")


def test_halving_table_marks_the_unranked_rows(rng: np.random.Generator) -> None:
    summary = make_halving_summary(rng)
    stopped = summary.candidates[4]
    for width in (60, 120):
        lines = format_table(summary, width=width).splitlines()
        assert all(len(line) <= width for line in lines)
        assert lines[0].split()[-2:] == ["steps", "marks"]  # the steps differ: shown, whatever the width
        rows = lines[1:7]
        assert [row.split()[0] for row in rows[:4]] == ["1", "2", "3", "4"]
        assert rows[4].startswith("   ") and rows[5].startswith("   ")  # no rank
        assert rows[4].endswith("  50  stopped at rung 2/3") and f"{stopped.psnr.mean:.2f}" in rows[4]
        assert rows[5].endswith("  17  in progress (rung 1/3)")
        assert all(re.search(r"  150  [* ][= ] [M.][L.][P.]$", row) for row in rows[:4])
        assert "Rows without a rank are not compared with the others" in " ".join(lines[7:])


def test_halving_markdown(tmp_path: Path, rng: np.random.Generator) -> None:
    summary = make_halving_summary(rng)
    stopped, going = summary.candidates[4:]
    text = write_report(summary, tmp_path)["markdown"].read_text(encoding="utf-8")
    assert f"\n- {HALVING_LINE}\n" in text  # among the confidence's facts
    assert "up to 150 steps per run with --budget halving" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert table[0].endswith("| steps | marks |")
    assert table[1].startswith(f"| 1 | {summary.candidates[0].candidate.label} |") and "| 150 |" in table[1]
    assert f"| 2 | {summary.recommendation.candidate.label} |" in table[2] and "recommended" in table[2]
    assert table[5].startswith(f"|  | {stopped.candidate.label} |")
    assert table[5].endswith("| 50 | stopped at rung 2/3 |")  # the steps in their own column
    assert f"- {stopped.candidate.label} {stopped.stopped}\n" in text  # the whole sentence
    assert f"- {going.candidate.label}: in progress (rung 1/3, 17 steps)\n" in text


def test_halving_html_table_confidence_and_plots(tmp_path: Path, rng: np.random.Generator) -> None:
    summary = make_halving_summary(rng)
    stopped, going = summary.candidates[4:]
    raw = write_report(summary, tmp_path)["html"].read_text(encoding="utf-8")
    html = _parse(tmp_path / "report.html")
    attrs, text = _sections(raw)[0]
    assert attrs["id"] == "confidence" and HALVING_LINE in text
    # The table: ranks 1 to 4, then the two unranked rows, pale, badged with where they stand.
    body = raw[raw.index("<tbody>"):raw.index("</tbody>")]
    rows = re.findall(r"<tr( class=\"[^\"]*\")?>(.*?)</tr>", body)
    assert [re.match(r'<td data-v="[^"]*">([^<]*)</td>', cells).group(1) for _, cells in rows] == \
        ["1", "2", "3", "4", "", ""]
    assert [cls for cls, _ in rows[4:]] == [' class="unranked"'] * 2
    badge = (f'<span class="badge bstop" title="{stopped.candidate.label} {stopped.stopped}">'
             "stopped at rung 2/3 (50 steps)</span>")
    assert badge in rows[4][1]
    assert '<span class="badge bprog" title="still training at a lower rung than the finalists">' \
           "in progress (rung 1/3, 17 steps)</span>" in rows[5][1]
    heads = re.findall(r"<th>(.*?)</th>", raw[raw.index("<thead>"):raw.index("</thead>")])
    assert heads[-2:] == ["steps", "marks"]
    steps = [re.match(r"[^>]*>([^<]*)", cells.split("<td")[1 + heads.index("steps")]).group(1) for _, cells in rows]
    assert steps == ["150"] * 4 + ["50", "17"]
    page = " ".join(html.text)
    assert f"{stopped.candidate.label} {stopped.stopped}" in page  # listed under the table, not only a tooltip
    assert "A cross ends the curve of a candidate that --budget halving stopped at a rung" in page
    assert "A pale line ending in a marker: a candidate still training at a lower rung." in page
    # The Pareto plots compare the finalists only.
    for svg in re.findall(r'<svg class="plot" .*?</svg>', raw, flags=re.DOTALL):
        assert stopped.candidate.label not in svg and going.candidate.label not in svg
    assert page.count(f"Not plotted (not ranked, fewer training steps): {stopped.candidate.label}, "
                      f"{going.candidate.label}.") == 1  # once, beside the legend of the three plots


def test_halving_curves_end_the_stopped_candidate_with_a_cross(rng: np.random.Generator) -> None:
    summary = make_halving_summary(rng)
    stopped, going = summary.candidates[4:]
    data = curve_plot_data(summary)
    assert [(line.ranked, line.stopped) for line in data.lines] == [(True, "")] * 4 + [(False, stopped.stopped),
                                                                                     (False, "")]
    assert data.lines[4].end == (50.0, stopped.psnr.mean) and data.lines[5].end == (17.0, going.psnr.mean)
    assert data.lines[4].standing == "stopped at rung 2/3 (50 steps)"
    assert data.lines[5].standing == "in progress (rung 1/3, 17 steps)"
    svg = curves_svg(data)
    tags = _parse_text(svg).tags
    # The finalists end in their markers at step 150: the right edge of the plot area.
    ends = [a for t, a in tags if a.get("class") == "end"]
    assert len(ends) == 5  # four finalists and the one in progress; the stopped one ends in a cross instead
    right = max(float(a["cx"]) if "cx" in a else float(a["x"]) + 3.2 for a in ends)
    sy = Scale(*data.y_range, 400 - 52, 16)  # the plot's height: HEIGHT, MARGIN_BOTTOM, MARGIN_TOP
    crosses = [a for t, a in tags if a.get("class") == "end stopped"]
    assert len(crosses) == 1
    x0, y0 = map(float, re.match(r"M([\d.]+),([\d.]+)L", crosses[0]["d"]).groups())
    assert x0 + 4 == pytest.approx(MARGIN_LEFT + (right - MARGIN_LEFT) * 50 / 150, abs=0.15)  # at step 50
    assert y0 + 4 == pytest.approx(sy(stopped.psnr.mean), abs=0.15)
    # Its tooltip is the whole sentence; the line is pale; the one in progress says where it stands.
    assert f"<title>{stopped.candidate.label} {stopped.stopped}</title></path>" in svg
    lines = {a["data-key"]: a for t, a in tags if t == "polyline"}
    assert lines[stopped.candidate.key]["class"] == "curve unranked"
    assert lines[stopped.candidate.key]["stroke-opacity"] == "0.45"
    assert "stroke-opacity" not in lines[summary.candidates[0].candidate.key]
    assert "; in progress (rung 1/3, 17 steps)</title>" in svg
    # The rank compared at the previous rung's end: the vertical line is there, and says so.
    summary.confidence = replace(summary.confidence, compared_at=50)
    data = curve_plot_data(summary)
    assert (data.half_step, data.half_label) == (50.0, "step 50")
    assert ">step 50</text>" in curves_svg(data)


def test_halving_json_and_csv(tmp_path: Path, rng: np.random.Generator) -> None:
    summary = make_halving_summary(rng)
    stopped, going = summary.candidates[4:]
    paths = write_report(summary, tmp_path)
    doc = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert doc["version"] == 3 and doc["budget"] == HALVING
    got = {c["key"]: c for c in doc["candidates"]}
    assert [c["key"] for c in doc["candidates"]] == [c.candidate.key for c in summary.candidates]
    assert {k: got[stopped.candidate.key][k] for k in ("rung", "steps", "ranked", "stopped")} == \
        {"rung": 1, "steps": 50, "ranked": False, "stopped": stopped.stopped}
    assert {k: got[going.candidate.key][k] for k in ("rung", "steps", "ranked", "stopped")} == \
        {"rung": 0, "steps": 17, "ranked": False, "stopped": ""}
    assert {k: doc["candidates"][0][k] for k in ("rung", "steps", "ranked", "stopped")} == \
        {"rung": 2, "steps": 150, "ranked": True, "stopped": ""}
    assert [t["rung"] for t in doc["trials"]] == [t.rung for t in summary.trials]
    assert {t["rung"] for t in doc["trials"]} == {0, 1, 2}
    assert [TrialResult.from_dict(t) for t in doc["trials"]] == summary.trials
    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text(encoding="utf-8"))))
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4", "", ""]
    assert [(r["rung"], r["steps"], r["ranked"]) for r in rows[3:]] == [("2", "150", "true"), ("1", "50", "false"),
                                                                        ("0", "17", "false")]
    assert rows[4]["stopped"] == stopped.stopped and rows[5]["stopped"] == rows[0]["stopped"] == ""
    # A full-budget study: no rank left out, no steps column, the budget said in one line.
    full = make_summary(rng, n=4, images=False)
    full.budget = {"policy": "full", "steps_spent": 4 * 3 * STEPS, "steps_full": 4 * 3 * STEPS, "finalists": 4,
                   "candidates": 4}
    assert "Budget: full: 1,800 training steps (4 candidates × 3 seeds × 150 steps)." in confidence_lines(full)
    assert "steps" not in format_table(full).splitlines()[0].split()
