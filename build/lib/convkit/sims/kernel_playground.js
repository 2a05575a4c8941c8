// KernelPlayground: choose (or type) a kernel and see the feature map of a real image.

function correlate(image, kernel) {
  const [H, W] = [image.length, image[0].length];
  const [kh, kw] = [kernel.length, kernel[0].length];
  const [oh, ow] = [H - kh + 1, W - kw + 1];
  const out = [];
  for (let i = 0; i < oh; i++) {
    out.push(new Array(ow).fill(0));
  }
  // Same order of additions as convkit.correlate2d: one shifted copy per kernel entry.
  for (let m = 0; m < kh; m++) for (let n = 0; n < kw; n++) {
    const w = kernel[m][n];
    for (let i = 0; i < oh; i++) {
      const src = image[i + m];
      const dst = out[i];
      for (let j = 0; j < ow; j++) dst[j] += w * src[j + n];
    }
  }
  return out;
}

/** Paint a 2-D array on a canvas: grey from 0..max, or blue-white-red around 0 if signed. */
function paint(canvas, values) {
  const [H, W] = [values.length, values[0].length];
  canvas.width = W;
  canvas.height = H;
  let lo = Infinity, hi = -Infinity;
  for (const row of values) for (const v of row) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const signed = lo < -1e-12;
  const limit = signed ? Math.max(Math.abs(lo), Math.abs(hi)) || 1 : (hi > 0 ? hi : 1);
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(W, H);
  for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
    const v = values[i][j];
    const at = 4 * (i * W + j);
    let r, g, b;
    if (signed) {
      const t = Math.max(-1, Math.min(1, v / limit));
      if (t >= 0) { r = 255; g = b = Math.round(255 * (1 - t)); }
      else { b = 255; r = g = Math.round(255 * (1 + t)); }
    } else {
      r = g = b = Math.round(255 * Math.max(0, Math.min(1, v / limit)));
    }
    img.data[at] = r; img.data[at + 1] = g; img.data[at + 2] = b; img.data[at + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return { lo, hi, signed };
}

function render({ model, el }) {
  const image = model.get("image");
  const kernels = model.get("kernels");
  let kernel = model.get("kernel").map((row) => row.slice());
  let selected = model.get("selected");
  const [H, W] = [image.length, image[0].length];
  const scale = 210 / Math.max(H, W);  // CSS pixels per image pixel: three panels fit a row

  const root = h("div", { class: "ck-sim ck-kplay", "data-sim": "kernel_playground" });
  root.append(h("div", { class: "ck-title" }, ["Pick a kernel, or type your own, and watch the feature map"]));
  const order = model.get("names");
  const names = order && order.length ? order : Object.keys(kernels);
  const presetButtons = names.map((name) => button(name.replace(/_/g, " "),
    () => choose(name), { "data-action": "preset", "data-name": name }));
  root.append(h("div", { class: "ck-controls", role: "group", "aria-label": "Preset kernels" }, presetButtons));

  const kerGrid = h("div", { class: "ck-cells", "data-role": "kernel" });
  const inCanvas = h("canvas", { class: "ck-canvas", "data-role": "image", role: "img",
    "aria-label": `input image, ${H} by ${W} pixels` });
  const outCanvas = h("canvas", { class: "ck-canvas", "data-role": "feature-map", role: "img" });
  const outCaption = h("figcaption", {}, ["feature map"]);
  root.append(h("div", { class: "ck-grids" }, [
    h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, [`input (${H}\u00D7${W})`]), inCanvas]),
    h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, ["kernel (type in the cells)"]), kerGrid]),
    h("figure", { class: "ck-grid-box" }, [outCaption, outCanvas]),
  ]));
  const status = h("div", { class: "ck-math", "data-role": "status", "aria-live": "polite" });
  root.append(status, h("div", { class: "ck-status" }, [
    "Grey: a map with no negative values (black 0, white the maximum). Blue-white-red: " +
    "negative, zero, positive responses, scaled by the largest magnitude."]));
  for (const c of [inCanvas, outCanvas]) {
    c.style.imageRendering = "pixelated";
    c.style.border = "1px solid var(--ck-border)";
    c.style.display = "block";
  }

  paint(inCanvas, image);
  inCanvas.style.width = `${W * scale}px`;

  function drawKernel() {
    kernelInputs(kerGrid, kernel, 58, (m, n, x) => {
      kernel[m][n] = x;
      selected = "";
      setTrait(model, "selected", "");
      setTrait(model, "kernel", kernel.map((r) => r.slice()));
      update();
    });
  }

  function choose(name) {
    selected = name;
    kernel = kernels[name].map((row) => row.slice());
    setTrait(model, "selected", name);
    setTrait(model, "kernel", kernel.map((r) => r.slice()));
    drawKernel();
    update();
  }

  function update() {
    const out = correlate(image, kernel);
    const { lo, hi, signed } = paint(outCanvas, out);
    outCanvas.style.width = `${out[0].length * scale}px`;
    outCanvas.dataset.values = JSON.stringify(out);
    outCanvas.dataset.shape = `${out.length},${out[0].length}`;
    outCanvas.setAttribute("aria-label", `feature map, ${out.length} by ${out[0].length}`);
    outCaption.textContent = `feature map (${out.length}\u00D7${out[0].length})`;
    presetButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.name === selected)));
    let sum = 0;
    for (const row of kernel) for (const v of row) sum += v;
    status.replaceChildren(
      h("span", {}, [selected ? `Kernel "${selected.replace(/_/g, " ")}"` : "Your kernel"]),
      ` (${kernel.length}\u00D7${kernel[0].length}, weights sum to `,
      h("span", { "data-role": "kernel-sum", "data-value": sum }, [fmt(sum)]),
      "): responses from ",
      h("span", { "data-role": "map-min", "data-value": lo }, [fmt(lo)]), " to ",
      h("span", { "data-role": "map-max", "data-value": hi }, [fmt(hi)]),
      signed ? " (signed: edges of both polarities show)." : ".",
    );
  }
  drawKernel();
  update();
  el.append(root);
}

export default { render };
