// Tell require.js where the widget code the book embeds lives: in the built site's
// vendor/ folder (this script is vendor/convkit/widgets-require-config.js), so
// @jupyter-widgets/html-manager never falls back to a CDN.  Absolute URLs computed
// from this script's own location work over http:// and file:// alike.
(function () {
  "use strict";
  var here = document.currentScript && document.currentScript.src;
  if (!here || !window.requirejs) {
    return;
  }
  var vendor = new URL("../", here).href;
  window.requirejs.config({
    paths: {
      // anywidget's AMD bundle (from its PyPI wheel), the model of every convkit sim
      anywidget: vendor + "anywidget/index",
      // where the embed script's own assets (icon fonts) are looked up
      "@jupyter-widgets/html-manager/dist": vendor + "html-manager/dist",
    },
  });
})();
