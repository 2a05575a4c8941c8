// ipywidgets 8 controls typeset their labels with MathJax 2's API,
// `MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])`; the book loads MathJax 3,
// which has no `Hub`, so that call would throw.  This shim provides `Hub.Queue` on
// top of MathJax 3's `typesetPromise`.  Jobs queued before MathJax 3 has started
// are kept and run once it is ready.
(function () {
  "use strict";
  var pending = [];

  function typeset(elements) {
    var mj = window.MathJax;
    if (mj && typeof mj.typesetPromise === "function") {
      mj.startup.promise
        .then(function () { return mj.typesetPromise(elements); })
        .catch(function (err) { console.warn("MathJax typeset failed", err); });
    } else {
      pending.push(elements);
    }
  }

  // ipywidgets writes TeX with $...$ (as in JupyterLab); the book's MathJax only
  // knows \( \), so rewrite the delimiters in the element handed to Typeset.
  function dollarsToParens(el) {
    var walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) {
      nodes.push(walker.currentNode);
    }
    nodes.forEach(function (node) {
      if (node.parentElement && node.parentElement.closest("pre, code, script, style, textarea")) {
        return;
      }
      var text = node.nodeValue;
      var rewritten = text.replace(/\$([^$\n]+)\$/g, "\\($1\\)");
      if (rewritten !== text) {
        node.nodeValue = rewritten;
      }
    });
  }

  function run(job) {
    if (typeof job === "function") {
      job();
    } else if (Array.isArray(job) && job[0] === "Typeset") {
      var el = job[2];
      if (el && el.nodeType === 1) {
        dollarsToParens(el);
      }
      typeset(el ? [el] : undefined);
    }
  }

  var hub = {
    Queue: function () {
      for (var i = 0; i < arguments.length; i++) {
        run(arguments[i]);
      }
    },
    Typeset: function (el) { typeset(el ? [el] : undefined); },
  };

  function install() {
    if (!window.MathJax.Hub) {
      window.MathJax.Hub = hub;
    }
    var jobs = pending;
    pending = [];
    jobs.forEach(typeset);
  }

  var mj = (window.MathJax = window.MathJax || {});
  if (mj.version) {
    install(); // MathJax 3 is already running
    return;
  }
  // MathJax 3 has not loaded yet: `window.MathJax` is its configuration object.
  mj.Hub = hub; // usable right away (jobs wait in `pending`)
  mj.startup = mj.startup || {};
  var previousReady = mj.startup.ready;
  mj.startup.ready = function () {
    if (previousReady) {
      previousReady();
    } else {
      window.MathJax.startup.defaultReady();
    }
    install();
  };
})();
