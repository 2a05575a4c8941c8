// ArchitectureSim: a ConvNet drawn layer by layer; box side ~ spatial size, box thickness ~ channels.

const LIMITS = { image_size: [4, 64], in_channels: [1, 4], kernel_size: [1, 7], block_channels: [1, 512],
  blocks: [1, 5], hidden: [0, 1024], classes: [2, 1000] };
const POOL = 2;
const WIDTH_CHOICES = [4, 8, 16, 32, 64];
const KERNEL_CHOICES = [1, 3, 5, 7];
const KIND_CLASS = { input: "ck-arch-input", conv: "ck-arch-conv", pool: "ck-arch-pool", flatten: "ck-arch-flat",
  dense: "ck-arch-dense", output: "ck-arch-dense" };
const MAX_SIDE_PX = 130;   // the input image's side in the drawing
const MAX_DEPTH_PX = 64;   // the thickest stack of maps
const TIMES = "\u00D7";

/** An SVG element for tags _common.js's h() does not know (polygon). */
function svgShape(tag, attrs) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

function clampInt(value, [lo, hi]) {
  return Math.min(Math.max(Math.round(Number(value)), lo), hi);
}

/** Output length of a window of size k, stride s, padding p along an axis of n (floor formula). */
function outSize(n, k, s, p) {
  return Math.floor((n + 2 * p - k) / s) + 1;
}

/** The rows of the diagram: the input, conv+ReLU / pool per block, flatten, dense layers. */
function computeLayers(cfg) {
  const { image_size: size, in_channels: cin, blocks, kernel_size: k, hidden, classes } = cfg;
  const rows = [{ name: "input", kind: "input", shape: [cin, size, size], params: 0, rf: 1, cin }];
  let c = cin, hgt = size, wid = size, rf = 1, jump = 1;
  blocks.forEach((width, i) => {
    const pad = Math.floor(k / 2);
    hgt = outSize(hgt, k, 1, pad);
    wid = outSize(wid, k, 1, pad);
    rf += (k - 1) * jump;
    rows.push({ name: `conv${i + 1}`, kind: "conv", shape: [width, hgt, wid], params: width * c * k * k + width,
      rf, cin: c, k, pad });
    c = width;
    hgt = outSize(hgt, POOL, POOL, 0);
    wid = outSize(wid, POOL, POOL, 0);
    rf += (POOL - 1) * jump;
    jump *= POOL;
    rows.push({ name: `pool${i + 1}`, kind: "pool", shape: [c, hgt, wid], params: 0, rf });
  });
  let features = c * hgt * wid;
  rows.push({ name: "flatten", kind: "flatten", shape: [features], params: 0, rf, from: [c, hgt, wid] });
  const dense = (hidden > 0 ? [hidden] : []).concat([classes]);
  dense.forEach((units, i) => {
    rows.push({ name: `fc${i + 1}`, kind: i === dense.length - 1 ? "output" : "dense", shape: [units],
      params: units * features + units, rf: size, fin: features });
    features = units;
  });
  return rows;
}

/** Largest number of blocks whose poolings all fit an image of side `size`. */
function maxBlocks(size) {
  let n = 0, side = size;
  while (side >= POOL && n < LIMITS.blocks[1]) { side = outSize(side, POOL, POOL, 0); n += 1; }
  return n;
}

function shapeText(shape) {
  return shape.length === 3 ? `${shape[1]}${TIMES}${shape[2]}${TIMES}${shape[0]}` : `${shape[0]}`;
}

function count(n) {
  return n.toLocaleString("en-US");
}

function operation(row, cfg) {
  const s = row.shape;
  switch (row.kind) {
    case "input":
      return `The image: ${s[0]} channel${s[0] === 1 ? "" : "s"} of ${s[1]}${TIMES}${s[2]} pixels.`;
    case "conv":
      return `${row.k}${TIMES}${row.k} convolution (stride 1, padding ${row.pad}, so the size is kept) with ` +
        `${s[0]} filters, each ${row.k}${TIMES}${row.k}${TIMES}${row.cin}, then ReLU.`;
    case "pool":
      return `${POOL}${TIMES}${POOL} max pooling, stride ${POOL}: halves height and width, keeps all ${s[0]} ` +
        "channels, learns nothing.";
    case "flatten":
      return `Flatten: the ${shapeText([row.from[0], row.from[1], row.from[2]])} maps are laid out as one ` +
        `vector of ${count(s[0])} numbers. Nothing is computed or learned.`;
    case "dense":
      return `Dense layer: each of the ${count(s[0])} units reads all ${count(row.fin)} features, then ReLU.`;
    default:
      return `Dense layer to ${count(s[0])} class scores; softmax turns them into probabilities ` +
        `(each score reads all ${count(row.fin)} features).`;
  }
}

function paramsFormula(row) {
  if (row.kind === "conv") {
    return `${row.shape[0]} ${TIMES} (${row.k}\u00B7${row.k}\u00B7${row.cin}) + ${row.shape[0]} = ${count(row.params)}`;
  }
  if (row.kind === "dense" || row.kind === "output") {
    return `${count(row.shape[0])} ${TIMES} ${count(row.fin)} + ${count(row.shape[0])} = ${count(row.params)}`;
  }
  return "0 (no weights)";
}

function rfText(row, size) {
  if (row.kind === "dense" || row.kind === "output") return `the whole ${size}${TIMES}${size} image`;
  const note = row.rf >= size ? ` (at least the whole ${size}${TIMES}${size} image)` : "";
  return `${row.rf}${TIMES}${row.rf} input pixels${note}`;
}

function render({ model, el }) {
  const cfg = {
    image_size: clampInt(model.get("image_size"), LIMITS.image_size),
    in_channels: clampInt(model.get("in_channels"), LIMITS.in_channels),
    kernel_size: clampInt(model.get("kernel_size"), LIMITS.kernel_size),
    hidden: clampInt(model.get("hidden"), LIMITS.hidden),
    classes: clampInt(model.get("classes"), LIMITS.classes),
    blocks: (model.get("blocks") || [32]).map((c) => clampInt(c, LIMITS.block_channels)),
  };
  cfg.blocks = cfg.blocks.slice(0, Math.max(1, maxBlocks(cfg.image_size)));
  let selected = Math.max(0, Math.round(model.get("selected")));
  const ratios = cfg.blocks.slice(1).map((c, i) => c / cfg.blocks[i]);
  let growth = ratios.every((r) => r === 2) ? "double" : ratios.every((r) => r === 1) ? "same" : "custom";

  const root = h("div", { class: "ck-sim ck-arch", "data-sim": "architecture" });
  const title = h("div", { class: "ck-title", "data-role": "title" });
  const removeBtn = button("\u2212 block", () => setBlocks(cfg.blocks.slice(0, -1)), { "data-action": "remove-block",
    title: "Remove the last CONV \u2192 ReLU \u2192 POOL block" });
  const addBtn = button("+ block", () => {
    const last = cfg.blocks[cfg.blocks.length - 1];
    setBlocks(cfg.blocks.concat([Math.min(growth === "double" ? 2 * last : last, LIMITS.block_channels[1])]));
  }, { "data-action": "add-block", title: "Add a CONV \u2192 ReLU \u2192 POOL block" });
  const blockCount = h("span", { class: "ck-slider-value", "data-role": "block-count" });

  const widthChoices = [...new Set(WIDTH_CHOICES.concat([cfg.blocks[0]]))].sort((a, b) => a - b);
  const widthSelect = h("select", { "data-control": "width", "aria-label": "channels of the first block",
    onchange: (ev) => { regrow(Number(ev.target.value), growth); } },
  widthChoices.map((w) => h("option", { value: w, selected: w === cfg.blocks[0] }, [String(w)])));
  const growthSelect = h("select", { "data-control": "growth", "aria-label": "channels from block to block",
    onchange: (ev) => { regrow(cfg.blocks[0], ev.target.value); } }, [
    h("option", { value: "double", selected: growth === "double" }, ["double each block"]),
    h("option", { value: "same", selected: growth === "same" }, ["stay the same"]),
    growth === "custom" ? h("option", { value: "custom", selected: true, disabled: true }, ["as given"]) : null,
  ]);
  const kernelChoices = [...new Set(KERNEL_CHOICES.concat([cfg.kernel_size]))].sort((a, b) => a - b);
  const kernelSelect = h("select", { "data-control": "kernel", "aria-label": "kernel size",
    onchange: (ev) => { cfg.kernel_size = Number(ev.target.value); setTrait(model, "kernel_size", cfg.kernel_size); update(); } },
  kernelChoices.map((k) => h("option", { value: k, selected: k === cfg.kernel_size }, [`${k}${TIMES}${k}`])));

  const label = (text, control) => h("label", { class: "ck-slider" }, [h("span", { class: "ck-slider-label" }, [text]), control]);
  const controls = h("div", { class: "ck-controls", role: "group", "aria-label": "Network settings" }, [
    h("span", { class: "ck-slider" }, [h("span", { class: "ck-slider-label" }, ["conv blocks"]), removeBtn, blockCount, addBtn]),
    label("first block channels", widthSelect),
    label("channels", growthSelect),
    label("kernel", kernelSelect),
  ]);
  const diagramBox = h("div", { class: "ck-arch-scroll" });
  const details = h("div", { class: "ck-math", "data-role": "details", "aria-live": "polite" });
  const pattern = h("div", { class: "ck-status", "data-role": "pattern" });
  const table = h("table", { class: "ck-arch-table", "data-role": "table" });
  root.append(title, controls, diagramBox, details, pattern, table, h("div", { class: "ck-status" }, [
    "Hover over or click a layer (or Tab to it and press Enter) to see what it computes. Box height and " +
    "width follow the maps' height and width; box thickness follows the number of channels. Vectors are " +
    "drawn as thin bars whose length grows with the logarithm of their size."]));

  function regrow(first, mode) {
    growth = mode;
    const next = cfg.blocks.map((_, i) => Math.min(first * (mode === "double" ? 2 ** i : 1), LIMITS.block_channels[1]));
    setBlocks(next);
  }

  function setBlocks(next) {
    cfg.blocks = next;
    setTrait(model, "blocks", next.slice());
    update();
  }

  function select(index) {
    selected = index;
    setTrait(model, "selected", index);
    highlight();
  }

  let layers = [];
  let boxes = [];
  let rowsEls = [];

  function drawDiagram() {
    const maps = layers.filter((r) => r.shape.length === 3);
    const maxC = Math.max(...maps.map((r) => r.shape[0]));
    const size = cfg.image_size;
    const geom = layers.map((r) => {
      if (r.shape.length === 3) {
        return { front: Math.max(3, (r.shape[0] / maxC) * MAX_DEPTH_PX), tall: Math.max(4, (r.shape[1] / size) * MAX_SIDE_PX),
          deep: Math.max(3, (r.shape[2] / size) * MAX_SIDE_PX * 0.45) };
      }
      return { front: 7, tall: Math.min(MAX_SIDE_PX + 30, 14 + 28 * Math.log10(r.shape[0] + 1)), deep: 0 };
    });
    const gap = 30;
    const base = 30 + MAX_SIDE_PX + 0.45 * MAX_SIDE_PX * 0.7; // bottom line of the front faces
    let x = 12;
    const svg = h("svg", { role: "img", "data-role": "diagram", height: base + 48,
      "aria-label": `Diagram of the network: ${layers.map((r) => shapeText(r.shape)).join(", ")}` });
    svg.append(h("title", {}, ["The network, layer by layer"]));
    boxes = layers.map((row, i) => {
      const g = geom[i];
      const dx = g.deep * 0.7, dy = g.deep * 0.7;
      const top = base - g.tall;
      const cls = `ck-arch-box ${KIND_CLASS[row.kind]}`;
      const faces = [
        h("rect", { x, y: top, width: g.front, height: g.tall, class: "ck-face" }),
      ];
      if (g.deep > 0) {
        faces.push(svgShape("polygon", { class: "ck-face ck-face-top",
          points: `${x},${top} ${x + dx},${top - dy} ${x + dx + g.front},${top - dy} ${x + g.front},${top}` }));
        faces.push(svgShape("polygon", { class: "ck-face ck-face-side",
          points: `${x + g.front},${top} ${x + g.front + dx},${top - dy} ${x + g.front + dx},${base - dy} ${x + g.front},${base}` }));
      }
      const cx = x + (g.front + dx) / 2;
      const group = h("g", { class: cls, tabindex: 0, role: "button", "data-role": "layer", "data-index": i,
        "data-name": row.name, "aria-label": `${row.name}: output ${shapeText(row.shape)}`,
        onmouseenter: () => select(i), onclick: () => select(i), onfocus: () => select(i),
        onkeydown: (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(i); } } }, [
        h("title", {}, [`${row.name}: ${shapeText(row.shape)}`]),
        ...faces,
        h("text", { x: cx, y: base + 17, "text-anchor": "middle", class: "ck-arch-shape" }, [shapeText(row.shape)]),
        h("text", { x: cx, y: base + 34, "text-anchor": "middle", class: "ck-arch-name" }, [row.name]),
      ]);
      svg.append(group);
      const width = Math.max(g.front + dx, 8 * shapeText(row.shape).length);
      x += width + gap;
      return group;
    });
    svg.setAttribute("width", x);
    svg.setAttribute("viewBox", `0 0 ${x} ${base + 48}`);
    diagramBox.replaceChildren(svg);
  }

  function drawTable() {
    const head = h("tr", {}, ["layer", "operation", "output H\u00D7W\u00D7C", "values", "parameters", "receptive field"]
      .map((t) => h("th", { scope: "col" }, [t])));
    const ops = { input: "image", conv: `conv ${cfg.kernel_size}\u00D7${cfg.kernel_size} + ReLU`, pool: "max pool 2\u00D72",
      flatten: "flatten", dense: "dense + ReLU", output: "dense \u2192 softmax" };
    rowsEls = layers.map((row, i) => {
      const values = row.shape.reduce((a, b) => a * b, 1);
      const rf = row.kind === "dense" || row.kind === "output" ? "whole image" : `${row.rf}\u00D7${row.rf}`;
      return h("tr", { "data-role": "row", "data-index": i, "data-name": row.name, onclick: () => select(i) }, [
        h("td", {}, [row.name]),
        h("td", {}, [ops[row.kind]]),
        h("td", { "data-role": "shape", "data-value": row.shape.join(",") }, [shapeText(row.shape)]),
        h("td", { "data-role": "values", "data-value": values }, [count(values)]),
        h("td", { "data-role": "params", "data-value": row.params }, [count(row.params)]),
        h("td", { "data-role": "rf", "data-value": row.rf }, [rf]),
      ]);
    });
    const total = layers.reduce((a, r) => a + r.params, 0);
    const foot = h("tr", { class: "ck-arch-total" }, [h("td", { colspan: 4 }, ["total"]),
      h("td", { "data-role": "total-params", "data-value": total }, [count(total)]), h("td")]);
    table.replaceChildren(h("thead", {}, [head]), h("tbody", {}, rowsEls), h("tfoot", {}, [foot]));
  }

  function highlight() {
    selected = Math.min(selected, layers.length - 1);
    boxes.forEach((g, i) => g.setAttribute("aria-pressed", String(i === selected)));
    rowsEls.forEach((r, i) => r.classList.toggle("ck-active", i === selected));
    const row = layers[selected];
    details.replaceChildren(
      h("div", {}, [h("b", { "data-role": "detail-name" }, [row.name]), ": ", h("span", { "data-role": "detail-op" }, [operation(row, cfg)])]),
      h("div", {}, ["output: ", h("span", { class: "ck-y", "data-role": "detail-shape", "data-value": row.shape.join(",") },
        [shapeText(row.shape)]), row.shape.length === 3 ? ` (height ${TIMES} width ${TIMES} channels; torch stores it as ` +
        `(N, ${row.shape.join(", ")}))` : ` (a vector of ${count(row.shape[0])} numbers)`]),
      h("div", {}, ["parameters: ", h("span", { class: "ck-w", "data-role": "detail-params", "data-value": row.params },
        [paramsFormula(row)])]),
      h("div", {}, ["receptive field: ", h("span", { "data-role": "detail-rf", "data-value": row.rf }, [rfText(row, cfg.image_size)])]),
    );
  }

  function update() {
    layers = computeLayers(cfg);
    const maps = layers.filter((r) => r.shape.length === 3);
    const first = maps[0], last = maps[maps.length - 1];
    const total = layers.reduce((a, r) => a + r.params, 0);
    title.textContent = `${layers.map((r) => shapeText(r.shape)).join(" \u2192 ")}`;
    blockCount.textContent = String(cfg.blocks.length);
    blockCount.setAttribute("data-value", cfg.blocks.length);
    removeBtn.disabled = cfg.blocks.length <= LIMITS.blocks[0];
    addBtn.disabled = cfg.blocks.length >= maxBlocks(cfg.image_size);
    addBtn.title = addBtn.disabled ? `A ${last.shape[1]}${TIMES}${last.shape[2]} map is too small for another pooling`
      : "Add a CONV \u2192 ReLU \u2192 POOL block";
    const maxDepth = Math.max(...maps.map((r) => r.shape[0]));
    const flat = layers.find((r) => r.kind === "flatten");
    const denseParams = layers.filter((r) => r.kind === "dense" || r.kind === "output").reduce((a, r) => a + r.params, 0);
    pattern.replaceChildren(
      `Spatial size ${first.shape[1]}${TIMES}${first.shape[2]} \u2192 ${last.shape[1]}${TIMES}${last.shape[2]} while the depth goes ` +
      `${first.shape[0]} \u2192 ${maxDepth} channels; the flattened vector has `,
      h("b", { "data-role": "features", "data-value": flat.shape[0] }, [count(flat.shape[0])]),
      ` features. Of the `, h("b", {}, [count(total)]), " parameters, ",
      h("b", { "data-role": "dense-share", "data-value": denseParams }, [`${Math.round((100 * denseParams) / total)}%`]),
      " sit in the dense layers.",
    );
    drawDiagram();
    drawTable();
    highlight();
  }

  update();
  el.append(root);
}

export default { render };
