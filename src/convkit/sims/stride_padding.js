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
  const slider = (name, label, min, max, value, onInput) => {
    const out = h("output", { class: "ck-slider-value", "data-role": `${name}-value` }, [String(value)]);
    const input = h("input", { type: "range", min, max, step: 1, value, "data-control": name,
      "aria-label": label, oninput: (ev) => { out.textContent = ev.target.value; onInput(Number(ev.target.value)); } });
    return h("label", { class: "ck-slider" }, [h("span", { class: "ck-slider-label" }, [label]), input, out]);
  };
  const sliders = h("div", { class: "ck-controls", role: "group", "aria-label": "Stride and padding" }, [
    slider("stride", "stride S", 1, MAX_STRIDE, stride, (v) => { stride = v; changed("stride", v); }),
    slider("padding", "padding P", 0, maxPad, padding, (v) => { padding = v; changed("padding", v); }),
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
    const padded = (r, c) => (r < P || r >= P + H || c < P || c >= P + W ? null : image[r - P][c - P]);
    const output = Array.from({ length: oh }, (_, i) => Array.from({ length: ow }, (_, j) => {
      let total = 0;
      for (let m = 0; m < kh; m++) for (let n = 0; n < kw; n++) total += (padded(i * S + m, j * S + n) ?? 0) * kernel[m][n];
      return total;
    }));
    const count = oh * ow;
    pos = Math.min(pos, count - 1);

    const grid = (rows, cols, role) => h("div", { class: "ck-cells", "data-role": role,
      style: `grid-template-columns:repeat(${cols}, 36px)`, "aria-label": `${role}, ${rows} by ${cols}` });
    const imgGrid = grid(PH, PW, "padded-input");
    const kerGrid = grid(kh, kw, "kernel");
    const outGrid = grid(oh, ow, "output");
    outGrid.dataset.rows = oh;
    outGrid.dataset.cols = ow;
    for (let m = 0; m < kh; m++) for (let n = 0; n < kw; n++) {
      kerGrid.append(h("div", { class: "ck-cell ck-kernel", "data-value": kernel[m][n], title: `K(${m},${n})` },
        [fmt(kernel[m][n])]));
    }
    const size = h("div", { class: "ck-math", "data-role": "size-formula" }, [
      "output size = \u230A(", h("span", { class: "ck-x" }, [`${H}`]), " + 2\u00B7", h("span", { class: "ck-pad-text" }, [`${P}`]),
      ` \u2212 ${kh}) / ${S}\u230B + 1 = `,
      h("span", { class: "ck-y", "data-role": "out-size", "data-rows": oh, "data-cols": ow }, [`${oh}`]),
      ` rows, \u230A(${W} + 2\u00B7${P} \u2212 ${kw}) / ${S}\u230B + 1 = `, h("span", { class: "ck-y" }, [`${ow}`]), " columns",
    ]);
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
        h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-input)" }), "window"]),
        h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-output)" }), "output being computed"]),
      ]),
    );

    function draw() {
      const [i, j] = [Math.floor(pos / ow), pos % ow];
      const [r0, c0] = [i * S, j * S];
      imgGrid.replaceChildren();
      for (let r = 0; r < PH; r++) for (let c = 0; c < PW; c++) {
        const v = padded(r, c);
        const inside = r >= r0 && r < r0 + kh && c >= c0 && c < c0 + kw;
        const cls = "ck-cell" + (v === null ? " ck-pad" : "") + (inside ? " ck-in-window" : "");
        imgGrid.append(h("div", { class: cls, "data-value": v ?? 0, "data-pad": v === null ? "true" : "false",
          title: v === null ? "padding: 0" : `I(${r - P},${c - P}) = ${fmt(v)}` }, [fmt(v ?? 0)]));
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
        h("div", {}, [h("span", { class: "ck-y" }, [`S(${i},${j})`]), ` uses the window whose top-left corner is at row ${i}\u00B7${S} = ${r0}, ` +
          `column ${j}\u00B7${S} = ${c0} of the padded input`]),
        h("div", {}, ["= ", ...terms.flatMap(([x, w], t) => [t ? " + " : "",
          h("span", { class: "ck-x" }, [fmtFactor(x)]), "\u00B7", h("span", { class: "ck-w" }, [fmtFactor(w)])]),
        " = ", h("span", { class: "ck-y", "data-role": "sum", "data-value": output[i][j] }, [fmt(output[i][j])])]),
      );
      status.textContent = `Window ${pos + 1} of ${count} (output row ${i}, column ${j}); ` +
        `the window jumps ${S} pixel${S > 1 ? "s" : ""} at a time.`;
      controls.refresh();
    }
    draw();
  }
  build();
  el.append(root);
  return () => { if (controls) controls.stop(); };
}

export default { render };
