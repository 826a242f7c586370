"""The book's plotting style and the kernel-free figure and widget outputs."""
import base64
import json
import re

import numpy as np
import plotly.graph_objects as go
import pytest

from fbssm.interactive import (PLOTLY_MIME, STATE_MIME, VIEW_MIME, figure_bundle, interactive_controls, live_bundle,
                               widget_snapshot)
from fbssm.plotting import OKABE_ITO, PALETTE, PAPER_SETTING_COLORS, setting_color, slider_figure, use_style

PAPER_SETTINGS = [(1, 0), (0.01, -1), (10, 0.5), (100, 1)]


def _decoded(value):
    """A slider argument back as an array (typed-array spec or list)."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


def _steps(n_steps=3, n_traces=2):
    x = np.linspace(0, 1, 5)
    return [[go.Scatter(x=x, y=(k + 1) * x + j, name=f"trace {j}") for j in range(n_traces)]
            for k in range(n_steps)]


def test_slider_figure_has_one_step_per_label():
    fig = slider_figure(_steps(3), ["a", "b", "c"], "α")
    (slider,) = fig.layout.sliders
    assert [step.label for step in slider.steps] == ["a", "b", "c"]
    assert slider.currentvalue.prefix == "α = "
    assert slider_figure(_steps(3), ["a", "b", "c"], "Δ = ").layout.sliders[0].currentvalue.prefix == "Δ = "


def test_slider_steps_restyle_with_each_steps_data():
    steps = _steps(3, n_traces=2)
    fig = slider_figure(steps, ["a", "b", "c"], "α", initial=2)
    for k, step in enumerate(fig.layout.sliders[0].steps):
        assert step.method == "restyle"
        update, traces = step.args
        assert list(traces) == [0, 1]
        for j in range(2):
            np.testing.assert_allclose(_decoded(update["y"][j]), steps[k][j].y)
            np.testing.assert_allclose(_decoded(update["x"][j]), steps[k][j].x)
            assert update["name"][j] == f"trace {j}"
    # the figure starts on the active step
    np.testing.assert_allclose(fig.data[0].y, steps[2][0].y)
    assert fig.layout.sliders[0].active == 2


def test_slider_figure_accepts_dict_traces():
    steps = [[{"x": [0, 1], "y": [k, k + 1]}] for k in range(2)]
    fig = slider_figure(steps, ["0", "1"], "k")
    assert fig.layout.sliders[0].steps[1].args[0]["y"] == [[1, 2]]


def test_slider_arguments_are_plain_json():
    fig = slider_figure(_steps(2), ["a", "b"], "α")
    json.dumps(fig.layout.sliders[0].to_plotly_json())  # no numpy left in the restyle payload


@pytest.mark.parametrize("labels", [["a", "b"], ["a", "b", "b"], ["a", "", "c"], ["a", "b", "c", "d"]])
def test_slider_figure_rejects_bad_labels(labels):
    with pytest.raises(ValueError, match="labels"):
        slider_figure(_steps(3), labels, "α")


def test_slider_figure_rejects_ragged_steps_and_bad_active():
    steps = _steps(2, n_traces=2)
    steps[1] = steps[1][:1]
    with pytest.raises(ValueError, match="steps"):
        slider_figure(steps, ["a", "b"], "α")
    with pytest.raises(ValueError, match="initial"):
        slider_figure(_steps(2), ["a", "b"], "α", initial=2)


def test_setting_colors_are_stable_and_distinct_for_the_paper_settings():
    colors = [setting_color(a, b) for a, b in PAPER_SETTINGS]
    assert len(set(colors)) == 4
    assert colors == [setting_color(float(a), float(b)) for a, b in PAPER_SETTINGS]
    assert setting_color(1, -0.0) == setting_color(1, 0)
    assert set(colors) == set(PAPER_SETTING_COLORS.values())


def test_other_settings_get_palette_colors_apart_from_the_paper_ones():
    other = setting_color(3, 0.25)
    assert other == setting_color(3.0, 0.25)  # stable (hashlib, not the salted hash())
    assert other in PALETTE and other not in PAPER_SETTING_COLORS.values()


def test_use_style_sets_the_palette():
    import matplotlib as mpl

    use_style()
    assert mpl.rcParams["axes.prop_cycle"].by_key()["color"] == PALETTE
    assert sorted(PALETTE) == sorted(OKABE_ITO.values())


def test_show_bundle_is_kernel_free_html_plus_plotly_json():
    fig = slider_figure(_steps(2), ["a", "b"], "α")
    bundle = figure_bundle(fig, alt='Gain of "two" modes')
    html = bundle["text/html"]
    assert "<script src" not in html and "cdn" not in html.lower()
    assert "Plotly.newPlot" in html
    assert 'aria-label="Gain of &quot;two&quot; modes"' in html
    assert bundle[PLOTLY_MIME]["layout"]["sliders"][0]["steps"][1]["label"] == "b"
    with pytest.raises(ValueError, match="alt"):
        figure_bundle(fig, alt=" ")


def test_widget_snapshot_carries_state_and_view_without_cdn():
    import ipywidgets as widgets

    slider = widgets.FloatSlider(value=2.0, min=0.0, max=10.0, description="α")
    html = widget_snapshot(slider, alt="α slider")
    assert f'<script type="{STATE_MIME}">' in html and f'<script type="{VIEW_MIME}">' in html
    assert not re.search(r"<script[^>]*\ssrc=", html) and "cdn" not in html.lower()
    assert slider.model_id in html and '"value": 2.0' in html
    assert "kernel" in html  # the note saying the controls need one to recompute


def test_interactive_controls_snapshot_holds_the_picture():
    import ipywidgets as widgets
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def draw(alpha):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, alpha])
        return fig

    box = interactive_controls(draw, alt="a line", alpha=widgets.FloatSlider(value=1.0))
    html = widget_snapshot(box, alt="controls")
    assert "data:image/png;base64," in html and 'alt=\\"a line\\"' in html


def test_live_bundle_references_the_widget_with_or_without_repr_mimebundle(monkeypatch):
    # ipywidgets 8 gives _repr_mimebundle_; ipywidgets 7.7 (Colab's) has none, and the view
    # reference is built as its _ipython_display_ builds it
    import ipywidgets as widgets

    slider = widgets.FloatSlider(value=2.0)
    assert live_bundle(slider)[VIEW_MIME]["model_id"] == slider.model_id
    monkeypatch.delattr(widgets.Widget, "_repr_mimebundle_")
    assert not hasattr(slider, "_repr_mimebundle_")
    bundle = live_bundle(slider)
    assert bundle[VIEW_MIME] == {"version_major": 2, "version_minor": 0, "model_id": slider.model_id}
    assert "FloatSlider" in bundle["text/plain"]
