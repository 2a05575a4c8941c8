// Slide2DSim: a 2-D kernel sliding over an image (cross-correlation, "valid").

function render({ model, el }) {
  const image = model.get("image");
  const kernel = model.get("kernel");
  const [H, W] = [image.length, image[0].length];
  const [kh, kw] = [kernel.length, kernel[0].length];
  const [oh, ow] = [H - kh + 1, W - kw + 1];
  const count = oh * ow;
  const { output } = paddedCorrelation(image, kernel, 1, 0);
  let pos = Math.min(Math.max(model.get("position"), 0), count - 1);

  const root = h("div", { class: "ck-sim ck-slide2d mathjax_process", "data-sim": "slide2d" });
  root.append(h("div", { class: "ck-title" }, [
    `A ${kh}\u00D7${kw} kernel sliding over a ${H}\u00D7${W} image \u2192 ${oh}\u00D7${ow} output`]));
  const imgGrid = cellGrid(H, W, "image", 44);
  const kerGrid = cellGrid(kh, kw, "kernel", 44);
  const outGrid = cellGrid(oh, ow, "output", 44);
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

  fillKernel(kerGrid, kernel);

  function draw() {
    const [i, j] = [Math.floor(pos / ow), pos % ow];
    fillPaddedInput(imgGrid, (r, c) => image[r][c], H, W, 0, kernel, i, j);
    fillOutput(outGrid, output, pos);
    math.replaceChildren(
      h("div", {}, [h("span", { class: "ck-y" }, [`S(${i},${j})`]), " = \u03A3", h("sub", {}, ["m,n"]), " ",
        h("span", { class: "ck-x" }, [`I(${i}+m, ${j}+n)`]), "\u00B7", h("span", { class: "ck-w" }, ["K(m,n)"])]),
      ...windowArithmetic(windowTerms((r, c) => image[r][c], kernel, i, j), output[i][j]),
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
