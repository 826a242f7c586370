"""Show plotly figures and ipywidgets so they work in the static book, JupyterLab and Colab.

The static book has no kernel. ``show`` therefore puts, next to plotly's own JSON, a
``text/html`` version that draws the figure with the plotly.js the page already loads;
``show_widget`` puts, next to the live widget, a ``text/html`` snapshot of the widget's
state that the page's vendored ``@jupyter-widgets/html-manager`` renders. The book's
configuration makes the HTML builder prefer ``text/html``; Jupyter front ends prefer the
live renderers.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import sys
from collections.abc import Callable

STATE_MIME = "application/vnd.jupyter.widget-state+json"
VIEW_MIME = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"

STATIC_WIDGET_NOTE = (
    "Live control: on this static page it moves but recomputes nothing. Open the page in "
    "Jupyter or Colab (launch button at the top) to recompute; the slider figure works here "
    "without a kernel."
)

_figure_numbers = itertools.count(1)


def _require_alt(alt: str) -> str:
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt: give a short text saying what the figure shows")
    return alt.strip()


def figure_bundle(fig, alt: str) -> dict:
    """The mimebundle ``show`` displays: ``text/html`` (no plotly.js inside), plotly JSON, text."""
    alt = _require_alt(alt)
    spec = fig.to_json()
    # same figure, same id: re-executed notebooks give identical outputs
    div_id = f"fbssm-fig-{next(_figure_numbers)}-{hashlib.sha1(spec.encode()).hexdigest()[:8]}"
    markup = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                         config={"displaylogo": False, "responsive": True})
    # role="figure", not "img": an img's content is presentational, but the modebar and
    # sliders inside are focusable controls (axe: nested-interactive)
    markup = markup.replace(f'<div id="{div_id}"',
                            f'<div id="{div_id}" role="figure" aria-label="{html.escape(alt)}"', 1)
    return {"text/html": markup, PLOTLY_MIME: json.loads(spec), "text/plain": f"[figure] {alt}"}


def show(fig, alt: str) -> None:
    """Display a plotly figure in the book, JupyterLab or Colab; ``alt`` is its text alternative."""
    from IPython.display import display

    if "google.colab" in sys.modules:  # Colab draws plotly itself, with its own plotly.js
        _require_alt(alt)
        fig.show()
    else:
        display(figure_bundle(fig, alt), raw=True)


def widget_snapshot(widget, alt: str, note: str = STATIC_WIDGET_NOTE) -> str:
    """Static HTML for ``widget``: its state and view tags (no scripts loaded) and ``note``.

    Only the widget and the models it depends on are embedded, read from the kernel side,
    so the snapshot is complete also when the notebook runs without a front end.
    """
    from ipywidgets.embed import dependency_state, embed_data, escape_script

    alt = _require_alt(alt)
    data = embed_data(views=[widget], state=dependency_state([widget]))
    state = escape_script(json.dumps(data["manager_state"]))
    views = "".join(f'<script type="{VIEW_MIME}">{escape_script(json.dumps(view))}</script>'
                    for view in data["view_specs"])
    return (f'<div class="fbssm-widget" role="group" aria-label="{html.escape(alt)}">'
            f'<p class="fbssm-widget-note"><em>{html.escape(note)}</em></p>'
            f'<script type="{STATE_MIME}">{state}</script>{views}</div>')


def live_bundle(widget) -> dict:
    """The mimebundle a Jupyter front end renders as the live widget: ipywidgets 8's own, or under
    ipywidgets 7 (Colab's 7.7) the view reference that its ``_ipython_display_`` would send."""
    if hasattr(widget, "_repr_mimebundle_"):
        return dict(widget._repr_mimebundle_())
    return {"text/plain": repr(widget),
            VIEW_MIME: {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}}


def show_widget(widget, alt: str, note: str = STATIC_WIDGET_NOTE) -> None:
    """Display a live ipywidget, with a static snapshot (``text/html``) for the built book."""
    from IPython.display import display

    bundle = live_bundle(widget)
    bundle["text/html"] = widget_snapshot(widget, alt, note)
    display(bundle, raw=True)


def figure_png_html(fig, alt: str) -> str:
    """A matplotlib figure as an ``<img>`` with alt text (a data URL: no file, no request)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    encoded = base64.b64encode(buffer.getvalue()).decode()
    width = round(fig.get_figwidth() * fig.dpi)  # CSS pixels, whatever the savefig dpi
    return (f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(_require_alt(alt))}" '
            f'width="{width}" style="max-width: 100%; height: auto">')


def interactive_controls(update: Callable, alt: str, **controls):
    """Controls that redraw a matplotlib figure: the ipywidgets twin of a slider figure.

    ``update(**values)`` draws and returns a matplotlib figure for the controls' current
    values (``controls`` maps argument names to ipywidgets, e.g. ``alpha=FloatLogSlider(...)``).
    The picture lives in an ``HTML`` widget's value, set from the kernel, so a snapshot taken
    right after creation already contains it. (``ipywidgets.interactive`` draws into an
    ``Output`` widget whose content reaches the kernel only after the cell has run: its
    snapshot is empty when the notebook executes without a front end.) Returns a ``VBox``
    to pass to ``show_widget``.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    picture = widgets.HTML()

    def redraw(_change=None):
        fig = update(**{name: control.value for name, control in controls.items()})
        if not hasattr(fig, "savefig"):
            raise TypeError("update must return the matplotlib figure it drew (and not call plt.show())")
        picture.value = figure_png_html(fig, alt)
        plt.close(fig)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(list(controls.values())), picture])
