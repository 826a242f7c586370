"""`diagnose(model)`: where the modes of every S4D layer of a model sit, and how much each layer
can shape a low and a high band (the variation of paper §2, from `fbssm.theory`)."""
import math

import numpy as np
import torch

from .layers import S4D
from .sobolev import sobolev_gain
from .theory import band_variation

LOW_BAND = (0.0, math.pi / 4)
HIGH_BAND = (3 * math.pi / 4, math.pi)


class Diagnosis:
    """What `diagnose` found: one row (a dict) per S4D layer; prints as a table, `.plot()` draws it.

    Row keys: layer (module name), channels H, modes N, shared_eigenvalues, bidirectional,
    dt (H,), omega (H, N) = Δ·y_j in rad/sample (not folded), aliased (fraction of modes with
    ω_j > π), low_band / high_band (rad/sample), variation_low / variation_high (H,),
    beta (values), beta_trainable, filter (normalisation), filter_scale,
    gain_at_nyquist (H,) or None (the "bins" normalisation needs the sequence length).
    """

    def __init__(self, rows, low_band, high_band):
        self.rows, self.low_band, self.high_band = rows, low_band, high_band

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        return self.rows[index]

    def __iter__(self):
        return iter(self.rows)

    @staticmethod
    def _span(values, digits=3):
        lo, hi = float(np.min(values)), float(np.max(values))
        return f"{lo:.{digits}g}" if math.isclose(lo, hi, rel_tol=1e-6) else f"{lo:.{digits}g}..{hi:.{digits}g}"

    def table(self):
        """The summary as plain text: medians over channels for the variations."""
        header = ("layer", "H x N", "Δ", "ω_j = Δy_j (rad/sample)", "aliased", "V low", "V high", "β",
                  "W at π")
        lines = []
        for row in self.rows:
            beta = self._span(row["beta"]) + (" (trained)" if row["beta_trainable"] else " (fixed)")
            if row["beta_trainable"] or np.any(row["beta"] != 0):
                beta += f", {row['filter']}"
            gain = "?" if row["gain_at_nyquist"] is None else self._span(row["gain_at_nyquist"])
            lines.append((row["layer"], f"{row['channels']} x {row['modes']}", self._span(row["dt"]),
                          self._span(row["omega"]), f"{row['aliased']:.0%}",
                          f"{np.median(row['variation_low']):.3g}",
                          f"{np.median(row['variation_high']):.3g}", beta, gain))
        widths = [max(len(str(x)) for x in column) for column in zip(header, *lines)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        rule = "  ".join("-" * w for w in widths)
        lo, hi = self.low_band, self.high_band
        note = (f"V low / V high: median over channels of the variation of G on ω ∈ [{lo[0]:.3g}, {lo[1]:.3g}] "
                f"and [{hi[0]:.3g}, {hi[1]:.3g}] rad/sample (s = ω/Δ per channel); W at π: the filter's gain "
                f"at Nyquist (? for 'bins' without a length)")
        return "\n".join([fmt.format(*header).rstrip(), rule, *(fmt.format(*line).rstrip() for line in lines), note])

    def __repr__(self):
        return self.table()

    __str__ = __repr__

    def plot(self):
        """A matplotlib figure: where each layer's modes sit (ω_j, rad/sample, Nyquist marked),
        and each channel's variation in the low and the high band (`fbssm.plotting.plot_diagnosis`)."""
        from .plotting import plot_diagnosis

        return plot_diagnosis(self)


def diagnose(model, low=LOW_BAND, high=HIGH_BAND, length=None):
    """Where the modes of every S4D layer in `model` sit, and how much each layer can shape a
    low and a high band: a `Diagnosis` (a list of dicts that prints as a table, with `.plot()`).

    model: an `fbssm.S4D`, or any module containing them (e.g. `fbssm.SequenceModel`).
    low, high: bands in rad/sample, default [0, π/4] and [3π/4, π] (the bottom and top quarter
    of the discrete band). For channel h they become s ∈ [ω_lo/Δ_h, ω_hi/Δ_h], and the variation
    of the layer's continuous G on that band is what is reported (the Sobolev filter and D left
    out; for a bidirectional layer, the forward kernel's C). A mode with Δ·y_j > π aliases: the
    discretised layer then responds where G does not, so `aliased` says how much to trust this.
    length: the sequence length L the model will see; only the "bins" filter needs it for the
    gain at Nyquist.
    """
    for name, band in (("low", low), ("high", high)):
        if len(band) != 2 or not 0 <= band[0] < band[1] <= math.pi:
            raise ValueError(f"{name} must be a band (ω_lo, ω_hi) in rad/sample with 0 <= ω_lo < ω_hi <= π, "
                             f"got {band!r}")
    layers = [(name or type(model).__name__, m) for name, m in model.named_modules() if isinstance(m, S4D)]
    if not layers:
        raise ValueError("model contains no fbssm.S4D layer")
    rows = [_layer_row(name, layer, low, high, length) for name, layer in layers]
    return Diagnosis(rows, tuple(low), tuple(high))


def _layer_row(name, layer, low, high, length):
    """One S4D layer's row of the `Diagnosis` (keys as documented there)."""
    with torch.no_grad():
        A = layer.A.detach().cpu().to(torch.complex128)                       # (H or 1, N)
        C = torch.view_as_complex(layer.C.detach().cpu().float()).to(torch.complex128)[0]  # (H, N)
        dt = layer.dt.detach().cpu().double()                                   # (H,)
        A_full = A.expand(C.shape)
        omega = dt[:, None] * A_full.imag
        v_low = band_variation(A_full, C, low[0] / dt, low[1] / dt)
        v_high = band_variation(A_full, C, high[0] / dt, high[1] / dt)
        beta = layer.beta.detach().cpu().double()
        gain = None
        if layer.filter_normalization != "bins" or length is not None:
            gain = sobolev_gain(math.pi / dt, beta, layer.filter_normalization, dt=dt,
                                scale=layer.filter_scale,
                                n_fft=2 * length if length is not None else None).numpy()
    return {
        "layer": name, "channels": layer.d_model, "modes": layer.d_state,
        "shared_eigenvalues": A.shape[0] == 1 and layer.d_model > 1,
        "bidirectional": layer.bidirectional,
        "dt": dt.numpy(), "omega": omega.numpy(), "aliased": float((omega.abs() > math.pi).double().mean()),
        "low_band": tuple(low), "high_band": tuple(high),
        "variation_low": v_low.numpy(), "variation_high": v_high.numpy(),
        "beta": np.atleast_1d(beta.numpy()), "beta_trainable": bool(layer.beta.requires_grad),
        "filter": layer.filter_normalization, "filter_scale": layer.filter_scale,
        "gain_at_nyquist": gain,
    }
