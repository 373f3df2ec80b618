"""The study's report: plot data first, files second.

:func:`pareto_plot_data` computes what one quality-against-cost plot shows as plain data
(:class:`PlotData`); :func:`format_table` is the plain-text table the CLI prints;
:func:`write_report` writes ``report.html`` (one self-contained file: inline CSS, inline SVG
plots, PNG images as data URIs, no network), ``results.csv``, ``results.json`` and
``recommendation.md``. Everything is rendered from a :class:`~upsamplekit.study.results.StudySummary`
alone, so partial results (pending trials, missing images, one seed) render too.

Layout (imports go one way, down this list): :mod:`.formatting` (numbers, units, plurals, the
summary facts every renderer shows), :mod:`.plots` and :mod:`.grid` (the plots and the
reconstruction grid as data), the renderers :mod:`.svg`, :mod:`.html`, :mod:`.text` and
:mod:`.exports` (CSV, JSON), which never import each other, and :mod:`.write`, which puts the
files together (the HTML page gets the SVG renderer as its plot-drawing function).
"""

from ..results import COSTS
from .plots import PlotData, PlotPoint, pareto_plot_data
from .text import format_table
from .write import write_report

__all__ = ["write_report", "format_table", "pareto_plot_data", "PlotData", "PlotPoint", "COSTS"]
