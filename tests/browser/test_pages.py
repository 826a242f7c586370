"""Every page of the built book works offline in Chromium, without a kernel.

Per page: (a) no request leaves 127.0.0.1; (b) every plotly figure is drawn, and moving each
slider changes the drawn data; (c) every widget view is rendered; (d) no broken image;
(e) no uncaught page error; (f) all math is typeset and no raw TeX shows; (g) no code-cell
output is empty; (h) no serious or critical axe-core violation, and every image and plotly
figure has a text alternative; (i) nothing is wider than the text column (a table, a code block of
the text) and no slider's current-value label overlaps an axis title. Each page is loaded once and every check reports its failures
with the page name.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import MISSING

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# Harmless in Jupyter Book 1: sphinx-thebe's config script declares THEBE_JS_URL twice.
KNOWN_PAGE_ERRORS = ("'THEBE_JS_URL' has already been declared", "THEBE_JS_URL has already been declared")
# axe rules switched off, each with the theme element that trips it and why it cannot be fixed
# in content or with book/_vendor/fbssm.css. Empty: nothing is switched off.
AXE_RULES_OFF: dict[str, str] = {}
SCREENSHOTS = os.environ.get("FBSSM_SCREENSHOTS")

VIEW_TAG = 'script[type="application/vnd.jupyter.widget-view+json"]'

JS_HELPERS = r"""
window.__fbssm = {
  figures: () => Array.from(new Set(document.querySelectorAll('.plotly-graph-div, .js-plotly-plot'))),
  widgetRendered: (tag) => {
    const area = tag.previousElementSibling;
    return !!(area && area.classList.contains('widget-subarea')
              && area.querySelector('.jupyter-widgets, [class*="widget-"]'));
  },
  signature: (gd) => ({
    paths: Array.from(gd.querySelectorAll('g.trace path')).map(p => p.getAttribute('d')).join('|'),
    data: JSON.stringify((gd.data || []).map(t => [t.x, t.y, t.z])),
    images: Array.from(gd.querySelectorAll('image')).map(im => im.getAttribute('href')).join('|'),
  }),
  text: (el) => {
    let text = '';
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n; (n = walker.nextNode());) {
      if (!n.parentElement.closest('script, style, template')) text += n.nodeValue;
    }
    return text.trim();
  },
};
"""

READY = r"""
() => {
  const views = Array.from(document.querySelectorAll('%s'));
  const figures = window.__fbssm.figures();
  return views.every(window.__fbssm.widgetRendered)
    && figures.every(gd => gd._fullLayout && gd.querySelector('svg.main-svg'));
}
""" % VIEW_TAG

MATHJAX_DONE = r"""
async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise; }
"""

FIGURES = r"""
() => window.__fbssm.figures().map(gd => {
  const labelled = gd.closest('[aria-label]');
  return {
    id: gd.id,
    rendered: gd.classList.contains('js-plotly-plot') && !!gd.querySelector('svg.main-svg')
              && gd.querySelectorAll('g.trace, .imagelayer image, .hm image').length > 0,
    alt: labelled ? labelled.getAttribute('aria-label').trim() : '',
    sliders: ((gd._fullLayout && gd._fullLayout.sliders) || []).map(s => s.steps.length),
  };
})
"""

# Scroll slider j of figure i into view, remember the drawing, return where its target step is.
SLIDER_TARGET = r"""
([i, j]) => {
  const gd = window.__fbssm.figures()[i];
  const slider = gd._fullLayout.sliders[j];
  const target = slider.active === slider.steps.length - 1 ? 0 : slider.steps.length - 1;
  const group = gd.querySelectorAll('.slider-group')[j];
  group.scrollIntoView({block: 'center'});
  const tick = group.querySelectorAll('.slider-tick-rect')[target].getBoundingClientRect();
  const rail = group.querySelector('.slider-rail-touch-rect').getBoundingClientRect();
  window.__fbssmBefore = window.__fbssm.signature(gd);
  return {target, x: tick.left + tick.width / 2, y: rail.top + rail.height / 2};
}
"""

SLIDER_MOVED = r"""
([i, j, target]) => window.__fbssm.figures()[i]._fullLayout.sliders[j].active === target
"""

SLIDER_CHANGED = r"""
([i]) => {
  const before = window.__fbssmBefore, after = window.__fbssm.signature(window.__fbssm.figures()[i]);
  if (before.images !== after.images) return true;  // image traces (e.g. video frames)
  return before.paths ? before.paths !== after.paths : before.data !== after.data;
}
"""

WIDGETS = r"""
() => ({rendered: Array.from(document.querySelectorAll('%s')).map(window.__fbssm.widgetRendered),
        areas: document.querySelectorAll('.widget-subarea').length,
        emptyOutputs: Array.from(document.querySelectorAll('.widget-output'))
                           .filter(out => !out.querySelector('.jp-OutputArea-child')).length})
""" % VIEW_TAG

IMAGES = r"""
async () => {
  const images = Array.from(document.images);
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener('load', done); img.addEventListener('error', done); setTimeout(done, 5000);
  })));
  return images.map(img => ({src: (img.currentSrc || img.src).slice(0, 100),
                             ok: img.complete && img.naturalWidth > 0,
                             alt: (img.getAttribute('alt') || '').trim()}));
}
"""

MATH = r"""
() => {
  const math = Array.from(document.querySelectorAll('.math'));
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walker.nextNode());) {
    if (n.parentElement.closest('pre, code, script, style, textarea, mjx-container, .highlight')) continue;
    if (/\\\(|\\\)|\\\[|\\\]|\$\$/.test(n.nodeValue)) raw.push(n.nodeValue.trim().slice(0, 60));
  }
  return {math: math.length, typeset: math.filter(m => m.querySelector('mjx-container')).length, raw};
}
"""

EMPTY_OUTPUTS = r"""
() => Array.from(document.querySelectorAll('.cell_output')).map((out, index) => ({
  index,
  empty: !window.__fbssm.text(out)
         && !out.querySelector('img, svg, canvas, iframe, video, mjx-container, .js-plotly-plot, .widget-subarea > *'),
})).filter(o => o.empty).map(o => o.index)
"""

LAYOUT = r"""
() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const column = article.getBoundingClientRect();
  const wide = [];
  article.querySelectorAll('table').forEach((table, i) => {
    const box = table.getBoundingClientRect();
    if (!box.width) return;                                    // inside a closed <details>
    if (box.right > column.right + 2 || table.scrollWidth > table.clientWidth + 2)
      wide.push(`table ${i} is ${Math.round(Math.max(box.width, table.scrollWidth))} px wide in a ${Math.round(column.width)} px column`);
  });
  article.querySelectorAll('pre').forEach((pre, i) => {
    if (pre.closest('.cell_input, .cell_output, .output, details') || !pre.clientWidth) return;
    if (pre.scrollWidth > pre.clientWidth + 2)
      wide.push(`code block ${i} is cut off: ${pre.scrollWidth} px of text in ${pre.clientWidth} px`);
  });
  const overlaps = [];
  const meets = (a, b) => a.width && b.width && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  window.__fbssm.figures().forEach((gd, i) => {
    const titles = Array.from(gd.querySelectorAll('.g-xtitle text, .g-x2title text, .g-ytitle text')).map(t => t.getBoundingClientRect());
    gd.querySelectorAll('text.slider-current-value').forEach(label => {
      const box = label.getBoundingClientRect();
      if (titles.some(title => meets(box, title)))
        overlaps.push(`figure ${gd.id || i}: the slider label "${label.textContent}" overlaps an axis title`);
    });
  });
  return {wide, overlaps};
}
"""

AXE_RUN = r"""
async (rulesOff) => {
  const rules = Object.fromEntries(rulesOff.map(id => [id, {enabled: false}]));
  const result = await axe.run(document, {resultTypes: ['violations'], rules});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}
"""


def _is_local(url: str, base_url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.netloc == urlsplit(base_url).netloc


def test_page(page_name, browser, base_url, report):
    """All checks (a)–(h) on one page of the built book."""
    assert page_name != MISSING  # html_root has already failed with the reason
    problems: list[str] = []
    external: list[str] = []
    local_failures: list[str] = []
    errors: list[str] = []

    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def route(route_):
        if _is_local(route_.request.url, base_url):
            route_.continue_()
        else:
            external.append(route_.request.url)
            route_.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: local_failures.append(f"{r.status} {r.url}")
            if r.status >= 400 and _is_local(r.url, base_url) and not r.url.endswith("/favicon.ico")
            else None)
    page.on("requestfailed", lambda r: local_failures.append(f"failed {r.url}")
            if _is_local(r.url, base_url) else None)
    try:
        page.goto(f"{base_url}/{page_name}", wait_until="load")
        page.evaluate(JS_HELPERS)
        page.evaluate(MATHJAX_DONE)
        try:
            page.wait_for_function(READY, timeout=20_000, polling=100)
        except Exception:
            problems.append("figures, widgets or math not ready after 20 s")
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SCREENSHOTS) / (page_name.replace("/", "_") + ".png")),
                            full_page=True)

        # (b) plotly figures and their sliders
        figures = page.evaluate(FIGURES)
        sliders = sliders_changed = 0
        for i, figure in enumerate(figures):
            if not figure["rendered"]:
                problems.append(f"plotly figure {figure['id'] or i} has no drawn trace")
            if not figure["alt"]:
                problems.append(f"plotly figure {figure['id'] or i} has no aria-label")
            for j, n_steps in enumerate(figure["sliders"]):
                sliders += 1
                if n_steps < 2:
                    problems.append(f"figure {figure['id']}: slider {j} has {n_steps} step")
                    continue
                where = page.evaluate(SLIDER_TARGET, [i, j])
                page.mouse.click(where["x"], where["y"])
                try:
                    page.wait_for_function(SLIDER_MOVED, arg=[i, j, where["target"]], timeout=5_000)
                except Exception:
                    problems.append(f"figure {figure['id']}: clicking slider {j} at step "
                                    f"{where['target']} did not move it")
                    continue
                try:  # the slider's index moves before plotly has redrawn: wait for the redraw
                    page.wait_for_function(SLIDER_CHANGED, arg=[i], timeout=5_000)
                    sliders_changed += 1
                except Exception:
                    problems.append(f"figure {figure['id']}: slider {j} moved but the drawn data did not "
                                    "change within 5 s")

        # (c) widgets
        found = page.evaluate(WIDGETS)
        widgets = found["rendered"]
        if not all(widgets):
            problems.append(f"{widgets.count(False)} of {len(widgets)} widget views not rendered (show "
                            f"widgets with fbssm.interactive.show_widget: its output carries their state)")
        if found["emptyOutputs"]:  # its outputs reach the kernel only after the cell has run
            problems.append(f"{found['emptyOutputs']} widget Output areas are empty in the snapshot "
                            f"(draw with fbssm.interactive.interactive_controls instead)")
        if found["areas"] > len(widgets):  # a view drawn once per widget state that holds it
            problems.append(f"{found['areas']} widget areas drawn for {len(widgets)} views")

        # (d) images, (h) their alt text
        images = page.evaluate(IMAGES)
        problems += [f"broken image {img['src']}" for img in images if not img["ok"]]
        problems += [f"image without alt text {img['src']}" for img in images if not img["alt"]]

        # (f) math
        math = page.evaluate(MATH)
        if math["typeset"] < math["math"]:
            problems.append(f"{math['math'] - math['typeset']} of {math['math']} math elements not typeset")
        problems += [f"raw TeX visible: {text!r}" for text in math["raw"]]

        # (g) empty outputs
        problems += [f"code-cell output #{index} is empty" for index in page.evaluate(EMPTY_OUTPUTS)]

        # (i) layout
        layout = page.evaluate(LAYOUT)
        problems += layout["wide"] + layout["overlaps"]

        # (h) accessibility
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(AXE_RUN, list(AXE_RULES_OFF))
        by_impact: dict[str, int] = {}
        for violation in violations:
            by_impact[violation["impact"]] = by_impact.get(violation["impact"], 0) + 1
            if violation["impact"] in ("serious", "critical"):
                problems.append(f"axe {violation['impact']} {violation['id']} ({violation['help']}): "
                                f"{violation['targets']}")
    finally:
        context.close()

    # (a) network, (e) page errors
    problems += [f"external request {url}" for url in external]
    problems += [f"local request failed: {failure}" for failure in local_failures]
    problems += [f"page error: {error}" for error in errors
                 if not any(known in error for known in KNOWN_PAGE_ERRORS)]

    report(page_name, {
        "figures": len(figures),
        "figures_rendered": sum(f["rendered"] for f in figures),
        "sliders": sliders,
        "sliders_changed": sliders_changed,
        "widgets": len(widgets),
        "widgets_rendered": sum(widgets),
        "math": math["math"],
        "math_typeset": math["typeset"],
        "images": len(images),
        "external_requests": len(external),
        "axe_violations": dict(sorted(by_impact.items())),
        "axe_violation_ids": sorted({v["id"] for v in violations}),
        "problems": len(problems),
    })
    assert not problems, f"{page_name}:\n  " + "\n  ".join(f"{page_name}: {p}" for p in problems)


def test_book_has_pages(html_root):
    """The build has the landing page, the notation page and at least one chapter."""
    from .conftest import discover_pages

    pages = discover_pages(html_root)
    for expected in ("book/intro.html", "book/notation.html", "book/bibliography.html"):
        assert expected in pages, f"{expected} missing from the build at {html_root}"
