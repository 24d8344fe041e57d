"""Resolve a model reference to a local path: a file/directory, a registry name or a Hugging Face hub id.

Hub downloads go through ``huggingface_hub.snapshot_download`` and therefore respect ``HF_HOME``,
``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE``; ``local_files_only=True`` never touches the network.
"""

from __future__ import annotations

import re
from pathlib import Path

from fisher.hub.registry import list_models, packaged_path

__all__ = ["download_snapshot", "parse_hub_id", "pinned_revision", "resolve"]

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


def resolve(
    name_or_path: str | Path,
    *,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool | None = None,
) -> Path:
    """Return a local file or directory for ``name_or_path``.

    Order: an existing local path; a registry name (``tiny``/``mini``/``small`` → the official repo); a hub id.
    Revision: ``revision=`` if given, else an ``@rev`` in the reference, else the registry's pinned commit of the
    official repo (:func:`pinned_revision`; FISHER-mini has none), else the default branch.
    """
    if isinstance(name_or_path, Path) or (isinstance(name_or_path, str) and Path(name_or_path).exists()):
        path = Path(name_or_path)
        if not path.exists():
            raise FileNotFoundError(f"no such file or directory: {path}")
        return path
    if not isinstance(name_or_path, str):
        raise TypeError(f"name_or_path must be a str or Path, got {type(name_or_path).__name__}")
    name = name_or_path
    records = {r.name: r for r in list_models()}
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
