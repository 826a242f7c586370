"""fbssm — tuning the frequency bias of diagonal state space models (Yu et al., ICLR 2025).

The public names, in the order the paper introduces them.
"""
from .init import INIT_KINDS, diagonal_init, hippo_legs
from .kernel import METHODS, discretize, fft_convolution, ssm_kernel, vandermonde, vandermonde_complex
from .transfer import discrete_transfer_function, fft_frequencies, folded_frequency, transfer_function
from .theory import (band_variation, cumulative_variation, mode_sensitivity, one_mode_variation,
                     total_variation, transfer_derivative, variation_above, variation_bound)
from .sobolev import NORMALIZATIONS, filter_frequencies, normalized_frequency, sobolev_gain, sobolev_weight
from .layers import S4D, ResidualBlock, SequenceModel
from .init import DIAGONAL_INIT_KINDS
from .diagonal import LRU, S5
from .suggest import Suggestion, suggest_alpha
from .retrofit import TuneReport, tune
from .diagnosis import Diagnosis, diagnose
from .optim import param_groups
from .device import SCALES, current_scale, select_device
from .metrics import frame_metrics, ssim
from .video import ConvSSM, rollout
from .results import code_fingerprint, is_current, page_cost, same_config, stored_result, stored_results

__version__ = "0.1.0"

__all__ = [
    "INIT_KINDS", "diagonal_init", "hippo_legs",
    "METHODS", "discretize", "fft_convolution", "ssm_kernel", "vandermonde", "vandermonde_complex",
    "transfer_function", "discrete_transfer_function", "fft_frequencies", "folded_frequency",
    "transfer_derivative", "total_variation", "one_mode_variation", "variation_bound",
    "band_variation", "cumulative_variation", "variation_above", "mode_sensitivity", "diagnose", "Diagnosis",
    "NORMALIZATIONS", "filter_frequencies", "normalized_frequency", "sobolev_weight", "sobolev_gain",
    "S4D", "ResidualBlock", "SequenceModel", "param_groups",
    "DIAGONAL_INIT_KINDS", "S5", "LRU", "suggest_alpha", "Suggestion", "tune", "TuneReport",
    "SCALES", "current_scale", "select_device",
    "ssim", "frame_metrics", "ConvSSM", "rollout",
    "stored_result", "stored_results", "page_cost", "code_fingerprint", "is_current", "same_config",
]
