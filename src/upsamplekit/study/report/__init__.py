"""The study's report: plot data first, files second.

:func:`confidence_lines` is the study's confidence as plain text, one fact a line, the verdict
first (the CLI prints it before the table); :func:`format_table` is the plain-text table the CLI
prints. :func:`pareto_plot_data` computes what one quality-against-cost plot shows as plain data
(:class:`PlotData`), :func:`curve_plot_data` what the learning curves show
(:class:`CurvePlotData`); :func:`pareto_svg` and :func:`curves_svg` draw them.
:func:`write_report` writes ``report.html`` (one self-contained file: inline CSS, inline SVG
plots, PNG images as data URIs, no network), ``results.csv``, ``results.json`` and
``recommendation.md``. Everything is rendered from a :class:`~upsamplekit.study.results.StudySummary`
alone, so partial results (pending trials, missing images, one seed, no confidence or learning
curves) render too.

Layout (imports go one way, down this list): :mod:`.formatting` (numbers, units, plurals, the
summary facts every renderer shows), :mod:`.plots` and :mod:`.grid` (the plots and the
reconstruction grid as data), the renderers :mod:`.svg`, :mod:`.html`, :mod:`.text` and
:mod:`.exports` (CSV, JSON), which never import each other, and :mod:`.write`, which puts the
files together (the HTML page gets the SVG renderer's functions as its plot-drawing functions).
"""

from ..results import COSTS
from .formatting import confidence_lines
from .plots import CurveLine, CurvePlotData, PlotData, PlotPoint, curve_plot_data, pareto_plot_data
from .svg import curves_svg, pareto_svg
from .text import format_table
from .write import write_report

__all__ = [
           "COSTS",
           "CurveLine",
           "CurvePlotData",
           "PlotData",
           "PlotPoint",
           "confidence_lines",
           "curve_plot_data",
           "curves_svg",
           "format_table",
           "pareto_plot_data",
           "pareto_svg",
           "write_report",
]
