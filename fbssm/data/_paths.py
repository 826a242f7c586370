"""Where datasets live: the root argument, else $FBSSM_DATA/<name> ($FBSSM_DATA defaults to ./data).

The LRA datasets (listops, aan, pathfinder) are also found inside the release as it extracts:
lra_release.gz unpacks to lra_release/lra_release/{listops-1000, tsv_data, pathfinder32, ...}, so a
root holding lra_release/ (or $FBSSM_DATA holding it, when $FBSSM_DATA/<name> does not exist) is
looked into, one or two levels deep.
"""
import os
from pathlib import Path

LRA_DATASETS = ("listops", "aan", "pathfinder")
LRA_RELEASE = "lra_release"
LRA_HOW_TO_GET = (
    "Run `fbssm fetch {name}`: it downloads lra_release.gz from the google-research/long-range-arena "
    "repository (https://storage.googleapis.com/long-range-arena/lra_release.gz) and extracts it into "
    "$FBSSM_DATA, where the loaders find $FBSSM_DATA/lra_release/ as it is. Or by hand: extract it "
    "with `tar xzf lra_release.gz` inside $FBSSM_DATA, or pass root=<the extracted lra_release folder "
    "or the dataset's own folder>, or set FBSSM_DATA so that $FBSSM_DATA/{name} is the dataset's folder.")


def data_folder():
    """$FBSSM_DATA, defaulting to ./data."""
    return Path(os.environ.get("FBSSM_DATA", "data"))


def release_folder(folder):
    """`folder`, or the innermost lra_release/ inside it (at most two levels, as the archive nests them)."""
    folder = Path(folder)
    for _ in range(2):
        if (folder / LRA_RELEASE).is_dir():
            folder = folder / LRA_RELEASE
    return folder


def default_root(name):
    """$FBSSM_DATA/<name>; for an LRA dataset without that folder, the extracted release
    $FBSSM_DATA/lra_release/... when it is there."""
    own = data_folder() / name
    if name in LRA_DATASETS and not own.exists() and (data_folder() / LRA_RELEASE).is_dir():
        return release_folder(data_folder())
    return own


def dataset_root(root, name):
    """The root argument as a Path (looked into lra_release/ for an LRA dataset), or the default
    folder of dataset `name`."""
    if root is None:
        return default_root(name)
    root = Path(root).expanduser()
    return release_folder(root) if name in LRA_DATASETS else root


def find_folder(root, subfolder, marker):
    """root/subfolder if it holds `marker`, else root if it does; None when neither does.

    Lets a root be either the release folder (holding e.g. listops-1000/) or the dataset's own folder.
    """
    for folder in (root / subfolder, root):
        if (folder / marker).exists():
            return folder
    return None
