"""LRA loaders on tiny files in the official formats, and the offline ListOps / Pathfinder generators."""
import statistics

import numpy as np
import pytest
import torch

from fbssm.data import (DatasetNotFound, decode_bytes_literal, evaluate_listops, generate_listops,
                        generate_pathfinder, load_aan, load_imdb, load_listops, load_pathfinder,
                        read_pathfinder_metadata, tokenize_listops, write_listops_tsv)
from fbssm.data import lra as lra_data
from fbssm.data.listops_generator import to_source
from fbssm.data.pathfinder import split_indices
from fbssm.experiments import lra
from lra_fixtures import MAX_2_9, NESTED, write_aan, write_listops, write_pathfinder

# ---------------------------------------------------------------- ListOps

def test_listops_tokens_drop_parentheses_and_rename_the_closing_bracket():
    assert tokenize_listops(MAX_2_9) == ["[MAX", "2", "9", "X"]
    assert tokenize_listops(NESTED) == ["[MIN", "3", "[MED", "1", "4", "X", "X"]


def test_listops_loader_reads_the_official_files(tmp_path):
    write_listops(tmp_path, {
        "train": [(MAX_2_9, 9), (NESTED, 2), ("( ( ( [SM 7 ) 5 ) ] )", 2)],
        "val": [(MAX_2_9, 9)],
        "test": [("( ( ( [FIRST 4 ) 5 ) ] )", 4)],  # [FIRST never occurs in train: <unk>
    })
    train = load_listops(tmp_path, "train")
    vocab = train.vocab
    assert vocab["<pad>"] == 0 and vocab["<unk>"] == 1 and len(vocab) == 2 + 12  # the 12 train tokens
    assert train.vocab_size == len(vocab) and len(train) == 3
    assert train.inputs.shape == (3, 2048) and train.inputs.dtype == torch.long
    assert train.labels.tolist() == [9, 2, 2] and train.lengths.tolist() == [4, 7, 4]
    expected = [vocab[t] for t in ["[MIN", "3", "[MED", "1", "4", "X", "X"]]
    assert train.inputs[1, :7].tolist() == expected
    assert (train.inputs[1, 7:] == 0).all() and (train.inputs[:, :4] > 1).all()
    assert train.n_truncated == 0
    test = load_listops(tmp_path, "test")  # vocabulary built from the train file
    assert test.vocab == vocab and test.inputs[0, :4].tolist() == [1, vocab["4"], vocab["5"], vocab["X"]]
    short = load_listops(tmp_path / "listops-1000", "train", l_max=5, vocab=vocab, dtype=torch.uint8)
    assert short.inputs.shape == (3, 5) and short.inputs.dtype == torch.uint8
    assert short.lengths.tolist() == [4, 5, 4] and short.n_truncated == 1
    assert short.inputs[1].tolist() == expected[:5]


def test_listops_needs_its_header(tmp_path):
    folder = tmp_path / "listops-1000"
    folder.mkdir()
    (folder / "basic_train.tsv").write_text(f"{MAX_2_9}\t9\n")
    with pytest.raises(ValueError, match="basic_train.tsv.*header 'Source<TAB>Target'"):
        load_listops(tmp_path)


def evaluate_pairs(source):
    """An evaluator written against the pair structure of the official strings: every "( a b )"
    applies the partial function a to one more argument b, and b = "]" closes it."""
    tokens = source.split()

    def parse(i):
        if tokens[i] == "(":
            left, i = parse(i + 1)
            right, i = parse(i)
            assert tokens[i] == ")", f"expected ')' at token {i}"
            return (left, right), i + 1
        assert tokens[i] != ")"
        return tokens[i], i + 1

    def value(node):
        if isinstance(node, str):
            return int(node) if node.isdigit() else (node, [])
        function, argument = value(node[0]), node[1]
        operator, arguments = function
        if argument == "]":
            return {"[MIN": min, "[MAX": max, "[SM": lambda a: sum(a) % 10,
                    "[MED": lambda a: int(statistics.median(a))}[operator](arguments)
        argument = value(argument)
        assert isinstance(argument, int), "an argument must be a complete expression"
        return operator, arguments + [argument]

    tree, end = parse(0)
    assert end == len(tokens)
    result = value(tree)
    assert isinstance(result, int)
    return result


def operator_arities(source):
    """(operator, number of arguments) of every operator in a source."""
    stack, found = [], []
    for token in tokenize_listops(source):
        if token.startswith("["):
            stack.append([token, 0])
        elif token == "X":
            found.append(tuple(stack.pop()))
            if stack:
                stack[-1][1] += 1
        else:
            stack[-1][1] += 1
    return found


def test_generated_listops_have_the_official_form_and_correct_values():
    assert to_source(("[MAX", [2, 9])) == MAX_2_9
    assert to_source(("[MIN", [3, ("[MED", [1, 4])])) == NESTED
    assert evaluate_pairs(NESTED) == evaluate_listops(NESTED) == 2
    assert evaluate_listops("( ( ( ( ( [MED 2 ) 3 ) 5 ) 8 ) ] )") == 4  # median 4.0
    assert evaluate_listops("( ( ( [MED 1 ) 4 ) ] )") == 2  # median 2.5 → 2
    sources, targets = generate_listops(400, max_depth=5, max_args=5, min_length=4, max_length=60, seed=3)
    assert len(set(sources)) == 400
    arities = [a for source in sources for a in operator_arities(source)]
    for source, target in zip(sources, targets):
        assert evaluate_pairs(source) == target == evaluate_listops(source)
        assert 4 < len(tokenize_listops(source)) < 60
    assert ("[MED", 2) in arities or ("[MED", 4) in arities  # even-count medians were checked
    assert {a for _, a in arities} == {2, 3, 4, 5}
    assert {t for s in sources for t in tokenize_listops(s)} >= {"[MIN", "[MAX", "[MED", "[SM", "X"}
    assert set(targets) == set(range(10))
    assert generate_listops(20, 5, 5, 4, 60, seed=3) == (sources[:20], targets[:20])  # seeded
    assert generate_listops(20, 5, 5, 4, 60, seed=4)[0] != sources[:20]


def test_generated_listops_load_through_the_official_reader(tmp_path):
    sources, targets = generate_listops(30, max_depth=4, max_args=4, min_length=3, max_length=40, seed=1)
    write_listops_tsv(tmp_path / "listops-1000" / "basic_train.tsv", sources, targets)
    data = load_listops(tmp_path, "train", l_max=64)
    assert data.labels.tolist() == targets
    assert data.lengths.tolist() == [len(tokenize_listops(s)) for s in sources]
    inverse = {i: t for t, i in data.vocab.items()}
    assert [inverse[i] for i in data.inputs[0, :data.lengths[0]].tolist()] == tokenize_listops(sources[0])


def test_listops_generator_rejects_impossible_lengths():
    with pytest.raises(ValueError, match="min_length"):
        generate_listops(5, min_length=10, max_length=5)
    with pytest.raises(ValueError, match="widen"):
        generate_listops(5, max_depth=2, max_args=2, min_length=10, max_length=20, max_tries=50)


# ---------------------------------------------------------------- IMDB (LRA Text)

def test_imdb_reads_raw_reviews_as_bytes(tmp_path):
    for split in ("train", "test"):
        for name in ("pos", "neg"):
            (tmp_path / "aclImdb" / split / name).mkdir(parents=True)
    train = tmp_path / "aclImdb" / "train"
    (train / "neg" / "10_2.txt").write_bytes("Bad.<br />".encode())
    (train / "neg" / "9_1.txt").write_bytes(b"x" * 50)
    (train / "pos" / "0_9.txt").write_text("Café", encoding="utf-8")
    data = load_imdb(tmp_path, "train", l_max=16)
    assert data.inputs.shape == (3, 16) and data.vocab_size == 257
    assert data.labels.tolist() == [0, 0, 1]  # neg (in numeric id order: 9 before 10), then pos
    assert data.lengths.tolist() == [16, 10, 5] and data.n_truncated == 1
    assert data.inputs[2, :5].tolist() == [ord("C") + 1, ord("a") + 1, ord("f") + 1, 0xC3 + 1, 0xA9 + 1]
    assert (data.inputs[2, 5:] == 0).all() and data.inputs[1, :10].tolist() == [b + 1 for b in b"Bad.<br />"]
    assert len(load_imdb(tmp_path / "aclImdb", "train", n_per_class=1)) == 2


# ---------------------------------------------------------------- AAN (LRA Retrieval)

def test_aan_rows_have_no_header_and_decoded_byte_texts(tmp_path):
    folder = write_aan(tmp_path)
    first_line = (folder / "new_aan_pairs.train.tsv").read_text().splitlines()[0]
    assert first_line.startswith("1\tP01-1001\tP02-2002\tb'Caf\\xc3\\xa9\\nnet'\tb\"it's\"")
    data = load_aan(tmp_path, "train", l_max=8)
    assert len(data) == 2 and data.labels.tolist() == [1, 0]  # the first row is a pair, not a header
    assert data.inputs.shape == (2, 2, 8) and data.lengths.tolist() == [[8, 4], [3, 8]]
    assert data.n_truncated == 1  # "Café\nnet" is 9 bytes; 'say "hi"' (8) fits exactly
    assert data.inputs[0, 0].tolist() == [b + 1 for b in "Café\nne".encode()]
    assert data.inputs[0, 1].tolist() == [b + 1 for b in b"it's"] + [0] * 4
    assert data.inputs[1, 1].tolist() == [b + 1 for b in b'say "hi"']
    raw = load_aan(tmp_path, "val", l_max=40, decode=False)  # "val" reads the eval file
    text = "".join(chr(i - 1) for i in raw.inputs[0, 0, :raw.lengths[0, 0]].tolist())
    assert text == repr("Café\nnet".encode()) == "b'Caf\\xc3\\xa9\\nnet'"


def test_aan_rejects_what_is_not_a_bytes_literal(tmp_path):
    assert decode_bytes_literal("b'\\xc3\\xa9\\n'") == "é\n".encode()
    for bad in ("plain text", "'str literal'", "b'a' + b'b'", "__import__('os')"):
        with pytest.raises(ValueError, match="bytes literal"):
            decode_bytes_literal(bad)
    write_aan(tmp_path, [("1", "a", "b", "b'ok'", "not a literal")])
    with pytest.raises(ValueError, match="new_aan_pairs.train.tsv:1.*decode=False"):
        load_aan(tmp_path)
    bad_columns = tmp_path / "other"
    write_aan(bad_columns, [("1", "a", "b'ok'", "b'ok'")])
    with pytest.raises(ValueError, match="expected 5 tab-separated fields"):
        load_aan(bad_columns)


# ---------------------------------------------------------------- Pathfinder

def test_pathfinder_reads_text_metadata_and_skips_the_empty_image(tmp_path):
    folder, expected = write_pathfinder(tmp_path)
    assert read_pathfinder_metadata(folder / "metadata" / "10.npy")[0][1] == 1
    data = load_pathfinder(tmp_path)
    assert data.inputs.shape == (4, 1024, 1) and data.inputs.dtype == torch.float32
    assert [(str(p), reason) for p, reason in data.skipped] == [
        (str(folder / "imgs" / "2" / "sample_1.png"), "empty file")]
    assert "1 skipped" in data.source
    assert data.labels.tolist() == [label for _, _, label in expected]  # 2.npy before 10.npy
    lit = data.inputs[:, :, 0] == 1
    assert (lit.sum(1) == 1).all() and set(data.inputs.unique().tolist()) == {-1.0, 1.0}
    assert [divmod(int(i), 32) for i in lit.float().argmax(1)] == [(k, j) for k, j, _ in expected]
    unit = load_pathfinder(tmp_path / "pathfinder32", normalize="unit")
    assert unit.inputs.min() == 0 and unit.inputs.max() == 1
    parts = [load_pathfinder(tmp_path, split=s, seed=0) for s in ("train", "val", "test")]
    assert [len(p) for p in parts] == [4, 0, 0]  # ⌊0.1·4⌋ = 0 for val and test
    assert sorted(parts[0].labels.tolist()) == sorted(data.labels.tolist())
    assert parts[1].inputs.shape == (0, 1024, 1)
    pieces = [split_indices(20, s, seed=42) for s in ("train", "val", "test")]
    assert [len(p) for p in pieces] == [16, 2, 2]
    assert sorted(torch.cat(pieces).tolist()) == list(range(20))  # disjoint and complete


def test_pathfinder_metadata_needs_eleven_fields(tmp_path):
    folder, _ = write_pathfinder(tmp_path)
    (folder / "metadata" / "2.npy").write_text("imgs/2 sample_0.png 1\n")
    with pytest.raises(ValueError, match="2.npy:1: expected 11 space-separated fields"):
        load_pathfinder(tmp_path)


def reached_from(ink, start, radius):
    """Flood fill over ink pixels, joining pixels at Chebyshev distance <= radius."""
    height, width = ink.shape
    reached = np.zeros_like(ink)
    reached[tuple(start)] = True
    while True:
        padded = np.pad(reached, radius)
        grown = np.zeros_like(reached)
        for dy in range(2 * radius + 1):
            for dx in range(2 * radius + 1):
                grown |= padded[dy:dy + height, dx:dx + width]
        grown &= ink
        if (grown == reached).all():
            return reached
        reached = grown


def test_generated_pathfinder_labels_agree_with_flood_fill():
    gap = 2
    data = generate_pathfinder(300, size=32, gap=gap, seed=7)
    assert data.images.shape == (300, 32, 32) and data.markers.shape == (300, 2, 2)
    assert 0.35 < data.labels.float().mean() < 0.65
    for image, paths, markers, label in zip(data.images.numpy(), data.paths.numpy(),
                                            data.markers.numpy(), data.labels.tolist()):
        a, b = markers
        assert image[tuple(a)] == 1 and image[tuple(b)] == 1
        # on the picture: dashes of one contour are at most gap + 1 apart
        assert reached_from(image > 0, a, gap + 1)[tuple(b)] == bool(label)
        # on the contours' solid masks (which contour is which is not used)
        assert reached_from(paths > 0, a, 1)[tuple(b)] == bool(label)
        assert ((image > 0) & (paths == 0)).sum() <= 18  # ink off the contours: the two 3×3 markers
    again = generate_pathfinder(5, seed=7)
    assert torch.equal(again.images, data.images[:5]) and torch.equal(again.labels, data.labels[:5])
    sequences = again.sequences()
    assert sequences.inputs.shape == (5, 1024, 1) and set(sequences.inputs.unique().tolist()) == {-1.0, 1.0}


def test_generated_pathfinder_says_when_paths_do_not_fit():
    # (its speed is not a test: a timed assert fails on a busy machine; benchmarks/ measures speed)
    assert len(generate_pathfinder(200, seed=1).labels) == 200
    with pytest.raises(ValueError, match="could not fit"):
        generate_pathfinder(1, size=8, n_paths=4, segments=8, tries=5)


# ---------------------------------------------------------------- missing data

@pytest.mark.parametrize("load, name, layout", [
    (load_listops, "listops", "listops-1000/basic_train.tsv"),
    (load_aan, "aan", "tsv_data/new_aan_pairs.train.tsv"),
    (load_pathfinder, "pathfinder", "pathfinder32/curv_contour_length_14/metadata"),
])
def test_missing_lra_data_names_the_path_and_the_release(tmp_path, monkeypatch, load, name, layout):
    with pytest.raises(DatasetNotFound) as error:
        load(tmp_path / "nowhere")
    message = str(error.value)
    assert str(tmp_path / "nowhere" / layout) in message
    assert "lra_release.gz" in message and "google-research/long-range-arena" in message
    monkeypatch.setenv("FBSSM_DATA", str(tmp_path / "data"))
    with pytest.raises(DatasetNotFound, match=f"data/{name}/{layout}"):
        load()


def test_missing_imdb_names_the_path_and_stanford(tmp_path, monkeypatch):
    monkeypatch.setenv("FBSSM_DATA", str(tmp_path))
    with pytest.raises(DatasetNotFound) as error:
        load_imdb()
    assert str(tmp_path / "imdb" / "aclImdb" / "train" / "pos") in str(error.value)
    assert "Large Movie Review Dataset" in str(error.value) and "aclImdb_v1.tar.gz" in str(error.value)


# ---------------------------------------------------------------- the LRA experiment's data

def test_task_data_stores_token_ids_narrow_and_checks_its_counts(tmp_path, monkeypatch):
    from dataclasses import replace
    monkeypatch.setenv("FBSSM_DATA", str(tmp_path))
    config = replace(lra.config_for_task("listops", "quick"), n_train=12, n_val=4, n_test=4, data="offline")
    data = lra_data.load_task_data(config)
    assert data.train[0].dtype == torch.int16 and data.train[0].shape == (12, config.l_max)
    assert data.source.startswith("generated ListOps") and "official files not found" not in data.source
    image = lra_data.load_task_data(replace(lra.config_for_task("image", "quick"), n_train=6, n_val=2,
                                            n_test=2, data="offline"))
    assert image.train[0].dtype == torch.float32 and image.synthetic and image.sizes()["train"] == 6
    with pytest.raises(ValueError, match="n_val"):
        lra_data.load_task_data(replace(config, n_val=0))
    with pytest.raises(ValueError, match="task must be one of"):
        lra_data.load_task_data(replace(config, task="sorting"))
