// Slide1DSim: a 1-D kernel sliding along a signal (cross-correlation, "valid").

function render({ model, el }) {
  const signal = model.get("signal");
  const kernel = model.get("kernel");
  const k = kernel.length;
  const count = signal.length - k + 1;
  const output = Array.from({ length: count }, (_, i) => dot(signal.slice(i, i + k), kernel));
  let pos = Math.min(Math.max(model.get("position"), 0), count - 1);

  const root = h("div", { class: "ck-sim ck-slide1d mathjax_process", "data-sim": "slide1d" });
  root.append(h("div", { class: "ck-title" }, [
    `Sliding a ${k}-tap kernel along a ${signal.length}-sample signal`]));
  const cols = `repeat(${signal.length}, 44px)`;
  const xCells = h("div", { class: "ck-cells", style: `grid-template-columns:${cols}`, "data-role": "signal" });
  const wCells = h("div", { class: "ck-cells", style: `grid-template-columns:${cols}`, "data-role": "kernel" });
  const yCells = h("div", { class: "ck-cells", style: `grid-template-columns:${cols}`, "data-role": "output" });
  root.append(
    h("div", { class: "ck-row" }, [h("span", { class: "ck-label" }, ["signal x"]), xCells]),
    h("div", { class: "ck-row" }, [h("span", { class: "ck-label" }, ["kernel w"]), wCells]),
    h("div", { class: "ck-row" }, [h("span", { class: "ck-label" }, ["output y"]), yCells]),
  );
  const math = h("div", { class: "ck-math", "data-role": "arithmetic", "aria-live": "polite" });
  root.append(math);
  const status = h("div", { class: "ck-status", "data-role": "status" });
  const controls = stepper(count, () => pos, (p) => { pos = p; setTrait(model, "position", p); draw(); });
  root.append(controls.bar, status);
  root.append(h("div", { class: "ck-legend" }, [
    h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-input)" }), "window (inputs used)"]),
    h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-kernel)" }), "kernel weights"]),
    h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-output)" }), "output being computed"]),
  ]));
  root.addEventListener("keydown", (event) => {
    if (event.key === "ArrowRight" && pos < count - 1) { controls.stop(); pos += 1; setTrait(model, "position", pos); draw(); }
    if (event.key === "ArrowLeft" && pos > 0) { controls.stop(); pos -= 1; setTrait(model, "position", pos); draw(); }
  });

  function draw() {
    xCells.replaceChildren(...signal.map((v, i) => h("div", {
      class: "ck-cell" + (i >= pos && i < pos + k ? " ck-in-window" : ""), "data-value": v,
      title: `x[${i}] = ${fmt(v)}` }, [fmt(v)])));
    wCells.replaceChildren(...signal.map((_, i) => (i >= pos && i < pos + k
      ? h("div", { class: "ck-cell ck-kernel", "data-value": kernel[i - pos], title: `w[${i - pos}]` }, [fmt(kernel[i - pos])])
      : h("div", { class: "ck-cell ck-blank" }))));
    yCells.replaceChildren(...signal.map((_, i) => {
      if (i >= count) return h("div", { class: "ck-cell ck-blank" });
      if (i > pos) return h("div", { class: "ck-cell ck-empty", "data-index": i }, ["?"]);
      return h("div", { class: "ck-cell " + (i === pos ? "ck-current" : "ck-out"), "data-index": i,
        "data-value": output[i], title: `y[${i}] = ${fmt(output[i])}` }, [fmt(output[i])]);
    }));
    const terms = kernel.map((w, m) => [signal[pos + m], w]);
    const products = terms.map(([x, w]) => x * w);
    math.replaceChildren(
      h("div", {}, [h("span", { class: "ck-y" }, [`y[${pos}]`]), " = ",
        ...terms.flatMap(([x, w], m) => [m ? " + " : "",
          h("span", { class: "ck-x" }, [`x[${pos + m}]`]), "\u00B7", h("span", { class: "ck-w" }, [`w[${m}]`])])]),
      h("div", { "data-role": "products" }, ["= ",
        ...terms.flatMap(([x, w], m) => [m ? " + " : "",
          h("span", { class: "ck-x" }, [fmtFactor(x)]), "\u00B7", h("span", { class: "ck-w" }, [fmtFactor(w)])])]),
      h("div", {}, ["= ", ...products.flatMap((p, m) => [m ? " + " : "",
        h("span", { "data-role": "product", "data-value": p }, [fmtFactor(p)])])]),
      h("div", {}, ["= ", h("span", { class: "ck-y", "data-role": "sum", "data-value": output[pos] }, [fmt(output[pos])])]),
    );
    status.textContent = `Position ${pos + 1} of ${count}: output length = ${signal.length} \u2212 ${k} + 1 = ${count}.`;
    controls.refresh();
  }
  draw();
  el.append(root);
  return () => controls.stop();
}

export default { render };
