"""Tiny files in the official formats of the LRA datasets, for the loader and experiment tests."""
import numpy as np

from fbssm.data import generate_pathfinder

MAX_2_9 = "( ( ( [MAX 2 ) 9 ) ] )"
# min(3, med(1, 4)) = min(3, 2) = 2: a nested argument also sits in its own pair
NESTED = "( ( ( [MIN 3 ) ( ( ( [MED 1 ) 4 ) ] ) ) ] )"

AAN_ROWS = [  # label, id1, id2, text1, text2: the texts as Python bytes literals
    ("1", "P01-1001", "P02-2002", repr("Café\nnet".encode()), repr(b"it's")),
    ("0", "P03-3003", "P04-4004", repr(b"abc"), repr(b'say "hi"')),
]


def write_listops(root, splits):
    """root/listops-1000/basic_<split>.tsv with the header Source<TAB>Target."""
    folder = root / "listops-1000"
    folder.mkdir(parents=True)
    for split, rows in splits.items():
        lines = ["Source\tTarget"] + [f"{source}\t{target}" for source, target in rows]
        (folder / f"basic_{split}.tsv").write_text("\n".join(lines) + "\n")
    return folder


def write_aan(root, rows=AAN_ROWS):
    """root/tsv_data/new_aan_pairs.{train,eval,test}.tsv: no header, bytes-literal texts."""
    folder = root / "tsv_data"
    folder.mkdir(parents=True)
    for split in ("train", "eval", "test"):
        (folder / f"new_aan_pairs.{split}.tsv").write_text(
            "".join("\t".join(row) + "\n" for row in rows))
    return folder


def write_imdb(root, per_class=2):
    """root/aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt, short reviews as raw bytes."""
    for split in ("train", "test"):
        for name, rating in (("neg", 2), ("pos", 9)):
            folder = root / "aclImdb" / split / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                (folder / f"{i}_{rating}.txt").write_bytes(f"A {name} review, number {i}.<br />".encode())
    return root / "aclImdb"


def write_pathfinder(root, difficulty="curv_contour_length_14"):
    """Metadata files 2.npy and 10.npy (numeric order matters), 11 fields per line, one empty PNG."""
    from PIL import Image

    folder = root / "pathfinder32" / difficulty
    expected = []
    for k, labels in ((10, [1, 0]), (2, [0, 1, 1])):
        (folder / "imgs" / str(k)).mkdir(parents=True, exist_ok=True)
        lines = []
        for j, label in enumerate(labels):
            pixels = np.zeros((32, 32), np.uint8)
            pixels[k, j] = 255  # a pixel that says which image this is
            name = f"sample_{j}.png"
            if (k, j) == (2, 1):
                (folder / "imgs" / "2" / name).write_bytes(b"")  # the empty image
            else:
                Image.fromarray(pixels).save(folder / "imgs" / str(k) / name)
                expected.append((k, j, label))
            # 11 fields; the 3rd and 5th carry the opposite value so a wrong column shows
            lines.append(f"imgs/{k} {name} {1 - label} {label} {1 - label} 14 1.5 1 1.0 0 6")
        (folder / "metadata").mkdir(exist_ok=True)
        (folder / "metadata" / f"{k}.npy").write_text("\n".join(lines) + "\n")
    return folder, sorted(expected)


def write_pathfinder_images(root, resolution=32, n=20, difficulty="curv_contour_length_14", seed=0):
    """n generated images in the official layout: root/pathfinder<res>/<difficulty>/imgs/0/*.png
    and one metadata file; returns the labels in file order."""
    from PIL import Image

    folder = root / f"pathfinder{resolution}" / difficulty
    (folder / "imgs" / "0").mkdir(parents=True)
    (folder / "metadata").mkdir()
    images = generate_pathfinder(n, size=resolution, n_paths=2, segments=3, seed=seed)
    lines = []
    for j, (image, label) in enumerate(zip(images.images.numpy(), images.labels.tolist())):
        Image.fromarray((image * 255).astype(np.uint8)).save(folder / "imgs" / "0" / f"sample_{j}.png")
        lines.append(f"imgs/0 sample_{j}.png 0 {label} 0 14 1.5 1 1.0 0 6")
    (folder / "metadata" / "0.npy").write_text("\n".join(lines) + "\n")
    return images.labels.tolist()
