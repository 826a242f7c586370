"""The real datasets, one command away: `fbssm fetch <dataset>` or `fetch(name, root=None)`.

Each dataset is downloaded from its official URL into the folder its loader reads by default
($FBSSM_DATA/<name>, $FBSSM_DATA defaulting to ./data; the LRA release, shared by listops, aan and
pathfinder, is extracted into $FBSSM_DATA itself and found there as lra_release/), or into root:

    dataset       files                                            extracted to
    listops, aan, lra_release.gz (one archive)                      <root>/lra_release/lra_release/...
    pathfinder
    imdb          aclImdb_v1.tar.gz                                <root>/aclImdb/
    cifar10       cifar-10-python.tar.gz                           <root>/cifar-10-batches-py/
    celeba        img_align_celeba.zip, list_eval_partition.txt    <root>/img_align_celeba/
    mnist         {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz  (read gzipped, not extracted)
    moving_mnist  mnist_test_seq.npy                               (read as it is)

Downloads go through `pooch.retrieve` with `ResumingDownloader`: what has arrived is kept as
<file>.part, and the next call continues it with an HTTP Range request. A file is checked against
its published checksum before it is extracted; where none is published (the LRA release) the
download is checked against the server's Content-Length and the extraction against the loaders.
The archives stay beside what they extract (delete them to save space).

FBSSM_FETCH_MIRROR=<base URL>: download <base URL>/<file> instead of the official URLs.
"""
import contextlib
import os
import re
import sys
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pooch
import requests
import urllib3
from tqdm.auto import tqdm

from .._checks import check_choice
from .._files import check_writable_folder
from . import aan, celeba, cifar, imdb, listops, mnist, moving_mnist, pathfinder
from ._paths import data_folder, dataset_root, default_root
from .errors import DatasetNotFound, DownloadFailed

MIRROR_VARIABLE = "FBSSM_FETCH_MIRROR"
PROCESSORS = {"tar": pooch.Untar, "zip": pooch.Unzip}


@dataclass(frozen=True)
class Download:
    """One file: its name on disk, official URL, published checksum ("md5:<hex>" or
    "sha256:<hex>"; None where none is published), size in bytes (None where not published),
    who publishes them, and how it is unpacked ("tar", "zip", or None: used as it is)."""
    file: str
    url: str
    known_hash: Optional[str]
    size: Optional[int]
    published: str
    unpack: Optional[str] = None


@dataclass(frozen=True)
class Dataset:
    """A dataset `fetch` can get: its files, and `find(root)`, which raises DatasetNotFound (or a
    ValueError for a broken file) unless its loader reads it from root (None: the default folder).
    release: the files are extracted into $FBSSM_DATA (or root) itself, not $FBSSM_DATA/<name>."""
    name: str
    title: str
    downloads: tuple
    find: Callable
    release: bool = False


# The LRA release: google-research/long-range-arena (README and dataset_setup.sh) publishes the URL
# but neither a checksum nor a size, so none is recorded here.
LRA_RELEASE = Download(
    "lra_release.gz", "https://storage.googleapis.com/long-range-arena/lra_release.gz", None, None,
    "google-research/long-range-arena (the URL only)", "tar")
# sha256 and size: tensorflow/datasets, tensorflow_datasets/datasets/imdb_reviews/checksums.tsv
# (torchtext's torchtext/datasets/imdb.py publishes md5 7c2ac02c03563afcf9b574c7e56c153a).
IMDB = Download(
    "aclImdb_v1.tar.gz", "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    "sha256:c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe", 84125825,
    "tensorflow/datasets imdb_reviews/checksums.tsv", "tar")
# md5: pytorch/vision, torchvision/datasets/cifar.py (CIFAR10.tgz_md5); no size is published there.
CIFAR10 = Download(
    "cifar-10-python.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "md5:c58f30108f718f92721af3b95e74349a", None, "pytorch/vision torchvision/datasets/cifar.py", "tar")
# CelebA lives on Google Drive. The file ids are those of torchvision/datasets/celeba.py; sha256 and
# sizes: tensorflow/datasets, tensorflow_datasets/url_checksums/celeb_a.txt (torchvision's md5s:
# 00d2c5bc6d35e252742224ab0c1e8fcb for the zip, d32c9cbf5e040fd4025c592c306e6668 for the partition).
# drive.usercontent.google.com with confirm=t serves a large file without Drive's virus-scan page.
DRIVE = "https://drive.usercontent.google.com/download?export=download&confirm=t&id="
CELEBA = (
    Download("img_align_celeba.zip", DRIVE + "0B7EVK8r0v71pZjFTYXZWM3FlRnM",
             "sha256:46fb89443c578308acf364d7d379fe1b9efb793042c0af734b6112e4fd3a8c74", 1443490838,
             "tensorflow/datasets url_checksums/celeb_a.txt", "zip"),
    Download("list_eval_partition.txt", DRIVE + "0B7EVK8r0v71pY0NSMzRuSXJEVkk",
             "sha256:fc955bcb3ef8fbdf7d5640d9a8693a8431b5f2ee291a5c1449a1549e7e073fe7", 2836386,
             "tensorflow/datasets url_checksums/celeb_a.txt"),
)
# sha256 and sizes: tensorflow/datasets, tensorflow_datasets/url_checksums/mnist.txt (its mirror).
MNIST_MIRROR = "https://storage.googleapis.com/cvdf-datasets/mnist/"
MNIST = tuple(
    Download(f"{stem}.gz", MNIST_MIRROR + f"{stem}.gz", f"sha256:{digest}", size,
             "tensorflow/datasets url_checksums/mnist.txt")
    for stem, size, digest in (
        ("train-images-idx3-ubyte", 9912422,
         "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        ("train-labels-idx1-ubyte", 28881,
         "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        ("t10k-images-idx3-ubyte", 1648877,
         "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        ("t10k-labels-idx1-ubyte", 4542,
         "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    ))
# md5: pytorch/vision, torchvision/datasets/moving_mnist.py; size: tensorflow/datasets,
# tensorflow_datasets/url_checksums/moving_mnist.txt (which also gives sha256 c2a3e8d3…f8b3).
MOVING_MNIST = Download(
    "mnist_test_seq.npy", moving_mnist.NPY_URL, "md5:be083ec986bfe91a449d63653c411eb2", 819200096,
    "pytorch/vision torchvision/datasets/moving_mnist.py; size: tensorflow/datasets")


def _find_pathfinder(root):
    for resolution in (32, 128):  # Pathfinder and Path-X
        pathfinder.pathfinder_folder(root, resolution)


def _find_mnist(root):
    for split in mnist.SPLITS:
        mnist.read_mnist(root, split, n=1)


def _find_celeba(root):
    partition = celeba.train_folder(root).parent / celeba.PARTITION_FILE
    if not partition.is_file():
        raise DatasetNotFound("CelebA partition file", partition, celeba.HOW_TO_GET)


REGISTRY = {dataset.name: dataset for dataset in (
    Dataset("listops", "LRA ListOps (the LRA release)", (LRA_RELEASE,), listops.listops_folder, True),
    Dataset("aan", "LRA Retrieval, AAN (the LRA release)", (LRA_RELEASE,), aan.aan_folder, True),
    Dataset("pathfinder", "LRA Pathfinder 32 and Path-X 128 (the LRA release)", (LRA_RELEASE,),
            _find_pathfinder, True),
    Dataset("imdb", "IMDB, Large Movie Review Dataset (LRA Text)", (IMDB,), imdb.imdb_folder),
    Dataset("cifar10", "CIFAR-10, python version", (CIFAR10,), cifar.cifar_folder),
    Dataset("celeba", "CelebA aligned and cropped faces, with the split file", CELEBA, _find_celeba),
    Dataset("mnist", "MNIST, the four idx files", MNIST, _find_mnist),
    Dataset("moving_mnist", "Moving MNIST (Srivastava et al. 2015)", (MOVING_MNIST,),
            lambda root: moving_mnist.load_moving_mnist(root, n=1)),
)}


def fetch(name, root=None, progress=True, registry=None):
    """Download dataset `name` (one of REGISTRY) and extract it where its loader reads it:
    root, else the loader's default folder. Nothing is downloaded when the loader already finds
    it there. Returns the folder the loader reads (its root).

    ValueError: an unknown name, a checksum mismatch (the file is removed) or an archive that
    does not extract to the expected layout; DownloadFailed: no network, a server error or a
    dropped connection (what arrived is kept and the next call resumes it). registry: another
    {name: Dataset} (a test's files and checksums)."""
    registry = REGISTRY if registry is None else registry
    dataset = registry[check_choice("name", name, registry)]
    folder = check_writable_folder(target_folder(dataset, root), "root")
    if _found(dataset, root):
        _say(progress, f"{name}: already in {dataset_root(root, name)}")
        return dataset_root(root, name)
    with _quiet_pooch():
        for download in dataset.downloads:
            _say(progress, f"{name}: {download.file} from {source_url(download)}")
            path = retrieve(download, folder, progress, f"`fbssm fetch {name}`")
            unpack(download, path, folder, progress)
    try:
        dataset.find(root)
    except DatasetNotFound as error:
        raise ValueError(f"{name}: the files were fetched into {folder}, but the loader does not find "
                         f"them ({error.looked_at}); an archive may be incomplete: delete "
                         f"{', '.join(d.file for d in dataset.downloads)} there and run `fbssm fetch "
                         f"{name}` again") from error
    return dataset_root(root, name)


def load_or_fetch(load, *names, ask=input):
    """load(), and when it raises DatasetNotFound: offer to fetch `names`, then load() again.

    The offer is a question put with `ask` (a live kernel's input box or a terminal prompt); where
    nobody can answer (a notebook executed unattended, nbval, a script without a terminal) or the
    answer is not yes, the error is raised again, naming the command that gets the data. Loaders
    that fall back to data that ships (the quick scale) never raise, so nothing is asked there."""
    try:
        return load()
    except DatasetNotFound as missing:
        command = f"fbssm fetch {' '.join(names)}"
        try:
            answer = ask(f"{missing.name} is not on this machine. Download it now ({command})? [y/N] ")
        except Exception:  # no input possible here (EOFError, a frontend without stdin)
            answer = ""
        if str(answer).strip().lower() not in ("y", "yes"):
            how = missing.how_to_get if command in missing.how_to_get else f"Run `{command}` first. {missing.how_to_get}"
            raise DatasetNotFound(missing.name, missing.looked_at, how) from None
    for name in names:
        fetch(name)
    return load()


def target_folder(dataset, root=None):
    """Where the files of `dataset` go: root, else $FBSSM_DATA for the LRA release, else the
    loader's default folder $FBSSM_DATA/<name>."""
    if root is not None:
        return Path(root).expanduser()
    return data_folder() if dataset.release else default_root(dataset.name)


def source_url(download):
    """The URL to download from: the official one, or $FBSSM_FETCH_MIRROR/<file> when it is set."""
    mirror = os.environ.get(MIRROR_VARIABLE)
    if not mirror:
        return download.url
    if not mirror.startswith(("http://", "https://")):
        raise ValueError(f"{MIRROR_VARIABLE} must be an http:// or https:// base URL, got {mirror!r}")
    return f"{mirror.rstrip('/')}/{download.file}"


def retrieve(download, folder, progress=True, again="the same fetch"):
    """The path of `download` in folder: downloaded (resuming <file>.part) unless it is already
    there with the right checksum, and checked against the published checksum. again: what the
    messages say to run again."""
    path = Path(folder) / download.file
    downloader = ResumingDownloader(path, download.known_hash, progress, again)
    return Path(pooch.retrieve(source_url(download), download.known_hash, fname=download.file,
                               path=folder, downloader=downloader))


def unpack(download, archive, folder, progress=True):
    """Extract `archive` into folder with pooch's Untar or Unzip (nothing for a plain file); a
    truncated or corrupt archive is a ValueError naming it."""
    if download.unpack is None:
        return
    _say(progress, f"extracting {archive} into {folder}")
    try:
        PROCESSORS[download.unpack](extract_dir=str(Path(folder).resolve()))(str(archive), "download", None)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise ValueError(f"{archive}: cannot extract it ({type(error).__name__}: {error}); it looks "
                         f"truncated or corrupt: delete it and fetch it again") from error


def describe(registry=None):
    """What `fbssm fetch --list` prints: each dataset, then each file's URL, size and checksum
    (or that none is published) and who publishes them."""
    registry = REGISTRY if registry is None else registry
    lines = []
    for name, dataset in registry.items():
        lines.append(f"{name}: {dataset.title}")
        for download in dataset.downloads:
            size = f"{download.size:,} bytes" if download.size else "size not published"
            checksum = download.known_hash or ("checksum not published: checked instead are the "
                                               "server's Content-Length and the extracted layout")
            lines.append(f"    {source_url(download)}  [{download.file}; {size}; {checksum}; "
                         f"source: {download.published}]")
    return "\n".join(lines)


def _found(dataset, root):
    try:
        dataset.find(root)
    except (DatasetNotFound, ValueError):
        return False
    return True


def _say(progress, message):
    if progress:
        print(message, file=sys.stderr)


@contextlib.contextmanager
def _quiet_pooch():
    """pooch's own log lines off: `fetch` says what it does."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")
    try:
        yield
    finally:
        logger.setLevel(level)


class ResumingDownloader:
    """A pooch downloader (the `downloader` of `pooch.retrieve`) that resumes.

    What arrives is appended to <path>.part; called again, it asks for the rest with an HTTP Range
    request, and starts over when the server ignores Range (status 200 instead of 206). The whole
    file is checked against known_hash ("md5:…"/"sha256:…"; None: only its length against the
    server's Content-Length) before it is handed to pooch; a mismatch removes it (ValueError).
    Network failures are a DownloadFailed naming the URL and where to put the file by hand."""

    def __init__(self, path, known_hash=None, progress=True, again="the same fetch", timeout=(15, 60),
                 chunk_size=1 << 16):
        self.path, self.known_hash, self.progress, self.again = Path(path), known_hash, progress, again
        self.part = self.path.with_name(self.path.name + ".part")
        self.timeout, self.chunk_size = timeout, chunk_size

    def __call__(self, url, output_file, pooch=None, check_only=False):
        if check_only:
            return self._available(url)
        self.part.parent.mkdir(parents=True, exist_ok=True)
        received, total = self._receive(url)
        if total is not None and received != total:
            raise DownloadFailed(url, f"the download of {url} ended after {received:,} of {total:,} bytes; "
                                      f"{self.part} is kept: run {self.again} again to resume it")
        self._verify(url)
        os.replace(self.part, output_file)
        return None

    def _receive(self, url):
        """Append the rest of the file to the part; (bytes in the part, expected total or None)."""
        offset = self.part.stat().st_size if self.part.is_file() else 0
        headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={offset}-"} if offset else {})}
        try:
            with requests.get(url, headers=headers, stream=True, timeout=self.timeout) as response:
                if offset and response.status_code == 416:  # nothing after offset: the part is whole
                    return offset, None
                response.raise_for_status()
                start = offset if offset and response.status_code == 206 else 0
                length = response.headers.get("Content-Length", "")
                total = start + int(length) if length.isdigit() else None
                self._write(response, start, total)
        except requests.HTTPError as error:
            status = error.response.status_code
            raise DownloadFailed(url, f"{url} answered {status} {error.response.reason}. "
                                      + self._by_hand()) from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            received = self.part.stat().st_size if self.part.is_file() else 0
            if received:
                raise DownloadFailed(url, f"the download of {url} stopped after {received:,} bytes "
                                          f"({_reason(error)}); {self.part} is kept: run {self.again} "
                                          f"again to resume it") from None
            raise DownloadFailed(url, f"cannot download {url} ({_reason(error)}). "
                                      + self._by_hand()) from None
        return self.part.stat().st_size, total

    def _write(self, response, start, total):
        with open(self.part, "ab" if start else "wb") as file, \
                tqdm(total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
                     desc=self.path.name, disable=not self.progress, file=sys.stderr) as bar:
            for chunk in response.raw.stream(self.chunk_size, decode_content=False):
                file.write(chunk)
                bar.update(len(chunk))

    def _verify(self, url):
        if self.known_hash is None:
            return
        algorithm, _, expected = self.known_hash.rpartition(":")
        got = pooch.file_hash(str(self.part), alg=algorithm or "sha256")
        if got != expected.lower():
            self.part.unlink()
            raise ValueError(f"{self.path.name} from {url}: {algorithm or 'sha256'} checksum mismatch, "
                             f"expected {expected}, got {got}; the file was removed. Run {self.again} "
                             f"again; if it fails the same way, the server sends another file than the "
                             f"published one")

    def _by_hand(self):
        return (f"Check the network, or download it by hand and put it in {self.path.parent.resolve()}/ "
                f"as {self.path.name}, then run {self.again} again to check and extract it.")

    def _available(self, url):
        try:
            response = requests.head(url, allow_redirects=True, timeout=self.timeout)
        except requests.RequestException:
            return False
        return response.ok


def _reason(error):
    """A few words for a network error: the OS's own ("Connection refused", "Name or service not
    known"), "timed out", or the error's type."""
    match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(error))
    if match:
        return match.group(1).strip()
    if isinstance(error, (requests.Timeout, urllib3.exceptions.TimeoutError)):
        return "timed out"
    if isinstance(error, (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError)):
        return "the connection broke"
    return type(error).__name__
