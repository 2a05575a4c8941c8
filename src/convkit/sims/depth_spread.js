// DepthSpreadSim: a deep plain stack of conv 3x3 [+ batch norm] + ReLU blocks. Per block, the
// histogram of the powers of ten of its positive outputs (one row of a heat strip, block 1 at the
// top) with its exact zeros counted apart, and a log chart of the activation and gradient std.
//
// Nothing is simulated here: convkit (sims/depth_spread.py, from lessons.depth_spread) ran every
// setting the controls reach (depth x initialisation gain x batch norm) and sent the numbers in
// `data`; the page picks the run of the current setting and draws it.

const HEAT = { width: 680, rowsHeight: 240, left: 64, right: 14, top: 26, bottom: 44, zeroWidth: 24, gap: 12 };
const CHART = { width: 680, height: 230, left: 64, right: 14, top: 14, bottom: 40 };

/** The run of one setting: data.runs[index of depth][gainIndex][batch norm ? 1 : 0]. */
function findRun(data, depth, gainIndex, batchNorm) {
  return data.runs[data.depths.indexOf(depth)][gainIndex][batchNorm ? 1 : 0];
}

/** Block `block`'s histogram over all `bins` bins, as shares of its `total` outputs: its stored
 * counts (from bin first_bin on) divided by `total`, zeros around. */
function denseRow(run, block, bins, total) {
  const row = new Array(bins).fill(0);
  const first = run.first_bin[block - 1];
  run.counts[block - 1].forEach((c, k) => { row[first + k] = c / total; });
  return row;
}

/** Per block, the share of its `total` outputs that are exactly 0. */
function zeroShares(run, total) {
  return run.zero_count.map((c) => c / total);
}

/** The readout's numbers: the stds at block 1 and at the last block, forward and backward, their
 * ratios (last / first forward, first / last backward) and the smallest and largest share of zeros. */
function summary(run, total) {
  const [act, grad, zeros] = [run.activation_std, run.gradient_std, zeroShares(run, total)];
  const last = act.length - 1;
  return {
    actFirst: act[0], actLast: act[last], actRatio: act[last] / act[0],
    gradLast: grad[last], gradFirst: grad[0], gradRatio: grad[0] / grad[last],
    zerosMin: Math.min(...zeros), zerosMax: Math.max(...zeros),
  };
}

/** The index of the entry of `values` nearest to v. */
function nearestIndex(values, v) {
  let best = 0;
  values.forEach((x, i) => { if (Math.abs(x - v) < Math.abs(values[best] - v)) best = i; });
  return best;
}

/** A power of ten as an axis label: 0 -> "1", 1 -> "10", -4 -> "10⁻⁴". */
function powerLabel(p) {
  return p === 0 ? "1" : p === 1 ? "10" : `10${superscript(p)}`;
}

/** A share as a percentage with one decimal: 0.4987 -> "49.9%". */
function percent(f) {
  return `${(100 * f).toFixed(1)}%`;
}

function render({ model, el }) {
  const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
  const data = model.get("data");
  const gains = data.gains;
  const bins = data.log_edges.length - 1;
  const total = data.values_per_block;
  let depth = data.depths.includes(model.get("depth")) ? model.get("depth") : data.depths[data.depths.length - 1];
  let gainIndex = nearestIndex(gains, Number(model.get("init_gain")));
  let batchNorm = Boolean(model.get("batch_norm"));

  const root = h("div", { class: "ck-sim ck-depth", "data-sim": "depth_spread" });
  const title = h("div", { class: "ck-title", "data-role": "title" });
  const toggle = (attr, value, label, onClick) => button(label, onClick,
    { "data-control": attr, [`data-${attr}`]: value, "aria-pressed": "false" });
  const depthBar = h("div", { class: "ck-controls", role: "group", "aria-label": "Depth" },
    data.depths.map((d) => toggle("depth", d, `${d} blocks`, () => set({ depth: d }))));
  const gainOut = h("output", { class: "ck-slider-value", "data-role": "gain-value" });
  const gainInput = h("input", { type: "range", min: 0, max: gains.length - 1, step: 1, value: gainIndex,
    "data-control": "gain", "aria-label": "weights' std as a multiple of Kaiming's",
    oninput: (ev) => set({ gainIndex: Number(ev.target.value) }) });
  const gainSlider = h("label", { class: "ck-slider" }, [
    h("span", { class: "ck-slider-label" }, ["weights' std (\u00D7 Kaiming's)"]), gainInput, gainOut]);
  const presetBar = h("div", { class: "ck-controls", role: "group", "aria-label": "Named initialisations" },
    data.presets.map(([name, g]) => toggle("preset", name, `${name} (${fmt(g)})`,
      () => set({ gainIndex: nearestIndex(gains, g) }))));
  const normBar = h("div", { class: "ck-controls", role: "group", "aria-label": "Batch norm" }, [
    toggle("batch-norm", "off", "No batch norm", () => set({ batchNorm: false })),
    toggle("batch-norm", "on", "Batch norm after each conv", () => set({ batchNorm: true })),
  ]);
  const heat = h("div", { class: "ck-depth-heat", "data-role": "histograms" });
  const heatLegend = h("div", { class: "ck-legend" }, [
    h("span", {}, [h("span", { class: "ck-swatch ck-depth-zero-swatch" }), "share of the block's outputs exactly 0"]),
    h("span", {}, [h("span", { class: "ck-swatch ck-depth-cell-swatch" }),
      "share in each quarter-decade bin (darkest: the fullest bin of the map)"]),
    h("span", {}, [h("span", { class: "ck-swatch ck-depth-std-swatch" }), "the block's activation std"]),
  ]);
  const chart = h("div", { class: "ck-depth-chart", "data-role": "chart" });
  const chartLegend = h("div", { class: "ck-legend" }, [
    h("span", {}, [h("span", { class: "ck-swatch ck-depth-act-swatch" }), "activation std (forward)"]),
    h("span", {}, [h("span", { class: "ck-swatch ck-depth-grad-swatch" }), "gradient std (backward, from the top)"]),
  ]);
  const math = h("div", { class: "ck-math", "data-role": "summary", "aria-live": "polite" });
  root.append(title, depthBar,
    h("div", { class: "ck-controls", role: "group", "aria-label": "Initialisation" }, [gainSlider]),
    presetBar, normBar, heat, heatLegend, chart, chartLegend, math);

  function set(changes) {
    if ("depth" in changes) depth = changes.depth;
    if ("gainIndex" in changes) gainIndex = clamp(Math.round(changes.gainIndex), 0, gains.length - 1);
    if ("batchNorm" in changes) batchNorm = changes.batchNorm;
    if ("depth" in changes) setTrait(model, "depth", depth);
    if ("gainIndex" in changes) setTrait(model, "init_gain", gains[gainIndex]);
    if ("batchNorm" in changes) setTrait(model, "batch_norm", batchNorm);
    draw();
  }

  function drawHeat(run) {
    const { width, rowsHeight, left, right, top, bottom, zeroWidth, gap } = HEAT;
    const [lo, hi] = [data.log_edges[0], data.log_edges[bins]];
    const x0 = left + zeroWidth + gap;
    const binW = (width - right - x0) / bins;
    const xOf = (p) => x0 + (width - right - x0) * (clamp(p, lo, hi) - lo) / (hi - lo);
    const rowH = rowsHeight / depth;
    const rows = Array.from({ length: depth }, (_, i) => denseRow(run, i + 1, bins, total));
    const zeros = zeroShares(run, total);
    const peak = Math.max(...rows.flat());
    const grey = "#4a5568";
    const parts = [];
    for (let p = Math.ceil(lo); p <= hi; p++) {
      if (p % 2) continue;
      parts.push(h("line", { x1: xOf(p), x2: xOf(p), y1: top, y2: top + rowsHeight, stroke: "#e2e8f0" }));
      parts.push(h("text", { x: xOf(p), y: top + rowsHeight + 14, "text-anchor": "middle", "font-size": 11, fill: grey },
        [powerLabel(p)]));
    }
    rows.forEach((row, i) => {
      const [block, y] = [i + 1, top + i * rowH];
      const [std, zero] = [run.activation_std[i], zeros[i]];
      const cells = [
        h("title", {}, [`block ${block}: activation std ${fmtSize(std)}, ${percent(zero)} of its outputs exactly 0, ` +
          `gradient std ${fmtSize(run.gradient_std[i])}`]),
        h("rect", { x: left, y, width: width - right - left, height: rowH, fill: "transparent" }),
        h("rect", { class: "ck-depth-zero", "data-role": "zero-cell", "data-value": zero, x: left, y,
          width: zeroWidth, height: rowH, "fill-opacity": zero }),
      ];
      row.forEach((f, k) => {
        if (f > 0) cells.push(h("rect", { class: "ck-depth-cell", x: x0 + k * binW, y, width: binW + 0.4,
          height: rowH, "fill-opacity": f / peak }));
      });
      if (std > 0) {
        cells.push(h("line", { class: "ck-depth-std", "data-role": "std-mark", x1: xOf(Math.log10(std)),
          x2: xOf(Math.log10(std)), y1: y + 0.5, y2: y + rowH - 0.5 }));
      }
      parts.push(h("g", { "data-role": "hist-row", "data-block": block, "data-values": JSON.stringify(row) }, cells));
    });
    const labelEvery = depth <= 10 ? 1 : 5;
    for (let block = 1; block <= depth; block++) {
      if (block !== 1 && block % labelEvery) continue;
      parts.push(h("text", { x: left - 6, y: top + (block - 0.5) * rowH + 4, "text-anchor": "end", "font-size": 11,
        fill: grey }, [String(block)]));
    }
    parts.push(
      h("text", { x: left + zeroWidth / 2, y: top - 8, "text-anchor": "middle", "font-size": 11, fill: grey }, ["= 0"]),
      h("text", { x: x0, y: top - 8, "font-size": 11, fill: grey }, ["positive outputs, by power of ten \u2192"]),
      h("text", { x: x0 + (width - right - x0) / 2, y: top + rowsHeight + bottom - 6, "text-anchor": "middle",
        "font-size": 12, fill: grey }, ["size of a block's output (log scale)"]),
      h("text", { x: 14, y: top + rowsHeight / 2, "text-anchor": "middle", "font-size": 12, fill: grey,
        transform: `rotate(-90 14 ${top + rowsHeight / 2})` }, ["block (1 = input side)"]),
    );
    const height = top + rowsHeight + bottom;
    heat.replaceChildren(h("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label":
      `histogram of the outputs of each of ${depth} blocks, by power of ten from ${powerLabel(lo)} to ${powerLabel(hi)}` },
    parts));
  }

  function drawChart(run) {
    const series = [["act", run.activation_std], ["grad", run.gradient_std]];
    const logs = series.flatMap(([, values]) => values.filter((v) => v > 0).map((v) => Math.log10(v)));
    let [lo, hi] = [Math.floor(Math.min(...logs)), Math.ceil(Math.max(...logs))];
    if (hi - lo < 2) [lo, hi] = [lo - 1, hi + 1];
    const { width, height, left, right, top, bottom } = CHART;
    const [plotW, plotH] = [width - left - right, height - top - bottom];
    const grey = "#4a5568";
    const xOf = (block) => left + (block - 0.5) * plotW / depth;
    const yOf = (v) => top + plotH * (hi - clamp(Math.log10(v), lo, hi)) / (hi - lo);
    const parts = [];
    const tickEvery = Math.max(1, Math.ceil((hi - lo) / 8));
    for (let p = lo; p <= hi; p += tickEvery) {
      parts.push(h("line", { x1: left, x2: width - right, y1: yOf(10 ** p), y2: yOf(10 ** p),
        stroke: p === 0 ? grey : "#e2e8f0", "stroke-width": p === 0 ? 1.5 : 1 }));
      parts.push(h("text", { x: left - 6, y: yOf(10 ** p) + 4, "text-anchor": "end", "font-size": 11, fill: grey },
        [powerLabel(p)]));
    }
    for (const [name, values] of series) {
      const shown = values.map((v, i) => [i + 1, v]).filter(([, v]) => v > 0);
      parts.push(h("path", { class: `ck-depth-${name}`, fill: "none", "stroke-width": 2,
        d: shown.map(([block, v], k) => `${k ? "L" : "M"} ${xOf(block)} ${yOf(v)}`).join(" ") }));
      for (const [block, v] of values.map((x, i) => [i + 1, x])) {
        parts.push(h("circle", { class: `ck-depth-${name}-point`, "data-role": `${name}-point`, "data-block": block,
          "data-value": v, cx: xOf(block), cy: v > 0 ? yOf(v) : top + plotH, r: 3 },
        [h("title", {}, [`block ${block}: ${name === "act" ? "activation" : "gradient"} std ${fmtSize(v)}`])]));
      }
    }
    const labelEvery = depth <= 10 ? 1 : 5;
    for (let block = 1; block <= depth; block++) {
      if (block !== 1 && block % labelEvery) continue;
      parts.push(h("text", { x: xOf(block), y: height - bottom + 14, "text-anchor": "middle", "font-size": 11,
        fill: grey }, [String(block)]));
    }
    parts.push(
      h("text", { x: left + plotW / 2, y: height - 6, "text-anchor": "middle", "font-size": 12, fill: grey },
        [`block (1 = input side, ${depth} = output side)`]),
      h("text", { x: 14, y: top + plotH / 2, "text-anchor": "middle", "font-size": 12, fill: grey,
        transform: `rotate(-90 14 ${top + plotH / 2})` }, ["std (log scale)"]),
    );
    chart.replaceChildren(h("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": `activation and gradient std at each of ${depth} blocks, log scale` }, parts));
  }

  function drawSummary(run) {
    const s = summary(run, total);
    const num = (role, value, text) => h("span", { class: "ck-y", "data-role": role, "data-value": value }, [text]);
    math.replaceChildren(
      h("div", {}, ["Forward, the activation std goes from ", num("act-first", s.actFirst, fmtSize(s.actFirst)),
        " at block 1 to ", num("act-last", s.actLast, fmtSize(s.actLast)), ` at block ${depth} (\u00D7`,
        num("act-ratio", s.actRatio, fmtSize(s.actRatio)), "); backward, the gradient std goes from ",
        num("grad-last", s.gradLast, fmtSize(s.gradLast)), ` at block ${depth} to `,
        num("grad-first", s.gradFirst, fmtSize(s.gradFirst)), " at block 1 (\u00D7",
        num("grad-ratio", s.gradRatio, fmtSize(s.gradRatio)), ")."]),
      h("div", {}, ["The ReLU sets part of every block's outputs to exactly 0 (the grey column; they have no ",
        "power of ten): from ", num("zeros-min", s.zerosMin, percent(s.zerosMin)), " to ",
        num("zeros-max", s.zerosMax, percent(s.zerosMax)), " of a block's outputs here."]),
    );
  }

  function draw() {
    const gain = gains[gainIndex];
    const preset = data.presets.find(([, g]) => Math.abs(g - gain) < 1e-9);
    title.textContent = `${depth} blocks of conv 3\u00D73 ${batchNorm ? "+ batch norm " : ""}+ ReLU, weights at ` +
      `${fmt(gain)} \u00D7 Kaiming's std` + (preset ? ` (${preset[0]})` : "");
    for (const b of depthBar.querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String(Number(b.dataset.depth) === depth));
    }
    for (const b of presetBar.querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String(preset !== undefined && b.dataset.preset === preset[0]));
    }
    for (const b of normBar.querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String((b.dataset.batchNorm === "on") === batchNorm));
    }
    gainInput.value = String(gainIndex);
    gainOut.textContent = fmt(gain);
    gainOut.dataset.value = gain;
    const run = findRun(data, depth, gainIndex, batchNorm);
    drawHeat(run);
    drawChart(run);
    drawSummary(run);
  }
  draw();
  el.append(root);
}

export default { render };
