"""Notebooks are committed without outputs: the book executes them."""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "book").glob("**/*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found under book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped(path):
    cells = json.loads(path.read_text())["cells"]
    dirty = [i for i, c in enumerate(cells)
             if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs or execution counts; strip them"


PAGES = NOTEBOOKS + sorted((Path(__file__).parent.parent / "book").glob("*.md"))
LONGEST_PARAGRAPH = 120  # words; a formula in $...$ counts as one


def prose_paragraphs(markdown):
    """The prose paragraphs of a page's markdown: blocks between blank lines, each list item on its
    own; code blocks, tables, headings, directive options and display maths left out."""
    markdown = re.sub(r"^(`{3,}|~{3,})(?!\{)[^\n]*\n.*?^\1[ \t]*$", "", markdown, flags=re.S | re.M)  # code blocks
    for block in re.split(r"\n[ \t]*\n", markdown):
        items = re.split(r"\n(?=[ \t]*(?:[-*+]|\d+\.)[ \t])", block)
        for item in items:
            lines = [line for line in item.splitlines()
                     if not re.match(r"\s*(\||#|:[\w-]+:|`{3,}|:{3,}|\$\$|\{|\()", line)]
            if lines:
                yield " ".join(lines)


def words(paragraph):
    return len(re.sub(r"\$[^$]*\$", "X", paragraph).split())


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_no_paragraph_is_longer_than_a_reader_holds(path):
    if path.suffix == ".ipynb":
        texts = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown"]
    else:
        texts = [path.read_text()]
    long = [(words(p), p[:70]) for text in texts for p in prose_paragraphs(text) if words(p) > LONGEST_PARAGRAPH]
    assert not long, f"{path.name}: paragraphs over {LONGEST_PARAGRAPH} words: {long}"
