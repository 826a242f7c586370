"""The S4D layer with both knobs, a residual block, and a sequence model (paper §1, §3).

Tensors are batch-first: (batch, length, channels).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ._checks import check_choice, check_finite, check_length, check_positive
from .init import INIT_KINDS, diagonal_init
from .fused import float32_region
from .kernel import METHODS, fast_length, fft_convolve, filtered_spectrum, layer_kernel
from .sobolev import NORMALIZATIONS, angular_log_gain, grid_log_gain


def _values_checkable(x):
    """Value checks (NaN/inf, id ranges) run on CPU tensors outside torch.compile only (on an
    accelerator they would make the host wait for the device), and only on data: a tensor that
    carries a gradient is a layer's activation, and a training run that diverges is stopped by
    the training loop on its loss, with its learning rate and step."""
    return x.device.type == "cpu" and not x.requires_grad and not torch.compiler.is_compiling()


def _check_tensor(name, x):
    if not torch.is_tensor(x):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    return x


def check_real_sequence(name, x, channels, dtype):
    """x (batch, length, channels) of real floats, converted to `dtype` (float64, float16 and
    bfloat16 inputs included). TypeError for integer, bool or complex x; ValueError for another
    shape, length 0 or, on CPU tensors only, NaN/inf entries. An empty batch passes."""
    if not _check_tensor(name, x).is_floating_point():
        raise TypeError(f"{name} must be a real floating-point tensor, got dtype {x.dtype}")
    if x.dim() != 3 or x.shape[-1] != channels:
        raise ValueError(f"{name} must have shape (batch, length, {channels}), got {tuple(x.shape)}")
    if x.shape[1] == 0:
        raise ValueError(f"{name} must have length >= 1, got shape {tuple(x.shape)}")
    if _values_checkable(x) and not torch.isfinite(x).all():
        raise ValueError(f"{name} has NaN or inf entries (shape {tuple(x.shape)}); "
                         f"clean the data or find the step that produced them")
    return x.to(dtype)


def check_token_ids(name, x, vocab_size):
    """x (batch, length) of integer token ids as int64. TypeError for float, bool or complex x;
    ValueError for another shape, length 0 or, on CPU tensors only, an id < 0 or >= vocab_size."""
    if _check_tensor(name, x).is_floating_point() or x.is_complex() or x.dtype == torch.bool:
        raise TypeError(f"{name} must be integer token ids (the model has vocab_size={vocab_size}), "
                        f"got dtype {x.dtype}")
    if x.dim() != 2 or x.shape[1] == 0:
        raise ValueError(f"{name} must have shape (batch, length >= 1) of token ids, got {tuple(x.shape)}")
    if _values_checkable(x) and x.numel():
        for bad in (int(x.min()), int(x.max())):
            if not 0 <= bad < vocab_size:
                raise ValueError(f"{name} holds token id {bad}, outside 0..{vocab_size - 1} "
                                 f"(vocab_size={vocab_size})")
    return x.long()


def check_lengths(lengths, batch, length, pooling):
    """lengths (batch,) of integers in 0..length (1..length for pooling "last"); the range is
    checked on CPU tensors only."""
    if _check_tensor("lengths", lengths).is_floating_point() or lengths.is_complex() \
            or lengths.dtype == torch.bool:
        raise TypeError(f"lengths must be an integer tensor, got dtype {lengths.dtype}")
    if lengths.shape != (batch,):
        raise ValueError(f"lengths must have shape ({batch},), one per sequence, got {tuple(lengths.shape)}")
    low = 1 if pooling == "last" else 0
    if _values_checkable(lengths) and batch:
        shortest, longest = int(lengths.min()), int(lengths.max())
        if shortest < low or longest > length:
            raise ValueError(f"lengths must lie in {low}..{length} (the padded length) for pooling "
                             f"{pooling!r}, got values {shortest}..{longest}")
    return lengths


class S4D(nn.Module):
    """Diagonal state space layer: y = GELU(IFFT(W_β·K̂·û) + D·u), then 1×1 mixing + GLU.

    d_model: channels H.  d_state: complex modes N per channel (conjugates implicit).
    init: "lin" | "inv" | "legs" or a complex tensor (N,) of eigenvalues; alpha scales Im(a_j).
    beta: Sobolev exponent; trainable_beta=True makes it one trainable β per channel starting
    at `beta`. filter_normalization / filter_scale name the frequency f in (1 + |f|)^β.
    dt_min, dt_max: Δ per channel, log-uniform at init. shared_eigenvalues: one set of a_j for
    all channels (Δ and C stay per channel). train_A / train_dt=False freeze them.
    skip=False drops the skip term D·u (D is then a zero buffer, not a parameter).
    causal_filter=True applies W_β to the kernel and keeps its lags 0..L−1 before convolving:
    W_β is real and even in frequency (zero phase), so applied to the product W_β·K̂·û, as in the
    paper's code, it gives every output a small share of later inputs when β ≠ 0 — harmless for a
    classifier, not for next-step prediction. Not for bidirectional layers.

    Input u (batch, length, d_model): float64/float16/bfloat16 is converted to the parameters'
    dtype; integer, bool or complex u is a TypeError; a wrong shape is a ValueError, and so are
    NaN/inf entries of a CPU tensor (not checked on accelerators, where it would wait for the
    device). An empty batch gives an empty output.
    """

    SSM_PARAMETERS = ("log_dt", "log_A_real", "A_imag")

    def __init__(self, d_model, d_state=64, init="lin", alpha=1.0, beta=0.0, trainable_beta=False,
                 dt_min=1e-3, dt_max=1e-1, bidirectional=False, dropout=0.0, method="zoh",
                 filter_normalization="cycles", filter_scale=1.0, shared_eigenvalues=False,
                 train_A=True, train_dt=True, glu=True, skip=True, causal_filter=False):
        super().__init__()
        self.d_model = check_length("d_model", d_model)
        self.d_state = check_length("d_state", d_state)
        dt_min, dt_max = check_positive("dt_min", dt_min), check_positive("dt_max", dt_max)
        if dt_max < dt_min:
            raise ValueError(f"dt_max must be >= dt_min, got dt_min={dt_min}, dt_max={dt_max}")
        check_finite("beta", beta)
        self.method = check_choice("method", method, METHODS)
        self.filter_normalization = check_choice("filter_normalization", filter_normalization,
                                                 NORMALIZATIONS)
        self.filter_scale = check_positive("filter_scale", filter_scale)
        self.bidirectional = bidirectional
        if causal_filter and bidirectional:
            raise ValueError("causal_filter=True needs a causal (bidirectional=False) layer")
        self.causal_filter = causal_filter

        A = self._initial_eigenvalues(init, alpha)
        rows = 1 if shared_eigenvalues else self.d_model
        A = A.expand(rows, -1)
        log_dt = torch.rand(self.d_model) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        self._register("log_dt", log_dt, train_dt)
        self._register("log_A_real", torch.log(-A.real.float()), train_A)
        self._register("A_imag", A.imag.float().clone(), train_A)
        kernels = 2 if bidirectional else 1
        self.C = nn.Parameter(torch.view_as_real(
            torch.randn(kernels, self.d_model, self.d_state, dtype=torch.cfloat) * math.sqrt(0.5)))
        self._register("D", torch.randn(self.d_model) if skip else torch.zeros(self.d_model), skip)
        if trainable_beta:
            self.beta = nn.Parameter(torch.full((self.d_model,), float(beta)))
        else:
            self.register_buffer("beta", torch.tensor(float(beta)))
        self._remember_beta(float(beta) == 0.0)
        self.dropout = nn.Dropout(dropout)
        self.output = (nn.Sequential(nn.Conv1d(self.d_model, 2 * self.d_model, 1), nn.GLU(dim=-2))
                       if glu else nn.Identity())

    def _initial_eigenvalues(self, init, alpha):
        if torch.is_tensor(init):
            if not init.is_complex() or init.shape != (self.d_state,):
                raise ValueError(f"init must be an init kind or a complex tensor of shape "
                                 f"({self.d_state},), got {tuple(init.shape)} {init.dtype}")
            if (init.real >= 0).any():
                raise ValueError("init eigenvalues must have negative real parts")
            alpha = check_positive("alpha", alpha)
            return torch.complex(init.real, alpha * init.imag)
        return diagonal_init(check_choice("init", init, INIT_KINDS), self.d_state, alpha)

    def _register(self, name, tensor, trainable):
        if trainable:
            self.register_parameter(name, nn.Parameter(tensor))
        else:
            self.register_buffer(name, tensor)

    @property
    def A(self):
        """Complex eigenvalues a_j = x_j + i y_j, shape (H, N) or (1, N) if shared."""
        return torch.complex(-torch.exp(self.log_A_real), self.A_imag)

    @property
    def dt(self):
        return torch.exp(self.log_dt)

    KERNEL_INPUTS = ("log_dt", "log_A_real", "A_imag", "C")

    def kernel(self, L):
        """Kernels (2 if bidirectional else 1, H, L). In eval mode, where no gradient is wanted, the
        last one is kept and reused until L, a kernel input's version (an in-place update, e.g. an
        optimiser step or load_state_dict), device or dtype changes."""
        L = check_length("L", L)
        if not self._kernel_cacheable():
            return self._compute_kernel(L)
        key = self._kernel_key(L)
        cache = self.__dict__.get("_kernel_cache")
        if cache is not None and cache[1] == key and all(a is b for a, b in zip(cache[0], self._kernel_inputs())):
            return cache[2]
        K = self._compute_kernel(L)
        self.__dict__["_kernel_cache"] = (self._kernel_inputs(), key, K)
        return K

    def _compute_kernel(self, L):
        return layer_kernel(self.log_dt, self.log_A_real, self.A_imag, self.C, L, self.method)

    def _kernel_inputs(self):
        return tuple(getattr(self, name) for name in self.KERNEL_INPUTS)

    def _kernel_key(self, L):
        return (L, torch.is_inference_mode_enabled()) + tuple(
            (t._version, t.data_ptr(), t.device, t.dtype) for t in self._kernel_inputs())

    def _kernel_cacheable(self):
        if self.training or torch.compiler.is_compiling():
            return False
        return not torch.is_grad_enabled() or not any(t.requires_grad for t in self._kernel_inputs())

    def _remember_beta(self, is_zero):
        self.__dict__["_beta_state"] = (self.beta, self._beta_key(), is_zero)

    def _beta_key(self):
        return self.beta._version, self.beta.data_ptr(), self.beta.device

    def _filtered(self):
        """Whether W_β is applied: β trainable, or fixed and not 0. A fixed β is read from the device
        only after it changed (load_state_dict, an in-place edit), never once per forward."""
        if self.beta.requires_grad:
            return True
        state = self.__dict__.get("_beta_state")
        if torch.compiler.is_compiling() and state is not None:
            return not state[2]
        if state is None or state[0] is not self.beta or state[1] != self._beta_key():
            self._remember_beta(self.beta.device.type != "meta" and bool((self.beta == 0).all()))
        return not self.__dict__["_beta_state"][2]

    def _apply(self, fn, recurse=True):
        filtered = self._filtered()
        super()._apply(fn, recurse)
        self.__dict__["_kernel_cache"] = None
        self._remember_beta(not filtered)
        return self

    def filter_weight(self, n_fft):
        """(1 + |f|)^β on the rfft grid, (H, n_fft//2+1) or (n_fft//2+1,); None when β ≡ 0 is fixed.
        The grid's log(1 + |f|) is cached per (n_fft, device, dtype) (`fbssm.sobolev.grid_log_gain`)."""
        n_fft = check_length("n_fft", n_fft)
        if not self._filtered():
            return None
        if self.filter_normalization == "angular":
            log_gain = angular_log_gain(n_fft, self.dt, self.filter_scale)
        else:
            log_gain = grid_log_gain(n_fft, self.filter_normalization, self.filter_scale,
                                     self.beta.device, self.beta.dtype)
        return torch.exp(self.beta.unsqueeze(-1) * log_gain)

    def fft_length(self, L):
        """The FFT length of the layer's convolution: 2L when W_β is applied (the filter is defined on
        that grid), else the smallest 5-smooth length >= 2L − 1 (`fbssm.kernel.fast_length`)."""
        return 2 * L if self._filtered() else fast_length(2 * L - 1)

    def convolution_kernel(self, L, n_fft):
        """(k, W): the kernel (H, L or n_fft) and the filter weight (None: none left to apply) that
        the layer convolves with on FFT length n_fft >= 2L − 1. Two-sided if bidirectional (lags
        −1, −2, ... at the end); with causal_filter, W_β·K̂ already cut back to lags 0..L−1."""
        K = self.kernel(L)
        k = K[0]
        if self.bidirectional:
            back = min(L, n_fft - L)
            k = F.pad(k, (0, n_fft - L)) + F.pad(K[1, :, :back].flip(-1), (n_fft - back, 0))
        weight = self.filter_weight(n_fft)
        if weight is not None and self.causal_filter:
            return torch.fft.irfft(filtered_spectrum(k, n_fft, weight), n=n_fft)[..., :L], None
        return k, weight

    def kernel_spectrum(self, L, n_fft=None):
        """W_β·K̂ on the rfft grid of length n_fft (default 2L, the padded length), (H, n_fft//2 + 1):
        the filtered kernel the layer convolves with (two-sided if bidirectional; with causal_filter,
        cut back to lags 0..L−1 after filtering). `convolution_kernel` is the one place the Sobolev
        filter is decided."""
        n_fft = 2 * L if n_fft is None else n_fft
        k, weight = self.convolution_kernel(L, n_fft)
        return filtered_spectrum(k, n_fft, weight)

    def lti(self, u):
        """The layer's linear time-invariant part, IFFT(W_β·K̂·û) + D·u, shape (batch, length, channels).

        `forward` applies GELU, dropout and the output mixing to this; a linear task (fitting a
        filter) can train it alone. The kernel, the filter and the FFTs run in `float32_region`:
        float32 under mixed precision. The convolution is `fbssm.kernel.FFTConvolution` on
        `fft_length(L)` points, with D·u as a lag-0 term of the kernel spectrum.
        """
        u = check_real_sequence("u", u, self.d_model, self.C.dtype)
        if u.shape[0] == 0:  # an empty batch: FFT backends refuse zero-size transforms
            return u * self.D
        L = u.shape[1]
        with float32_region(u.device):
            x = u.transpose(1, 2)
            x = x.to(torch.promote_types(x.dtype, torch.float32))
            n = self.fft_length(L)
            k, weight = self.convolution_kernel(L, n)
            y = fft_convolve(x, k, n, weight, self.D)
        return y.transpose(1, 2)

    def forward(self, u):
        y = self.lti(u).transpose(1, 2)
        y = self.output(self.dropout(F.gelu(y)))
        return y.transpose(1, 2)


class ResidualBlock(nn.Module):
    """x + Dropout(layer(Norm(x))) (prenorm) or Norm(x + Dropout(layer(x))) (postnorm)."""

    def __init__(self, layer, d_model, norm="layer", prenorm=True, dropout=0.0):
        super().__init__()
        check_choice("norm", norm, ("layer", "batch"))
        self.layer, self.prenorm, self.norm_kind = layer, prenorm, norm
        self.norm = nn.LayerNorm(d_model) if norm == "layer" else nn.BatchNorm1d(d_model)
        self.dropout = nn.Dropout(dropout)

    def _normalize(self, x):
        if self.norm_kind == "batch":
            return self.norm(x.transpose(1, 2)).transpose(1, 2)
        return self.norm(x)

    def forward(self, x):
        z = self._normalize(x) if self.prenorm else x
        x = x + self.dropout(self.layer(z))
        return x if self.prenorm else self._normalize(x)


class SequenceModel(nn.Module):
    """Encoder → n_layers residual S4D blocks → pooling → decoder.

    Input (batch, length, d_input) floats, or (batch, length) token ids when vocab_size is set.
    pooling: "mean" (masked by `lengths` if given), "last", or "none" for sequence-to-sequence.
    d_output=None: no decoder; the model returns the pooled features (for a head of its own).
    Extra keyword arguments go to every S4D layer (alpha, beta, init, bidirectional, ...).

    Inputs are checked as in `check_real_sequence` (floats, converted to the parameters' dtype)
    or `check_token_ids` (integer ids, any integer dtype); lengths as in `check_lengths`. The
    value checks (NaN/inf, ids in 0..vocab_size − 1, lengths in range) run on CPU tensors only,
    so a CUDA forward pass never waits for the device. An empty batch gives an empty output.
    """

    def __init__(self, d_output, d_input=None, vocab_size=None, d_model=128, n_layers=4,
                 d_state=64, norm="layer", prenorm=True, dropout=0.0, pooling="mean", **s4d_options):
        super().__init__()
        if (d_input is None) == (vocab_size is None):
            raise ValueError("give exactly one of d_input (real inputs) or vocab_size (token ids)")
        self.pooling = check_choice("pooling", pooling, ("mean", "last", "none"))
        self.encoder = (nn.Embedding(check_length("vocab_size", vocab_size), d_model) if vocab_size
                        else nn.Linear(check_length("d_input", d_input), d_model))
        self.blocks = nn.ModuleList(
            ResidualBlock(S4D(d_model, d_state, dropout=dropout, **s4d_options), d_model, norm,
                          prenorm, dropout)
            for _ in range(check_length("n_layers", n_layers)))
        self.final_norm = nn.LayerNorm(d_model) if prenorm else nn.Identity()
        self.decoder = (nn.Identity() if d_output is None
                        else nn.Linear(d_model, check_length("d_output", d_output)))

    def encode(self, x):
        """Sequence features (batch, length, d_model) after the last block."""
        if isinstance(self.encoder, nn.Embedding):
            x = check_token_ids("x", x, self.encoder.num_embeddings)
        else:
            x = check_real_sequence("x", x, self.encoder.in_features, self.encoder.weight.dtype)
        x = self.encoder(x)
        for block in self.blocks:
            x = block(x)
        return self.final_norm(x)

    def pool(self, x, lengths=None):
        if self.pooling == "none":
            return x
        if lengths is None:
            return x.mean(1) if self.pooling == "mean" else x[:, -1]
        lengths = check_lengths(lengths, x.shape[0], x.shape[1], self.pooling).to(x.device)
        if self.pooling == "last":
            return x[torch.arange(x.shape[0], device=x.device), lengths - 1]
        mask = (torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]).to(x.dtype)
        return (x * mask.unsqueeze(-1)).sum(1) / lengths.clamp_min(1).unsqueeze(-1).to(x.dtype)

    def forward(self, x, lengths=None):
        return self.decoder(self.pool(self.encode(x), lengths))

    def s4d_layers(self):
        return [block.layer for block in self.blocks]
