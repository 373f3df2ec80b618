"""Peak activation memory against hand counts, and the structure of the latency measurement.

Memory: modules whose live tensors can be counted by hand (bytes = elements x 4 for float32),
including the study's own decoder. Latency: only what is deterministic (units, finiteness, the
thread count used and kept); no timed assertions, the machines running the tests are shared.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from upsamplekit.decoder import Decoder
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError
from upsamplekit.study.measure import LiveBytes, latency, peak_activation_bytes

torch.set_num_threads(1)

F32 = 4  # bytes per float32 element


def test_conv_then_relu_out_of_place_and_in_place() -> None:
    x = torch.zeros(1, 3, 16, 16)
    conv_out = 8 * 16 * 16 * F32
    # Sequential keeps the convolution's output while ReLU writes a new tensor: both alive.
    assert peak_activation_bytes(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU()), x) == 2 * conv_out
    # In place, ReLU reuses the convolution's storage.
    assert peak_activation_bytes(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True)), x) == conv_out


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_upsample_holds_its_output_only(mode: str) -> None:
    upsample = nn.Upsample(scale_factor=2, mode=mode)
    assert peak_activation_bytes(upsample, torch.zeros(2, 3, 8, 8)) == 2 * 3 * 16 * 16 * F32


class _BigIntermediate(nn.Module):
    """Repeats the input 64 times along channels, then sums it away: a large short-lived tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.repeat(1, 64, 1, 1).sum(dim=1, keepdim=True)


def test_a_big_intermediate_is_seen() -> None:
    x = torch.zeros(1, 3, 16, 16)
    # The repeated tensor is alive while the sum's output is written.
    assert peak_activation_bytes(_BigIntermediate(), x) == 64 * 3 * 16 * 16 * F32 + 16 * 16 * F32
    assert peak_activation_bytes(_BigIntermediate(), x.double()) == 2 * (64 * 3 * 16 * 16 * F32 + 16 * 16 * F32)


def test_input_parameters_and_returned_input_are_not_counted() -> None:
    x = torch.zeros(1, 3, 16, 16)
    assert peak_activation_bytes(nn.Identity(), x) == 0
    assert peak_activation_bytes(nn.Linear(16, 4), x) == 1 * 3 * 16 * 4 * F32  # the output only


class _CachesOnFirstCall(nn.Module):
    """Builds a big table on its first call and keeps it (like resize's cached tables)."""

    def __init__(self) -> None:
        super().__init__()
        self.table: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.table is None:
            self.table = torch.ones(100_000)
        return x * 2


def test_tensors_cached_by_a_first_call_are_not_activations() -> None:
    assert peak_activation_bytes(_CachesOnFirstCall(), torch.zeros(10)) == 10 * F32


@pytest.mark.parametrize("upsampler", ["subpixel", "bilinear"])
def test_decoder_peak_equals_the_hand_count(upsampler: str) -> None:
    """Decoder(3, 3, 4, [2, 2], channels=[16, 16, 16]) at (N, 3, 32, 32): the peak is in the last stage's
    refining block, where the stage's input (16 x 64 x 64, still held by ``forward``'s ``x``), the
    upsampler's output, the convolution's output and ReLU's output (16 x 128 x 128 each) are alive
    together; the upsamplers' own intermediates at that stage are smaller."""
    torch.manual_seed(0)
    decoder = Decoder(3, 3, 4, [2, 2], upsampler, channels=[16, 16, 16]).eval()
    for batch in (1, 2):
        expected = batch * (16 * 64 * 64 + 3 * 16 * 128 * 128) * F32
        assert peak_activation_bytes(decoder, torch.zeros(batch, 3, 32, 32)) == expected


def test_no_grad_is_used_whatever_the_caller_enabled() -> None:
    """With gradients enabled autograd keeps each convolution's input (the previous ReLU's
    output) for the backward pass: one more tensor alive at the last convolution."""
    x = torch.zeros(1, 3, 16, 16, requires_grad=True)
    block = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(8, 8, 3, padding=1))
    unit = 8 * 16 * 16 * F32
    with torch.enable_grad():
        assert peak_activation_bytes(block, x) == 2 * unit
        with LiveBytes([x, *block.parameters()]) as tracker:
            block(x)
    assert tracker.peak == 3 * unit


def test_live_bytes_ignores_given_storages_and_counts_views_once() -> None:
    outside = torch.zeros(1000)
    with LiveBytes([outside]) as tracker:
        view = outside.view(10, 100)
        view.add_(1.0)
        copy = outside * 1.0  # 4000 bytes
        copy.view(10, 100).mul_(2.0)
    assert (tracker.peak, tracker.current) == (4000, 4000)
    del copy


# --------------------------------------------------------------------------- latency
class _RecordsThreads(nn.Module):
    """Records torch's thread count and the grad mode at every call."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[int, bool]] = set()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.add((torch.get_num_threads(), torch.is_grad_enabled()))
        return x + 1


def test_latency_returns_milliseconds_median_and_iqr() -> None:
    median, iqr = latency(nn.Conv2d(3, 8, 3, padding=1), torch.zeros(1, 3, 32, 32), min_run_time=0.05)
    assert isinstance(median, float) and isinstance(iqr, float)
    assert math.isfinite(median) and median > 0
    assert math.isfinite(iqr) and iqr >= 0


def test_latency_runs_at_the_current_thread_count_without_grad_and_keeps_it() -> None:
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        module = _RecordsThreads()
        latency(module, torch.zeros(4), min_run_time=0.02)
        assert module.seen == {(2, False)}  # torch.utils.benchmark.Timer would use 1 thread by default
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)


# --------------------------------------------------------------------------- bad input
def test_bad_input() -> None:
    with pytest.raises(InvalidTypeError, match="x must be a torch.Tensor, but got list"):
        peak_activation_bytes(nn.Identity(), [1.0])  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="module must be a callable torch module, but got int"):
        latency(3, torch.zeros(1))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="min_run_time must be > 0 seconds, but got 0"):
        latency(nn.Identity(), torch.zeros(1), min_run_time=0)
    with pytest.raises(InvalidTypeError, match="min_run_time must be a number of seconds, but got '1'"):
        latency(nn.Identity(), torch.zeros(1), min_run_time="1")  # type: ignore[arg-type]
