// PatchGridSim: an image cut into p x p patches (kernel = stride = p), the patch count and one flattened patch.

function render({ model, el }) {
  const image = model.get("image");
  const [H, W] = [image.length, image[0].length];
  const maxP = Math.floor(Math.min(H, W) / 2);
  let p = Math.min(Math.max(model.get("patch_size"), 1), maxP);
  let selected = Math.max(model.get("selected"), 0);
  const scale = Math.max(4, Math.floor(224 / Math.max(H, W)));

  const root = h("div", { class: "ck-sim ck-patches", "data-sim": "patches" });
  const title = h("div", { class: "ck-title", "data-role": "title" });
  const slider = rangeSlider("patch", "patch size p", 1, maxP, p, (value) => {
    p = value;
    selected = 0;
    setTrait(model, "patch_size", p);
    setTrait(model, "selected", 0);
    draw();
  });
  const canvas = h("canvas", { width: W * scale, height: H * scale, "data-role": "image",
    style: "cursor:pointer;image-rendering:pixelated;border:1px solid #a0aec0",
    "aria-label": `the ${H} by ${W} image with its patch grid; click a patch to select it` });
  const strip = h("canvas", { "data-role": "patch-strip", height: 28,
    style: "image-rendering:pixelated;border:1px solid #a0aec0;max-width:100%" });
  const counts = h("div", { class: "ck-math", "data-role": "counts", "aria-live": "polite" });
  const vector = h("div", { class: "ck-status", "data-role": "patch-vector" });
  const prev = button("\u25C0 Previous patch", () => select(selected - 1), { "data-action": "prev" });
  const next = button("Next patch \u25B6", () => select(selected + 1), { "data-action": "next" });
  root.append(title, slider, h("div", { class: "ck-grids" }, [
    h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, ["image and patch grid"]), canvas]),
  ]), counts, h("div", { class: "ck-controls", role: "group", "aria-label": "Select a patch" }, [prev, next]),
  h("figure", { class: "ck-grid-box" }, [h("figcaption", { "data-role": "strip-caption" }, []), strip]), vector);

  const grid = () => [Math.floor(H / p), Math.floor(W / p)];
  // Patch k (row-major over the grid) flattened row by row, as convkit.patchify orders one channel.
  const patchValues = (k) => {
    const cols = grid()[1];
    const [gi, gj] = [Math.floor(k / cols), k % cols];
    const values = [];
    for (let r = 0; r < p; r++) for (let c = 0; c < p; c++) values.push(image[gi * p + r][gj * p + c]);
    return values;
  };

  function select(k) {
    const [rows, cols] = grid();
    selected = Math.min(Math.max(k, 0), rows * cols - 1);
    setTrait(model, "selected", selected);
    draw();
  }

  canvas.addEventListener("click", (ev) => {
    const box = canvas.getBoundingClientRect();
    const c = Math.floor(((ev.clientX - box.left) / box.width) * W / p);
    const r = Math.floor(((ev.clientY - box.top) / box.height) * H / p);
    const [rows, cols] = grid();
    if (r < rows && c < cols) select(r * cols + c);
  });

  function grey(v) {
    const g = Math.round(255 * Math.min(Math.max(v, 0), 1));
    return `rgb(${g},${g},${g})`;
  }

  function draw() {
    const [rows, cols] = grid();
    const count = rows * cols;
    selected = Math.min(selected, count - 1);
    const length = p * p;
    const dropped = H * W - rows * p * cols * p;
    title.textContent = `Patch size ${p}: a ${H}\u00D7${W} image \u2192 ${rows}\u00D7${cols} grid = ${count} patches of ${length} values`;
    const ctx = canvas.getContext("2d");
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) {
      ctx.fillStyle = grey(image[r][c]);
      ctx.fillRect(c * scale, r * scale, scale, scale);
    }
    ctx.fillStyle = "rgba(229, 62, 62, 0.45)";  // pixels no patch covers
    if (cols * p < W) ctx.fillRect(cols * p * scale, 0, (W - cols * p) * scale, H * scale);
    if (rows * p < H) ctx.fillRect(0, rows * p * scale, cols * p * scale, (H - rows * p) * scale);
    ctx.strokeStyle = "#ed8936";
    ctx.lineWidth = 1;
    for (let i = 0; i <= rows; i++) {
      ctx.beginPath(); ctx.moveTo(0, i * p * scale); ctx.lineTo(cols * p * scale, i * p * scale); ctx.stroke();
    }
    for (let j = 0; j <= cols; j++) {
      ctx.beginPath(); ctx.moveTo(j * p * scale, 0); ctx.lineTo(j * p * scale, rows * p * scale); ctx.stroke();
    }
    const [si, sj] = [Math.floor(selected / cols), selected % cols];
    ctx.strokeStyle = "#3182ce";
    ctx.lineWidth = 3;
    ctx.strokeRect(sj * p * scale + 1.5, si * p * scale + 1.5, p * scale - 3, p * scale - 3);

    counts.replaceChildren(
      h("div", {}, ["grid: ", h("span", { class: "ck-y", "data-role": "grid-rows", "data-value": rows }, [String(rows)]),
        " \u00D7 ", h("span", { class: "ck-y", "data-role": "grid-cols", "data-value": cols }, [String(cols)]),
        ` (\u230A${H}/${p}\u230B \u00D7 \u230A${W}/${p}\u230B)`]),
      h("div", {}, ["patches (sequence length): ",
        h("span", { class: "ck-y", "data-role": "num-patches", "data-value": count }, [String(count)])]),
      h("div", {}, ["values per patch: ",
        h("span", { class: "ck-y", "data-role": "patch-length", "data-value": length }, [String(length)]),
        ` (${p}\u00D7${p})`]),
      h("div", {}, ["pixels no patch covers (a stride-p convolution skips them): ",
        h("span", { class: "ck-y", "data-role": "dropped", "data-value": dropped }, [String(dropped)])]),
    );
    const values = patchValues(selected);
    const cell = Math.max(2, Math.min(12, Math.floor(560 / length)));
    strip.width = length * cell;
    const sctx = strip.getContext("2d");
    values.forEach((v, i) => { sctx.fillStyle = grey(v); sctx.fillRect(i * cell, 0, cell, 28); });
    root.querySelector('[data-role="strip-caption"]').textContent =
      `patch ${selected} (grid row ${si}, column ${sj}) flattened row by row: ${length} values`;
    vector.dataset.index = selected;
    vector.dataset.values = JSON.stringify(values);
    vector.textContent = `Patch ${selected} of ${count}; its mean grey value is ` +
      fmt(values.reduce((a, b) => a + b, 0) / length) + ".";
    prev.disabled = selected <= 0;
    next.disabled = selected >= count - 1;
  }
  draw();
  el.append(root);
}

export default { render };
