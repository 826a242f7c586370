"""`fbssm fetch`: every dataset downloaded from a local server (127.0.0.1 only) in its official
archive and read by its real loader; resumed and restarted downloads, checksum mismatches, no
server, and the command line."""
import re
import socket
from dataclasses import replace

import numpy as np
import pytest

from fetch_server import gzipped, serve, sha256, stop, tar_gz, zip_folder
from lra_fixtures import MAX_2_9, NESTED, write_aan, write_imdb, write_listops, write_pathfinder_images
from test_cifar_mnist_data import write_cifar, write_mnist
from test_denoising_data import write_celeba

from fbssm.__main__ import main
from fbssm.data import (DatasetNotFound, load_aan, load_cifar10, load_imdb, load_listops, load_moving_mnist,
                        load_pathfinder, read_mnist)
from fbssm.data import fetch as fetching
from fbssm.data.celeba import celeba
from fbssm.data.errors import DownloadFailed
from fbssm.data.fetch import MIRROR_VARIABLE, REGISTRY, fetch

MNIST_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte")
FRAMES = np.random.default_rng(0).integers(0, 256, (20, 16, 64, 64), dtype=np.uint8)  # 1.3 MB


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    """{file name: bytes} of every file the registry names, small but in the official layouts, and
    the Pathfinder labels {resolution: labels}."""
    src = tmp_path_factory.mktemp("official")
    release = src / "lra_release" / "lra_release"
    write_listops(release, {"train": [(MAX_2_9, 9), (NESTED, 2)], "val": [(MAX_2_9, 9)], "test": [(NESTED, 2)]})
    write_aan(release)
    labels = {side: write_pathfinder_images(release, side, n=n) for side, n in ((32, 6), (128, 2))}
    write_imdb(src)
    write_cifar(src)
    write_celeba(src, count=3, partition=[0, 0, 2])
    write_mnist(src / "mnist")
    np.save(src / "mnist_test_seq.npy", FRAMES)
    files = {
        "lra_release.gz": tar_gz(src, ["lra_release"]),
        "aclImdb_v1.tar.gz": tar_gz(src, ["aclImdb"]),
        "cifar-10-python.tar.gz": tar_gz(src, ["cifar-10-batches-py"]),
        "img_align_celeba.zip": zip_folder(src, "img_align_celeba"),
        "list_eval_partition.txt": (src / "list_eval_partition.txt").read_bytes(),
        "mnist_test_seq.npy": (src / "mnist_test_seq.npy").read_bytes(),
    }
    for stem in MNIST_STEMS:
        plain = src / "mnist" / stem
        files[f"{stem}.gz"] = gzipped(plain if plain.exists() else plain.with_name(f"{stem}.gz"))
    return files, labels


@pytest.fixture(scope="module")
def running(official, request):
    server, thread = serve(official[0])
    request.addfinalizer(lambda: stop(server, thread))
    return server


@pytest.fixture
def server(running, official, tmp_path, monkeypatch):
    """The local server, reset, as the mirror; $FBSSM_DATA a fresh folder."""
    running.files, running.requests, running.drop_once, running.honour_range = dict(official[0]), [], set(), True
    monkeypatch.setenv(MIRROR_VARIABLE, running.url)
    monkeypatch.setenv("FBSSM_DATA", str(tmp_path / "data"))
    return running


@pytest.fixture
def registry(official):
    """The registry with the fixture files' checksums where a checksum is published (none for the
    LRA release, as in the real one)."""
    files = official[0]

    def local(download):
        return replace(download, known_hash=download.known_hash and sha256(files[download.file]),
                       size=len(files[download.file]))

    return {name: replace(dataset, downloads=tuple(map(local, dataset.downloads)))
            for name, dataset in REGISTRY.items()}


def check_imdb():
    assert load_imdb(split="test").labels.tolist() == [0, 0, 1, 1]


def check_cifar10():
    assert load_cifar10(split="test").labels.tolist() == [5, 5]


def check_celeba():
    assert len(celeba(split="train", shape=(8, 4))) == 2 and len(celeba(split="test", shape=(8, 4))) == 1


def check_mnist():
    assert read_mnist(split="train").labels.tolist() == [7, 2, 1]
    assert read_mnist(split="test").labels.tolist() == [4]


def check_moving_mnist():
    videos = load_moving_mnist()
    assert videos.shape == (16, 20, 1, 64, 64)
    assert np.array_equal((videos[:, :, 0] * 255).round().byte().numpy(), FRAMES.swapaxes(0, 1))


@pytest.mark.parametrize("name, check", [("imdb", check_imdb), ("cifar10", check_cifar10),
                                         ("celeba", check_celeba), ("mnist", check_mnist),
                                         ("moving_mnist", check_moving_mnist)])
def test_each_dataset_lands_where_its_loader_reads_it(server, registry, tmp_path, name, check):
    folder = fetch(name, progress=False, registry=registry)
    assert folder == tmp_path / "data" / name
    check()
    files = [download.file for download in registry[name].downloads]
    assert all((folder / file).is_file() for file in files) and not list(folder.glob("*.part"))
    assert sorted(seen for seen, _ in server.requests) == sorted(files)
    assert fetch(name, progress=False, registry=registry) == folder  # found: nothing downloaded again
    assert len(server.requests) == len(files)


def test_one_lra_release_serves_listops_aan_and_pathfinder(server, registry, official, tmp_path):
    labels = official[1]
    folder = fetch("listops", progress=False, registry=registry)
    assert folder == tmp_path / "data" / "lra_release" / "lra_release"  # as extracted, no renaming
    assert (tmp_path / "data" / "lra_release.gz").is_file()
    assert load_listops(split="train").labels.tolist() == [9, 2]
    assert load_aan(split="test").labels.tolist() == [1, 0]
    for side in (32, 128):
        assert load_pathfinder(resolution=side).labels.tolist() == labels[side]
    assert fetch("aan", progress=False, registry=registry) == folder
    assert fetch("pathfinder", progress=False, registry=registry) == folder
    assert server.requests == [("lra_release.gz", None)]
    elsewhere = fetch("pathfinder", root=tmp_path / "elsewhere", progress=False, registry=registry)
    assert load_pathfinder(tmp_path / "elsewhere", resolution=128).labels.tolist() == labels[128]
    assert elsewhere == tmp_path / "elsewhere" / "lra_release" / "lra_release"


def test_a_dropped_download_resumes_with_a_range_request(server, registry, tmp_path):
    server.drop_once.add("mnist_test_seq.npy")
    with pytest.raises(DownloadFailed) as error:
        fetch("moving_mnist", progress=False, registry=registry)
    message = str(error.value)
    part = tmp_path / "data" / "moving_mnist" / "mnist_test_seq.npy.part"
    assert f"{server.url}/mnist_test_seq.npy" in message and "resume" in message and str(part) in message
    assert "\n" not in message
    received = part.stat().st_size
    assert 0 < received < FRAMES.nbytes
    fetch("moving_mnist", progress=False, registry=registry)
    assert server.ranges("mnist_test_seq.npy") == [None, f"bytes={received}-"]
    check_moving_mnist()
    assert not part.exists()


def test_a_server_that_ignores_range_gives_the_whole_file_again(server, registry, tmp_path):
    server.drop_once.add("mnist_test_seq.npy")
    server.honour_range = False
    with pytest.raises(DownloadFailed, match="resume"):
        fetch("moving_mnist", progress=False, registry=registry)
    fetch("moving_mnist", progress=False, registry=registry)
    ranges = server.ranges("mnist_test_seq.npy")
    assert ranges[0] is None and re.fullmatch(r"bytes=\d+-", ranges[1])
    check_moving_mnist()


def test_a_checksum_mismatch_removes_the_file_and_says_so(server, registry, tmp_path):
    data = bytearray(server.files["cifar-10-python.tar.gz"])
    data[len(data) // 2] ^= 0xFF
    server.files["cifar-10-python.tar.gz"] = bytes(data)
    expected = registry["cifar10"].downloads[0].known_hash.split(":")[1]
    with pytest.raises(ValueError) as error:
        fetch("cifar10", progress=False, registry=registry)
    message = str(error.value)
    assert "checksum mismatch" in message and f"expected {expected}" in message
    assert f"got {sha256(bytes(data)).split(':')[1]}" in message
    assert f"{server.url}/cifar-10-python.tar.gz" in message and "removed" in message
    folder = tmp_path / "data" / "cifar10"
    assert not list(folder.iterdir())  # neither the file nor a part of it is left
    with pytest.raises(DatasetNotFound):
        load_cifar10()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_no_server_is_one_line_naming_the_url_and_the_folder(tmp_path, monkeypatch, capsys):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv(MIRROR_VARIABLE, url)
    with pytest.raises(DownloadFailed) as error:
        fetch("mnist", root=tmp_path / "mnist", progress=False)
    message = str(error.value)
    assert "\n" not in message and "Connection refused" in message
    assert f"{url}/train-images-idx3-ubyte.gz" in message and str(tmp_path / "mnist") in message
    with pytest.raises(SystemExit) as stop_:
        main(["fetch", "mnist", "--root", str(tmp_path / "mnist"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert stop_.value.code == 2 and len(err) == 1 and err[0].startswith("fbssm: error: cannot download")
    assert f"{url}/train-images-idx3-ubyte.gz" in err[0]


def test_cli_lists_every_dataset_with_its_url_size_and_checksum(capsys, monkeypatch):
    monkeypatch.delenv(MIRROR_VARIABLE, raising=False)
    assert main(["fetch", "--list"]) == 0
    out = capsys.readouterr().out
    for name, dataset in REGISTRY.items():
        assert f"{name}: " in out
        for download in dataset.downloads:
            assert download.url in out and (download.known_hash or "checksum not published") in out
    lra = [line for line in out.splitlines() if "lra_release.gz" in line]
    assert len(lra) == 3 and all("size not published" in line and "checksum not published" in line
                                 for line in lra)
    assert "md5:c58f30108f718f92721af3b95e74349a" in out and "84,125,825 bytes" in out


@pytest.mark.parametrize("argv, words", [(["fetch", "cifar"], ["invalid choice: 'cifar'", "cifar10"]),
                                         (["fetch"], ["--list"]),
                                         (["fetch", "mnist", "--list"], ["not both"])])
def test_cli_mistakes_are_one_line_with_status_2(capsys, argv, words):
    with pytest.raises(SystemExit) as stop_:
        main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert stop_.value.code == 2 and len(err) == 1 and err[0].startswith("fbssm: error: ")
    assert all(word in err[0] for word in words)


def test_cli_fetches_into_root_and_prints_the_folder(server, registry, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(fetching, "REGISTRY", registry)
    assert main(["fetch", "cifar10", "--root", str(tmp_path / "c"), "--no-progress"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "c")
    assert len(load_cifar10(tmp_path / "c", split="test")) == 2


def test_bad_names_and_mirrors_are_value_errors_naming_them(monkeypatch):
    with pytest.raises(ValueError, match="name must be one of .*'cifar10'.*got 'cifar'"):
        fetch("cifar")
    monkeypatch.setenv(MIRROR_VARIABLE, "ftp://example.org")
    with pytest.raises(ValueError, match=f"{MIRROR_VARIABLE} must be an http"):
        fetching.source_url(REGISTRY["mnist"].downloads[0])


def test_the_published_registry_records_checksums_only_as_published():
    for dataset in REGISTRY.values():
        for download in dataset.downloads:
            assert re.fullmatch(r"https?://\S+", download.url) and download.published
            assert download.known_hash is None or re.fullmatch(r"md5:[0-9a-f]{32}|sha256:[0-9a-f]{64}",
                                                               download.known_hash)
    release = REGISTRY["listops"].downloads[0]
    assert release.known_hash is None and release.size is None
    assert {REGISTRY[name].downloads[0] for name in ("listops", "aan", "pathfinder")} == {release}


@pytest.mark.parametrize("name, load", [
    ("listops", load_listops), ("aan", load_aan), ("pathfinder", load_pathfinder), ("imdb", load_imdb),
    ("cifar10", load_cifar10), ("mnist", read_mnist), ("moving_mnist", load_moving_mnist),
    ("celeba", celeba)])
def test_not_found_names_the_fetch_command(tmp_path, name, load):
    with pytest.raises(DatasetNotFound, match=f"`fbssm fetch {name}`"):
        load(tmp_path / "nowhere")


def test_extracted_release_and_torchvision_moving_mnist_are_found_as_they_are(tmp_path, monkeypatch):
    write_listops(tmp_path / "lra_release", {"train": [(MAX_2_9, 9)]})  # one level of lra_release/
    assert load_listops(tmp_path).labels.tolist() == [9]
    monkeypatch.setenv("FBSSM_DATA", str(tmp_path))
    assert load_listops().labels.tolist() == [9]
    (tmp_path / "MovingMNIST").mkdir()
    np.save(tmp_path / "MovingMNIST" / "mnist_test_seq.npy", FRAMES[:, :2])
    assert load_moving_mnist(tmp_path).shape == (2, 20, 1, 64, 64)


def test_load_or_fetch_asks_and_fetches_or_names_the_command(monkeypatch):
    from fbssm.data.errors import DatasetNotFound
    calls, fetched = [], []

    def load():
        calls.append(1)
        if not fetched:
            raise DatasetNotFound("CIFAR-10", "/nowhere", "Get it from the site.")
        return "data"

    monkeypatch.setattr(fetching, "fetch", lambda name: fetched.append(name))
    with pytest.raises(DatasetNotFound, match="fbssm fetch cifar10"):
        fetching.load_or_fetch(load, "cifar10", ask=lambda question: "n")
    with pytest.raises(DatasetNotFound, match="fbssm fetch cifar10"):   # nobody to answer
        fetching.load_or_fetch(load, "cifar10", ask=lambda question: (_ for _ in ()).throw(EOFError()))
    assert fetched == []
    assert fetching.load_or_fetch(load, "cifar10", ask=lambda question: "yes") == "data"
    assert fetched == ["cifar10"] and len(calls) == 4
