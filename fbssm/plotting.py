"""One plotting style for the book: palette, colours per (α, β) setting, slider figures, and the
figure of `fbssm.diagnose`.

The palette is Okabe–Ito (safe for the common colour-vision deficiencies): ``OKABE_ITO`` by
name, ``PALETTE`` in the order lines take them. A setting of
(α, β) keeps its colour across chapters: the paper's four settings have fixed colours,
any other setting is hashed (stably, across processes) into the remaining colours.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

# The book's colours in line order (PALETTE[0] is the first line); yellow is last: faint on white.
PALETTE = [OKABE_ITO[name] for name in
           ("blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue", "black", "yellow")]

PAPER_SETTING_COLORS = {
    (1.0, 0.0): OKABE_ITO["black"],            # S4D baseline
    (0.01, -1.0): OKABE_ITO["blue"],           # stronger low-frequency bias
    (10.0, 0.5): OKABE_ITO["bluish_green"],    # balanced
    (100.0, 1.0): OKABE_ITO["vermillion"],     # reversed bias
}
_OTHER_SETTING_COLORS = [OKABE_ITO["orange"], OKABE_ITO["sky_blue"], OKABE_ITO["reddish_purple"]]

FONT_FAMILY = "DejaVu Sans, Arial, sans-serif"

PLOTLY_TEMPLATE = go.layout.Template(layout=dict(
    colorway=PALETTE,
    font=dict(family=FONT_FAMILY, size=13, color="#222222"),
    paper_bgcolor="white",
    plot_bgcolor="white",
    xaxis=dict(showgrid=True, gridcolor="#E5E5E5", linecolor="#444444", ticks="outside", zeroline=False),
    yaxis=dict(showgrid=True, gridcolor="#E5E5E5", linecolor="#444444", ticks="outside", zeroline=False),
    legend=dict(bgcolor="rgba(255,255,255,0.8)"),
    margin=dict(l=60, r=20, t=50, b=50),
))


def use_style() -> None:
    """Set the book's matplotlib style (rcParams) and make PLOTLY_TEMPLATE plotly's default."""
    import matplotlib as mpl
    import plotly.io as pio

    mpl.rcParams.update({
        "axes.prop_cycle": mpl.cycler(color=PALETTE),
        "axes.grid": True,
        "grid.color": "#E5E5E5",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": "medium",
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "savefig.bbox": "tight",
        "font.size": 11,
        "lines.linewidth": 1.8,
        "legend.frameon": False,
        "image.cmap": "viridis",
    })
    pio.templates["fbssm"] = PLOTLY_TEMPLATE
    pio.templates.default = "fbssm"


def setting_color(alpha: float, beta: float) -> str:
    """Colour of the setting (α, β): fixed for the paper's four settings, hashed otherwise."""
    key = (float(alpha) + 0.0, float(beta) + 0.0)  # + 0.0 turns -0.0 into 0.0
    if key in PAPER_SETTING_COLORS:
        return PAPER_SETTING_COLORS[key]
    digest = hashlib.sha256(repr(key).encode()).digest()
    return _OTHER_SETTING_COLORS[digest[0] % len(_OTHER_SETTING_COLORS)]


def _plain(value):
    """Slider arguments as JSON: 1-D numeric arrays as plotly.js typed-array specs (base64
    float64, a third of the size of decimal text), other arrays as lists, in dicts and lists."""
    if isinstance(value, np.ndarray):
        if value.ndim == 1 and value.dtype.kind in "fiu":
            return {"dtype": "f8", "bdata": base64.b64encode(value.astype("<f8").tobytes()).decode()}
        return value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def slider_figure(
    steps: Sequence[Sequence],
    labels: Sequence[str],
    slider_name: str,
    *,
    initial: int = 0,
    layout: dict | go.Layout | None = None,
) -> go.Figure:
    """A plotly figure whose slider switches between precomputed sets of traces.

    ``steps[i]`` is the list of traces (``go.Scatter`` objects or dicts) drawn at slider
    position ``labels[i]``; every step has the same number of traces, trace ``j`` of each
    step taking the place of trace ``j`` of the others. Each slider step carries its data
    in a ``restyle`` call, so the slider works in a static page without a kernel.
    ``initial`` is the step shown first; ``slider_name`` (e.g. ``"α"``) prefixes the label
    of the current step.
    ``layout`` is applied as given; without a template the book's ``PLOTLY_TEMPLATE`` is used.
    """
    if len(steps) == 0:
        raise ValueError("steps: need at least one step")
    if len(labels) != len(steps):
        raise ValueError(f"labels: need one label per step ({len(steps)}), got {len(labels)}")
    if not all(isinstance(label, str) and label for label in labels):
        raise ValueError("labels: every label must be a non-empty string")
    if len(set(labels)) != len(labels):
        raise ValueError("labels: labels must be distinct")
    if not 0 <= initial < len(steps):
        raise ValueError(f"initial: must be in [0, {len(steps) - 1}], got {initial}")
    traces = [list(go.Figure(data=list(step)).data) for step in steps]
    n_traces = len(traces[0])
    if n_traces == 0 or any(len(step) != n_traces for step in traces):
        raise ValueError(f"steps: every step needs the same, non-zero number of traces; got "
                         f"{[len(step) for step in traces]}")

    plain = [[_plain(trace.to_plotly_json()) for trace in step] for step in traces]
    keys = sorted({key for step in plain for trace in step for key in trace} - {"type"})
    slider_steps = []
    for label, step in zip(labels, plain):
        # None resets an attribute a trace of this step does not set
        update = {key: [trace.get(key) for trace in step] for key in keys}
        slider_steps.append(dict(label=label, method="restyle", args=[update, list(range(n_traces))]))

    name = slider_name.strip()
    prefix = f"{name} " if name.endswith(("=", ":")) else f"{name} = "
    layout = go.Layout(layout or {})
    if "template" not in layout.to_plotly_json():
        layout.template = PLOTLY_TEMPLATE
    fig = go.Figure(data=traces[initial], layout=layout)
    fig.update_layout(
        sliders=[dict(active=initial, steps=slider_steps, pad=dict(t=45),
                      currentvalue=dict(prefix=prefix))],
    )
    return fig


def plot_diagnosis(diagnosis):
    """A matplotlib figure of an `fbssm.Diagnosis`: where each layer's modes sit (ω_j in
    rad/sample, Nyquist marked) and each channel's variation in the low and the high band."""
    import matplotlib.pyplot as plt

    rows = diagnosis.rows
    n = len(rows)
    height = 1.6 + 0.9 * n
    fig, (where, how) = plt.subplots(1, 2, figsize=(10, height), sharey=True,
                                     gridspec_kw={"width_ratios": [3, 2]})
    omegas = np.concatenate([row["omega"].ravel() for row in rows])
    floor = max(1e-4, 0.5 * float(omegas[omegas > 0].min())) if (omegas > 0).any() else 1e-4
    rng = np.random.default_rng(0)
    for i, row in enumerate(rows):
        w = np.maximum(row["omega"].ravel(), floor)
        where.scatter(w, i + rng.uniform(-0.3, 0.3, w.size), s=6, alpha=0.5, color=PALETTE[0],
                      label="modes ω_j = Δ·y_j (ω = 0 at the left edge)" if i == 0 else None)
        for band, values, marker, colour in (("low", row["variation_low"], "o", PALETTE[2]),
                                             ("high", row["variation_high"], "s", PALETTE[1])):
            how.scatter(np.maximum(values, 1e-12), i + rng.uniform(-0.25, 0.25, values.size), s=10,
                        marker=marker, color=colour, alpha=0.6,
                        label=f"variation in the {band} band" if i == 0 else None)
    for name, band, colour in (("low", diagnosis.low_band, PALETTE[2]), ("high", diagnosis.high_band, PALETTE[1])):
        where.axvspan(max(band[0], floor), band[1], color=colour, alpha=0.15, lw=0,
                      label=f"{name} band [{band[0]:.3g}, {band[1]:.3g}]")
    where.axvline(np.pi, color="grey", ls=":", lw=1.2, label="Nyquist ω = π")
    where.set(xscale="log", xlabel="ω (rad/sample)", yticks=range(n),
              yticklabels=[row["layer"] for row in rows], ylim=(n - 0.5, -0.5),
              title="where the modes sit")
    how.set(xscale="log", xlabel="variation of G in the band (one point per channel)",
            title="how much each channel can shape a band")
    handles = [h for ax in (where, how) for h in ax.get_legend_handles_labels()[0]]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize="small", frameon=False)
    fig.tight_layout(rect=(0, 0.6 / height, 1, 1))
    return fig
