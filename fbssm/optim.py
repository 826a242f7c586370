"""Optimiser parameter groups: SSM parameters and β get their own learning rate, no weight decay."""
from .layers import S4D


def param_groups(model, lr, weight_decay=0.0, ssm_lr=None, beta_lr=None, imag_lr=None):
    """Groups for torch.optim: "ssm" (A, Δ: ssm_lr, wd 0), "beta" (beta_lr, wd 0), "other".

    ssm_lr and beta_lr default to lr. imag_lr, when given, puts the imaginary parts y_j of the
    eigenvalues in their own group "imag" (wd 0): Adam moves a parameter by about its learning
    rate per step whatever the gradient's size, and y_j are O(α·N) where log Δ and log(−x_j)
    are O(1). Empty groups are left out.
    """
    ssm, imag, beta = [], [], []
    for module in model.modules():
        if isinstance(module, S4D):
            for name, p in module.named_parameters(recurse=False):
                if name == "A_imag" and imag_lr is not None:
                    imag.append(p)
                elif name in S4D.SSM_PARAMETERS:
                    ssm.append(p)
                elif name == "beta":
                    beta.append(p)
    special = {id(p) for p in ssm + imag + beta}
    other = [p for p in model.parameters() if id(p) not in special and p.requires_grad]
    groups = [
        {"name": "other", "params": other, "lr": lr, "weight_decay": weight_decay},
        {"name": "ssm", "params": ssm, "lr": lr if ssm_lr is None else ssm_lr, "weight_decay": 0.0},
        {"name": "imag", "params": imag, "lr": imag_lr, "weight_decay": 0.0},
        {"name": "beta", "params": beta, "lr": lr if beta_lr is None else beta_lr, "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]
