"""Image denoising: which stripes does one frozen S4D layer let through?

Faces are flattened row by row (width W), so their energy sits on the row harmonics 2πm/W.
One S4D layer (3 channels, n complex modes, A frozen at a_j = −3 + i·α·π·j, Δ fixed, no skip
term, Sobolev filter (1 + k/filter_scale)^β on the rfft bins k) is trained to reproduce clean
faces (MSE to its own input) and tested on faces with stripe noise a·U·cos(κ·index):

  vertical stripes   → a tone at ω = κ, a row harmonic near Nyquist (high frequency);
  horizontal stripes → a staircase at ω ≈ κ/W, between harmonics 0 and 1 (low frequency).

Default S4D-Lin (α = 1) puts every mode below ω ≈ π/W: a low-pass that removes the vertical
stripes and keeps the horizontal ones. The "flip" α puts mode j on row harmonic j: it passes the
image and the vertical stripes and rejects the horizontal ones. β > 0 raises the high-frequency
gain, β < 0 lowers it.

Metrics per noise direction, on the test faces: MSE of the output to the clean face, the noisy
input's MSE, and the fraction of noise energy let through ‖f(clean + noise) − f(clean)‖²/‖noise‖².

Shrinking (QUICK): keep the paper's relations for a smaller width W and n modes — κ the harmonic
61/64 of the way to Nyquist, Δ = 1/(W·(n − 1)) so the default modes' top edge (n − 1)πΔ is at
π/W, the filter's bin scale 1/Δ (the paper's 10⁴ = 1/Δ), the flip α = 2/(W·Δ).
"""
import math
import time
from dataclasses import dataclass, replace

import torch
import torch.nn as nn

from .protocol import as_setting, as_settings, results_of, sweep
from .._checks import check_choice, check_length, check_positive
from ..data.celeba import load_faces
from ..data.stripes import DIRECTIONS, noise_frequency, stripe_kappa, stripe_pattern, stripe_strengths
from ..device import select_device
from ..layers import S4D
from ..sobolev import sobolev_gain
from ..train import TrainConfig, train
from ..transfer import discrete_transfer_function

FLIP = "flip"  # the α that puts mode j on row harmonic j (its value depends on W and Δ)
ALPHAS = (1 / 3, 1.0, 10.0, FLIP)          # β = 0; the paper's π/3, π, 10π, 490.52 over π
BETAS = (-1.0, -0.5, 0.0, 0.5, 1.0)        # α = 1
SETTINGS = tuple((alpha, 0.0) for alpha in ALPHAS) + tuple((1.0, beta) for beta in BETAS if beta != 0)


def scaled_step(width, modes):
    """Δ = 1/(W·(n − 1)): the default modes' top edge (n − 1)·π·Δ sits at π/W (paper ≈ 10⁻⁴)."""
    return 1.0 / (check_length("width", width) * (check_length("modes", modes) - 1))


def harmonic_alpha(width, dt):
    """α with α·π·j·Δ = 2πj/W: mode j on row harmonic j (W = 128, Δ = 10⁻⁴: 156.25; paper 156.14)."""
    return 2.0 / (check_length("width", width) * check_positive("dt", dt))


@dataclass(frozen=True)
class DenoisingConfig:
    scale: str
    height: int                      # H rows after the resize (tall: paper 2048)
    width: int                       # W columns = the period of the row-major sequence (paper 128)
    modes: int                       # n complex modes per channel (paper 64)
    dt: float                        # Δ, fixed (paper 10⁻⁴)
    filter_scale: float              # (1 + k/filter_scale)^β on rfft bins k (paper 10⁴ = 1/Δ)
    flip_alpha: float                # the value of α = "flip" (paper 490.52/π)
    n_train: int | None              # None: CelebA's whole train split
    n_test: int
    real_part: float = -3.0          # x_j of every mode (but mode 0's, when mode0_real is set)
    mode0_real: float | None = None  # x_0 of mode 0 (y_0 = 0): the authors' −e⁻⁵; None: real_part
    c_init: str = "normal"           # "normal": C ~ CN(0, 1)·√½; "authors": C_j ∝ |ω_j| (see initial_c)
    channels: int = 3                # RGB
    data: str = "auto"               # "celeba" | "lfw" | "auto" (CelebA if found, else LFW)
    crop: int = 178                  # CelebA centre crop
    amplitude: float = 0.5           # a in a·U·cos(κ·index): the authors' evaluation noise (0.5)
    per_channel: bool = True         # U ~ U[0, 1) drawn per image and channel (the authors') or per image
    stripe_fraction: float = 61 / 64  # κ = the harmonic this far to Nyquist (61π/64 at W = 128)
    head: str = "conv"               # "conv": the LTI part, then a 1×1 conv (the authors', linear);
                                     # "glu": GELU + 1×1 conv + GLU (an S4D layer); "linear": the LTI part
    train_A: bool = False            # the authors freeze A; True: a variant whose modes may move
    train: TrainConfig = TrainConfig()
    seeds: tuple = (0,)
    noise_seed: int = 1
    eval_batch_size: int = 20
    threads: int | None = None       # CPU threads while running (None: torch's setting)

    @property
    def shape(self):
        return (self.height, self.width)

    @property
    def kappa(self):
        return stripe_kappa(self.width, self.stripe_fraction)


HEADS = ("conv", "glu", "linear")
C_INITS = ("normal", "authors")
# The authors' denoising script: the linear model (SSM convolution, then a 1×1 Conv1d), mode 0 at
# −e⁻⁵ + 0i, C ∝ |Im a_j|/1000, A frozen, clean images in training, noise 0.5·U(0, 1) per channel.
PAPER = DenoisingConfig(scale="paper", height=2048, width=128, modes=64, dt=1e-4, filter_scale=1e4,
                        flip_alpha=490.52 / math.pi, n_train=None, n_test=1_000, data="celeba",
                        mode0_real=-math.exp(-5), c_init="authors",
                        train=TrainConfig(epochs=20, batch_size=32, lr=1e-3))
_QUICK_DT = scaled_step(32, 16)
QUICK = DenoisingConfig(scale="quick", height=256, width=32, modes=16, dt=_QUICK_DT,
                        filter_scale=1 / _QUICK_DT, flip_alpha=harmonic_alpha(32, _QUICK_DT),
                        mode0_real=-math.exp(-5), c_init="authors",
                        n_train=80, n_test=20, data="auto", seeds=(0, 1, 2), threads=1,
                        train=TrainConfig(epochs=20, batch_size=8, lr=2e-2))
# One consumer GPU, about 15 minutes for the 8 settings × 3 seeds: CelebA (no stand-in) at 512 × 64
# (L 1/8 of the paper's), n = 32 modes, and the relations that make the effect (Δ = 1/(W(n − 1)):
# the default band ends at π/W, next to the horizontal stripes; the flip α puts mode j on row
# harmonic j; κ 61/64 of the way to Nyquist; filter scale 1/Δ) as the paper has them. The layer
# is linear with A frozen, so what it passes is set by the modes, not by long training: a few
# thousand steps fit C (the quick scale's 200 do).
_GPU_DT = scaled_step(64, 32)
GPU = DenoisingConfig(scale="gpu", height=512, width=64, modes=32, dt=_GPU_DT,
                      filter_scale=1 / _GPU_DT, flip_alpha=harmonic_alpha(64, _GPU_DT),
                      mode0_real=-math.exp(-5), c_init="authors",
                      n_train=8_000, n_test=200, data="celeba", seeds=(0, 1, 2),
                      train=TrainConfig(epochs=4, batch_size=16, lr=2e-2))


def resolve_alpha(config, alpha):
    """The number behind an α setting ("flip" → config.flip_alpha)."""
    return config.flip_alpha if alpha == FLIP else check_positive("alpha", alpha)


def alpha_label(config, alpha):
    return f"flip ({config.flip_alpha:.4g})" if alpha == FLIP else f"{alpha:.3g}"


def initial_eigenvalues(config):
    """a_j = x + i·π·j (S4D-Lin's imaginary parts; the layer's α scales them), j = 0..n−1; mode 0
    (y_0 = 0) has the real part mode0_real when that is set."""
    j = torch.arange(config.modes, dtype=torch.float32)
    real = torch.full((config.modes,), float(config.real_part))
    if config.mode0_real is not None:
        real[0] = config.mode0_real
    return torch.complex(real, math.pi * j)


def initial_c(config, A, generator=None):
    """The authors' C: complex normal × |Im a_j|/1000 at their Δ = 10⁻⁴, written as × 10·|Δ·Im a_j|
    so that it scales with the modes' discrete frequencies at any Δ (mode 0 starts at 0). Shape
    (channels, n), complex."""
    noise = torch.randn(config.channels, config.modes, dtype=torch.cfloat, generator=generator)
    return noise * 10 * (config.dt * A.imag).abs()


class DenoisingModel(nn.Module):
    """One S4D layer with Δ frozen (and A, unless config.train_A) and no skip term; `head` says
    what follows its LTI part."""

    def __init__(self, config, alpha, beta):
        super().__init__()
        self.head = check_choice("head", config.head, HEADS)
        self.ssm = S4D(config.channels, config.modes, init=initial_eigenvalues(config),
                       alpha=resolve_alpha(config, alpha), beta=beta, dt_min=config.dt,
                       dt_max=config.dt, train_A=config.train_A, train_dt=False, skip=False,
                       glu=config.head == "glu", filter_normalization="bins",
                       filter_scale=config.filter_scale)
        if check_choice("c_init", config.c_init, C_INITS) == "authors":
            with torch.no_grad():
                self.ssm.C.copy_(torch.view_as_real(initial_c(config, self.ssm.A.detach()[0]))[None])
        self.mix = nn.Conv1d(config.channels, config.channels, 1) if self.head == "conv" else None

    def forward(self, u):
        if self.head == "glu":
            return self.ssm(u)
        v = self.ssm.lti(u)
        return v if self.mix is None else self.mix(v.transpose(1, 2)).transpose(1, 2)


def _filtered_response(A, C, dt, beta, filter_scale, omega, length):
    """|(1 + k/filter_scale)^β · H(e^{iω})| with k = ω·2L/(2π), the bin of the layer's FFT."""
    omega = torch.as_tensor(omega, dtype=torch.float64)
    dt = torch.as_tensor(dt, dtype=torch.float64).reshape(-1, 1)
    H = discrete_transfer_function(A.to(torch.complex128), C.to(torch.complex128), dt[:, 0], omega)
    gain = sobolev_gain(omega / dt, beta, "bins", dt, filter_scale, n_fft=2 * length)
    return (gain * H).abs()


def kernel_response(model, omega, length):
    """The trained layer's LTI part at ω rad/sample for sequences of `length`, per channel
    (channels, len(ω)): |(1 + k/filter_scale)^β · H(e^{iω})|, k = ω·2L/(2π)."""
    layer = model.ssm
    return _filtered_response(layer.A.detach(), torch.view_as_complex(layer.C.detach())[0],
                              layer.dt.detach(), float(layer.beta), layer.filter_scale, omega, length)


def mode_response(config, alpha, beta, omega):
    """The same response for the frozen modes of (α, β) with every c_j = 1, before training:
    where the modes let signal through. Shape (len(ω),)."""
    a = initial_eigenvalues(config)
    A = torch.complex(a.real, resolve_alpha(config, alpha) * a.imag)
    return _filtered_response(A[None], torch.ones(1, config.modes, dtype=torch.complex64), config.dt, beta,
                              config.filter_scale, omega, config.height * config.width)[0]


def _mse(model, batch):
    (clean,) = batch
    return nn.functional.mse_loss(model(clean), clean)


def evaluate(model, test, config, device=None):
    """Per noise direction: MSE to clean, noisy-input MSE, noise-energy fraction; and the fit."""
    device = select_device(device)
    model = model.to(device).eval()
    n, batch = len(test), config.eval_batch_size
    strengths = stripe_strengths(n, config.amplitude, config.noise_seed,
                                 channels=config.channels if config.per_channel else None)
    patterns = {d: stripe_pattern(config.shape, config.kappa, d).to(device) for d in DIRECTIONS}
    sums = {"fit": 0.0, **{d: {"out": 0.0, "noise": 0.0, "passed": 0.0} for d in DIRECTIONS}}
    with torch.no_grad():
        for start in range(0, n, batch):
            clean = test[start:start + batch].to(device)
            clean_out = model(clean)
            sums["fit"] += ((clean_out - clean) ** 2).sum().item()
            for d in DIRECTIONS:
                strength = strengths[start:start + batch].to(device).reshape(len(clean), 1, -1)
                noise = (strength * patterns[d][None, :, None]).expand_as(clean)
                out = model(clean + noise)
                sums[d]["out"] += ((out - clean) ** 2).sum().item()
                sums[d]["noise"] += (noise ** 2).sum().item()
                sums[d]["passed"] += ((out - clean_out) ** 2).sum().item()
    size = n * config.height * config.width * config.channels
    metrics = {"fit_mse": sums["fit"] / size}
    for d in DIRECTIONS:
        metrics[d] = {"mse_to_clean": sums[d]["out"] / size, "noisy_mse": sums[d]["noise"] / size,
                      "noise_fraction": sums[d]["passed"] / sums[d]["noise"],
                      "frequency": noise_frequency(d, config.width, config.kappa)}
    return metrics


def model_state(model):
    """The model's state dict as nested lists (small: A and Δ are frozen, C is n × channels)."""
    return {name: tensor.detach().cpu().tolist() for name, tensor in model.state_dict().items()}


def model_from_run(config, run):
    """Rebuild a trained model from a run of the results (its α, β and stored state)."""
    model = DenoisingModel(config, run["alpha"], run["beta"])
    model.load_state_dict({name: torch.tensor(value) for name, value in run["state"].items()})
    return model.eval()


def run_setting(config, setting, seed, data, device=None, checkpoint=None, progress=True, identity=None,
                restart=False):
    """Train one setting and seed on the clean faces; evaluate on the noisy test faces."""
    setting = as_setting(setting)
    train_images, test_images = data
    torch.manual_seed(seed)
    model = DenoisingModel(config, setting.alpha, setting.beta)
    start = time.time()
    history = train(model, (train_images,), _mse, replace(config.train, seed=seed), device=device,
                    checkpoint=checkpoint, progress=progress, identity=identity, restart=restart)
    metrics = evaluate(model, test_images, config, device)
    return {"alpha": resolve_alpha(config, setting.alpha), "alpha_label": alpha_label(config, setting.alpha),
            "seconds": round(time.time() - start, 1), **metrics,
            "epochs": history.epochs, "state": model_state(model)}


def load_data(config):
    """(train, test, source) faces of the configuration."""
    return load_faces(config.n_train, config.n_test, config.shape, config.data, crop=config.crop)


def run(config=QUICK, settings=SETTINGS, device=None, out=None, progress=True, data=None, restart=False):
    """Every (α, β) setting × seed of `config`; results dict, also merged into
    out/denoising-<scale>.json. α may be "flip" (config.flip_alpha). data: (train, test, source)
    to reuse loaded faces; restart: ignore checkpoints in `out`."""
    settings = as_settings(settings)   # checked before the faces load
    train_images, test_images, source = data if data is not None else load_data(config)
    runs = sweep("denoising", config, settings, lambda setting, seed, checkpoint, identity: run_setting(
        config, setting, seed, (train_images, test_images), device, checkpoint, progress, identity, restart),
        out, data=source)
    return results_of("denoising", config, runs, module=__name__, device=device, out=out, data=source,
                      kappa=config.kappa,
                      frequencies={d: noise_frequency(d, config.width, config.kappa) for d in DIRECTIONS})


def departures(config):
    """Where `config` departs from the authors' denoising script (`PAPER`), and why."""
    from .departures import Departure
    paper, ours = PAPER, config
    budget = "about 15 minutes on one consumer GPU" if ours.scale == "gpu" else "CPU minutes"
    same_relations = "the paper's relations kept at a smaller size (Chapter 6: Δ = 1/(W(n − 1)), the flip α = 2/(WΔ))"
    heads = {"conv": "SSM convolution, then a 1×1 conv (linear)", "glu": "S4D layer: GELU, 1×1 conv, GLU",
             "linear": "SSM convolution only"}
    return [
        Departure("faces", f"{'CelebA' if ours.data == 'celeba' else ours.data}, {ours.height} × {ours.width}",
                  f"CelebA, {paper.height} × {paper.width}",
                  budget if ours.data == "celeba" else
                  "CelebA is not shipped; LFW faces (scikit-image) stand in when it is absent, at a CPU size"),
        Departure("training faces", "all" if ours.n_train is None else f"{ours.n_train:,}", "all (CelebA train split)",
                  budget),
        Departure("modes n", f"{ours.modes}", f"{paper.modes}", same_relations),
        Departure("Δ (fixed)", f"{ours.dt:.3g}", f"{paper.dt:g}", same_relations),
        Departure("flip α", f"{ours.flip_alpha:.4g}", f"{paper.flip_alpha:.4g}", same_relations),
        Departure("filter", f"(1 + k/{ours.filter_scale:.4g})^β", f"(1 + k/{paper.filter_scale:g})^β",
                  "the scale is 1/Δ in both"),
        Departure("model", heads[ours.head], heads[paper.head], "a variant, labelled where it is used"),
        Departure("real parts", f"{ours.real_part:g}, mode 0 "
                  + ("−e⁻⁵" if ours.mode0_real == paper.mode0_real else f"{ours.mode0_real or ours.real_part:g}"),
                  f"{paper.real_part:g}, mode 0 −e⁻⁵", "a variant"),
        Departure("C at the start", ours.c_init, paper.c_init, "a variant"),
        Departure("A, Δ", "frozen", "frozen"),
        Departure("training target", "the clean face (MSE)", "the clean face (MSE)"),
        Departure("epochs × batch", f"{ours.train.epochs} × {ours.train.batch_size}",
                  f"{paper.train.epochs} × {paper.train.batch_size}", "a smaller set of faces"),
        Departure("AdamW rate", f"{ours.train.lr:g}", f"{paper.train.lr:g}", "far fewer steps need a larger rate"),
        Departure("evaluation noise a·U", f"{ours.amplitude:g}·U(0, 1) per {'channel' if ours.per_channel else 'image'}",
                  f"{paper.amplitude:g}·U(0, 1) per channel", "a variant"),
    ]
