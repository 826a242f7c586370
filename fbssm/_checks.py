"""Argument checks shared by the library: every error names the argument and the accepted range."""
import math

import torch


def _number(name, value, accepts, expected):
    """float(value) when it converts to a number that `accepts`; else a ValueError naming `name`."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {expected}, got {value!r}") from None
    if not accepts(number):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return number


def check_positive(name, value):
    """A finite number > 0 (α, Δ, scales)."""
    return _number(name, value, lambda x: math.isfinite(x) and x > 0, "a finite number > 0")


def check_nonnegative(name, value):
    """A finite number >= 0 (weight decay)."""
    return _number(name, value, lambda x: math.isfinite(x) and x >= 0, "a finite number >= 0")


def check_finite(name, value):
    """A finite number or a tensor of finite numbers (β may be negative)."""
    if torch.is_tensor(value):
        if not torch.isfinite(value).all():
            raise ValueError(f"{name} must be finite, got a tensor with non-finite entries")
        return value
    return _number(name, value, math.isfinite, "a finite number")


def _whole(name, value, least):
    """int(value) for an integer (or an integer 0-d tensor) >= least; bools are refused."""
    if isinstance(value, bool) or not isinstance(value, int) and not (
        torch.is_tensor(value) and value.dim() == 0 and not value.is_floating_point()
        and not value.is_complex() and value.dtype != torch.bool
    ):
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    if int(value) < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    return int(value)


def check_length(name, value):
    """A whole number >= 1 (sequence lengths, FFT sizes, mode counts)."""
    return _whole(name, value, 1)


def check_count(name, value):
    """A whole number >= 0 (step counts, seeds, intervals where 0 means never)."""
    return _whole(name, value, 0)


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def check_complex(name, tensor):
    if not torch.is_tensor(tensor) or not tensor.is_complex():
        raise ValueError(f"{name} must be a complex tensor, got {type(tensor).__name__}"
                         + (f" of dtype {tensor.dtype}" if torch.is_tensor(tensor) else ""))
    if tensor.dim() < 1:
        raise ValueError(f"{name} must have a last dimension of modes, got a scalar")
    return tensor
