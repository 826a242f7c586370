"""Bad input gets a clear error: layers, models and kernels name the argument, loaders name the
file (and the line), and nothing comes back silently NaN or half-read."""
import gzip
import pickle

import numpy as np
import pytest
import torch

import fbssm
from fbssm.data import (load_aan, load_cifar10, load_imdb, load_listops, load_mnist,
                        load_moving_mnist, load_pathfinder, read_idx)
from fbssm.data.celeba import celeba
from fbssm.data.waves import waves_dataset
from fbssm.train import TrainConfig
from lra_fixtures import write_aan, write_imdb, write_listops, write_pathfinder

CASES = {}


def case(error, chained=False):
    """Register make(tmp_path) → (call, parts): call() must raise `error` with every part in its
    message; chained: the error must carry the exception that revealed the problem."""
    def register(make):
        CASES[make.__name__] = (make, error, chained)
        return make
    return register


def layer():
    torch.manual_seed(0)
    return fbssm.S4D(4, 8)


def real_model():
    torch.manual_seed(0)
    return fbssm.SequenceModel(3, d_input=2, d_model=8, n_layers=1, d_state=4)


def token_model(pooling="mean"):
    torch.manual_seed(0)
    return fbssm.SequenceModel(3, vocab_size=10, d_model=8, n_layers=1, d_state=4, pooling=pooling)


# ---------------------------------------------------------------- S4D

@case(TypeError)
def s4d_integer_input(tmp_path):
    return lambda: layer()(torch.ones(2, 5, 4, dtype=torch.long)), ["u", "torch.int64"]


@case(TypeError)
def s4d_bool_input(tmp_path):
    return lambda: layer().lti(torch.ones(2, 5, 4, dtype=torch.bool)), ["u", "torch.bool"]


@case(TypeError)
def s4d_complex_input(tmp_path):
    return lambda: layer()(torch.ones(2, 5, 4, dtype=torch.cfloat)), ["u", "torch.complex64"]


@case(TypeError)
def s4d_not_a_tensor(tmp_path):
    return lambda: layer()([[[0.0] * 4]]), ["u", "list"]


@case(ValueError)
def s4d_two_dimensions(tmp_path):
    return lambda: layer()(torch.randn(5, 4)), ["u", "(batch, length, 4)", "(5, 4)"]


@case(ValueError)
def s4d_wrong_channels(tmp_path):
    return lambda: layer()(torch.randn(2, 5, 3)), ["u", "(batch, length, 4)", "(2, 5, 3)"]


@case(ValueError)
def s4d_zero_length(tmp_path):
    return lambda: layer()(torch.randn(2, 0, 4)), ["u", "length", "(2, 0, 4)"]


@case(ValueError)
def s4d_nan_input(tmp_path):
    u = torch.randn(2, 5, 4)
    u[1, 3, 2] = float("nan")
    return lambda: layer()(u), ["u", "NaN"]


@case(ValueError)
def s4d_inf_input(tmp_path):
    u = torch.randn(2, 5, 4)
    u[0, 0, 0] = -float("inf")
    return lambda: layer().lti(u), ["u", "inf"]


# ---------------------------------------------------------------- SequenceModel

@case(TypeError)
def model_integer_features(tmp_path):
    return lambda: real_model()(torch.ones(2, 5, 2, dtype=torch.int32)), ["x", "torch.int32"]


@case(ValueError)
def model_wrong_input_channels(tmp_path):
    return lambda: real_model()(torch.randn(2, 5, 3)), ["x", "(batch, length, 2)", "(2, 5, 3)"]


@case(ValueError)
def model_nan_features(tmp_path):
    x = torch.randn(2, 5, 2)
    x[0, 4, 1] = float("nan")
    return lambda: real_model()(x), ["x", "NaN"]


@case(TypeError)
def token_model_float_input(tmp_path):
    return lambda: token_model()(torch.rand(2, 5)), ["x", "torch.float32", "vocab_size=10"]


@case(TypeError)
def token_model_bool_input(tmp_path):
    return lambda: token_model()(torch.ones(2, 5, dtype=torch.bool)), ["x", "torch.bool"]


@case(ValueError)
def token_id_too_large(tmp_path):
    x = torch.randint(0, 10, (2, 5))
    x[1, 2] = 12
    return lambda: token_model()(x), ["x", "token id 12", "vocab_size=10"]


@case(ValueError)
def token_id_equal_to_vocab_size(tmp_path):
    return lambda: token_model()(torch.full((1, 3), 10)), ["token id 10", "vocab_size=10"]


@case(ValueError)
def token_id_negative(tmp_path):
    x = torch.randint(0, 10, (2, 5))
    x[0, 0] = -1
    return lambda: token_model()(x), ["x", "token id -1", "vocab_size=10"]


@case(ValueError)
def token_ids_three_dimensions(tmp_path):
    return lambda: token_model()(torch.zeros(2, 5, 1, dtype=torch.long)), ["x", "(batch, length", "(2, 5, 1)"]


@case(TypeError)
def lengths_float(tmp_path):
    return (lambda: token_model()(torch.ones(2, 5, dtype=torch.long), torch.tensor([5.0, 3.0])),
            ["lengths", "torch.float32"])


@case(ValueError)
def lengths_wrong_shape(tmp_path):
    return (lambda: token_model()(torch.ones(2, 5, dtype=torch.long), torch.tensor([5, 3, 1])),
            ["lengths", "(2,)", "(3,)"])


@case(ValueError)
def lengths_beyond_the_padding(tmp_path):
    return (lambda: token_model()(torch.ones(2, 5, dtype=torch.long), torch.tensor([6, 3])),
            ["lengths", "0..5", "6"])


@case(ValueError)
def lengths_zero_with_last_pooling(tmp_path):
    return (lambda: token_model("last")(torch.ones(2, 5, dtype=torch.long), torch.tensor([0, 3])),
            ["lengths", "1..5", "'last'"])


# ---------------------------------------------------------------- kernel

@case(TypeError)
def convolution_complex_signal(tmp_path):
    u = torch.ones(3, 8, dtype=torch.cfloat)
    return lambda: fbssm.fft_convolution(u, torch.ones(3, 8)), ["u", "complex64"]


@case(TypeError)
def convolution_integer_kernel(tmp_path):
    return lambda: fbssm.fft_convolution(torch.ones(3, 8), torch.ones(3, 8, dtype=torch.long)), ["k", "int64"]


@case(ValueError)
def convolution_kernel_length(tmp_path):
    return lambda: fbssm.fft_convolution(torch.ones(3, 8), torch.ones(3, 7)), ["k", "(3, 8)", "(3, 7)"]


@case(ValueError)
def convolution_weight_length(tmp_path):
    return (lambda: fbssm.fft_convolution(torch.ones(3, 8), torch.ones(3, 8), torch.ones(8)),
            ["weight", "(..., 9)", "(8,)"])


@case(ValueError)
def kernel_real_eigenvalues(tmp_path):
    C = torch.ones(4, dtype=torch.cfloat)
    return lambda: fbssm.ssm_kernel(torch.ones(4), C, 0.1, 8), ["A", "complex"]


@case(ValueError)
def kernel_zero_length(tmp_path):
    A = torch.complex(-torch.ones(4), torch.arange(4.0))
    return lambda: fbssm.ssm_kernel(A, torch.ones(4, dtype=torch.cfloat), 0.1, 0), ["L", "0"]


@case(ValueError)
def kernel_negative_step(tmp_path):
    A = torch.complex(-torch.ones(4), torch.arange(4.0))
    return lambda: fbssm.ssm_kernel(A, torch.ones(4, dtype=torch.cfloat), -0.1, 8), ["dt", "> 0"]


# ---------------------------------------------------------------- ListOps

def listops_file(tmp_path, lines):
    folder = write_listops(tmp_path, {"train": [("( ( [MAX 2 ) 9 ] )", 9)]})
    path = folder / "basic_train.tsv"
    path.write_bytes(lines)
    return lambda: load_listops(tmp_path), path


@case(ValueError)
def listops_three_columns(tmp_path):
    call, path = listops_file(tmp_path, b"Source\tTarget\n[MAX 2 ]\t2\n[MIN 1 ]\t1\textra\n")
    return call, [f"{path}:3", "2 tab-separated fields", "got 3", "extract it again"]


@case(ValueError)
def listops_target_ten(tmp_path):
    call, path = listops_file(tmp_path, b"Source\tTarget\n[MAX 2 ]\t2\n\n[SM 5 5 ]\t10\n")
    return call, [f"{path}:4", "0–9", "10"]


@case(ValueError)
def listops_target_negative(tmp_path):
    call, path = listops_file(tmp_path, b"Source\tTarget\n[MAX 2 ]\t-1\n")
    return call, [f"{path}:2", "0–9", "-1"]


@case(ValueError, chained=True)
def listops_target_not_a_number(tmp_path):
    call, path = listops_file(tmp_path, b"Source\tTarget\n[MAX 2 ]\tnine\n")
    return call, [f"{path}:2", "integer 0–9", "'nine'"]


@case(ValueError)
def listops_empty_file(tmp_path):
    call, path = listops_file(tmp_path, b"")
    return call, [f"{path}:1", "header"]


@case(ValueError, chained=True)
def listops_binary_file(tmp_path):
    call, path = listops_file(tmp_path, b"Source\tTarget\n[MAX 2 ]\t2\n\xff\xfe\x00\x81\n")
    return call, [str(path), "UTF-8", "delete it"]


# ---------------------------------------------------------------- CIFAR-10

def cifar_file(tmp_path, content):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    path = folder / "data_batch_1"
    path.write_bytes(content if isinstance(content, bytes) else pickle.dumps(content, protocol=2))
    return lambda: load_cifar10(tmp_path, n=1), path


def cifar_batch(rows=2, width=3072, labels=None):
    return {b"data": np.zeros((rows, width), np.uint8), b"labels": [1] * rows if labels is None else labels}


@case(ValueError, chained=True)
def cifar_truncated_pickle(tmp_path):
    whole = pickle.dumps(cifar_batch(), protocol=2)
    call, path = cifar_file(tmp_path, whole[:len(whole) // 2])
    return call, [str(path), "CIFAR-10 pickle", "cifar-10-python.tar.gz"]


@case(ValueError, chained=True)
def cifar_not_a_pickle(tmp_path):
    call, path = cifar_file(tmp_path, b"<html>404 Not Found</html>")
    return call, [str(path), "CIFAR-10 pickle", "delete it"]


@case(ValueError)
def cifar_missing_labels(tmp_path):
    call, path = cifar_file(tmp_path, {b"data": np.zeros((2, 3072), np.uint8)})
    return call, [str(path), "'labels'", "missing"]


@case(ValueError)
def cifar_not_a_dict(tmp_path):
    call, path = cifar_file(tmp_path, [1, 2, 3])
    return call, [str(path), "dict", "list"]


@case(ValueError)
def cifar_wrong_row_width(tmp_path):
    call, path = cifar_file(tmp_path, cifar_batch(width=1024))
    return call, [str(path), "(n, 3072)", "(2, 1024)"]


@case(ValueError)
def cifar_labels_count(tmp_path):
    call, path = cifar_file(tmp_path, cifar_batch(labels=[1, 2, 3]))
    return call, [str(path), "'labels'", "(2,)", "(3,)"]


@case(ValueError)
def cifar_label_out_of_range(tmp_path):
    call, path = cifar_file(tmp_path, cifar_batch(labels=[1, 12]))
    return call, [str(path), "0–9", "12"]


# ---------------------------------------------------------------- MNIST idx files

def idx_bytes(array, code=0x08):
    header = bytes([0, 0, code, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def mnist_files(tmp_path, images=None, labels=None):
    """train-{images,labels} in tmp_path: valid ones unless given (bytes, gzipped by name)."""
    good_images, good_labels = np.zeros((3, 28, 28), np.uint8), np.array([7, 2, 1], np.uint8)
    paths = []
    for name, content, default in (("train-images-idx3-ubyte.gz", images, idx_bytes(good_images)),
                                   ("train-labels-idx1-ubyte.gz", labels, idx_bytes(good_labels))):
        path = tmp_path / name
        path.write_bytes(gzip.compress(default) if content is None else content)
        paths.append(path)
    return (lambda: load_mnist("train", root=tmp_path, data="auto")), paths  # no silent fallback


@case(ValueError)
def mnist_bad_magic(tmp_path):
    call, (images, _) = mnist_files(tmp_path, images=gzip.compress(b"\x1f\x8b\x08\x03" + bytes(100)))
    return call, [str(images), "not an idx file", "download it again"]


@case(ValueError, chained=True)
def mnist_truncated_gzip(tmp_path):
    whole = gzip.compress(idx_bytes(np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)))
    call, (images, _) = mnist_files(tmp_path, images=whole[:len(whole) // 2])
    return call, [str(images), "gzip", "delete it"]


@case(ValueError, chained=True)
def mnist_not_gzip(tmp_path):
    call, (_, labels) = mnist_files(tmp_path, labels=idx_bytes(np.array([7, 2, 1], np.uint8)))
    return call, [str(labels), "gzip"]


@case(ValueError)
def mnist_truncated_body(tmp_path):
    call, (images, _) = mnist_files(tmp_path, images=gzip.compress(
        idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-100]))
    return call, [str(images), "(3, 28, 28)", "2252 bytes"]


@case(ValueError)
def mnist_truncated_header(tmp_path):
    call, (images, _) = mnist_files(tmp_path, images=gzip.compress(b"\x00\x00\x08\x03\x00\x00\x00\x03"))
    return call, [str(images), "truncated header", "3 dimensions"]


@case(ValueError)
def mnist_labels_count(tmp_path):
    short = gzip.compress(idx_bytes(np.array([7, 2], np.uint8)))
    call, (images, labels) = mnist_files(tmp_path, labels=short)
    return call, [str(images), str(labels), "(2,)"]


@case(ValueError)
def mnist_label_out_of_range(tmp_path):
    call, (_, labels) = mnist_files(tmp_path, labels=gzip.compress(idx_bytes(np.array([7, 2, 11], np.uint8))))
    return call, [str(labels), "0–9", "11"]


@case(ValueError)
def idx_body_not_whole_values(tmp_path):
    path = tmp_path / "values-idx1-int"
    path.write_bytes(idx_bytes(np.arange(4, dtype=">i4"), 0x0C)[:-1])
    return lambda: read_idx(path), [str(path), "(4,)", "15 bytes"]


# ---------------------------------------------------------------- Moving MNIST .npy

def npy_file(tmp_path, write):
    path = tmp_path / "mnist_test_seq.npy"
    write(path)
    return lambda: load_moving_mnist(tmp_path), path


@case(ValueError, chained=True)
def npy_not_an_npy_file(tmp_path):
    call, path = npy_file(tmp_path, lambda p: p.write_text("<html>moved</html>"))
    return call, [str(path), ".npy", "download it again"]


@case(ValueError, chained=True)
def npy_truncated(tmp_path):
    def write(path):
        np.save(path, np.zeros((20, 4, 64, 64), np.uint8))
        path.write_bytes(path.read_bytes()[:-5000])
    call, path = npy_file(tmp_path, write)
    return call, [str(path), ".npy"]


@case(ValueError, chained=True)
def npy_empty(tmp_path):
    call, path = npy_file(tmp_path, lambda p: p.write_bytes(b""))
    return call, [str(path), ".npy"]


@case(ValueError)
def npy_wrong_shape(tmp_path):
    call, path = npy_file(tmp_path, lambda p: np.save(p, np.zeros((20, 64, 64), np.uint8)))
    return call, [str(path), "(frames, sequences, height, width)", "(20, 64, 64)"]


@case(ValueError)
def npy_wrong_dtype(tmp_path):
    call, path = npy_file(tmp_path, lambda p: np.save(p, np.zeros((20, 2, 8, 8), np.float32)))
    return call, [str(path), "uint8", "float32"]


# ---------------------------------------------------------------- IMDB, AAN, Pathfinder

@case(ValueError)
def imdb_empty_class_folder(tmp_path):
    folder = write_imdb(tmp_path)
    for review in (folder / "train" / "pos").glob("*.txt"):
        review.unlink()
    return lambda: load_imdb(tmp_path), [str(folder / "train" / "pos"), "no", "aclImdb_v1.tar.gz"]


@case(ValueError, chained=True)
def imdb_unreadable_review(tmp_path):
    folder = write_imdb(tmp_path)
    (folder / "train" / "neg" / "5_1.txt").mkdir()  # a folder where a review should be
    return lambda: load_imdb(tmp_path), [str(folder / "train" / "neg" / "5_1.txt"), "cannot read"]


def aan_file(tmp_path, content):
    folder = write_aan(tmp_path)
    path = folder / "new_aan_pairs.train.tsv"
    path.write_bytes(content)
    return lambda: load_aan(tmp_path), path


@case(ValueError)
def aan_four_columns(tmp_path):
    call, path = aan_file(tmp_path, b"1\ta\tb\tb'x'\tb'y'\n0\ta\tb\tb'x'\n")
    return call, [f"{path}:2", "5 tab-separated fields", "got 4"]


@case(ValueError)
def aan_label_two(tmp_path):
    call, path = aan_file(tmp_path, b"2\ta\tb\tb'x'\tb'y'\n")
    return call, [f"{path}:1", "label must be 0 or 1", "'2'"]


@case(ValueError)
def aan_label_not_a_number(tmp_path):
    call, path = aan_file(tmp_path, b"1\ta\tb\tb'x'\tb'y'\nyes\ta\tb\tb'x'\tb'y'\n")
    return call, [f"{path}:2", "label", "'yes'"]


@case(ValueError, chained=True)
def aan_bad_bytes_literal(tmp_path):
    call, path = aan_file(tmp_path, b"1\ta\tb\tb'x\tb'y'\n")
    return call, [f"{path}:1", "bytes literal", "decode=False"]


@case(ValueError, chained=True)
def aan_binary_file(tmp_path):
    call, path = aan_file(tmp_path, b"1\ta\tb\tb'x'\tb'y'\n\x89PNG\xff\n")
    return call, [str(path), "UTF-8", "lra_release.gz"]


def pathfinder_metadata(tmp_path, content):
    folder, _ = write_pathfinder(tmp_path)
    path = folder / "metadata" / "2.npy"
    path.write_bytes(content)
    return lambda: load_pathfinder(tmp_path), path


@case(ValueError)
def pathfinder_missing_fields(tmp_path):
    call, path = pathfinder_metadata(
        tmp_path, b"imgs/2 sample_0.png 1 0 1 14 1.5 1 1.0 0 6\nimgs/2 sample_1.png 0 1\n")
    return call, [f"{path}:2", "11 space-separated fields", "got 4"]


@case(ValueError)
def pathfinder_label_two(tmp_path):
    call, path = pathfinder_metadata(tmp_path, b"imgs/2 sample_0.png 1 2 1 14 1.5 1 1.0 0 6\n")
    return call, [f"{path}:1", "label", "'2'"]


@case(ValueError, chained=True)
def pathfinder_binary_metadata(tmp_path):
    call, path = pathfinder_metadata(tmp_path, np.lib.format.MAGIC_PREFIX + b"\x01\x00\xff\xfe" * 8)
    return call, [str(path), "text", "extract it again"]


# ---------------------------------------------------------------- CelebA

def celeba_folder(tmp_path, count=2):
    from PIL import Image

    folder = tmp_path / "img_align_celeba"
    folder.mkdir()
    for i in range(1, count + 1):
        Image.fromarray(np.full((218, 178, 3), 40 * i, np.uint8)).save(folder / f"{i:06d}.jpg")
    return folder


@case(ValueError, chained=True)
def celeba_corrupt_image(tmp_path):
    path = celeba_folder(tmp_path) / "000002.jpg"
    path.write_bytes(b"not a jpeg at all")
    return (lambda: celeba(tmp_path, (8, 8), "all")[1],
            [str(path), "not a readable image", "img_align_celeba.zip"])


@case(ValueError, chained=True)
def celeba_truncated_image(tmp_path):
    path = celeba_folder(tmp_path) / "000001.jpg"
    path.write_bytes(path.read_bytes()[:300])
    return lambda: celeba(tmp_path, (8, 8), "all").tensor(), [str(path), "not a readable image"]


@case(ValueError)
def celeba_partition_line(tmp_path):
    celeba_folder(tmp_path)
    path = tmp_path / "list_eval_partition.txt"
    path.write_text("000001.jpg 0\n000002.jpg train\n")
    return lambda: celeba(tmp_path, (8, 8), "train"), [f"{path}:2", "<0|1|2>", "'000002.jpg train'"]


# ---------------------------------------------------------------- generated data, token dtypes

@case(ValueError)
def waves_zero_examples(tmp_path):
    return lambda: waves_dataset(0, 64, (1, 4)), ["n must", "0"]


@case(ValueError)
def waves_no_frequencies(tmp_path):
    return lambda: waves_dataset(2, 64, ()), ["frequencies", "non-empty"]


@case(ValueError)
def waves_nan_frequency(tmp_path):
    return lambda: waves_dataset(2, 64, (1, float("nan"))), ["frequencies", "nan"]


@case(ValueError)
def token_dtype_float(tmp_path):
    write_imdb(tmp_path)
    return lambda: load_imdb(tmp_path, dtype=torch.float32), ["dtype", "torch.float32"]


# ---------------------------------------------------------------- TrainConfig

@case(ValueError)
def train_config_zero_lr(tmp_path):
    return lambda: TrainConfig(lr=0), ["lr"]


@case(ValueError)
def train_config_nan_lr(tmp_path):
    return lambda: TrainConfig(lr=float("nan")), ["lr"]


@case(ValueError)
def train_config_zero_epochs(tmp_path):
    return lambda: TrainConfig(epochs=0), ["epochs"]


@case(ValueError)
def train_config_negative_warmup(tmp_path):
    return lambda: TrainConfig(warmup_steps=-1), ["warmup_steps"]


@case(ValueError)
def train_config_zero_grad_clip(tmp_path):
    return lambda: TrainConfig(grad_clip=0), ["grad_clip"]


@case(ValueError)
def train_config_negative_checkpoint_every(tmp_path):
    return lambda: TrainConfig(checkpoint_every=-1), ["checkpoint_every"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_a_clear_error(name, tmp_path):
    make, error, chained = CASES[name]
    call, parts = make(tmp_path)
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
    message = str(caught.value)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    if chained:
        assert caught.value.__cause__ is not None, "the error must be raised from the original one"


def test_there_are_forty_kinds_of_bad_input():
    assert len(CASES) >= 40


# ---------------------------------------------------------------- what is converted, not refused

@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_other_float_inputs_are_converted_to_the_parameter_dtype(dtype):
    u = torch.randn(2, 12, 4)
    s4d = layer()
    y = s4d(u.to(dtype))
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, s4d(u.to(dtype).float()), rtol=0, atol=0)
    model = real_model()
    x = torch.randn(2, 12, 2)
    torch.testing.assert_close(model(x.to(dtype)), model(x.to(dtype).float()), rtol=0, atol=0)


def test_a_double_layer_computes_in_double():
    s4d = layer().double()
    assert s4d(torch.randn(2, 12, 4)).dtype == torch.float64


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int16, torch.int32, torch.long])
def test_any_integer_dtype_is_a_token_id(dtype):
    model = token_model().eval()
    x = torch.randint(0, 10, (2, 6))
    torch.testing.assert_close(model(x.to(dtype)), model(x))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_an_empty_batch_gives_an_empty_layer_output(bidirectional):
    s4d = fbssm.S4D(4, 8, bidirectional=bidirectional, beta=0.5, trainable_beta=True)
    assert s4d(torch.randn(0, 10, 4)).shape == (0, 10, 4)
    assert s4d.lti(torch.randn(0, 10, 4)).shape == (0, 10, 4)
    assert fbssm.fft_convolution(torch.randn(0, 4, 10), torch.randn(4, 10)).shape == (0, 4, 10)


@pytest.mark.parametrize("norm", ["layer", "batch"])
@pytest.mark.parametrize("pooling", ["mean", "last", "none"])
def test_an_empty_batch_gives_an_empty_model_output(norm, pooling):
    model = fbssm.SequenceModel(3, d_input=2, d_model=8, n_layers=1, d_state=4, norm=norm, pooling=pooling)
    expected = (0, 7, 3) if pooling == "none" else (0, 3)
    assert model(torch.randn(0, 7, 2)).shape == expected
    tokens = token_model(pooling)
    assert tokens(torch.zeros(0, 7, dtype=torch.long), torch.zeros(0, dtype=torch.long)).shape == expected
    model(torch.randn(0, 7, 2)).sum().backward()  # training on an empty batch does not fail either
