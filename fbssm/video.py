"""A convolutional state space model for video, in the spirit of ConvS5 (Smith et al., 2023).

ConvS5 keeps a state on every position of a spatial grid, with a diagonal (pointwise) A and
convolutional B and C. Folding B and C into the convolutions around it, that is

    frames ─ convolutional encoder ─▶ latent grid (d channels, h × w) ─▶ blocks ─▶ convolutional decoder

where each block runs S4D over time at every latent position (positions folded into the batch,
the d latent channels are the S4D channels: α-scaled initial eigenvalues, the β filter, all as in
`fbssm.S4D`) and then mixes neighbouring positions with a 3 × 3 convolution. With β = 0 the S4D
layers are causal, and the encoder and decoder act on one frame at a time, so output t depends on
frames ≤ t only: trained to make output t match frame t + 1, one pass over a whole sequence is
teacher forcing. (β ≠ 0 is not causal: the Sobolev weight is real and even in frequency, a
zero-phase filter whose impulse response reaches to negative lags.)

Prediction beyond the next frame is autoregressive (`rollout`): each predicted frame is appended
to the input and the model is run again. The model is trained for one step ahead only, and one
network serves every horizon; a direct multi-step head would need a separate output per horizon.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ._checks import check_length
from .layers import S4D


def fold_positions(z):
    """(B, T, d, h, w) → (B·h·w, T, d): one time series per latent position, for S4D."""
    B, T, d, h, w = z.shape
    return z.permute(0, 3, 4, 1, 2).reshape(B * h * w, T, d)


def unfold_positions(u, shape):
    """The inverse of `fold_positions` for a tensor of `shape` (B, T, d, h, w)."""
    B, T, d, h, w = shape
    return u.reshape(B, h, w, T, d).permute(0, 3, 4, 1, 2)


def per_frame(module, z):
    """Apply a 2-D module to every frame of (B, T, C, H, W)."""
    B, T = z.shape[:2]
    y = module(z.reshape(B * T, *z.shape[2:]))
    return y.reshape(B, T, *y.shape[1:])


class ConvSSMBlock(nn.Module):
    """z + S4D over time at every position, then z + 3 × 3 convolution over space (each prenormed)."""

    def __init__(self, d_latent, d_state, **s4d_options):
        super().__init__()
        self.time_norm = nn.LayerNorm(d_latent)
        self.ssm = S4D(d_latent, d_state, **s4d_options)
        self.space_norm = nn.GroupNorm(1, d_latent)
        self.space = nn.Conv2d(d_latent, d_latent, 3, padding=1)

    def forward(self, z):
        u = fold_positions(z)
        z = z + unfold_positions(self.ssm(self.time_norm(u)), z.shape)
        return z + per_frame(lambda x: self.space(F.gelu(self.space_norm(x))), z)


class ConvSSM(nn.Module):
    """Next-frame predictor for videos (B, T, channels, size, size) with values in [0, 1].

    The encoder cuts each frame into patch × patch tiles (size must be a multiple of patch), maps
    each tile to d_hidden features and mixes neighbouring tiles into a d_latent-channel grid of
    (size/patch)²; n_layers `ConvSSMBlock`s; the decoder mixes neighbours again and maps every
    position back to its tile, and a sigmoid gives pixel values. Extra keyword arguments go to every
    S4D layer (alpha, beta, dt_min, dt_max, init, trainable_beta, filter_normalization, ...); the
    Sobolev filter is made causal (S4D's causal_filter=True) unless causal_filter=False is given.
    Output t is the prediction of frame t + 1.
    """

    def __init__(self, channels=3, size=64, patch=8, d_hidden=64, d_latent=64, d_state=16, n_layers=2,
                 **s4d_options):
        super().__init__()
        channels, size, patch = (check_length("channels", channels), check_length("size", size),
                                 check_length("patch", patch))
        if size % patch:
            raise ValueError(f"size must be a multiple of patch = {patch}, got {size}")
        self.channels, self.size, self.patch = channels, size, patch
        tile = channels * patch ** 2
        # pixel (un)shuffle + 1×1 convolution = a convolution with kernel = stride = patch, faster
        self.encoder = nn.Sequential(nn.PixelUnshuffle(patch), nn.Conv2d(tile, d_hidden, 1), nn.GELU(),
                                     nn.Conv2d(d_hidden, d_latent, 3, padding=1))
        s4d_options.setdefault("causal_filter", True)
        self.blocks = nn.ModuleList(ConvSSMBlock(d_latent, d_state, **s4d_options)
                                    for _ in range(check_length("n_layers", n_layers)))
        self.decoder = nn.Sequential(nn.GroupNorm(1, d_latent), nn.Conv2d(d_latent, d_hidden, 3, padding=1),
                                     nn.GELU(), nn.Conv2d(d_hidden, tile, 1), nn.PixelShuffle(patch))

    def _check(self, frames):
        if frames.dim() != 5 or frames.shape[2:] != (self.channels, self.size, self.size):
            raise ValueError(f"frames must have shape (batch, time, {self.channels}, {self.size}, "
                             f"{self.size}), got {tuple(frames.shape)}")

    def logits(self, frames):
        """Pre-sigmoid predictions (B, T, channels, size, size)."""
        self._check(frames)
        z = per_frame(self.encoder, frames)
        for block in self.blocks:
            z = block(z)
        return per_frame(self.decoder, z)

    def forward(self, frames):
        """Predictions in [0, 1]: output t is frame t + 1 predicted from frames 0..t."""
        return torch.sigmoid(self.logits(frames))

    def s4d_layers(self):
        return [block.ssm for block in self.blocks]


@torch.no_grad()
def rollout(model, context, horizon):
    """Autoregressive prediction: frames (B, horizon, ...) after the context (B, T0, ...).

    Step k runs the model on the context and the k predictions so far and keeps its last output.
    """
    horizon = check_length("horizon", horizon)
    frames = context
    for _ in range(horizon):
        frames = torch.cat([frames, model(frames)[:, -1:]], 1)
    return frames[:, context.shape[1]:]
