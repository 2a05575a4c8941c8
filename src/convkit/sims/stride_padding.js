// StridePaddingSim: a kernel moving with a chosen stride over a zero-padded image.

const MAX_STRIDE = 3;

function render({ model, el }) {
  const image = model.get("image");
  const kernel = model.get("kernel");
  const [H, W] = [image.length, image[0].length];
  const [kh, kw] = [kernel.length, kernel[0].length];
  const maxPad = Math.max(kh, kw) - 1;
  let stride = Math.min(Math.max(model.get("stride"), 1), MAX_STRIDE);
  let padding = Math.min(Math.max(model.get("padding"), 0), maxPad);
  let pos = Math.max(model.get("position"), 0);
  let controls = null;

  const root = h("div", { class: "ck-sim ck-stridepad mathjax_process", "data-sim": "stride_padding" });
  const title = h("div", { class: "ck-title", "data-role": "title" });
  const sliders = h("div", { class: "ck-controls", role: "group", "aria-label": "Stride and padding" }, [
    rangeSlider("stride", "stride S", 1, MAX_STRIDE, stride, (v) => { stride = v; changed("stride", v); }),
    rangeSlider("padding", "padding P", 0, maxPad, padding, (v) => { padding = v; changed("padding", v); }),
  ]);
  const body = h("div", { "data-role": "body" });
  root.append(title, sliders, body);

  function changed(name, value) {
    pos = 0;
    setTrait(model, name, value);
    setTrait(model, "position", 0);
    build();
  }

  function build() {
    if (controls) controls.stop();
    body.replaceChildren();
    const P = padding, S = stride;
    const [PH, PW] = [H + 2 * P, W + 2 * P];
    const oh = Math.floor((PH - kh) / S) + 1;
    const ow = Math.floor((PW - kw) / S) + 1;
    title.textContent = `A ${kh}\u00D7${kw} kernel, stride ${S}, padding ${P}, over a ${H}\u00D7${W} image ` +
      `\u2192 ${oh}\u00D7${ow} output`;
    const { padded, output } = paddedCorrelation(image, kernel, S, P);
    const count = oh * ow;
    pos = Math.min(pos, count - 1);

    const imgGrid = cellGrid(PH, PW, "padded-input", 36);
    const kerGrid = cellGrid(kh, kw, "kernel", 36);
    const outGrid = cellGrid(oh, ow, "output", 36);
    outGrid.dataset.rows = oh;
    outGrid.dataset.cols = ow;
    fillKernel(kerGrid, kernel);
    const size = sizeFormula(H, W, kh, kw, S, P, oh, ow);
    const math = h("div", { class: "ck-math", "data-role": "arithmetic", "aria-live": "polite" });
    const status = h("div", { class: "ck-status", "data-role": "status" });
    controls = stepper(count, () => pos, (p) => { pos = p; setTrait(model, "position", p); draw(); }, { interval: 700 });
    body.append(
      h("div", { class: "ck-grids" }, [
        h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, [P ? `input padded with ${P} ring${P > 1 ? "s" : ""} of zeros` : "input (no padding)"]), imgGrid]),
        h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, ["kernel K"]), kerGrid]),
        h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, [`output, ${oh}\u00D7${ow}`]), outGrid]),
      ]),
      size, math, controls.bar, status,
      h("div", { class: "ck-legend" }, [
        h("span", {}, [h("span", { class: "ck-swatch ck-pad-swatch" }), "padding (zeros, not part of the image)"]),
        h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-input)" }), "window (small number: its weight)"]),
        h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-output)" }), "output being computed"]),
      ]),
    );

    function draw() {
      showStridedWindow({ imgGrid, outGrid, math, status, padded, output, kernel, S, P, PH, PW, ow, count, pos,
        lead: "uses the window whose top-left corner is at" });
      controls.refresh();
    }
    draw();
  }
  build();
  el.append(root);
  return () => { if (controls) controls.stop(); };
}

export default { render };
