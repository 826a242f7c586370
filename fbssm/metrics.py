"""Image metrics for predicted frames: MSE and SSIM per colour channel and per frame.

SSIM (Wang et al., 2004) with the standard choices: a Gaussian window of 11 × 11 taps, σ = 1.5,
K1 = 0.01, K2 = 0.03, population (not sample) statistics, averaged over the positions where the
window fits inside the image (scikit-image's `structural_similarity(..., gaussian_weights=True,
use_sample_covariance=False)` gives the same number).
"""
import torch
import torch.nn.functional as F

from ._checks import check_length, check_positive

K1, K2 = 0.01, 0.03


def gaussian_window(size=11, sigma=1.5, dtype=torch.float64):
    """The normalised 2-D Gaussian window (size, size), an outer product of 1-D ones."""
    size, sigma = check_length("size", size), check_positive("sigma", sigma)
    x = torch.arange(size, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim(x, y, data_range=1.0, window_size=11, sigma=1.5):
    """SSIM of single-channel images x, y (..., H, W), one value per image (...).

    SSIM = mean over window positions of (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)),
    C1 = (K1·data_range)², C2 = (K2·data_range)², local statistics under the Gaussian window.
    """
    if x.shape != y.shape or x.dim() < 2:
        raise ValueError(f"x and y must be images of the same shape (..., H, W), got "
                         f"{tuple(x.shape)} and {tuple(y.shape)}")
    if min(x.shape[-2:]) < window_size:
        raise ValueError(f"images must be at least window_size = {window_size} on each side, "
                         f"got {tuple(x.shape[-2:])}")
    data_range = check_positive("data_range", data_range)
    batch = x.shape[:-2]
    x = x.reshape(-1, 1, *x.shape[-2:])
    y = y.reshape(-1, 1, *y.shape[-2:]).to(x.dtype)
    window = gaussian_window(window_size, sigma, x.dtype).to(x.device)[None, None]

    def local_mean(image):
        return F.conv2d(image, window)

    mu_x, mu_y = local_mean(x), local_mean(y)
    var_x = local_mean(x * x) - mu_x ** 2
    var_y = local_mean(y * y) - mu_y ** 2
    cov = local_mean(x * y) - mu_x * mu_y
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    return index.mean((-1, -2, -3)).reshape(batch)


def frame_metrics(prediction, target, data_range=1.0):
    """Per-frame, per-channel MSE and SSIM of videos (n, T, C, H, W), averaged over the n videos.

    Returns {"mse": (T, C), "ssim": (T, C)} tensors.
    """
    if prediction.shape != target.shape or prediction.dim() != 5:
        raise ValueError(f"prediction and target must be videos of the same shape (n, T, C, H, W), "
                         f"got {tuple(prediction.shape)} and {tuple(target.shape)}")
    mse = ((prediction - target) ** 2).mean((-1, -2)).mean(0)
    return {"mse": mse, "ssim": ssim(prediction, target, data_range).mean(0)}
