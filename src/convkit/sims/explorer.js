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
    const grid = h("div", { class: "ck-cells", "data-role": "kernel",
      style: `grid-template-columns:repeat(${kernel[0].length}, 54px)`, "aria-label": "kernel weights (editable)" });
    kernel.forEach((row, m) => row.forEach((v, n) => {
      const input = h("input", { type: "number", step: "any", class: "ck-cell ck-kernel ck-kinput",
        value: String(Math.round(v * 1e6) / 1e6), "data-row": m, "data-col": n, "data-value": v,
        "aria-label": `kernel weight row ${m} column ${n}` });
      input.addEventListener("input", () => {
        const x = parseFloat(input.value);
        if (!Number.isFinite(x)) { input.setAttribute("aria-invalid", "true"); return; }
        input.removeAttribute("aria-invalid");
        kernel[m][n] = x;
        input.dataset.value = String(x);
        selected = "";
        save("selected", "");
        save("kernel", kernel.map((r) => r.slice()));
        presetButtons.forEach((b) => b.setAttribute("aria-pressed", "false"));
        draw();
      });
      grid.append(input);
    }));
    return grid;
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

    const grid = (rows, cols, role) => h("div", { class: "ck-cells", "data-role": role,
      style: `grid-template-columns:repeat(${cols}, 34px)`, "aria-label": `${role}, ${rows} by ${cols}` });
    const imgGrid = grid(PH, PW, "padded-input");
    const outGrid = grid(oh, ow, "output");
    outGrid.dataset.rows = oh;
    outGrid.dataset.cols = ow;
    const size = h("div", { class: "ck-math", "data-role": "size-formula" }, [
      "output size = \u230A(", h("span", { class: "ck-x" }, [`${H}`]), " + 2\u00B7", h("span", { class: "ck-pad-text" }, [`${P}`]),
      ` \u2212 ${kh}) / ${S}\u230B + 1 = `,
      h("span", { class: "ck-y", "data-role": "out-size", "data-rows": oh, "data-cols": ow }, [`${oh}`]),
      ` rows, \u230A(${W} + 2\u00B7${P} \u2212 ${kw}) / ${S}\u230B + 1 = `, h("span", { class: "ck-y" }, [`${ow}`]), " columns",
    ]);
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
      const [i, j] = [Math.floor(pos / ow), pos % ow];
      const [r0, c0] = [i * S, j * S];
      imgGrid.replaceChildren();
      for (let r = 0; r < PH; r++) for (let c = 0; c < PW; c++) {
        const v = padded(r, c);
        const inside = r >= r0 && r < r0 + kh && c >= c0 && c < c0 + kw;
        const cls = "ck-cell" + (v === null ? " ck-pad" : "") + (inside ? " ck-in-window" : "");
        imgGrid.append(h("div", { class: cls, "data-value": v ?? 0, "data-pad": v === null ? "true" : "false",
          title: v === null ? "padding: 0" : `I(${r - P},${c - P}) = ${fmt(v)}` }, [fmt(v ?? 0),
          inside ? h("span", { class: "ck-weight", "aria-hidden": "true" }, [`\u00D7${fmt(kernel[r - r0][c - c0])}`]) : null]));
      }
      outGrid.replaceChildren();
      for (let r = 0; r < oh; r++) for (let c = 0; c < ow; c++) {
        const idx = r * ow + c;
        outGrid.append(idx > pos
          ? h("div", { class: "ck-cell ck-empty", "data-index": idx }, ["?"])
          : h("div", { class: "ck-cell " + (idx === pos ? "ck-current" : "ck-out"), "data-index": idx,
            "data-value": output[r][c], title: `S(${r},${c}) = ${fmt(output[r][c])}` }, [fmt(output[r][c])]));
      }
      const terms = [];
      for (let m = 0; m < kh; m++) for (let n = 0; n < kw; n++) terms.push([padded(r0 + m, c0 + n) ?? 0, kernel[m][n]]);
      math.replaceChildren(
        h("div", {}, [h("span", { class: "ck-y" }, [`S(${i},${j})`]), ` = \u03A3 window \u00B7 K, the window's top-left corner at row ` +
          `${i}\u00B7${S} = ${r0}, column ${j}\u00B7${S} = ${c0} of the padded input`]),
        h("div", { "data-role": "products" }, ["= ", ...terms.flatMap(([x, w], t) => [t ? " + " : "",
          h("span", { class: "ck-x" }, [fmtFactor(x)]), "\u00B7", h("span", { class: "ck-w" }, [fmtFactor(w)])])]),
        h("div", {}, ["= ", ...terms.flatMap(([x, w], t) => [t ? " + " : "",
          h("span", { "data-role": "product", "data-value": x * w }, [fmtFactor(x * w)])])]),
        h("div", {}, ["= ", h("span", { class: "ck-y", "data-role": "sum", "data-value": output[i][j] }, [fmt(output[i][j])])]),
      );
      status.textContent = `Window ${pos + 1} of ${count} (output row ${i}, column ${j}); ` +
        `the window jumps ${S} pixel${S > 1 ? "s" : ""} at a time.`;
      controls.refresh();
    };
    draw();
  }
  build();
  el.append(root);
  return () => { if (controls) controls.stop(); };
}

export default { render };
