"""Resolve a model reference to a local path: a file/directory, a registry name or a Hugging Face hub id.

Hub downloads go through ``huggingface_hub.snapshot_download`` and therefore respect ``HF_HOME``,
``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE``; ``local_files_only=True`` never touches the network.

Local folders and registered names: a bare registered name (``"demo"``, ``"tiny"`` …) is shadowed only by a local
folder of that name that *is* a saved model (:func:`saved_model_problem` finds nothing missing) — then the folder is
used and the ``"fisher"`` logger says so at INFO level. Any other folder of that name (e.g. an empty ``./demo``) is
ignored. A path given explicitly (a ``Path``, or a string with a separator such as ``./demo`` or ``/x/demo``) must be
a checkpoint file or a saved-model folder; otherwise ``FileNotFoundError`` names the missing files.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from fisher.hub.registry import list_models, packaged_path

__all__ = ["download_snapshot", "parse_hub_id", "pinned_revision", "resolve", "saved_model_problem"]

logger = logging.getLogger("fisher")

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_ALLOW = ["*.json", "*.safetensors", "*.bin", "*.pt", "*.pth", "*.py", "*.md"]


def parse_hub_id(name: str) -> tuple[str, str | None] | None:
    """``"org/repo"``, ``"hf-hub:org/repo"`` or ``"hf-hub:org/repo@rev"`` → ``(repo_id, revision)``; else ``None``."""
    explicit = name.startswith("hf-hub:")
    body = name[len("hf-hub:") :] if explicit else name
    repo, _, rev = body.partition("@")
    if _HUB_ID.match(repo):
        return repo, rev or None
    if explicit:
        raise ValueError(f"invalid hub reference {name!r}; expected hf-hub:org/repo[@revision]")
    return None


def saved_model_problem(path: Path) -> str | None:
    """What keeps ``path`` from being a saved model (``None``: a checkpoint file or a folder holding weights).

    A saved-model folder holds ``model.safetensors`` (+ ``config.json``; written by ``save_pretrained`` /
    ``fisher convert``), ``pytorch_model.bin`` or exactly one official ``.pt`` / ``.pt.xz`` file.
    """
    if path.is_file():
        return None
    if not path.is_dir():
        return "it does not exist"
    names = sorted(p.name for p in path.iterdir())
    pts = [n for n in names if n.endswith((".pt", ".pt.xz"))]
    if "model.safetensors" in names or "pytorch_model.bin" in names or len(pts) == 1:
        return None
    missing = "model.safetensors" if "config.json" in names else "config.json and model.safetensors"
    return (
        f"it is missing {missing} (found: {names or 'an empty folder'}); expected a folder written by "
        "save_pretrained / `fisher convert` (config.json + model.safetensors), a folder with pytorch_model.bin or "
        "one official .pt file, or the .pt file itself"
    )


def _explicit_path(name: str | Path) -> bool:
    if isinstance(name, Path):
        return True
    return any(sep and sep in name for sep in (os.sep, os.altsep, "/")) or name.startswith(("~", "."))


def resolve(
    name_or_path: str | Path,
    *,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool | None = None,
) -> Path:
    """Return a local file or directory for ``name_or_path``.

    Order: an existing local path (module doc: a folder shadows a registered name only if it is a saved model);
    a registry name (``tiny``/``mini``/``small`` → the official repo, ``demo`` → packaged); a hub id. Revision: ``revision=`` if given, else an ``@rev`` in the reference, else the registry's pinned commit of the
    official repo (:func:`pinned_revision`; FISHER-mini has none), else the default branch.
    """
    if not isinstance(name_or_path, (str, Path)):
        raise TypeError(f"name_or_path must be a str or Path, got {type(name_or_path).__name__}")
    records = {r.name: r for r in list_models()}
    path = Path(name_or_path).expanduser()
    if isinstance(name_or_path, Path) and not path.exists():
        raise FileNotFoundError(f"no such file or directory: {path}")
    if path.exists():
        problem = saved_model_problem(path)
        if not _explicit_path(name_or_path) and name_or_path in records:
            if problem is None and path.is_dir():
                logger.info(
                    "the local folder %s shadows the registered model %r (it is a saved model); pass a hub id or "
                    "rename the folder to load the registered one",
                    path.resolve(),
                    name_or_path,
                )
                return path
        elif problem is not None:
            raise FileNotFoundError(f"{path} holds no FISHER weights (not a saved FISHER model): {problem}")
        else:
            return path
    name = str(name_or_path)
    if name in records and records[name].package_dir is not None:
        return packaged_path(records[name])  # ships with the library: never downloads
    if name in records:
        repo, rev = records[name].hub_repo, None
    else:
        parsed = parse_hub_id(name)
        if parsed is None:
            raise FileNotFoundError(
                f"{name!r} is neither an existing path, a pretrained name ({', '.join(records)}) nor a hub id "
                "(org/repo)"
            )
        repo, rev = parsed
    return _download(repo, revision or rev or pinned_revision(repo), cache_dir, local_files_only)


def pinned_revision(repo: str) -> str | None:
    """The registry's pinned commit of an official hub repo (``None`` for other repos and unpinned records)."""
    for record in list_models():
        if record.hub_repo == repo:
            return record.revision
    return None


def _download(repo: str, revision: str | None, cache_dir: str | Path | None, local_files_only: bool | None) -> Path:
    return download_snapshot(
        repo,
        revision=revision,
        cache_dir=cache_dir,
        local_files_only=local_files_only,
        allow_patterns=_ALLOW,
        what="FISHER weights",
        advice=(
            ". Download them once on a connected machine, or pass a local path (a directory from save_pretrained / "
            "`fisher convert`, or the official .pt file)."
        ),
    )


def download_snapshot(
    repo: str,
    *,
    revision: str | None,
    cache_dir: str | Path | None,
    local_files_only: bool | None,
    allow_patterns: list[str],
    what: str,
    advice: str,
) -> Path:
    """``huggingface_hub.snapshot_download`` of ``allow_patterns`` from ``repo`` → the local snapshot directory.

    Args:
        repo: hub repository id ``org/repo``.
        revision: branch, tag or commit (``None``: the default branch).
        cache_dir: Hugging Face cache directory (``None``: ``HF_HUB_CACHE``).
        local_files_only: never touch the network (``None`` counts as ``False``).
        allow_patterns: the files to fetch.
        what: what the repository holds, for the error message (``"FISHER weights"``, ``"detector"``).
        advice: the rest of the error message after "(offline mode or no network)", punctuation included.
    Returns:
        The snapshot directory.
    Raises:
        FileNotFoundError: the snapshot is not cached and the hub cannot be reached.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    try:
        return Path(
            snapshot_download(
                repo,
                revision=revision,
                cache_dir=cache_dir,
                local_files_only=bool(local_files_only),
                allow_patterns=allow_patterns,
                library_name="fisher-signal",
            )
        )
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as err:
        raise FileNotFoundError(
            f"{what} {repo!r} is not in the local Hugging Face cache and the hub cannot be reached (offline mode or "
            f"no network){advice} Cause: {err}"
        ) from err
