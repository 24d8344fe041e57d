"""Which weights ``fisher demo`` runs with — chosen offline, stated plainly.

Order for a registry name (default ``"tiny"``): the official weights if they are in the local Hugging Face cache
→ ``"official"``; else the shipped self-pretrained model when ``"demo"`` is registered
(``fisher.Fisher.from_pretrained("demo")``) → ``"demo"``; else a random-init model of the same architecture →
``"random"``. Only "not cached" (``FileNotFoundError``) moves on to the next choice; any other loading error
(a corrupt file, a key mismatch) is raised. A path, hub id or ``"demo"`` given explicitly is loaded or fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fisher.model.network import Fisher

__all__ = ["DemoWeights", "load_demo_model", "registry_names"]

DEMO_NAME = "demo"


@dataclass
class DemoWeights:
    """``model``: the :class:`fisher.Fisher`; ``weights``: "official" | "demo" | "random" | "custom" (a path or hub
    id you gave); ``description``: one human-readable line saying which weights and why; ``name``: the model
    actually used — the registry name of official weights (``"tiny"``), ``"demo"`` for the shipped demo model (also
    when ``"tiny"`` was asked for and fell back to it), the architecture of random weights, or your path / hub id."""

    model: Fisher
    weights: str
    description: str
    name: str = ""


def registry_names() -> list[str]:
    """Names of the registered pretrained models (``fisher.list_models()``; records or plain names)."""
    from fisher.hub.registry import list_models

    return [getattr(r, "name", r) for r in list_models()]


def _random(name: str, reason: str) -> DemoWeights:
    import torch

    from fisher.model.network import Fisher
    from fisher.recipe.fisher_config import PRESETS, FisherConfig

    scale = name if name in PRESETS else "tiny"
    torch.manual_seed(0)
    return DemoWeights(
        Fisher(FisherConfig.preset(scale)),
        "random",
        f"RANDOM weights (FISHER-{scale} architecture, seed 0) because {reason}",
        scale,
    )


def _first_sentence(err: Exception) -> str:
    return str(err).split(". ")[0]


def load_demo_model(name: str = "tiny", *, random_init: bool = False, download: bool = False) -> DemoWeights:
    """Load the demo's model (see the module docstring).

    Args:
        name: registry name (``tiny``/``mini``/``small``), ``"demo"``, a local directory / ``.pt`` file or a hub id.
        random_init: skip loading; random weights. download: also try the hub for official weights (network).
    """
    from fisher.model.network import Fisher

    if random_init:
        return _random(name, "--random-init was requested")
    names = registry_names()
    if name == DEMO_NAME and name in names:
        return DemoWeights(
            Fisher.from_pretrained(DEMO_NAME),
            "demo",
            "shipped self-pretrained 'demo' weights (not the official FISHER release)",
            DEMO_NAME,
        )
    if name not in names:  # a path or hub id the user chose: load it or fail loudly
        model = Fisher.from_pretrained(name, local_files_only=not download)
        return DemoWeights(model, "custom", f"weights from {name}", name)
    try:
        model = Fisher.from_pretrained(name, local_files_only=True)
        return DemoWeights(model, "official", f"official FISHER-{name} weights (local cache)", name)
    except FileNotFoundError:
        reason = f"the official '{name}' weights are not in the local Hugging Face cache"
    if download:
        try:
            model = Fisher.from_pretrained(name)
            return DemoWeights(model, "official", f"official FISHER-{name} weights (downloaded)", name)
        except FileNotFoundError as err:
            reason = f"the official '{name}' weights could not be downloaded ({_first_sentence(err)})"
    if DEMO_NAME in names:
        return DemoWeights(
            Fisher.from_pretrained(DEMO_NAME),
            "demo",
            f"shipped self-pretrained 'demo' weights (not the official release) because {reason}",
            DEMO_NAME,
        )
    return _random(name, reason + " and no shipped 'demo' model is registered")
