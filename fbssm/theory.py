"""Frequency bias as numbers: total variation of G, the lemma's bound, and mode sensitivity (paper §2).
`fbssm.diagnosis.diagnose(model)` reports them for every S4D layer of a model.

V_a^b(G) = ∫_a^b |d/ds G(is)| ds measures how much the layer can shape the band [a, b]: small
variation there means nearly one constant (and, since G → 0 at infinity, small) gain.
"""
import math

import numpy as np
import torch

from .kernel import _check_modes


def transfer_derivative(A, C, s, conjugate_pairs=True):
    """d/ds G(is) = Σ_j -i·c_j/(is - a_j)² [+ the conjugate partners], shape (..., S)."""
    _check_modes(A, C)
    s = torch.as_tensor(s, dtype=A.real.dtype, device=A.device)
    i_s = (1j * s).to(A.dtype)[..., None, :]
    a, c = A.unsqueeze(-1), C.unsqueeze(-1)
    z = i_s - a
    dG = (c / (z * z)).sum(-2)  # z*z, not z**2: complex pow goes through exp and log
    if conjugate_pairs:
        z = i_s - a.conj()
        dG = dG + (c.conj() / (z * z)).sum(-2)
    return -1j * dG


def _graded_nodes(p, q, h0, order=24):
    """Gauss–Legendre nodes and weights on [p, q], on pieces that grow geometrically from both
    ends (resonances sit at segment ends, so the integrand is sharpest there)."""
    edges = [0.0]
    half, h = (q - p) / 2, h0
    while edges[-1] < half:
        edges.append(min(half, edges[-1] + h))
        h *= 2
    left = np.array(edges)
    cuts = np.unique(np.concatenate([p + left, q - left]))
    x, w = np.polynomial.legendre.leggauss(order)
    a, b = cuts[:-1, None], cuts[1:, None]
    return ((b - a) / 2 * x + (a + b) / 2).ravel(), ((b - a) / 2 * w).ravel()


def _quadrature(A, C, a, b, conjugate_pairs):
    y = A.imag.detach().double().flatten().cpu().numpy()
    x = A.real.detach().double().abs().flatten().cpu().numpy()
    centres = np.concatenate([y, -y]) if conjugate_pairs else y
    width = max(float(x.min()), 1e-6)
    reach = float(np.abs(centres).max() + 50 * x.max() + 1.0)
    points = [p for p in centres if a < p < b]
    lo, hi = max(a, -reach), min(b, reach)
    if lo < hi:
        points += [lo, hi]
    finite = sorted(set(points + [v for v in (a, b) if math.isfinite(v)]))
    nodes, weights = [], []
    for p, q in zip(finite[:-1], finite[1:]):
        n, w = _graded_nodes(p, q, width / 4)
        nodes.append(n), weights.append(w)
    for start, sign in ((finite[-1] if finite else a, 1.0), (finite[0] if finite else b, -1.0)):
        if (sign > 0 and not math.isfinite(b)) or (sign < 0 and not math.isfinite(a)):
            # s = start + sign·T·(1/t - 1), t ∈ (0, 1]: the 1/s² tail becomes a smooth integrand
            T = max(abs(start), reach, 1.0)
            t, w = _graded_nodes(0.0, 1.0, 1e-3)
            nodes.append(start + sign * T * (1 / t - 1)), weights.append(w * T / t ** 2)
    s = torch.as_tensor(np.concatenate(nodes), dtype=torch.float64)
    return s, torch.as_tensor(np.concatenate(weights), dtype=torch.float64)


def total_variation(A, C, band, conjugate_pairs=True):
    """V_a^b(G) = ∫_a^b |dG(is)/ds| ds over band = (a, b); either end may be ±inf.

    A, C: complex (..., N); returns (...,). Composite Gauss–Legendre, graded towards every
    resonance ±y_j, with the infinite tails mapped onto (0, 1]; checked against the exact
    one-mode formula (`one_mode_variation`).
    """
    a, b = (float(v) for v in band)
    if not a < b:
        raise ValueError(f"band must be (a, b) with a < b, got {band!r}")
    _check_modes(A, C)
    A64, C64 = A.detach().to(torch.complex128), C.detach().to(torch.complex128)
    s, w = _quadrature(A64, C64, a, b, conjugate_pairs)
    return (transfer_derivative(A64, C64, s, conjugate_pairs).abs() * w).sum(-1)


def one_mode_variation(a, c, B):
    """Exact V_B^∞ of one mode c/(is - a) (no partner), B > y: (|c|/|x|)·arctan(|x|/(B - y))."""
    x, y = abs(complex(a).real), complex(a).imag
    if not B > y:
        raise ValueError(f"B must exceed the mode frequency y = {y}, got {B}")
    return abs(complex(c)) / x * math.atan(x / (B - y))


def variation_bound(A, C, B, conjugate_pairs=True, form="lemma"):
    """Upper bound on V_B^∞(G) for B above every mode frequency (the lemma, paper §2).

    form "lemma":  Σ_j |c_j|/(B - y_j)               [+ |c_j|/(B + y_j) for the partner at -y_j]
    form "arctan": Σ_j (|c_j|/|x_j|)·arctan(|x_j|/(B - y_j))   [+ partner], the tighter per-mode form
    By symmetry (G(-is) = conj G(is) for a real layer) the same numbers bound V_{-∞}^{-B}.
    """
    _check_modes(A, C)
    if form not in ("lemma", "arctan"):
        raise ValueError(f"form must be 'lemma' or 'arctan', got {form!r}")
    x, y, c = A.real.abs().double(), A.imag.double(), C.abs().double()
    centres = [y, -y] if conjugate_pairs else [y]
    top = max(float(v.max()) for v in centres)
    if not B > top:
        raise ValueError(f"B must exceed every mode frequency (max {top:.4g}), got {B}")
    if form == "lemma":
        return sum((c / (B - v)).sum(-1) for v in centres)
    return sum((c / x * torch.atan(x / (B - v))).sum(-1) for v in centres)


def mode_sensitivity(A, C, s, conjugate_pairs=True):
    """|∂G(is)/∂y_j| for every mode j and frequency s, shape (..., N, S).

    One-sided (conjugate_pairs=False) it is the paper's |c_j|/(x_j² + (s - y_j)²): a residual at
    frequency s pulls on y_j with weight O(|s - y_j|^-2). With the partner (which shares y_j) the
    derivative is i·c_j/(is - a_j)² - i·conj(c_j)/(is - conj(a_j))².
    """
    _check_modes(A, C)
    s = torch.as_tensor(s, dtype=A.real.dtype, device=A.device)
    i_s = (1j * s).to(A.dtype)
    a, c = A.unsqueeze(-1), C.unsqueeze(-1)
    d = 1j * c / (i_s - a) ** 2
    if conjugate_pairs:
        d = d - 1j * c.conj() / (i_s - a.conj()) ** 2
    return d.abs()


# --- variation on many bands at once, and the variation accumulated along a frequency grid ---

_GL_ORDER = 4
_GL_NODES, _GL_WEIGHTS = (torch.as_tensor(v, dtype=torch.float64)
                          for v in np.polynomial.legendre.leggauss(_GL_ORDER))
_NODES_PER_MODE = 16


def _resonance_breakpoints(A, lo, hi, conjugate_pairs, per_mode=_NODES_PER_MODE):
    """Breakpoints in [lo, hi] (rows (R,)): around every resonance y, the points y + |x|·sinh(t),
    t evenly spaced — spacing about |x| at the centre, geometric growth away from it, matching
    |dG/ds| ≈ |c|/((s - y)² + x²). Plus evenly spaced points across the band. Shape (R, ·)."""
    y, w = A.imag, A.real.abs().clamp_min(1e-12)
    if conjugate_pairs:
        y, w = torch.cat([y, -y], -1), torch.cat([w, w], -1)
    lo_, hi_ = lo.unsqueeze(-1), hi.unsqueeze(-1)
    first, last = torch.asinh((lo_ - y) / w), torch.asinh((hi_ - y) / w)
    t = torch.linspace(0, 1, per_mode, dtype=torch.float64)
    stretched = first.unsqueeze(-1) + (last - first).unsqueeze(-1) * t
    s = (y.unsqueeze(-1) + w.unsqueeze(-1) * torch.sinh(stretched)).flatten(-2)
    s = torch.minimum(torch.maximum(s, lo_), hi_)
    return torch.cat([s, lo_ + (hi_ - lo_) * t], -1)


def _piece_integrals(A, C, edges, conjugate_pairs):
    """∫|dG/ds| over each piece [edges[k], edges[k+1]] by Gauss–Legendre; rows (R, E-1)."""
    left, right = edges[..., :-1, None], edges[..., 1:, None]
    half = (right - left) / 2
    s = (half * _GL_NODES + (left + right) / 2).flatten(-2)
    dG = transfer_derivative(A, C, s, conjugate_pairs)
    return (dG.abs().unflatten(-1, (-1, _GL_ORDER)) * (half * _GL_WEIGHTS)).sum(-1)


def _rows(A, C):
    _check_modes(A, C)
    A, C = torch.broadcast_tensors(A.detach().to(torch.complex128).cpu(), C.detach().to(torch.complex128).cpu())
    return A.reshape(-1, A.shape[-1]), C.reshape(-1, C.shape[-1]), A.shape[:-1]


def band_variation(A, C, a, b, conjugate_pairs=True, max_elements=2 ** 21):
    """V_a^b(G) for a batch of systems, each on its own finite band [a, b].

    A, C: complex (..., N); a, b: numbers or tensors broadcastable to A's leading dimensions
    (e.g. one band per channel, [ω_lo/Δ, ω_hi/Δ]). Composite Gauss–Legendre on breakpoints
    crowded around every resonance; agrees with `total_variation` to about 1e-4 (relative) and is
    vectorised over the leading dimensions. Returns a float64 tensor of the leading shape.
    """
    A, C, shape = _rows(A, C)
    a = torch.as_tensor(a, dtype=torch.float64).broadcast_to(shape).reshape(-1)
    b = torch.as_tensor(b, dtype=torch.float64).broadcast_to(shape).reshape(-1)
    if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        raise ValueError("band_variation needs finite bands; use total_variation for an infinite end")
    if (b <= a).any():
        raise ValueError("every band must have a < b")
    out = torch.empty(len(A), dtype=torch.float64)
    pieces = (2 * A.shape[-1] + 1) * _NODES_PER_MODE * _GL_ORDER
    chunk = max(1, max_elements // (A.shape[-1] * pieces))
    for start in range(0, len(A), chunk):
        rows = slice(start, start + chunk)
        edges = torch.sort(_resonance_breakpoints(A[rows], a[rows], b[rows], conjugate_pairs), -1).values
        out[rows] = _piece_integrals(A[rows], C[rows], edges, conjugate_pairs).sum(-1)
    return out.reshape(shape)


def _grid_pieces(A, C, s, conjugate_pairs):
    """Quadrature pieces between breakpoints that include every grid point: the sorted
    breakpoints' piece integrals (R, E-1) and where each grid point sits among them (R, S)."""
    A, C, shape = _rows(A, C)
    s = torch.as_tensor(s, dtype=torch.float64).flatten().cpu()
    if len(s) < 2 or not torch.isfinite(s).all() or (torch.diff(s) <= 0).any():
        raise ValueError("s must be a finite, strictly ascending grid of at least two frequencies")
    lo, hi = s[0].expand(len(A)), s[-1].expand(len(A))
    edges = torch.cat([_resonance_breakpoints(A, lo, hi, conjugate_pairs), s.expand(len(A), -1)], -1)
    edges = torch.sort(edges, -1).values
    pieces = _piece_integrals(A, C, edges, conjugate_pairs)
    where = torch.searchsorted(edges.contiguous(), s.expand(len(A), -1).contiguous())
    return pieces, where, shape, s


def cumulative_variation(A, C, s, conjugate_pairs=True):
    """V_{s_0}^{s_k}(G) at every point of an ascending frequency grid s (S,): shape (..., S).

    The grid points are breakpoints of the quadrature (with those crowded around every
    resonance), so each value is an integral, not an interpolation; relative accuracy about 1e-5.
    """
    pieces, where, shape, s = _grid_pieces(A, C, s, conjugate_pairs)
    running = torch.cat([torch.zeros(len(pieces), 1, dtype=torch.float64), pieces.cumsum(-1)], -1)
    return running.gather(-1, where).reshape(*shape, len(s))


def variation_above(A, C, s, conjugate_pairs=True):
    """V_{s_k}^∞(G) at every point of an ascending grid s (S,): what the layer can still do above
    each frequency — the left side of the lemma, as a curve. Shape (..., S).

    Summed from the top (beyond the grid by `total_variation`), so small values far above the
    modes keep their relative accuracy.
    """
    pieces, where, shape, s = _grid_pieces(A, C, s, conjugate_pairs)
    tail = total_variation(A, C, (float(s[-1]), math.inf), conjugate_pairs).reshape(-1, 1)
    from_top = pieces.flip(-1).cumsum(-1).flip(-1)
    running = torch.cat([from_top, torch.zeros(len(pieces), 1, dtype=torch.float64)], -1) + tail
    return running.gather(-1, where).reshape(*shape, len(s))
