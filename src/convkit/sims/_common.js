// Shared helpers of the convkit simulations (prepended to each sim's ES module).

/** Create an element: h("div", {class: "x", onclick: fn}, [children...]). */
function h(tag, attrs = {}, children = []) {
  const svgTags = new Set(["svg", "g", "line", "circle", "text", "rect", "title", "path"]);
  const el = svgTags.has(tag)
    ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A number as a reader wants to see it: integers plain, others to 3 decimals, a true minus sign. */
function fmt(value) {
  if (!Number.isFinite(value)) return String(value);
  const rounded = Math.round(value * 1000) / 1000;
  const text = Number.isInteger(rounded) ? String(Math.abs(rounded)) : Math.abs(rounded).toFixed(3).replace(/0+$/, "");
  return (rounded < 0 ? "\u2212" : "") + text;
}

/** A factor in a product: negative numbers in parentheses. */
function fmtFactor(value) {
  return value < 0 ? `(${fmt(value)})` : fmt(value);
}

/** An integer as superscript digits: -4 -> "⁻⁴" (for powers of ten). */
function superscript(n) {
  const sup = { "-": "\u207B", 0: "\u2070", 1: "\u00B9", 2: "\u00B2", 3: "\u00B3", 4: "\u2074",
    5: "\u2075", 6: "\u2076", 7: "\u2077", 8: "\u2078", 9: "\u2079" };
  return [...String(n)].map((c) => sup[c]).join("");
}

/** A size as a reader wants to see it: 0, 0.0123, 45.6, 1.2e-7, 3.4e+9 (as 1.2×10⁻⁷, ...). */
function fmtSize(v) {
  if (v === 0) return "0";
  if (v >= 1e-3 && v < 1e5) return fmt(Number(v.toPrecision(3)));
  const [mant, exp] = v.toExponential(1).split("e");
  return `${mant}\u00D710` + superscript(Number(exp));
}

/** The dot product of two equal-length arrays, summed left to right (like the loops in convkit). */
function dot(a, b) {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += a[i] * b[i];
  return total;
}

/** A text button usable with mouse and keyboard. */
function button(label, onClick, extra = {}) {
  return h("button", { type: "button", class: "ck-btn", onclick: onClick, ...extra }, [label]);
}

/** Write to a synced trait; a no-op without a kernel (the static book) other than locally. */
function setTrait(model, name, value) {
  model.set(name, value);
  model.save_changes();
}

/** Typeset math inside `el` with the page's MathJax 3, waiting for it to start if needed. */
function typesetMath(el, tries = 100) {
  const mj = globalThis.MathJax;
  if (!mj) return;
  if (typeof mj.typesetPromise === "function" && mj.startup && mj.startup.promise) {
    mj.startup.promise.then(() => mj.typesetPromise([el])).catch((err) => console.warn(err));
  } else if (tries > 0) {
    setTimeout(() => typesetMath(el, tries - 1), 100);
  }
}

/** Text with $...$ turned into MathJax's \( \) delimiters, or into plain symbols without MathJax. */
function mathText(text) {
  if (globalThis.MathJax) {
    return text.replace(/\$([^$]+)\$/g, (_, tex) => `\\(${tex}\\)`);
  }
  const symbols = { "\\times": "×", "\\cdot": "·", "\\le": "≤", "\\ge": "≥", "\\to": "→",
    "\\approx": "≈", "\\lfloor": "⌊", "\\rfloor": "⌋", "\\star": "⋆", "\\sum": "Σ" };
  return text.replace(/\$([^$]+)\$/g, (_, tex) =>
    tex.replace(/\\[a-zA-Z]+/g, (m) => symbols[m] ?? m).replace(/[{}]/g, ""));
}

/** Step / Play / Reset buttons moving a position through 0 .. count-1 (Play stops at the end). */
function stepper(count, getPos, setPos, { interval = 800 } = {}) {
  let timer = null;
  const stepBtn = button("Step \u25B6|", () => { stop(); advance(); }, { "data-action": "step",
    title: "Move the window one position (key: →)" });
  const playBtn = button("Play \u25B6", () => (timer ? stop() : play()), { "data-action": "play",
    "aria-pressed": "false" });
  const resetBtn = button("Reset \u21BA", () => { stop(); setPos(0); }, { "data-action": "reset" });
  function advance() {
    if (getPos() < count - 1) setPos(getPos() + 1);
    if (getPos() >= count - 1) stop();
  }
  function play() {
    if (getPos() >= count - 1) setPos(0);
    playBtn.textContent = "Pause \u23F8";
    playBtn.setAttribute("aria-pressed", "true");
    timer = setInterval(advance, interval);
  }
  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
    playBtn.textContent = "Play \u25B6";
    playBtn.setAttribute("aria-pressed", "false");
  }
  function refresh() {
    stepBtn.disabled = getPos() >= count - 1;
  }
  const bar = h("div", { class: "ck-controls", role: "group", "aria-label": "Simulation controls" },
    [stepBtn, playBtn, resetBtn]);
  return { bar, refresh, stop };
}

/** A labelled range slider; `onInput(value)` runs as it moves. data-control=name, value in data-role=name-value. */
function rangeSlider(name, label, min, max, value, onInput) {
  const out = h("output", { class: "ck-slider-value", "data-role": `${name}-value` }, [String(value)]);
  const input = h("input", { type: "range", min, max, step: 1, value, "data-control": name, "aria-label": label,
    oninput: (ev) => { out.textContent = ev.target.value; onInput(Number(ev.target.value)); } });
  return h("label", { class: "ck-slider" }, [h("span", { class: "ck-slider-label" }, [label]), input, out]);
}

/** Strided cross-correlation of an image with a kernel over P rings of zeros (the loops of convkit.conv2d_naive).
 * Returns { padded(r, c): the padded input's value or null on the border, output: oh x ow rows, oh, ow }. */
function paddedCorrelation(image, kernel, stride, padding) {
  const [H, W, kh, kw, P, S] = [image.length, image[0].length, kernel.length, kernel[0].length, padding, stride];
  const padded = (r, c) => (r < P || r >= P + H || c < P || c >= P + W ? null : image[r - P][c - P]);
  const oh = Math.floor((H + 2 * P - kh) / S) + 1;
  const ow = Math.floor((W + 2 * P - kw) / S) + 1;
  const output = Array.from({ length: oh }, (_, i) => Array.from({ length: ow }, (_, j) => {
    let total = 0;
    for (let m = 0; m < kh; m++) for (let n = 0; n < kw; n++) total += (padded(i * S + m, j * S + n) ?? 0) * kernel[m][n];
    return total;
  }));
  return { padded, output, oh, ow };
}

/** An empty grid of cells for a rows x cols map (data-role=role), each column `width` px wide. */
function cellGrid(rows, cols, role, width) {
  return h("div", { class: "ck-cells", "data-role": role,
    style: `grid-template-columns:repeat(${cols}, ${width}px)`, "aria-label": `${role}, ${rows} by ${cols}` });
}

/** Fill `grid` with the kernel's weights, read-only (data-value on each cell). */
function fillKernel(grid, kernel) {
  grid.replaceChildren(...kernel.flatMap((row, m) => row.map((w, n) =>
    h("div", { class: "ck-cell ck-kernel", "data-value": w, title: `K(${m},${n})` }, [fmt(w)]))));
}

/** Fill `grid` with the output map as computed up to window `pos` (row-major): the windows done show
 * their value, the current one is highlighted, the rest show "?". */
function fillOutput(grid, output, pos) {
  const ow = output[0].length;
  grid.replaceChildren();
  output.forEach((row, r) => row.forEach((value, c) => {
    const idx = r * ow + c;
    grid.append(idx > pos
      ? h("div", { class: "ck-cell ck-empty", "data-index": idx }, ["?"])
      : h("div", { class: "ck-cell " + (idx === pos ? "ck-current" : "ck-out"), "data-index": idx,
        "data-value": value, title: `S(${r},${c}) = ${fmt(value)}` }, [fmt(value)]));
  }));
}

/** The [input, weight] pairs of the kh x kw window whose top-left corner is (r0, c0); value(r, c)
 * reads the input (null, on a padding cell, counts as 0). */
function windowTerms(value, kernel, r0, c0) {
  const terms = [];
  kernel.forEach((row, m) => row.forEach((w, n) => terms.push([value(r0 + m, c0 + n) ?? 0, w])));
  return terms;
}

/** The arithmetic of one window, terms = [[input, weight], ...]: the factors, the products, their sum
 * (data-role = products, product, sum). */
function windowArithmetic(terms, total) {
  const joined = (parts) => parts.flatMap((part, t) => [t ? " + " : "", part]);
  return [
    h("div", { "data-role": "products" }, ["= ", ...joined(terms.map(([x, w]) => h("span", {}, [
      h("span", { class: "ck-x" }, [fmtFactor(x)]), "\u00B7", h("span", { class: "ck-w" }, [fmtFactor(w)])])))]),
    h("div", {}, ["= ", ...joined(terms.map(([x, w]) =>
      h("span", { "data-role": "product", "data-value": x * w }, [fmtFactor(x * w)])))]),
    h("div", {}, ["= ", h("span", { class: "ck-y", "data-role": "sum", "data-value": total }, [fmt(total)])]),
  ];
}

/** Draw the (padded) input into `grid`: the window of kh x kw at (r0, c0) highlighted, each of its
 * cells carrying its weight as a small badge; padding cells (padded(r, c) === null) hatched. */
function fillPaddedInput(grid, padded, rows, cols, P, kernel, r0, c0) {
  const [kh, kw] = [kernel.length, kernel[0].length];
  grid.replaceChildren();
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    const v = padded(r, c);
    const inside = r >= r0 && r < r0 + kh && c >= c0 && c < c0 + kw;
    const cls = "ck-cell" + (v === null ? " ck-pad" : "") + (inside ? " ck-in-window" : "");
    grid.append(h("div", { class: cls, "data-value": v ?? 0, "data-pad": v === null ? "true" : "false",
      title: v === null ? "padding: 0" : `I(${r - P},${c - P}) = ${fmt(v)}` }, [fmt(v ?? 0),
      inside ? h("span", { class: "ck-weight", "aria-hidden": "true" }, [`\u00D7${fmt(kernel[r - r0][c - c0])}`]) : null]));
  }
}

/** Show window `pos` of a strided walk over a padded input: the window in `imgGrid`, the
 * output filled up to it, its arithmetic in `math` (after "S(i,j) " + `lead`) and `status`. */
function showStridedWindow({ imgGrid, outGrid, math, status, padded, output, kernel, S, P, PH, PW, ow, count, pos, lead }) {
  const [i, j] = [Math.floor(pos / ow), pos % ow];
  const [r0, c0] = [i * S, j * S];
  fillPaddedInput(imgGrid, padded, PH, PW, P, kernel, r0, c0);
  fillOutput(outGrid, output, pos);
  math.replaceChildren(
    h("div", {}, [h("span", { class: "ck-y" }, [`S(${i},${j})`]), ` ${lead} row ${i}\u00B7${S} = ${r0}, ` +
      `column ${j}\u00B7${S} = ${c0} of the padded input`]),
    ...windowArithmetic(windowTerms(padded, kernel, r0, c0), output[i][j]),
  );
  status.textContent = `Window ${pos + 1} of ${count} (output row ${i}, column ${j}); ` +
    `the window jumps ${S} pixel${S > 1 ? "s" : ""} at a time.`;
}

/** The output-size formula with the numbers substituted (data-role=size-formula, out-size). */
function sizeFormula(H, W, kh, kw, S, P, oh, ow) {
  return h("div", { class: "ck-math", "data-role": "size-formula" }, [
    "output size = \u230A(", h("span", { class: "ck-x" }, [`${H}`]), " + 2\u00B7", h("span", { class: "ck-pad-text" }, [`${P}`]),
    ` \u2212 ${kh}) / ${S}\u230B + 1 = `,
    h("span", { class: "ck-y", "data-role": "out-size", "data-rows": oh, "data-cols": ow }, [`${oh}`]),
    ` rows, \u230A(${W} + 2\u00B7${P} \u2212 ${kw}) / ${S}\u230B + 1 = `, h("span", { class: "ck-y" }, [`${ow}`]), " columns",
  ]);
}

/** Fill `grid` with a number input per kernel weight, each `width` px wide; `onEdit(m, n, x)` runs
 * after every valid edit (an entry that is not a number is marked aria-invalid and ignored). */
function kernelInputs(grid, kernel, width, onEdit) {
  grid.style.gridTemplateColumns = `repeat(${kernel[0].length}, ${width}px)`;
  grid.replaceChildren();
  kernel.forEach((row, m) => row.forEach((v, n) => {
    const input = h("input", { type: "number", step: "any", class: "ck-cell ck-kernel ck-kinput",
      value: String(Math.round(v * 1e6) / 1e6), "data-row": m, "data-col": n, "data-value": v,
      "aria-label": `kernel weight row ${m} column ${n}`, style: `width:${width}px;text-align:center` });
    input.addEventListener("input", () => {
      const x = parseFloat(input.value);
      if (!Number.isFinite(x)) { input.setAttribute("aria-invalid", "true"); return; }
      input.removeAttribute("aria-invalid");
      input.dataset.value = String(x);
      onEdit(m, n, x);
    });
    grid.append(input);
  }));
  return grid;
}
