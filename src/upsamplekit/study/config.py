"""Study settings: one dataclass, documented field by field, loaded from defaults, ``--quick``,
a TOML file and command-line overrides, in that order.

Every field's help text is the ``--help`` of ``upsamplekit study``; the TOML keys are the field
names. Unknown keys are errors that name the key, the file, the line and the closest valid key.
Importing this module is light (no torch, no optuna: the command line builds its options from
it); checking the upsampler names and schedules imports the layers.

>>> config = StudyConfig.build(overrides={"steps": "50", "upsamplers": "bilinear,subpixel"})
>>> config.steps, config.upsamplers
(50, ['bilinear', 'subpixel'])
>>> [c.label for c in config.candidates()]
['bilinear [4]', 'subpixel [4]', 'bilinear [2, 2]', 'subpixel [2, 2]']
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..checks import is_integer, is_real
from ..errors import InvalidArgumentError, unknown_choice
from .device import check_device_name, check_precision_name
from .results import Candidate

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["StudyConfig", "DEFAULT_UPSAMPLERS", "QUICK", "TASK_DEFAULTS", "TRIAL_SETTINGS", "ConfigError"]

DEFAULT_UPSAMPLERS = ["nearest", "bilinear", "bicubic", "transposed", "subpixel", "resizeconv", "carafe", "dysample"]
#: The study's tasks (``--task``; see :mod:`upsamplekit.study.tasks`).
TASKS = ("sr", "autoencoder", "denoise")


class ConfigError(InvalidArgumentError):
    """A study setting is unknown or out of its range."""


def _opt(default: Any, help: str, **kw: Any) -> Any:
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class StudyConfig:
    """Everything a study run depends on. See :meth:`build` for where values come from."""

    task: str = _opt("sr", "Task: 'sr' (super-resolution of area-downsampled crops), 'autoencoder' (a fixed small "
                           "encoder downsamples, the decoder under study upsamples back) or 'denoise' (a U-Net "
                           "whose decoder stages use the candidate and the encoder's features removes Gaussian "
                           "noise of --noise).")
    noise: float = _opt(0.1, "Task denoise: standard deviation of the Gaussian noise, in pixel units (0.1 is 25.5 "
                             "on 8 bits).", low=0.0, high=1.0)
    merge: str = _opt("concat", "Task denoise: how a plain upsampler's output meets the encoder feature: 'concat' "
                                "or 'add' (a guided upsampler takes it as its guide).")
    skip: int = _opt(1, "Task sr: 1 adds the decoder's output, times a learned gain that starts at 0, to a bicubic "
                        "upsampling of its input (a global residual, as VDSR and many super-resolution networks "
                        "do: every candidate starts at the no-network baseline and learns the detail); 0 makes the "
                        "decoder produce the image alone (needs far longer training to reach the baseline).",
                   low=0, high=1)
    scale: int = _opt(4, "Total upsampling factor of the decoder (integer >= 2).", low=2)
    upsamplers: list[str] = _opt(DEFAULT_UPSAMPLERS, "Upsamplers to compare: registry names, comma-separated "
                                                     "(see `upsamplekit.list_upsamplers()`).")
    schedules: list[list[int]] = _opt([], "Factor schedules, e.g. '4,2x2' for [4] and [2, 2]; empty: every "
                                          "ordered factorisation of --scale (up to --max-stages stages).")
    max_stages: int = _opt(3, "Longest schedule considered when --schedules is empty.", low=1)
    seeds: int = _opt(2, "Seeds per candidate (0 .. seeds-1); mean and std are over seeds.", low=1)
    steps: int = _opt(400, "Training steps per trial (Adam, squared error, warm-up then cosine learning rate, "
                           "gradient norm clipped at 1).", low=1)
    budget: str = _opt("full", "Budget policy: 'full' (every candidate trains --steps) or 'halving' (successive "
                               "halving: every candidate trains a first rung, those separably worse than the best "
                               "over their seeds stop, the others continue from their checkpoint; the finalists "
                               "train --steps; needs --seeds >= 2; see docs/study.md).")
    eta: int = _opt(2, "Budget halving: each rung ends eta times later than the one before.", low=2)
    rungs: int = _opt(2, "Budget halving: number of rungs (the last ends at --steps; the default 2 decides once, "
                         "at steps/eta: earlier rungs stopped slow starters that win later, see docs/study.md).",
                      low=2)
    batch_size: int = _opt(16, "Crops per training step.", low=1)
    crop: int = _opt(48, "Side of the high-resolution training crops, a multiple of --scale.", low=2)
    width: int = _opt(32, "Decoder width: channels of its body at the input resolution; after each stage the "
                          "width is divided by the scale reached so far (never below 8).", low=1)
    widths: list[int] = _opt([], "Per-stage widths instead of --width's falling ones: the body's width, then one per "
                                 "stage, e.g. '64,32,16' (then every candidate needs that many stages).")
    depth: int = _opt(2, "Residual blocks of the decoder's body at the input resolution (0: none).", low=0)
    latent_channels: int = _opt(16, "Autoencoder task: channels of the encoder's latent.", low=1)
    lr: float = _opt(5e-4, "Peak learning rate (Adam); task denoise: 2e-3 unless given.", low=0.0)
    device: str = _opt("auto", "Where to train and measure: 'auto' (CUDA when available, else the CPU), 'cpu', "
                               "'cuda', 'cuda:N' or 'mps'. A study's trials are comparable on one kind of device only.")
    precision: str = _opt("fp32", "Training precision: 'fp32', or 'bf16' / 'fp16' autocast (fp16 with gradient "
                                  "scaling); validation and costs are measured in float32.")
    images: str = _opt("", "Folder of PNG/JPEG images to use instead of the bundled photographs.")
    val_fraction: float = _opt(0.2, "With --images: share of the images held out for validation (by image).",
                               low=0.0, high=1.0)
    val_crops: int = _opt(4, "Validation crops per validation image (the first is the centre).", low=1)
    val_size: int = _opt(96, "Side of the validation crops, a multiple of --scale.", low=2)
    decoder: str = _opt("", "Your decoder: 'module:function', a factory called as f(upsample, in_channels=, "
                            "out_channels=, schedule=, dims=) (see upsamplekit.decoder.DecoderFactory).")
    latency_size: int = _opt(64, "Side of the decoder input at which latency, MACs and memory are measured.",
                             low=1)
    threads: int = _opt(0, "Torch CPU threads (0: torch's default).", low=0)
    out: str = _opt("upsamplekit-study", "Output folder: study database, report, results.", trial=False)
    storage: str = _opt("", "Where trials are stored: sqlite:///path.db (one process; default: study.db in the "
                            "output folder), postgresql://user:password@host/db or journal:/shared/path/study.log "
                            "(any number of `upsamplekit worker` processes; see docs/distributed.md).", trial=False)
    study_name: str = _opt("upsamplekit-study", "Name of the study in the storage.", trial=False)
    heartbeat: int = _opt(10, "Shared storage: seconds between a worker's heartbeats; a trial whose worker is "
                              "silent for 3 heartbeats is marked failed and run again by another worker.",
                          low=1, trial=False)

    # ----------------------------------------------------------------------------- building
    @classmethod
    def build(cls, config_file: str | Path | None = None, overrides: dict[str, Any] | None = None,
              quick: bool = False) -> StudyConfig:
        """Defaults, then :data:`QUICK` if ``quick``, then the TOML file, then ``overrides``
        (command-line strings or values; ``None`` values are skipped), then the defaults of the task
        (:data:`TASK_DEFAULTS`) for settings none of these gave; then validated."""
        values: dict[str, Any] = {}
        if quick:
            values.update(QUICK)
        if config_file is not None:
            values.update(_read_toml(Path(config_file)))
        for name, value in (overrides or {}).items():
            if value is not None:
                values[name] = _coerce(name, value, "option --" + name.replace("_", "-"), text=isinstance(value, str))
        for name, value in TASK_DEFAULTS.get(values.get("task", ""), {}).items():
            values.setdefault(name, value)  # a task's own default, unless the setting was given
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        """Check types, ranges and cross-field rules; raise :class:`ConfigError` naming the setting."""
        for f in fields(self):
            value = getattr(self, f.name)
            _check_kind(f.name, value)
            low, high = f.metadata.get("low"), f.metadata.get("high")
            if low is not None and value < low or high is not None and value > high:
                rule = f">= {low}" if high is None else f"in [{low}, {high}]"
                raise ConfigError(f"{f.name} must be {rule}, but got {value!r}")
        for name in ("out", "study_name"):
            if not getattr(self, name).strip():
                raise ConfigError(f"{name} must not be empty, but got {getattr(self, name)!r}"
                                  + (" (an empty path would write into the current directory)" if name == "out" else ""))
        if self.task not in TASKS:
            raise unknown_choice("task", self.task, TASKS)
        if self.merge not in ("concat", "add"):
            raise unknown_choice("merge", self.merge, ("concat", "add"))
        if self.task == "denoise" and self.decoder:
            raise ConfigError("task 'denoise' studies the upsamplers of its own U-Net; decoder (your own) works "
                              "with the tasks 'sr' and 'autoencoder'")
        for name in ("crop", "val_size"):
            if getattr(self, name) % self.scale:
                raise ConfigError(f"{name} must be a multiple of scale={self.scale}, but got {name}={getattr(self, name)}")
        if not self.upsamplers:
            raise ConfigError("upsamplers must name at least one upsampler, but got an empty list")
        from .budget import BUDGETS, rung_problem  # imports torch, as the checks below do

        if self.budget not in BUDGETS:
            raise unknown_choice("budget", self.budget, BUDGETS)
        if self.budget == "halving":
            if self.seeds < 2:
                raise ConfigError(f"budget 'halving' needs seeds >= 2, but got seeds={self.seeds}: a candidate stops "
                                  "only when it is separably worse over its seeds, never on one noisy number "
                                  "(use --seeds 2 or more, or --budget full)")
            problem = rung_problem(self.steps, self.eta, self.rungs)
            if problem is not None:
                raise ConfigError(f"budget 'halving': {problem}")
        check_device_name(self.device)
        check_precision_name(self.precision)
        if any(w < 1 for w in self.widths):
            raise ConfigError(f"widths must be integers >= 1, but got {self.widths!r}")
        if self.widths and self.decoder:
            raise ConfigError("widths sets the default decoder's widths; with decoder (your own) leave it empty")
        from ..decoder import resolve_schedule  # the checks need torch: imported when a config is validated
        from ..nn.registry import upsampler_info

        for name in self.upsamplers:
            if upsampler_info(name).guided and self.task != "denoise":
                raise ConfigError(f"upsampler {name!r} needs a guide (an encoder feature at the output size): only "
                                  "task 'denoise', whose U-Net passes the encoder's features, can study it")
        for schedule in self.schedules:
            resolve_schedule(self.scale, schedule)
        if self.widths:
            wrong = [s for s in self.resolved_schedules() if len(s) + 1 != len(self.widths)]
            if wrong:
                raise ConfigError(f"widths must have one entry for the body and one per stage, {len(wrong[0]) + 1} "
                                  f"for schedule {wrong[0]}, but got {len(self.widths)}: {self.widths}; give "
                                  "--schedules with that many stages, or use --width")
        if self.decoder and not re.fullmatch(r"[\w.]+:[\w.]+", self.decoder):
            raise ConfigError(f"decoder must be 'module:function', but got {self.decoder!r}")

    # ----------------------------------------------------------------------------- derived
    def resolved_schedules(self) -> list[list[int]]:
        """The schedules given, or every ordered factorisation of ``scale`` up to ``max_stages`` stages."""
        from ..decoder import schedules

        return [list(s) for s in self.schedules] or schedules(self.scale, self.max_stages)

    def candidates(self) -> list[Candidate]:
        """Every (upsampler, schedule) pair: schedule-major, in the order given."""
        return [Candidate(name, tuple(s)) for s in self.resolved_schedules() for name in self.upsamplers]

    def trial_settings(self) -> dict[str, Any]:
        """The settings a trial's result depends on, besides its candidate and seed.

        A stored study resumes only when these are equal; the candidate grid and the number of
        seeds may grow (finished trials are reused), except with ``budget = "halving"``, whose rung
        decisions were taken over the study's seeds. ``device`` is the kind of device it resolves to
        on this machine (``cpu``, ``cuda``, ``mps``): trials on other kinds are not comparable.
        """
        from .device import device_kind

        settings = {name: getattr(self, name) for name in TRIAL_SETTINGS}
        if self.budget == "halving":  # its rung decisions were taken over these seeds
            settings["seeds"] = self.seeds
        settings["device"] = device_kind(self.device)
        return settings

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def shared_dict(self) -> dict[str, Any]:
        """What is stored with the study for its workers and its report: everything but this
        machine's own choices (output folder, storage URL with its password, threads)."""
        return {k: v for k, v in self.to_dict().items() if k not in _LOCAL}

    @classmethod
    def from_shared(cls, stored: dict[str, Any], **local: Any) -> StudyConfig:
        """The config a worker or report rebuilds from :meth:`shared_dict`, plus local choices."""
        unknown = sorted(set(stored) - set(_KINDS))
        if unknown:
            raise ConfigError(f"the stored settings have keys this upsamplekit does not know: {', '.join(unknown)} "
                              "(made by another version?)")
        config = cls(**{k: v for k, v in stored.items() if k not in _LOCAL}, **local)
        config.validate()
        return config


TRIAL_SETTINGS = tuple(f.name for f in fields(StudyConfig)
                       if f.metadata.get("trial", True) and f.name not in ("upsamplers", "schedules", "max_stages",
                                                                             "seeds", "threads"))

_LOCAL = ("out", "storage", "threads")

#: Defaults that differ by task (measured: the denoising U-Net learns far too slowly at the super-resolution
#: decoder's peak learning rate: 21.1 dB after 100 steps at 5e-4, 28.4 dB after 200 at 2e-3).
TASK_DEFAULTS: dict[str, dict[str, Any]] = {"denoise": {"lr": 2e-3}}

#: The ``--quick`` preset: a first look in about a minute, and the tests' study.
QUICK: dict[str, Any] = {
    "upsamplers": ["bilinear", "transposed", "subpixel"],
    "steps": 120,
    "val_crops": 2,
    "latency_size": 32,
}


# --------------------------------------------------------------------------------- parsing
#: Each setting's type: that of its default (list for the list-valued ones).
_KINDS: dict[str, type] = {f.name: type(f.default) if f.default is not dataclasses.MISSING else list
                           for f in fields(StudyConfig)}


def _coerce(name: str, value: Any, where: str, text: bool = False) -> Any:
    """Turn a TOML value, or a command-line string (``text``), into the field's type, or explain why not."""
    if name not in _KINDS:
        raise unknown_choice("setting", name, list(_KINDS))
    kind = _KINDS[name]
    try:
        if name == "schedules":
            if text:
                return [[int(f) for f in part.split("x")] for part in value.split(",") if part.strip()]
            if isinstance(value, list) and all(isinstance(s, list) and all(type(f) is int for f in s) for s in value):
                return value
            raise ValueError
        if name == "widths":
            if text:
                return [int(part) for part in value.split(",") if part.strip()]
            if isinstance(value, list) and all(type(v) is int for v in value):
                return list(value)
            raise ValueError
        if name == "upsamplers":
            if text:
                return [part.strip() for part in value.split(",") if part.strip()]
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return list(value)
            raise ValueError
        if kind is bool or isinstance(value, bool):
            raise ValueError
        if kind is int:
            return int(value) if text else _exact(value, int)
        if kind is float:
            number = float(value) if text else float(_exact(value, (int, float)))
            if not math.isfinite(number):
                raise ValueError
            return number
        if kind is str:
            return _exact(value, str)
    except ValueError:
        pass
    labels: dict[Any, str] = {"schedules": "schedules like '4,2x2' (TOML: [[4], [2, 2]])",
                "upsamplers": "names like 'bilinear,subpixel' (TOML: a list of strings)",
                "widths": "widths like '64,32,16' (TOML: a list of integers)",
                int: "an integer", float: "a finite number", str: "a string"}
    expected = labels.get(name) or labels[kind]
    raise ConfigError(f"{where} must be {expected}, but got {value!r}")


def _exact(value: Any, kinds: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kinds):
        raise ValueError
    return value


def _check_kind(name: str, value: Any) -> None:
    """A setting's value has its field's type: ints are ints (not bools, not floats), floats are finite
    numbers, strings are strings, and the two lists hold what they should."""
    kind = _KINDS[name]
    if name == "upsamplers":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        wanted = "a list of upsampler names"
    elif name == "widths":
        ok = isinstance(value, list) and all(is_integer(v) for v in value)
        wanted = "a list of integers"
    elif name == "schedules":
        ok = isinstance(value, list) and all(isinstance(s, (list, tuple)) and all(is_integer(f) for f in s)
                                             for s in value)
        wanted = "a list of schedules (lists of integers)"
    elif kind is int:
        ok, wanted = is_integer(value), "an integer"
    elif kind is float:
        ok, wanted = is_real(value) and math.isfinite(value), "a finite number"
    else:
        ok, wanted = isinstance(value, str), "a string"
    if not ok:
        raise ConfigError(f"{name} must be {wanted}, but got {value!r}")


def _read_toml(path: Path) -> dict[str, Any]:
    if path.is_dir():
        raise ConfigError(f"config file {str(path)!r} must be a TOML file, but it is a directory")
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"config file {str(path)!r} cannot be read: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")  # TOML is UTF-8; a leading byte-order mark (Windows editors) is skipped
    except UnicodeDecodeError as error:
        number = raw[:error.start].count(b"\n") + 1
        raise ConfigError(f"config file {str(path)!r} must be UTF-8 text (TOML is UTF-8), but byte "
                          f"0x{raw[error.start]:02x} on line {number} is not UTF-8: save it as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {error}") from None
    names = list(_KINDS)
    values = {}
    for key, value in data.items():
        line = _line_of(text, key)
        where = f"key {key!r} in {path}, line {line}"
        if key not in names:
            near = difflib.get_close_matches(key.replace("-", "_"), names, n=1, cutoff=0.5)
            hint = f"; did you mean {near[0]!r}?" if near else f"; valid keys: {', '.join(names)}"
            raise ConfigError(f"unknown {where}{hint}")
        values[key] = _coerce(key, value, where)
    return values


def _line_of(text: str, key: str) -> int | str:
    pattern = re.compile(rf"^\s*(\[+\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\])")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return "?"
