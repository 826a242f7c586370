"""Choose α and β from your own data: a heuristic beyond the paper.

The paper scales the initialisation by α and filters by (1 + |f|)^β, and shows each tunes the
frequency bias; it gives no rule for picking them from data. `suggest_alpha` offers one, stated
plainly so it can be judged:

α: estimate each channel's input power spectrum P(ω) (mean |rfft|² over the batch, each sequence's
mean removed), find the band [0, ω_hi] that holds `energy` of the power, and take the α whose
top mode sits at the band edge, α·Δ·y_max = ω_hi (y_j the init's imaginary parts at α = 1),
capped so the top mode stays at or below `headroom`·π (above Nyquist a mode aliases).

β: compare the data with where the default modes (α = 1) sit, top mode ω_top = Δ·y_max.
  share of power above ω_top ≥ 25 %   → β = +1    (much signal the default modes miss)
  share of power above ω_top ≥ 5 %    → β = +0.5
  otherwise, ω_hi ≤ π/4               → β = -1    (three quarters of the band hold < 1 - energy)
  otherwise, ω_hi ≤ π/2               → β = -0.5
  otherwise                           → β = 0
The thresholds are this library's choice, not measured optima; β's size is meant for the
"cycles" normalisation (largest gain 1.5^β). Validate any suggestion on held-out data.
"""
import math
from dataclasses import dataclass, field

import torch

from ._checks import check_choice, check_length
from .init import DIAGONAL_INIT_KINDS, diagonal_init
from .transfer import folded_frequency

BETA_RULE = ((0.25, 1.0), (0.05, 0.5))            # (share of power above the default top mode, β)
QUIET_BAND_RULE = ((math.pi / 4, -1.0), (math.pi / 2, -0.5))   # (band edge ω_hi at most, β)


@dataclass
class Suggestion:
    """α and β suggested by `suggest_alpha`, with the evidence: frequencies in rad/sample."""

    alpha: float
    beta: float
    alpha_per_channel: torch.Tensor   # (H,) the α each channel alone would get
    omega: torch.Tensor               # (F,) rfft bins ω_k = 2πk/L
    power: torch.Tensor               # (H, F) each channel's spectrum, normalised to sum 1
    pooled_power: torch.Tensor        # (F,) mean of the normalised spectra
    band_edge: torch.Tensor           # (H,) ω_hi per channel
    pooled_band_edge: float           # ω_hi of the pooled spectrum
    modes_before: torch.Tensor        # (H, N) Δ_h·y_j at α = 1
    modes_after: torch.Tensor         # (H, N) Δ_h·α·y_j
    high_share: float                 # pooled share of power above the default top mode
    energy: float
    init: str
    reason: str = field(default="")

    def summary(self):
        top_before = float(self.modes_before.max())
        top_after = float(self.modes_after.max())
        return "\n".join([
            f"suggested alpha = {self.alpha:.4g}, beta = {self.beta:+.2g}  (init {self.init!r}, "
            f"{self.modes_before.shape[-1]} modes, {len(self.band_edge)} channels)",
            f"band holding {self.energy:.0%} of the power: [0, {self.pooled_band_edge:.4g}] rad/sample "
            f"(per channel {float(self.band_edge.min()):.4g}..{float(self.band_edge.max()):.4g})",
            f"top mode: {top_before:.4g} rad/sample at alpha = 1 -> {top_after:.4g} (Nyquist pi = {math.pi:.4g})",
            f"share of power above the default top mode: {self.high_share:.1%}",
            f"beta: {self.reason}",
            "A heuristic beyond the paper: check it on held-out data.",
        ])

    def __str__(self):
        return self.summary()

    def plot(self):
        """A matplotlib figure: the pooled spectrum, the band edge, Nyquist, and the mode positions
        before (α = 1) and after (the suggested α), folded into [0, π]."""
        import matplotlib.pyplot as plt

        from .plotting import PALETTE

        fig, ax = plt.subplots(figsize=(7, 3.8))
        floor = float(self.pooled_power.max()) * 1e-8  # ω = 0 holds no power once the mean is removed
        ax.semilogy(self.omega.numpy(), self.pooled_power.clamp_min(floor).numpy(), color=PALETTE[0],
                    label="pooled input power (normalised)")
        ax.set_ylim(bottom=floor)
        ax.axvspan(0, self.pooled_band_edge, color=PALETTE[2], alpha=0.12, lw=0,
                   label=f"band with {self.energy:.0%} of the power")
        ax.axvline(math.pi, color="grey", ls=":", lw=1.2, label="Nyquist ω = π")
        low, high = ax.get_ylim()
        for modes, row, colour, name in ((self.modes_before, 0.92, PALETTE[6], "modes at α = 1"),
                                         (self.modes_after, 0.84, PALETTE[1], f"modes at α = {self.alpha:.3g}")):
            folded = folded_frequency(modes[0].double().numpy())
            ax.plot(folded, [low * (high / low) ** row] * len(folded), "|", ms=10, color=colour,
                    label=name + " (channel 0, folded)")
        ax.set(xlabel="ω (rad/sample)", ylabel="power", xlim=(0, 1.02 * math.pi),
               title=f"suggested α = {self.alpha:.3g}, β = {self.beta:+.2g}")
        ax.legend(fontsize="small", loc="lower left")
        fig.tight_layout()
        return fig


def input_power_spectrum(u):
    """(ω (F,), P (H, F)): mean |rfft|² over the batch of u (B, L, H), each sequence's mean removed."""
    if not torch.is_tensor(u) or not u.is_floating_point():
        raise TypeError("u must be a real floating-point tensor (batch, length, channels), got "
                        + (f"dtype {u.dtype}" if torch.is_tensor(u) else type(u).__name__))
    if u.dim() != 3 or u.shape[0] == 0 or u.shape[1] < 2:
        raise ValueError(f"u must have shape (batch >= 1, length >= 2, channels), got {tuple(u.shape)}")
    if not torch.isfinite(u).all():
        raise ValueError("u has NaN or inf entries")
    x = u.detach().double().cpu()
    x = x - x.mean(1, keepdim=True)
    power = torch.fft.rfft(x, dim=1).abs().square().mean(0).T  # (H, F)
    omega = 2 * math.pi * torch.arange(power.shape[-1], dtype=torch.float64) / u.shape[1]
    return omega, power


def band_edge(omega, power, energy):
    """The smallest ω_hi (...,) with Σ_{ω_k ≤ ω_hi} P ≥ energy·Σ P, for spectra P (..., F)."""
    cumulative = power.cumsum(-1)
    total = cumulative[..., -1:]
    if (total <= 0).any():
        raise ValueError("u has a channel with no power once its mean is removed (a constant channel)")
    index = torch.searchsorted(cumulative.contiguous(), (energy * total).contiguous()).clamp_max(len(omega) - 1)
    return omega[index.squeeze(-1)]


def _suggest_beta(omega, pooled, edge, top_default):
    share = float(pooled[omega > top_default].sum()) if top_default < math.pi else 0.0
    for least, beta in BETA_RULE:
        if share >= least:
            return beta, share, (f"{share:.0%} of the power lies above the default top mode "
                                 f"({top_default:.3g} rad/sample): beta > 0 lets training move modes up")
    for most, beta in QUIET_BAND_RULE:
        if edge <= most:
            return beta, share, (f"the band above {edge:.3g} rad/sample (to pi) holds little power: "
                                 f"beta < 0 damps it")
    return 0.0, share, "the power is neither far above the default modes nor confined to low ω: beta = 0"


def _check_dt(dt, channels):
    dt = torch.as_tensor(dt, dtype=torch.float64).detach().cpu()
    if dt.dim() > 1 or (dt.dim() == 1 and len(dt) != channels):
        raise ValueError(f"dt must be a number or a tensor of {channels} steps (one per channel), "
                         f"got shape {tuple(dt.shape)}")
    if not torch.isfinite(dt).all() or (dt <= 0).any():
        raise ValueError("dt must be finite and > 0")
    return dt.expand(channels)


def suggest_alpha(u, dt, energy=0.95, modes=64, init="lin", headroom=0.98):
    """Suggest α (and β) for a diagonal SSM from training inputs u (batch, length, channels).

    dt: the step Δ the layer will use, a number or one per channel (H,). energy: the share of
    power the band [0, ω_hi] must hold (0 < energy < 1). modes: N, complex modes per channel;
    init: a kind of `fbssm.diagonal_init` whose imaginary parts α scales. headroom: the top mode
    stays at or below headroom·π on every channel. Returns a `Suggestion`; the rule is in the
    module docstring.
    """
    if not 0 < float(energy) < 1:
        raise ValueError(f"energy must lie in (0, 1), got {energy!r}")
    if not 0 < float(headroom) <= 1:
        raise ValueError(f"headroom must lie in (0, 1], got {headroom!r}")
    check_choice("init", init, DIAGONAL_INIT_KINDS)
    omega, power = input_power_spectrum(u)
    dt = _check_dt(dt, power.shape[0])
    y = diagonal_init(init, check_length("modes", modes)).imag.double()
    y_max = float(y.max())
    if y_max <= 0:
        raise ValueError(f"init {init!r} with modes={modes} has no mode above frequency 0 to scale")
    power = power / power.sum(-1, keepdim=True).clamp_min(1e-300)
    pooled = power.mean(0)
    edges, pooled_edge = band_edge(omega, power, energy), float(band_edge(omega, pooled, energy))
    cap = headroom * math.pi / (dt * y_max)                    # per channel
    per_channel = torch.minimum(edges / (dt * y_max), cap)
    reference = float(torch.exp(torch.log(dt).mean()))         # geometric mean of Δ
    alpha = min(pooled_edge / (reference * y_max), float(cap.min()))
    alpha = max(alpha, 1e-12)
    beta, share, reason = _suggest_beta(omega, pooled, pooled_edge, reference * y_max)
    before = dt.unsqueeze(-1) * y
    return Suggestion(alpha=alpha, beta=beta, alpha_per_channel=per_channel, omega=omega, power=power,
                      pooled_power=pooled, band_edge=edges, pooled_band_edge=pooled_edge,
                      modes_before=before, modes_after=alpha * before, high_share=share,
                      energy=float(energy), init=init, reason=reason)
