"""The size limits of every ``fisher`` command-line option, in one place, and the ``argparse`` types that enforce them.

Every size-like value is checked while the command line is parsed, before anything is allocated, so a typo such as
``fisher demo --rates 1000000000`` ends with exit code 2 and one line naming the option, the value and the limit::

    fisher demo: error: argument --rates: 1000000000 Hz is above the supported maximum 384000 Hz

Limits (inclusive unless noted):

=========================  ===========================  ====================================================
what                       range                        why
=========================  ===========================  ====================================================
sampling rate (Hz)         1000 … 384000, whole Hz      FISHER's 25 ms / 10 ms STFT needs whole-Hz rates;
                                                        384 kHz is the highest common ADC rate
rates per ``--rates``      1 … 8, no duplicates         one figure panel per rate
clip / window seconds      0.2 … 600                    16 STFT frames need 0.175 s
samples per clip           ≤ 2**24 (16.8 M)             64 MB as float32; 8 clips are embedded at once
clips per group (demo)     2 … 10000                    one bank clip and a normal/faulty test pair minimum
fault-to-background (dB)   -60 … 60                     beyond that the task is silent or trivial
seed                       0 … 2**32 - 1                numpy seeds are non-negative
fractions                  strictly between 0 and 1     a bank or test share must leave clips on both sides
neighbours k               1 … 1000
random splits (runs)       1 … 1000
channel index              0 … 1023
pAUC max FPR               0 (excluded) … 1
DCASE year                 2020 … 2026
pretraining steps          1 … 10**9 (``--until`` 0 …)
threads                    1 … 1024
clips per batch (bench)    1 … 256
time budget (bench)        1 … 3600 s
=========================  ===========================  ====================================================
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = [
    "MAX_BENCH_BATCH",
    "MAX_BUDGET",
    "MAX_CHANNEL",
    "MAX_CLIPS",
    "MAX_CLIP_SAMPLES",
    "MAX_K",
    "MAX_RATE",
    "MAX_RATES",
    "MAX_RUNS",
    "MAX_SECONDS",
    "MAX_SEED",
    "MAX_SNR_DB",
    "MAX_STEPS",
    "MAX_THREADS",
    "MIN_BUDGET",
    "MIN_CLIPS",
    "MIN_RATE",
    "MIN_SECONDS",
    "bounded_float",
    "bounded_int",
    "channel_arg",
    "check_clip_samples",
    "fraction",
    "rates_arg",
    "year_arg",
]

MIN_RATE, MAX_RATE = 1000, 384_000  # Hz
MAX_RATES = 8
MIN_SECONDS, MAX_SECONDS = 0.2, 600.0
MAX_CLIP_SAMPLES = 2**24
MIN_CLIPS, MAX_CLIPS = 2, 10_000
MAX_SNR_DB = 60.0
MAX_SEED = 2**32 - 1
MAX_K = 1000
MAX_RUNS = 1000
MAX_CHANNEL = 1023
MAX_STEPS = 10**9
MAX_THREADS = 1024
MAX_BENCH_BATCH = 256
MIN_BUDGET, MAX_BUDGET = 1.0, 3600.0  # seconds
YEARS = (2020, 2026)


def _number(text: str, kind: type, allowed: str) -> float:
    """``text`` as ``kind`` (int or float), finite; ``ArgumentTypeError`` naming the allowed range otherwise."""
    word = "a whole number" if kind is int else "a number"
    try:
        value = float(text) if kind is float else int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {word} (allowed: {allowed})") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number (allowed: {allowed})")
    return value


def _fmt(value: float) -> str:
    if isinstance(value, int) or (value.is_integer() and abs(value) < 1e16):
        return str(int(value))
    return f"{value:g}"


def _check_range(value: float, lo: float, hi: float, unit: str, *, open_lo: bool = False) -> None:
    suffix = f" {unit}" if unit else ""
    span = f"above {_fmt(lo)} up to {_fmt(hi)}" if open_lo else f"{_fmt(lo)}..{_fmt(hi)}"
    allowed = f"(allowed: {span}{suffix})"
    if value < lo or (open_lo and value == lo):
        relation = "must be above" if open_lo else "is below the supported minimum"
        raise argparse.ArgumentTypeError(f"{_fmt(value)}{suffix} {relation} {_fmt(lo)}{suffix} {allowed}")
    if value > hi:
        raise argparse.ArgumentTypeError(f"{_fmt(value)}{suffix} is above the supported maximum {_fmt(hi)}{suffix}")


def bounded_int(lo: int, hi: int, unit: str = "") -> Callable[[str], int]:
    """An ``argparse`` type: a whole number in ``lo..hi`` (inclusive)."""

    def parse(text: str) -> int:
        value = int(_number(text, int, f"{lo}..{hi}"))
        _check_range(value, lo, hi, unit)
        return value

    parse.__name__ = "whole number"
    return parse


def bounded_float(lo: float, hi: float, unit: str = "", *, open_lo: bool = False) -> Callable[[str], float]:
    """An ``argparse`` type: a finite number in ``lo..hi`` (``lo`` excluded when ``open_lo``)."""

    def parse(text: str) -> float:
        value = float(_number(text, float, f"above {lo:g} up to {hi:g}" if open_lo else f"{lo:g}..{hi:g}"))
        _check_range(value, lo, hi, unit, open_lo=open_lo)
        return value

    parse.__name__ = "number"
    return parse


def fraction(text: str) -> float:
    """An ``argparse`` type: a number strictly between 0 and 1."""
    value = float(_number(text, float, "strictly between 0 and 1"))
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{value:g} is not strictly between 0 and 1")
    return value


def _rate(text: str) -> float:
    value = float(_number(text, float, f"{MIN_RATE}..{MAX_RATE} Hz"))
    _check_range(value, MIN_RATE, MAX_RATE, "Hz")
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"{value:g} Hz is not a whole number of Hz (FISHER's STFT needs one)")
    return value


def rates_arg(text: str) -> list[float]:
    """An ``argparse`` type: comma-separated sampling rates in Hz (see the module table)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"needs at least one sampling rate in Hz, e.g. 16000; got {text!r}")
    if len(parts) > MAX_RATES:
        raise argparse.ArgumentTypeError(f"{len(parts)} rates given; at most {MAX_RATES} are supported")
    rates = [_rate(p) for p in parts]
    twice = sorted({r for r in rates if rates.count(r) > 1})
    if twice:
        raise argparse.ArgumentTypeError(f"{twice[0]:g} Hz is listed more than once; give each rate once")
    return rates


def year_arg(text: str) -> int:
    """An ``argparse`` type: a DCASE Task 2 year."""
    value = int(_number(text, int, f"{YEARS[0]}..{YEARS[1]}"))
    if not YEARS[0] <= value <= YEARS[1]:
        raise argparse.ArgumentTypeError(f"DCASE year must be one of {YEARS[0]}..{YEARS[1]}, got {value}")
    return value


def channel_arg(text: str) -> int | str:
    """An ``argparse`` type: a channel index ``0..MAX_CHANNEL``, ``mean``, or an array name (npz / mat files)."""
    word = text.strip()
    if not word:
        raise argparse.ArgumentTypeError("empty channel; give an index 0..1023, 'mean' or an npz/mat array name")
    if word.lstrip("+-").isdigit():
        value = int(word)
        if not 0 <= value <= MAX_CHANNEL:
            raise argparse.ArgumentTypeError(f"channel index {value} is outside 0..{MAX_CHANNEL}")
        return value
    return word


def check_clip_samples(sr: float, seconds: float, what: str = "--seconds") -> None:
    """Raise ``ValueError`` when ``sr * seconds`` exceeds :data:`MAX_CLIP_SAMPLES` (before any clip is made)."""
    samples = sr * seconds
    if samples > MAX_CLIP_SAMPLES:
        longest = MAX_CLIP_SAMPLES / sr
        raise ValueError(
            f"{what} {seconds:g} at {sr:g} Hz gives {samples:,.0f} samples per clip, above the supported maximum "
            f"{MAX_CLIP_SAMPLES:,} ({longest:.1f} s at this rate)"
        )
