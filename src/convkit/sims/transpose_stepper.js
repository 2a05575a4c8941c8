// TransposeStepperSim: a transposed convolution one input value at a time -- each value adds a
// scaled copy of the kernel to the full grid, overlapping copies add, then padding cuts the border.

const MAX_STRIDE = 3;

/** One axis of the full scatter, before padding is cut: (size - 1) * stride + kernel + output padding. */
function fullSize(size, k, S, OP) {
  return (size - 1) * S + k + OP;
}

/** The padding slider's largest value (convkit's max_padding): at most min(kh, kw) - 1, and small
 * enough that the output keeps at least one row and one column. */
function paddingLimit(H, W, kh, kw, S, OP) {
  const [FH, FW] = [fullSize(H, kh, S, OP), fullSize(W, kw, S, OP)];
  return Math.max(0, Math.min(kh - 1, kw - 1, Math.floor((FH - 1) / 2), Math.floor((FW - 1) / 2)));
}

/** The setting the page shows for proposed values, each rounded to an integer: the stride in
 * 1..MAX_STRIDE, the output padding below the stride, the padding within paddingLimit, the step in 0..H*W. */
function settle(H, W, kh, kw, { stride, padding, outputPadding, step }) {
  const clamp = (v, lo, hi) => Math.min(Math.max(Math.round(Number(v)) || 0, lo), hi);
  const S = clamp(stride, 1, MAX_STRIDE);
  const OP = clamp(outputPadding, 0, S - 1);
  const P = clamp(padding, 0, paddingLimit(H, W, kh, kw, S, OP));
  return { stride: S, padding: P, outputPadding: OP, step: clamp(step, 0, H * W) };
}

/** The full grid after the first `step` input values (row-major) have each added value * kernel at
 * the block whose top-left corner is (i * S, j * S): FH rows of FW numbers (TransposeStepperSim.partial_output). */
function scatter(image, kernel, S, OP, step) {
  const [H, W, kh, kw] = [image.length, image[0].length, kernel.length, kernel[0].length];
  const full = Array.from({ length: fullSize(H, kh, S, OP) }, () => new Array(fullSize(W, kw, S, OP)).fill(0));
  for (let t = 0; t < step; t++) {
    const [i, j] = [Math.floor(t / W), t % W];
    for (let m = 0; m < kh; m++) for (let n = 0; n < kw; n++) full[i * S + m][j * S + n] += image[i][j] * kernel[m][n];
  }
  return full;
}

/** Which cells of the full grid the first `step` copies have reached: FH rows of FW booleans. */
function reachedCells(H, W, kh, kw, S, OP, step) {
  const reached = Array.from({ length: fullSize(H, kh, S, OP) }, () => new Array(fullSize(W, kw, S, OP)).fill(false));
  for (let t = 0; t < step; t++) {
    const [i, j] = [Math.floor(t / W), t % W];
    for (let m = 0; m < kh; m++) for (let n = 0; n < kw; n++) reached[i * S + m][j * S + n] = true;
  }
  return reached;
}

/** A number with its sign always written: +2, −1, +0. */
function fmtSigned(value) {
  return value < 0 ? fmt(value) : `+${fmt(value)}`;
}

function render({ model, el }) {
  let image, kernel, H, W, kh, kw;
  function readArrays() {
    image = model.get("image");
    kernel = model.get("kernel");
    [H, W, kh, kw] = [image.length, image[0].length, kernel.length, kernel[0].length];
  }
  const fromTraits = () => settle(H, W, kh, kw, { stride: model.get("stride"), padding: model.get("padding"),
    outputPadding: model.get("output_padding"), step: model.get("step") });
  readArrays();
  let s = fromTraits();
  let saving = false;

  const root = h("div", { class: "ck-sim ck-stridepad ck-explorer", "data-sim": "transpose_stepper" });
  const title = h("div", { class: "ck-title", "data-role": "title" });
  const sliders = {
    stride: rangeSlider("stride", "stride S", 1, MAX_STRIDE, s.stride, (v) => change({ stride: v })),
    padding: rangeSlider("padding", "padding P", 0, 0, s.padding, (v) => change({ padding: v })),
    outputPadding: rangeSlider("output_padding", "output padding", 0, 0, s.outputPadding,
      (v) => change({ outputPadding: v })),
  };
  const backBtn = button("\u25C0 Back", () => change({ step: s.step - 1 }), { "data-action": "back",
    title: "Take the last copy back out" });
  const nextBtn = button("Next \u25B6", () => change({ step: s.step + 1 }), { "data-action": "next",
    title: "Scatter the next input value's copy of the kernel" });
  const allBtn = button("All \u25B6\u25B6", () => change({ step: H * W }), { "data-action": "all",
    title: "Scatter every input value" });
  const resetBtn = button("Reset \u21BA", () => change({ step: 0 }), { "data-action": "reset",
    title: "Back to the empty grid" });
  const stepText = h("span", { class: "ck-status", "data-role": "step", "aria-live": "polite" });
  const grids = h("div", { "data-role": "grids" });
  const details = h("div", { "data-role": "details" });
  root.append(title,
    h("div", { class: "ck-controls", role: "group", "aria-label": "Stride, padding and output padding" },
      Object.values(sliders)),
    grids,
    h("div", { class: "ck-controls", role: "group", "aria-label": "Steps" }, [backBtn, nextBtn, allBtn, resetBtn, stepText]),
    details);

  /** Write the setting back to the traits (only those that changed). */
  function save() {
    const traits = { stride: s.stride, padding: s.padding, output_padding: s.outputPadding, step: s.step };
    saving = true;
    try {
      for (const [name, value] of Object.entries(traits)) {
        if (model.get(name) !== value) setTrait(model, name, value);
      }
    } finally {
      saving = false;
    }
  }

  function change(proposal) {
    s = settle(H, W, kh, kw, { ...s, ...proposal });
    save();
    draw();
  }

  /** A slider's range, value and shown number; disabled when it has one value only. */
  function syncSlider(label, max, value, why) {
    const input = label.querySelector("input");
    input.max = String(max);
    input.value = String(value);
    input.disabled = max === Number(input.min);
    input.title = input.disabled ? why : "";
    label.querySelector("output").textContent = String(value);
  }

  function draw() {
    const { stride: S, padding: P, outputPadding: OP, step } = s;
    const N = H * W;
    const [FH, FW] = [fullSize(H, kh, S, OP), fullSize(W, kw, S, OP)];
    const [OH, OW] = [FH - 2 * P, FW - 2 * P];
    const full = scatter(image, kernel, S, OP, step);
    const reached = reachedCells(H, W, kh, kw, S, OP, step);
    const before = reachedCells(H, W, kh, kw, S, OP, Math.max(step - 1, 0));
    const [ci, cj] = step ? [Math.floor((step - 1) / W), (step - 1) % W] : [-1, -1];
    const [r0, c0] = [ci * S, cj * S];
    const v = step ? image[ci][cj] : 0;
    const touched = (r, c) => step > 0 && r >= r0 && r < r0 + kh && c >= c0 && c < c0 + kw;
    const cut = (r, c) => r < P || r >= FH - P || c < P || c >= FW - P;
    const extra = (r, c) => r >= FH - OP || c >= FW - OP;

    title.textContent = `${H}\u00D7${W} input, ${kh}\u00D7${kw} kernel, stride ${S}, padding ${P}, ` +
      `output padding ${OP} \u2192 ${OH}\u00D7${OW} output`;
    syncSlider(sliders.stride, MAX_STRIDE, S, "");
    syncSlider(sliders.padding, paddingLimit(H, W, kh, kw, S, OP), P,
      "no padding possible: the output would lose its last row or column");
    syncSlider(sliders.outputPadding, S - 1, OP, "output padding must be smaller than the stride: needs stride 2 or more");
    backBtn.disabled = step === 0;
    nextBtn.disabled = step === N;
    allBtn.disabled = step === N;
    stepText.textContent = `step ${step} of ${N}`;
    stepText.dataset.value = String(step);

    const focused = grids.contains(document.activeElement) ? document.activeElement.dataset.index : undefined;
    const inGrid = cellGrid(H, W, "input", 34);
    image.forEach((row, i) => row.forEach((x, j) => {
      const idx = i * W + j; // scatters at step idx + 1
      const state = idx + 1 < step ? "done" : idx + 1 === step ? "current" : "waiting";
      const go = () => change({ step: idx + 1 });
      inGrid.append(h("div", { class: "ck-cell" + (state === "current" ? " ck-in-window" : ""), "data-value": x,
        "data-index": idx, "data-state": state, role: "button", tabindex: 0, style: "cursor:pointer",
        title: `I(${i},${j}) = ${fmt(x)}: scattered at step ${idx + 1} (click to go there)`,
        "aria-label": `input value row ${i} column ${j}, ${fmt(x)}, ${state === "waiting" ? "not scattered yet" : "scattered"}; go to step ${idx + 1}`,
        onclick: go, onkeydown: (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); go(); } } },
      [fmt(x), state === "done" ? h("span", { class: "ck-weight", "aria-hidden": "true", style: "color:var(--ck-output)" }, ["\u2713"]) : null]));
    }));

    const kerGrid = cellGrid(kh, kw, "kernel", 34);
    fillKernel(kerGrid, kernel);
    const copyGrid = cellGrid(kh, kw, "copy", 34);
    kernel.forEach((row, m) => row.forEach((w, n) => copyGrid.append(step
      ? h("div", { class: "ck-cell ck-current", "data-value": v * w, title: `${fmt(v)}\u00B7K(${m},${n})` }, [fmt(v * w)])
      : h("div", { class: "ck-cell ck-empty" }, [""]))));

    /** One cell of the full grid at (r, c), or of the output at (r - P, c - P) when `inOutput`. */
    const cell = (r, c, inOutput) => {
      const [value, isCut, hit, got, ext] = [full[r][c], !inOutput && cut(r, c), touched(r, c), reached[r][c], extra(r, c)];
      const cls = "ck-cell" + (isCut ? " ck-pad" : hit ? " ck-current" : got ? " ck-out" : " ck-empty");
      const notes = [isCut ? "cut off by the padding" : null, ext ? "added by the output padding: no copy reaches it" : null,
        got ? null : "no copy has reached it yet (0)"].filter(Boolean);
      const added = hit ? v * kernel[r - r0][c - c0] : 0;
      const name = inOutput ? `out(${r - P},${c - P})` : `full(${r},${c})`;
      return h("div", { class: cls, "data-value": value, "data-row": inOutput ? r - P : r, "data-col": inOutput ? c - P : c,
        "data-cut": String(isCut), "data-touched": String(hit), "data-reached": String(got), "data-extra": String(ext),
        style: isCut && hit ? "border:2px solid var(--ck-output)" : undefined,
        title: `${name} = ${fmt(value)}` + (notes.length ? `: ${notes.join("; ")}` : "") },
      [got ? fmt(value) : "", hit ? h("span", { class: "ck-weight", "data-role": "added", "data-value": added, "aria-hidden": "true" },
        [fmtSigned(added)]) : null]);
    };
    const fullGrid = cellGrid(FH, FW, "full", 34);
    Object.assign(fullGrid.dataset, { rows: FH, cols: FW, padding: P });
    for (let r = 0; r < FH; r++) for (let c = 0; c < FW; c++) fullGrid.append(cell(r, c, false));
    const outGrid = cellGrid(OH, OW, "output", 34);
    Object.assign(outGrid.dataset, { rows: OH, cols: OW });
    for (let r = P; r < FH - P; r++) for (let c = P; c < FW - P; c++) outGrid.append(cell(r, c, true));

    const math = h("div", { class: "ck-math", "data-role": "arithmetic", "aria-live": "polite" });
    if (step) {
      let overlaps = 0;
      for (let m = 0; m < kh; m++) for (let n = 0; n < kw; n++) overlaps += before[r0 + m][c0 + n] ? 1 : 0;
      math.append(
        h("div", {}, [`Step ${step} of ${N}: the input value I(${ci},${cj}) = `,
          h("span", { class: "ck-x", "data-role": "value", "data-value": v }, [fmt(v)]),
          ` adds ${fmtFactor(v)}\u00B7K to rows ${r0}\u2013${r0 + kh - 1} and columns ${c0}\u2013${c0 + kw - 1} of the full grid `,
          `(top-left corner at (${ci}\u00B7${S}, ${cj}\u00B7${S}) = `,
          h("span", { "data-role": "corner", "data-row": r0, "data-col": c0 }, [`(${r0}, ${c0})`]), ").",
        ]),
        h("div", { "data-role": "overlaps", "data-value": overlaps }, [overlaps
          ? `${overlaps} of its ${kh * kw} cells already hold earlier copies: there the values add.`
          : "It overlaps no earlier copy."]),
      );
    } else {
      math.append(h("div", {}, [`Step 0 of ${N}: nothing scattered yet, every cell is 0. `,
        "Next adds the first input value's copy of the kernel."]));
    }

    const status = h("div", { class: "ck-status", "data-role": "status" }, [step === N
      ? `All ${N} input values scattered. The ${OH}\u00D7${OW} output ` + (P ? "(the grid without its hatched border) " : "") +
        `is conv_transpose2d(x, K, stride=${S}, padding=${P}, output_padding=${OP}).`
      : `${N - step} input value${N - step === 1 ? "" : "s"} still to scatter.` +
        (P ? ` Padding ${P} will cut the hatched border: ${P} row${P > 1 ? "s" : ""} and column${P > 1 ? "s" : ""} on each side.` : "")]);

    const rowsText = `(${H} \u2212 1)\u00B7${S} + ${kh} + ${OP}`;
    const colsText = `(${W} \u2212 1)\u00B7${S} + ${kw} + ${OP}`;
    const size = h("div", { class: "ck-math", "data-role": "size-formula" }, [
      h("div", {}, ["full grid = (H \u2212 1)\u00B7S + k + output padding = ", rowsText, " = ",
        h("span", { "data-role": "full-size", "data-rows": FH, "data-cols": FW }, [`${FH}`]), ` rows, ${colsText} = ${FW} columns`]),
      h("div", {}, ["output size = (H \u2212 1)\u00B7S \u2212 2\u00B7P + k + output padding = ",
        `(${H} \u2212 1)\u00B7${S} \u2212 2\u00B7`, h("span", { class: "ck-pad-text" }, [`${P}`]), ` + ${kh} + ${OP} = `,
        h("span", { class: "ck-y", "data-role": "out-size", "data-rows": OH, "data-cols": OW }, [`${OH}`]),
        ` rows, (${W} \u2212 1)\u00B7${S} \u2212 2\u00B7${P} + ${kw} + ${OP} = `, h("span", { class: "ck-y" }, [`${OW}`]), " columns"]),
    ]);

    grids.replaceChildren(
      h("div", { class: "ck-grids" }, [
        h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, [`input x, ${H}\u00D7${W} (click a value)`]), inGrid]),
        h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, [`kernel K, ${kh}\u00D7${kw}`]), kerGrid]),
        h("figure", { class: "ck-grid-box" }, [h("figcaption", { "data-role": "copy-caption" },
          [step ? `this step adds ${fmtFactor(v)}\u00B7K` : "this step adds: nothing yet"]), copyGrid]),
      ]),
      h("div", { class: "ck-grids", style: "margin-top:10px" }, [
        h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, [`full grid, ${FH}\u00D7${FW} (running sum)`]),
          h("div", { class: "ck-scroll-x" }, [fullGrid])]),
        h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, [P ? `output, ${OH}\u00D7${OW}: ${P} cut from each side` : `output, ${OH}\u00D7${OW} (nothing cut)`]),
          h("div", { class: "ck-scroll-x" }, [outGrid])]),
      ]),
    );
    details.replaceChildren(math, status, size,
      h("div", { class: "ck-legend" }, [
        h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-input)" }), "input value being scattered"]),
        h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-output)" }), "cells its copy adds to (small number: what it adds)"]),
        h("span", {}, [h("span", { class: "ck-swatch ck-pad-swatch" }), "cut off by the padding"]),
        h("span", {}, [h("span", { class: "ck-swatch", style: "border:1px dashed #718096" }), "no copy yet (0)"]),
      ]),
    );
    if (focused !== undefined) {
      const again = inGrid.querySelector(`[data-index="${focused}"]`);
      if (again) again.focus();
    }
    root.dataset.traits = JSON.stringify({ stride: model.get("stride"), padding: model.get("padding"),
      output_padding: model.get("output_padding"), step: model.get("step") });
  }

  // A change made in the kernel (sim.step = 3, sim.stride = 1, ...) redraws the page, settled the
  // way the controls settle it (and written back if it had to change); the page's own writes change nothing.
  function fromModel() {
    if (saving) return;
    s = fromTraits();
    save();
    draw();
  }
  for (const name of ["stride", "padding", "output_padding", "step"]) model.on(`change:${name}`, fromModel);
  for (const name of ["image", "kernel"]) model.on(`change:${name}`, () => { readArrays(); fromModel(); });
  save();
  draw();
  el.append(root);
}

export default { render };
