// ConvExplorerSim: pick a kernel (or type its weights), a stride and a padding, then
// step through the windows: products, their sum, and the output map filling in.

const MAX_STRIDE = 3;

function render({ model, el }) {
  const image = model.get("image");
  const kernels = model.get("kernels");
  const order = model.get("names");
  const names = order && order.length ? order : Object.keys(kernels);
  const [H, W] = [image.length, image[0].length];
  let kernel = model.get("kernel").map((row) => row.slice());
  let selected = model.get("selected");
  let stride = Math.min(Math.max(model.get("stride"), 1), MAX_STRIDE);
  let padding = Math.max(model.get("padding"), 0);
  let pos = Math.max(model.get("position"), 0);
  let controls = null;
  let draw = () => {};

  const root = h("div", { class: "ck-sim ck-stridepad ck-explorer mathjax_process", "data-sim": "explorer" });
  const title = h("div", { class: "ck-title", "data-role": "title" });
  const presetButtons = names.map((name) => button(name.replace(/_/g, " "), () => choose(name),
    { "data-action": "preset", "data-name": name }));
  const sliders = h("div", { class: "ck-controls", role: "group", "aria-label": "Stride and padding" });
  const body = h("div", { "data-role": "body" });
  root.append(title,
    h("div", { class: "ck-controls", role: "group", "aria-label": "Named kernels" },
      [h("span", { class: "ck-slider-label" }, ["kernel:"]), ...presetButtons]),
    sliders, body);

  const save = (name, value) => setTrait(model, name, value);

  function choose(name) {
    selected = name;
    kernel = kernels[name].map((row) => row.slice());
    save("selected", name);
    save("kernel", kernel.map((r) => r.slice()));
    build();
  }

  function restart(name, value) {
    pos = 0;
    save(name, value);
    save("position", 0);
    build();
  }

  function kernelEditor() {
    const grid = h("div", { class: "ck-cells", "data-role": "kernel", "aria-label": "kernel weights (editable)" });
    return kernelInputs(grid, kernel, 54, (m, n, x) => {
      kernel[m][n] = x;
      selected = "";
      save("selected", "");
      save("kernel", kernel.map((r) => r.slice()));
      presetButtons.forEach((b) => b.setAttribute("aria-pressed", "false"));
      draw();
    });
  }

  function build() {
    if (controls) controls.stop();
    const [kh, kw] = [kernel.length, kernel[0].length];
    const maxPad = Math.max(kh, kw) - 1;
    padding = Math.min(padding, maxPad);
    presetButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.name === selected)));
    sliders.replaceChildren(
      rangeSlider("stride", "stride S", 1, MAX_STRIDE, stride, (v) => { stride = v; restart("stride", v); }),
      rangeSlider("padding", "padding P", 0, maxPad, padding, (v) => { padding = v; restart("padding", v); }),
    );
    const P = padding, S = stride;
    const [PH, PW] = [H + 2 * P, W + 2 * P];
    const oh = Math.floor((PH - kh) / S) + 1;
    const ow = Math.floor((PW - kw) / S) + 1;
    const count = oh * ow;
    pos = Math.min(pos, count - 1);
    title.textContent = `${H}\u00D7${W} input, ${kh}\u00D7${kw} kernel, stride ${S}, padding ${P} ` +
      `\u2192 ${oh}\u00D7${ow} output`;

    const imgGrid = cellGrid(PH, PW, "padded-input", 34);
    const outGrid = cellGrid(oh, ow, "output", 34);
    outGrid.dataset.rows = oh;
    outGrid.dataset.cols = ow;
    const size = sizeFormula(H, W, kh, kw, S, P, oh, ow);
    const math = h("div", { class: "ck-math ck-products", "data-role": "arithmetic", "aria-live": "polite" });
    const status = h("div", { class: "ck-status", "data-role": "status" });
    controls = stepper(count, () => pos, (p) => { pos = p; save("position", p); draw(); }, { interval: 600 });
    body.replaceChildren(
      h("div", { class: "ck-grids" }, [
        h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, [P ? `input, padded with ${P} ring${P > 1 ? "s" : ""} of zeros` : "input (no padding)"]), imgGrid]),
        h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, ["kernel K (type to edit)"]), kernelEditor()]),
        h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, [`output, ${oh}\u00D7${ow}`]), outGrid]),
      ]),
      math, controls.bar, status, size,
      h("div", { class: "ck-legend" }, [
        h("span", {}, [h("span", { class: "ck-swatch ck-pad-swatch" }), "padding (zeros)"]),
        h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-input)" }), "window (small number: its weight)"]),
        h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-output)" }), "output being computed"]),
      ]),
    );

    draw = function () {
      const { padded, output } = paddedCorrelation(image, kernel, S, P);
      showStridedWindow({ imgGrid, outGrid, math, status, padded, output, kernel, S, P, PH, PW, ow, count, pos,
        lead: "= \u03A3 window \u00B7 K, the window's top-left corner at" });
      controls.refresh();
    };
    draw();
  }
  build();
  el.append(root);
  return () => { if (controls) controls.stop(); };
}

export default { render };
