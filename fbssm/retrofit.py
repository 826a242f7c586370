"""Retrofit the two knobs onto an existing model: `tune(model, alpha, beta)`.

α: every diagonal SSM layer's mode frequencies are multiplied by α in place — Im(a_j) for
fbssm's `S4D` and `S5` and for layers in the state-spaces S4D layout, the phases θ_j for `LRU`.
The real parts (damping) and Δ are untouched, so this is the paper's α applied after the fact.

β: fbssm's layers carry the Sobolev exponent already; `tune` sets it (their own normalisation is
kept). A foreign layer — a module holding the parameters `log_A_real`, `A_imag`, `log_dt` and `C`,
as the state-spaces S4D kernel does — gets a forward hook (`register_forward_hook`) that filters
the last axis of what its forward returns: x ↦ IFFT_{2n}((1 + |f|)^β · FFT_{2n}(x))[..., :n], with
n = x.shape[-1] (for a tuple, its first element). In the state-spaces layout the module holding these
parameters is the kernel, whose forward(L) returns K (..., H, L): the host layer then convolves with
the filtered kernel cut back to lags 0..L-1 — fbssm's `S4D(causal_filter=True)` — and its skip term
D·u stays unfiltered. (A module whose forward returns the layer's output instead would have that
output filtered, skip included: a different, approximate intervention.) The hook's β is a plain
attribute, `sobolev_beta`, not in the state_dict: call `tune` again after loading a checkpoint.
"""
import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn

from ._checks import check_choice, check_finite, check_positive
from .diagonal import LRU, S5
from .layers import S4D
from .sobolev import NORMALIZATIONS, sobolev_weight

STATE_SPACES_LAYOUT = ("log_A_real", "A_imag", "log_dt", "C")


@dataclass
class LayerChange:
    """What `tune` did to one layer; mode ranges are (lowest, highest) ω_j = Δ·y_j in rad/sample
    (θ_j for an LRU); above π a mode aliases."""

    name: str
    kind: str
    modes_before: tuple
    modes_after: tuple
    beta_before: float = None
    beta_after: float = None
    how: str = ""


@dataclass
class TuneReport:
    alpha: float
    beta: float
    changes: list = field(default_factory=list)

    def __str__(self):
        lines = [f"tune(alpha={self.alpha}, beta={self.beta}): {len(self.changes)} layer(s)"]
        for c in self.changes:
            beta = "" if c.beta_after is None else f", beta {c.beta_before} -> {c.beta_after}"
            lines.append(f"  {c.name or '<model>'} [{c.kind}]: modes {c.modes_before[0]:.4g}..{c.modes_before[1]:.4g}"
                         f" -> {c.modes_after[0]:.4g}..{c.modes_after[1]:.4g} rad/sample{beta}; {c.how}")
        return "\n".join(lines)


def _range(omega):
    omega = omega.detach().double()
    return float(omega.min()), float(omega.max())


def _own_modes(layer):
    if isinstance(layer, (S5, LRU)):
        return layer.mode_frequencies()
    return layer.dt.unsqueeze(-1) * layer.A_imag  # S4D: (H, N) or (H, 1)·(1, N)


def _scale_own(layer, alpha):
    with torch.no_grad():
        if isinstance(layer, LRU):
            layer.theta_log.add_(math.log(alpha))
        else:
            layer.A_imag.mul_(alpha)


def _tune_own(name, layer, alpha, beta):
    before = _range(_own_modes(layer))
    beta_before = None if beta is None else float(layer.beta.detach().double().mean())
    how = []
    if alpha is not None:
        _scale_own(layer, alpha)
        how.append("LRU phases θ_j scaled" if isinstance(layer, LRU) else "Im(a_j) scaled")
    if beta is not None:
        with torch.no_grad():
            layer.beta.fill_(beta)
        how.append(f"beta set ({layer.filter_normalization} normalisation kept)")
    return LayerChange(name, f"fbssm.{type(layer).__name__}", before, _range(_own_modes(layer)),
                       beta_before, beta, ", ".join(how))


def has_state_spaces_layout(module):
    """True for a module holding `log_A_real`, `A_imag`, `log_dt` and `C` directly (parameters or
    buffers) that is not one of fbssm's own layers."""
    own = {name for name, _ in module.named_parameters(recurse=False)}
    own |= {name for name, _ in module.named_buffers(recurse=False)}
    return set(STATE_SPACES_LAYOUT) <= own and not isinstance(module, (S4D, S5, LRU))


def _foreign_modes(module):
    dt = torch.exp(module.log_dt.detach())
    return dt.unsqueeze(-1) * module.A_imag.detach()


def sobolev_hook(module, args, output):
    """Forward hook: (1 + |f|)^β on the spectrum of the last axis of the output, cut to its length."""
    beta = module.sobolev_beta
    if beta == 0.0:
        return output
    first = output[0] if isinstance(output, tuple) else output
    n = first.shape[-1]
    dt = torch.exp(module.log_dt.detach()) if module.sobolev_normalization == "angular" else None
    weight = sobolev_weight(2 * n, beta, module.sobolev_normalization, dt, module.sobolev_scale)
    spectrum = torch.fft.rfft(first, n=2 * n) * weight.to(first.device)
    filtered = torch.fft.irfft(spectrum, n=2 * n)[..., :n].to(first.dtype)
    return (filtered, *output[1:]) if isinstance(output, tuple) else filtered


def _tune_foreign(name, module, alpha, beta, normalization, scale):
    before = _range(_foreign_modes(module))
    how = []
    if alpha is not None:
        with torch.no_grad():
            module.A_imag.mul_(alpha)
        how.append("Im(a_j) scaled (A_imag)")
    beta_before = None
    if beta is not None:
        beta_before = getattr(module, "sobolev_beta", 0.0)
        module.sobolev_beta = float(beta)
        module.sobolev_normalization, module.sobolev_scale = normalization, scale
        if not hasattr(module, "_sobolev_hook"):
            module._sobolev_hook = module.register_forward_hook(sobolev_hook)
        how.append(f"forward hook filters the output's last axis ({normalization} normalisation)")
    return LayerChange(name, "state-spaces S4D layout", before, _range(_foreign_modes(module)),
                       beta_before, beta, ", ".join(how))


def tune(model, alpha=None, beta=None, normalization="cycles", scale=1.0):
    """Scale every diagonal SSM layer's mode frequencies by α and set its Sobolev exponent β, in place.

    Supports fbssm's `S4D`, `S5` and `LRU`, and any module in the state-spaces S4D layout (see the
    module docstring for exactly what is done to those). normalization / scale name the filter's
    frequency for foreign layers only. Returns a `TuneReport` of what changed, layer by layer.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if alpha is None and beta is None:
        raise ValueError("give alpha or beta (or both); with neither, tune has nothing to do")
    alpha = None if alpha is None else check_positive("alpha", alpha)
    beta = None if beta is None else check_finite("beta", beta)
    check_choice("normalization", normalization, NORMALIZATIONS)
    scale = check_positive("scale", scale)
    report = TuneReport(alpha, beta)
    for name, module in model.named_modules():
        if isinstance(module, (S4D, S5, LRU)):
            report.changes.append(_tune_own(name, module, alpha, beta))
        elif has_state_spaces_layout(module):
            report.changes.append(_tune_foreign(name, module, alpha, beta, normalization, scale))
    if not report.changes:
        raise ValueError(f"model ({type(model).__name__}) has no diagonal SSM layer tune knows: fbssm's "
                         f"S4D, S5, LRU, or a module with parameters {', '.join(STATE_SPACES_LAYOUT)}")
    return report
