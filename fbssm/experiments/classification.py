"""Sequence classification, shared by the experiments that classify (LRA, sCIFAR): a batch's
model inputs, its cross-entropy, and the accuracy of a split."""
import torch
import torch.nn.functional as F

from ..device import select_device


def model_inputs(batch):
    """(inputs, lengths or None), labels of a batch (inputs, [lengths,] labels); token ids
    stored narrow (int16) become long."""
    *inputs, labels = batch
    x = inputs[0] if inputs[0].is_floating_point() else inputs[0].long()
    return (x, inputs[1] if len(inputs) > 1 else None), labels


def loss_fn(model, batch):
    """Cross-entropy of a batch (inputs, [lengths,] labels)."""
    (x, lengths), labels = model_inputs(batch)
    return F.cross_entropy(model(x, lengths), labels)


def accuracy(model, split, batch_size=100, device=None):
    """Fraction of correctly classified rows of a split (inputs, [lengths,] labels). The count
    stays on the device until the end: one transfer to the host per split."""
    n = len(split[-1])
    if n == 0:
        raise ValueError("split must hold at least one row (its labels are empty)")
    device = select_device(device)
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.long, device=device)
    with torch.no_grad():
        for start in range(0, n, batch_size):
            (x, lengths), labels = model_inputs(tuple(t[start:start + batch_size].to(device) for t in split))
            correct += (model(x, lengths).argmax(-1) == labels).sum()
    model.train(was_training)
    return correct.item() / n


def majority_rate(labels):
    """Accuracy of always answering the most frequent label."""
    return torch.bincount(labels).max().item() / len(labels)
