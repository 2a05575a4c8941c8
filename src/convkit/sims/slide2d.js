// Slide2DSim: a 2-D kernel sliding over an image (cross-correlation, "valid").

function render({ model, el }) {
  const image = model.get("image");
  const kernel = model.get("kernel");
  const [H, W] = [image.length, image[0].length];
  const [kh, kw] = [kernel.length, kernel[0].length];
  const [oh, ow] = [H - kh + 1, W - kw + 1];
  const count = oh * ow;
  const output = Array.from({ length: oh }, (_, i) => Array.from({ length: ow }, (_, j) => {
    let total = 0;
    for (let m = 0; m < kh; m++) for (let n = 0; n < kw; n++) total += image[i + m][j + n] * kernel[m][n];
    return total;
  }));
  let pos = Math.min(Math.max(model.get("position"), 0), count - 1);

  const root = h("div", { class: "ck-sim ck-slide2d mathjax_process", "data-sim": "slide2d" });
  root.append(h("div", { class: "ck-title" }, [
    `A ${kh}\u00D7${kw} kernel sliding over a ${H}\u00D7${W} image \u2192 ${oh}\u00D7${ow} output`]));
  const grid = (rows, cols, role) => h("div", { class: "ck-cells", "data-role": role,
    style: `grid-template-columns:repeat(${cols}, 44px)`, "aria-label": `${role}, ${rows} by ${cols}` });
  const imgGrid = grid(H, W, "image");
  const kerGrid = grid(kh, kw, "kernel");
  const outGrid = grid(oh, ow, "output");
  root.append(h("div", { class: "ck-grids" }, [
    h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, ["input I"]), imgGrid]),
    h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, ["kernel K"]), kerGrid]),
    h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, ["output S = I \u22C6 K"]), outGrid]),
  ]));
  const math = h("div", { class: "ck-math", "data-role": "arithmetic", "aria-live": "polite" });
  const status = h("div", { class: "ck-status", "data-role": "status" });
  const controls = stepper(count, () => pos, (p) => { pos = p; setTrait(model, "position", p); draw(); },
    { interval: 900 });
  root.append(math, controls.bar, status, h("div", { class: "ck-legend" }, [
    h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-input)" }), "window over the input"]),
    h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-kernel)" }), "kernel weight (small number)"]),
    h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-output)" }), "output being computed"]),
  ]));

  for (let m = 0; m < kh; m++) for (let n = 0; n < kw; n++) {
    kerGrid.append(h("div", { class: "ck-cell ck-kernel", "data-value": kernel[m][n], title: `K(${m},${n})` },
      [fmt(kernel[m][n])]));
  }

  function draw() {
    const [i, j] = [Math.floor(pos / ow), pos % ow];
    imgGrid.replaceChildren();
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) {
      const inside = r >= i && r < i + kh && c >= j && c < j + kw;
      imgGrid.append(h("div", { class: "ck-cell" + (inside ? " ck-in-window" : ""), "data-value": image[r][c],
        title: `I(${r},${c}) = ${fmt(image[r][c])}` }, [fmt(image[r][c]),
        inside ? h("span", { class: "ck-weight", "aria-hidden": "true" }, [`\u00D7${fmt(kernel[r - i][c - j])}`]) : null]));
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
    for (let m = 0; m < kh; m++) for (let n = 0; n < kw; n++) terms.push([image[i + m][j + n], kernel[m][n]]);
    math.replaceChildren(
      h("div", {}, [h("span", { class: "ck-y" }, [`S(${i},${j})`]), " = \u03A3", h("sub", {}, ["m,n"]), " ",
        h("span", { class: "ck-x" }, [`I(${i}+m, ${j}+n)`]), "\u00B7", h("span", { class: "ck-w" }, ["K(m,n)"])]),
      h("div", { "data-role": "products" }, ["= ", ...terms.flatMap(([x, w], t) => [t ? " + " : "",
        h("span", { class: "ck-x" }, [fmtFactor(x)]), "\u00B7", h("span", { class: "ck-w" }, [fmtFactor(w)])])]),
      h("div", {}, ["= ", ...terms.flatMap(([x, w], t) => [t ? " + " : "",
        h("span", { "data-role": "product", "data-value": x * w }, [fmtFactor(x * w)])])]),
      h("div", {}, ["= ", h("span", { class: "ck-y", "data-role": "sum", "data-value": output[i][j] },
        [fmt(output[i][j])])]),
    );
    status.textContent = `Window ${pos + 1} of ${count} (row ${i}, column ${j}); output size ` +
      `(${H} \u2212 ${kh} + 1) \u00D7 (${W} \u2212 ${kw} + 1) = ${oh}\u00D7${ow}.`;
    controls.refresh();
  }
  draw();
  el.append(root);
  return () => controls.stop();
}

export default { render };
