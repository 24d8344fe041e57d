"""Shared test configuration: offline hub, fixed threads, and the location of ``../shared``."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

torch.set_num_threads(2)

REPO = Path(__file__).resolve().parents[1]


def run_python(code: str, *, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python -c code`` in a fresh interpreter with this checkout first on ``PYTHONPATH`` (text output)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env, cwd=cwd)


@contextlib.contextmanager
def time_limit(seconds: int, what: str) -> Iterator[None]:
    """Raise ``TimeoutError("<what> exceeded <seconds> s")`` in the main thread if the body runs longer (SIGALRM)."""

    def expire(signum, frame):
        raise TimeoutError(f"{what} exceeded {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def shared_dir() -> Path | None:
    """``$FISHER_SHARED`` or ``../shared`` beside the repository, if it exists."""
    env = os.environ.get("FISHER_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared")
    for c in candidates:
        if c.is_dir():
            return c
    return None


def require_shared(*parts: str) -> Path:
    """Path below the shared folder; skip locally when missing, but fail when ``CI`` is set."""
    root = shared_dir()
    path = root.joinpath(*parts) if root is not None else None
    if path is None or not path.exists():
        msg = f"shared data not found: {'/'.join(parts)} (set FISHER_SHARED or place ../shared beside the repo)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def shared() -> Path:
    return require_shared()


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return require_shared("fixtures")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return require_shared("data")
