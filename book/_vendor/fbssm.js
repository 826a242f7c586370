/* fbssm book fixes, added to every page through html_js_files in _config.yml.
 *
 * 1. ipywidgets 8 typesets widget labels with the MathJax 2 API (MathJax.Hub.Queue), which
 *    throws under the book's MathJax 3; Hub.Queue is mapped onto MathJax.typesetPromise.
 *    (The book's MathJax reads \( \) delimiters only, so write descriptions in Unicode: "α".)
 * 2. Accessibility (axe-core rules named):
 *    - aria-input-field-name: the slider handles of static ipywidget snapshots have no
 *      accessible name; they get the widget's description.
 *    - label-content-name-mismatch: the theme's search button (pydata-sphinx-theme) carries
 *      aria-label="Search" while showing "Search this book... Ctrl+K"; the label is removed
 *      so the name is the visible text. The colour-mode button's icons are Font Awesome
 *      SVGs whose <title> ("Light", "Dark") counts as the button's text; the titles are
 *      removed and the icons marked decorative; the button keeps aria-label "Color mode".
 *      The folded cells' <summary> (MyST-NB, hide-input) says "Toggle hidden content" while
 *      showing "Show code cell source"; its label is removed too.
 */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var mathjax = window.MathJax;
    if (mathjax && mathjax.version && !mathjax.Hub) {
      mathjax.Hub = {
        Queue: function () {
          Array.prototype.forEach.call(arguments, function (command) {
            if (Array.isArray(command) && command[0] === "Typeset" && command[2]) {
              mathjax.startup.promise.then(function () { return mathjax.typesetPromise([command[2]]); });
            }
          });
        },
      };
    }
  });

  function fix() {
    document.querySelectorAll('.jupyter-widgets [role="slider"]:not([aria-label]):not([aria-labelledby])')
      .forEach(function (handle) {
        var widget = handle.closest(".widget-slider") || handle.closest(".jupyter-widgets");
        var label = widget && widget.querySelector(".widget-label");
        var name = label && label.textContent.trim();
        handle.setAttribute("aria-label", name || "slider");
      });
    document.querySelectorAll(".search-button__button[aria-label]").forEach(function (button) {
      button.removeAttribute("aria-label");
    });
    // MyST-NB's folded cells (hide-input): <summary aria-label="Toggle hidden content"> shows
    // "Show code cell source"; without the label the name is the text a reader sees.
    document.querySelectorAll('details.hide > summary[aria-label]').forEach(function (summary) {
      summary.removeAttribute("aria-label");
    });
    document.querySelectorAll(".theme-switch-button svg title").forEach(function (title) {
      var icon = title.closest("svg");
      icon.removeAttribute("aria-labelledby");
      icon.removeAttribute("role");
      icon.setAttribute("aria-hidden", "true");
      title.remove();
    });
  }

  // widgets and icons are drawn after page load; fix them as they appear
  var queued = false;
  new MutationObserver(function () {
    if (!queued) {
      queued = true;
      setTimeout(function () { queued = false; fix(); }, 30);
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", fix);
})();
