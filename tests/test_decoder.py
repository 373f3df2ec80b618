"""Decoder and schedules: factorisations, shapes for every registered upsampler, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from upsamplekit import list_upsamplers
from upsamplekit.decoder import Decoder, decoder_from_factory, resolve_schedule, schedules
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError
from upsamplekit.nn.registry import upsampler_info


@pytest.mark.parametrize("total", range(1, 50))
def test_schedules_are_every_ordered_factorisation(total: int) -> None:
    found = schedules(total)
    # Every listed schedule multiplies to the total with factors >= 2, and none repeats.
    assert all(math.prod(s) == total and all(f >= 2 for f in s) for s in found)
    assert len({tuple(s) for s in found}) == len(found)

    # Brute force: all tuples of factors in 2..total up to log2(total) stages.
    def brute(n: int) -> set[tuple[int, ...]]:
        if n == 1:
            return {()}
        return {(f, *rest) for f in range(2, n + 1) if n % f == 0 for rest in brute(n // f)}

    assert {tuple(s) for s in found} == brute(total)
    assert [len(s) for s in found] == sorted(len(s) for s in found)


def test_max_stages_filters() -> None:
    assert schedules(16, max_stages=2) == [[16], [8, 2], [4, 4], [2, 8]]
    assert all(len(s) <= 3 for s in schedules(64, max_stages=3))


@pytest.mark.parametrize("name", [n for n in list_upsamplers() if not upsampler_info(n).guided])
@pytest.mark.parametrize("schedule", [[4], [2, 2]])
def test_decoder_shapes_for_every_upsampler(name: str, schedule: list[int]) -> None:
    torch.manual_seed(0)
    decoder = Decoder(5, 3, scale=4, schedule=schedule, upsampler=name, channels=8)
    x = torch.rand(2, 5, 3, 7)
    y = decoder(x)
    assert y.shape == (2, 3, 12, 28)
    y.square().mean().backward()  # trainable end to end
    assert all(p.grad is not None for p in decoder.parameters() if p.requires_grad)


@pytest.mark.parametrize("dims", [1, 3])
def test_decoder_in_other_ranks(dims: int) -> None:
    decoder = Decoder(2, 1, scale=2, upsampler="subpixel", channels=4, dims=dims)
    assert decoder(torch.rand(1, 2, *[3] * dims)).shape == (1, 1, *[6] * dims)


def test_auto_schedule_is_prime_factors() -> None:
    assert resolve_schedule(8) == [2, 2, 2]
    assert resolve_schedule(18, "auto") == [3, 3, 2]
    assert Decoder(1, 1, 6).schedule == [3, 2]


def test_per_stage_upsamplers_and_channels() -> None:
    d = Decoder(4, 2, scale=6, schedule=[3, 2], upsampler=["transposed", "nearest"], channels=[8, 6, 4])
    assert d(torch.rand(1, 4, 2, 2)).shape == (1, 2, 12, 12)
    assert [m.out_channels for m in [d.refine[0][0], d.refine[1][0]]] == [6, 4]


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"scale": 8, "schedule": [4, 4]}, InvalidArgumentError, "multiply to scale=8"),
        ({"scale": 4, "schedule": [4, 1]}, InvalidArgumentError, "factors >= 2"),
        ({"scale": 4, "schedule": "fast"}, InvalidArgumentError, "'auto'"),
        ({"scale": 0}, InvalidArgumentError, "scale must be an integer >= 1"),
        ({"scale": 2.0}, InvalidTypeError, "scale must be an integer"),
        ({"scale": 4, "upsampler": "bilinaer"}, InvalidArgumentError, "bilinear"),
        ({"scale": 4, "schedule": [2, 2], "upsampler": ["nearest"]}, InvalidArgumentError, "one entry per stage"),
        ({"scale": 4, "channels": [8, 8]}, InvalidArgumentError, "one entry per stage"),
    ],
)
def test_bad_decoder_arguments(kwargs: dict, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        Decoder(3, 3, **kwargs)


def test_user_factory_gets_a_builder_per_stage() -> None:
    calls = []

    def factory(upsample, *, in_channels, out_channels, schedule, dims):
        layers = []
        for factor in schedule:
            calls.append(factor)
            layers.append(upsample(in_channels, in_channels, factor))
        return torch.nn.Sequential(*layers, torch.nn.Conv2d(in_channels, out_channels, 1))

    model = decoder_from_factory(factory, "bilinear", in_channels=3, out_channels=1, schedule=[2, 3])
    assert calls == [2, 3]
    assert model(torch.rand(1, 3, 4, 4)).shape == (1, 1, 24, 24)
    with pytest.raises(InvalidTypeError, match="must return a torch.nn.Module"):
        decoder_from_factory(lambda up, **kw: "nope", "bilinear", in_channels=1, out_channels=1, schedule=[2])


# ---------------------------------------------------------------------------------- issue 16
def _ordered_factorisations(n: int) -> list[list[int]]:
    """The enumeration before issue 16 (every factor from n down to 2), as the reference."""
    if n == 1:
        return [[]]
    return [[f, *rest] for f in range(n, 1, -1) if n % f == 0 for rest in _ordered_factorisations(n // f)]


def test_schedules_match_the_full_enumeration() -> None:
    for n in range(1, 200):
        expected = sorted(_ordered_factorisations(n), key=lambda s: (len(s), [-f for f in s]))
        assert schedules(n) == expected
        assert schedules(n, max_stages=2) == [s for s in expected if len(s) <= 2]
        product = [f for s in expected[-1:] for f in s]  # the longest: the prime factors
        assert resolve_schedule(n) == sorted(product, reverse=True)


def test_large_scales_are_factored_quickly_or_refused() -> None:
    assert resolve_schedule(2**32 - 5) == [2**32 - 5]  # a prime: trial division stops at its square root
    assert len(schedules(2**16)) == 2**15
    with pytest.raises(InvalidArgumentError, match=r"total_scale=1048576 has 524288 ordered factorisations, more "
                                                   r"than MAX_SCHEDULES=100000"):
        schedules(2**20)
    with pytest.raises(InvalidArgumentError, match=r"scale must be at most MAX_SCALE=4294967296 \(2\*\*32\), "
                                                   r"but got 10{30}"):
        Decoder(4, 3, 10**30)


@pytest.mark.parametrize(("kwargs", "error", "pattern"), [
    ({"dims": True}, InvalidArgumentError, r"Decoder: dims must be 1, 2 or 3 .*but got True"),
    ({"dims": 2.0}, InvalidArgumentError, r"Decoder: dims must be 1, 2 or 3 .*but got 2.0"),
    ({"scale": "4"}, InvalidTypeError, r"scale must be an integer >= 1, but got '4'"),
    ({"scale": math.nan}, InvalidTypeError, r"scale must be an integer >= 1, but got nan"),
    ({"schedule": 4}, InvalidArgumentError, r"schedule must be a list of integer factors or 'auto', but got 4"),
    ({"upsampler": 3}, InvalidArgumentError, r"upsampler name must be one of .*, but got 3"),
    ({"upsampler_options": "x"}, InvalidTypeError, r"upsampler_options must be a dict of keyword arguments, but "
                                                   r"got str"),
    ({"upsampler_options": {"bias": "no"}}, InvalidTypeError, r"SubPixelConv: bias must be True or False, but "
                                                              r"got 'no'"),
])
def test_decoder_arguments_are_validated(kwargs: dict, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        Decoder(**{"in_channels": 4, "out_channels": 3, "scale": 4, **kwargs})


def test_decoder_inputs_must_match_its_parameters() -> None:
    decoder = Decoder(4, 3, scale=2, upsampler="bilinear", channels=4)
    with pytest.raises(InvalidTypeError, match=r"Decoder: the input x must have the dtype of the layer's "
                                               r"parameters, but got x of torch.float64 and parameters of "
                                               r"torch.float32"):
        decoder(torch.zeros(1, 4, 3, 3, dtype=torch.float64))
    with pytest.raises(InvalidArgumentError, match=r"Decoder\(in_channels=4\) expects 4 input channels"):
        decoder(torch.zeros(1, 5, 3, 3))
    assert decoder(torch.zeros(1, 4, 3, 3)).shape == (1, 3, 6, 6)
    assert Decoder(4, 3, np.int64(4)).scale == 4  # NumPy integers are integers
