// PoolingSim: max or average pooling of a small grid; each window and its output share a colour.

const WINDOW_COLOURS = ["#90cdf4", "#fbd38d", "#9ae6b4", "#feb2b2", "#d6bcfa", "#fbb6ce",
  "#81e6d9", "#faf089", "#cbd5e0"];

function render({ model, el }) {
  const grid = model.get("grid");
  const [H, W] = [grid.length, grid[0].length];
  const k = model.get("kernel_size");
  const S = model.get("stride");
  let mode = model.get("mode") === "avg" ? "avg" : "max";
  let pos = Math.max(model.get("position"), 0);
  const oh = Math.floor((H - k) / S) + 1;
  const ow = Math.floor((W - k) / S) + 1;
  const count = oh * ow;
  pos = Math.min(pos, count - 1);
  const colour = (idx) => WINDOW_COLOURS[idx % WINDOW_COLOURS.length];

  const windowValues = (i, j) => {
    const values = [];
    for (let m = 0; m < k; m++) for (let n = 0; n < k; n++) values.push(grid[i * S + m][j * S + n]);
    return values;
  };
  // The pooled value of window (i, j): the largest value, or the sum (row-major) divided by k*k.
  const pool = (i, j) => {
    const values = windowValues(i, j);
    if (mode === "max") return values.reduce((a, b) => (b > a ? b : a));
    let total = 0;
    for (const v of values) total += v;
    return total / (k * k);
  };
  // For each input cell, the last window (row-major) that holds it, or -1 (never with S <= k).
  const owner = Array.from({ length: H }, () => Array(W).fill(-1));
  for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    for (let m = 0; m < k; m++) for (let n = 0; n < k; n++) owner[i * S + m][j * S + n] = i * ow + j;
  }

  const root = h("div", { class: "ck-sim ck-pooling", "data-sim": "pooling" });
  const title = h("div", { class: "ck-title", "data-role": "title" });
  const modeButton = (value, label) => button(label, () => setMode(value),
    { "data-control": "mode", "data-mode": value, "aria-pressed": String(mode === value) });
  const modeBar = h("div", { class: "ck-controls", role: "group", "aria-label": "Pooling type" },
    [modeButton("max", "Max pooling"), modeButton("avg", "Average pooling")]);
  const inGrid = cellGrid(H, W, "input", 40);
  const outGrid = cellGrid(oh, ow, "output", 40);
  outGrid.dataset.rows = oh;
  outGrid.dataset.cols = ow;
  const math = h("div", { class: "ck-math", "data-role": "arithmetic", "aria-live": "polite" });
  const status = h("div", { class: "ck-status", "data-role": "status" });
  const controls = stepper(count, () => pos, (p) => { pos = p; setTrait(model, "position", p); draw(); },
    { interval: 900 });
  const outCaption = h("figcaption", {});
  root.append(title, modeBar,
    h("div", { class: "ck-grids" }, [
      h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, [`input ${H}\u00D7${W}, one colour per window`]), inGrid]),
      h("figure", { class: "ck-grid-box" }, [outCaption, outGrid]),
    ]),
    math, controls.bar, status);

  function setMode(value) {
    mode = value;
    setTrait(model, "mode", value);
    for (const b of modeBar.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
    draw();
  }

  function draw() {
    const label = mode === "max" ? "max" : "average";
    title.textContent = `${label[0].toUpperCase() + label.slice(1)} pooling, ${k}\u00D7${k} window, stride ${S}: ` +
      `${H}\u00D7${W} \u2192 ${oh}\u00D7${ow} (keeps ${count} of ${H * W} values)`;
    outCaption.textContent = `${label} pooled, ${oh}\u00D7${ow}`;
    const [i, j] = [Math.floor(pos / ow), pos % ow];
    inGrid.replaceChildren();
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) {
      const inside = r >= i * S && r < i * S + k && c >= j * S && c < j * S + k;
      const w = owner[r][c];
      inGrid.append(h("div", { class: "ck-cell" + (inside ? " ck-in-window" : ""), "data-value": grid[r][c],
        "data-window": w, title: `x(${r},${c}) = ${fmt(grid[r][c])}`,
        style: `background:${w < 0 ? "#fff" : colour(w)};` + (inside ? "outline:3px solid #2d3748;outline-offset:-3px;font-weight:700" : "") },
      [fmt(grid[r][c])]));
    }
    outGrid.replaceChildren();
    for (let r = 0; r < oh; r++) for (let c = 0; c < ow; c++) {
      const idx = r * ow + c;
      outGrid.append(idx > pos
        ? h("div", { class: "ck-cell ck-empty", "data-index": idx }, ["?"])
        : h("div", { class: "ck-cell", "data-index": idx, "data-value": pool(r, c),
          title: `y(${r},${c}) = ${fmt(pool(r, c))}`,
          style: `background:${colour(idx)};` + (idx === pos ? "outline:3px solid #2d3748;outline-offset:-3px;font-weight:700" : "") },
        [fmt(pool(r, c))]));
    }
    const values = windowValues(i, j);
    const result = pool(i, j);
    const shown = values.map(fmt).join(", ");
    math.replaceChildren(h("div", {}, [
      h("span", { class: "ck-y" }, [`y(${i},${j})`]), " = ",
      mode === "max" ? `max(${shown})` : `(${values.map(fmtFactor).join(" + ")}) / ${k * k}`,
      " = ", h("span", { class: "ck-y", "data-role": "result", "data-value": result }, [fmt(result)]),
    ]));
    status.textContent = `Window ${pos + 1} of ${count}: rows ${i * S}\u2013${i * S + k - 1}, ` +
      `columns ${j * S}\u2013${j * S + k - 1} \u2192 output row ${i}, column ${j}.`;
    controls.refresh();
  }
  draw();
  el.append(root);
  return () => controls.stop();
}

export default { render };
