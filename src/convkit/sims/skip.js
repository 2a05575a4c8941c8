// SkipConnectionSim: a stack of blocks, shortcut on or off; one bar per block showing the
// size of the gradient (backward) or of the signal (forward), on a log scale.
//
// The model (the same as convkit/sims/skip.py): a branch F scales the size of a vector
// by its gain g. A plain block y = F(x) scales signal and gradient by g; a residual
// block y = F(x) + x by sqrt(1 + g^2) (branch output at right angles to x, on average).
// Gradient at the output of block l of L (unit gradient at the top): factor^(L - l);
// signal after block l (unit input): factor^l.

const LIMITS = { depth: [1, 60], gain: [0, 2], gainStep: 0.05 };
const CHART = { width: 680, height: 250, left: 56, right: 12, top: 14, bottom: 34 };

function blockFactor(gain, shortcut) {
  return shortcut ? Math.sqrt(1 + gain * gain) : gain;
}

function profile(depth, gain, shortcut, view) {
  const factor = blockFactor(gain, shortcut);
  const values = [];
  for (let layer = 1; layer <= depth; layer++) {
    values.push(view === "signal" ? factor ** layer : factor ** (depth - layer));
  }
  return values;
}

function render({ model, el }) {
  const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
  let depth = clamp(Math.round(model.get("depth")), ...LIMITS.depth);
  let gain = clamp(Number(model.get("gain")), ...LIMITS.gain);
  let shortcut = Boolean(model.get("shortcut"));
  let view = model.get("view") === "signal" ? "signal" : "gradient";

  const root = h("div", { class: "ck-sim ck-skip", "data-sim": "skip" });
  const title = h("div", { class: "ck-title", "data-role": "title" });
  const toggle = (attr, value, label, onClick) => button(label, onClick,
    { "data-control": attr, [`data-${attr}`]: value, "aria-pressed": "false" });
  const shortcutBar = h("div", { class: "ck-controls", role: "group", "aria-label": "Shortcut" }, [
    toggle("shortcut", "on", "With shortcut: y = F(x) + x", () => set({ shortcut: true })),
    toggle("shortcut", "off", "Without shortcut: y = F(x)", () => set({ shortcut: false })),
  ]);
  const viewBar = h("div", { class: "ck-controls", role: "group", "aria-label": "What the bars show" }, [
    toggle("view", "gradient", "Gradient (backward)", () => set({ view: "gradient" })),
    toggle("view", "signal", "Signal (forward)", () => set({ view: "signal" })),
  ]);
  const slider = (name, label, min, max, step, value, onInput) => {
    const out = h("output", { class: "ck-slider-value", "data-role": `${name}-value`, "data-value": value }, [fmt(value)]);
    const input = h("input", { type: "range", min, max, step, value, "data-control": name, "aria-label": label,
      oninput: (ev) => onInput(Number(ev.target.value)) });
    return { el: h("label", { class: "ck-slider" }, [h("span", { class: "ck-slider-label" }, [label]), input, out]), out };
  };
  const depthSlider = slider("depth", "blocks", LIMITS.depth[0], LIMITS.depth[1], 1, depth,
    (v) => set({ depth: v }));
  const gainSlider = slider("gain", "branch gain g", LIMITS.gain[0], LIMITS.gain[1], LIMITS.gainStep, gain,
    (v) => set({ gain: v }));
  const diagram = h("div", { class: "ck-skip-diagram", "data-role": "diagram" });
  const chart = h("div", { class: "ck-skip-chart", "data-role": "chart" });
  const math = h("div", { class: "ck-math", "data-role": "summary", "aria-live": "polite" });
  root.append(title, shortcutBar,
    h("div", { class: "ck-controls", role: "group", "aria-label": "Stack settings" }, [depthSlider.el, gainSlider.el]),
    viewBar, diagram, chart, math);

  function set(changes) {
    if ("depth" in changes) depth = clamp(Math.round(changes.depth), ...LIMITS.depth);
    if ("gain" in changes) gain = clamp(changes.gain, ...LIMITS.gain);
    if ("shortcut" in changes) shortcut = changes.shortcut;
    if ("view" in changes) view = changes.view;
    for (const [name, value] of Object.entries({ depth, gain, shortcut, view })) {
      if (name in changes) setTrait(model, name, value);
    }
    draw();
  }

  function drawDiagram() {
    const stroke = "#2d3748";
    const skipColour = shortcut ? "var(--ck-output)" : "#cbd5e0";
    const svg = h("svg", { viewBox: "0 0 420 110", role: "img", "data-shortcut": shortcut ? "on" : "off",
      "aria-label": shortcut ? "One residual block: x goes through the branch F and also around it; the two are added."
        : "One plain block: x goes only through F." }, [
      h("title", {}, [shortcut ? "residual block y = F(x) + x" : "plain block y = F(x)"]),
      h("text", { x: 10, y: 74, "font-size": 16 }, ["x"]),
      h("line", { x1: 24, y1: 70, x2: 140, y2: 70, stroke, "stroke-width": 2 }),
      h("rect", { x: 140, y: 50, width: 110, height: 40, rx: 6, fill: "var(--ck-kernel-bg)", stroke: "var(--ck-kernel)", "stroke-width": 2 }),
      h("text", { x: 195, y: 75, "text-anchor": "middle", "font-size": 15 }, [`F (gain ${fmt(gain)})`]),
      h("line", { x1: 250, y1: 70, x2: 318, y2: 70, stroke, "stroke-width": 2 }),
      h("circle", { cx: 330, cy: 70, r: 12, fill: "#fff", stroke: shortcut ? stroke : "#cbd5e0", "stroke-width": 2 }),
      h("text", { x: 330, y: 75, "text-anchor": "middle", "font-size": 16, fill: shortcut ? stroke : "#cbd5e0" }, ["+"]),
      h("line", { x1: 342, y1: 70, x2: 392, y2: 70, stroke, "stroke-width": 2 }),
      h("text", { x: 398, y: 74, "font-size": 16 }, ["y"]),
      h("path", { d: "M 60 70 L 60 20 L 330 20 L 330 58", fill: "none", stroke: skipColour, "stroke-width": 3,
        "stroke-dasharray": shortcut ? null : "6 6", "data-role": "skip-path" }),
      h("text", { x: 195, y: 14, "text-anchor": "middle", "font-size": 13, fill: shortcut ? "var(--ck-output)" : "#a0aec0" },
        [shortcut ? "shortcut: x is added back" : "shortcut removed"]),
    ]);
    diagram.replaceChildren(svg);
  }

  function drawChart(values) {
    // one axis for both settings of the shortcut, so toggling it shows the difference
    const both = [...profile(depth, gain, true, view), ...profile(depth, gain, false, view)];
    const logs = both.filter((v) => v > 0).map((v) => Math.log10(v));
    const lo = Math.max(-20, Math.floor(Math.min(0, ...logs, -1)));
    const hi = Math.min(20, Math.ceil(Math.max(0, ...logs, 1)));
    const { width, height, left, right, top, bottom } = CHART;
    const plotW = width - left - right;
    const plotH = height - top - bottom;
    const yOf = (lg) => top + plotH * (hi - clamp(lg, lo, hi)) / (hi - lo);
    const slot = plotW / values.length;
    const barW = Math.max(1.5, slot * 0.75);
    const parts = [];
    const tickEvery = Math.max(1, Math.ceil((hi - lo) / 8));
    for (let p = lo; p <= hi; p += 1) {
      if ((p - lo) % tickEvery && p !== 0) continue;
      parts.push(h("line", { x1: left, x2: width - right, y1: yOf(p), y2: yOf(p), stroke: p === 0 ? "#4a5568" : "#e2e8f0",
        "stroke-width": p === 0 ? 1.5 : 1 }));
      parts.push(h("text", { x: left - 6, y: yOf(p) + 4, "text-anchor": "end", "font-size": 11, fill: "#4a5568" },
        [p === 0 ? "1" : `1e${p}`]));
    }
    const base = yOf(0);
    values.forEach((v, i) => {
      const layer = i + 1;
      const y = v > 0 ? yOf(Math.log10(v)) : yOf(lo);
      const cls = "ck-skip-bar " + (shortcut ? "ck-skip-res" : "ck-skip-plain") + (v === 0 ? " ck-skip-zero" : "");
      parts.push(h("rect", { class: cls, "data-role": "bar", "data-layer": layer, "data-value": v,
        x: left + i * slot + (slot - barW) / 2, y: Math.min(y, base), width: barW, height: Math.max(Math.abs(base - y), 0.5) },
      [h("title", {}, [`block ${layer}: ${view} ${fmtSize(v)}`])]));
    });
    const labelEvery = Math.max(1, Math.ceil(values.length / 12));
    for (let layer = 1; layer <= values.length; layer++) {
      if (layer !== 1 && layer % labelEvery && layer !== values.length) continue;
      parts.push(h("text", { x: left + (layer - 0.5) * slot, y: height - bottom + 14, "text-anchor": "middle",
        "font-size": 11, fill: "#4a5568" }, [String(layer)]));
    }
    parts.push(h("text", { x: left + plotW / 2, y: height - 4, "text-anchor": "middle", "font-size": 12, fill: "#4a5568" },
      [`block (1 = nearest the input, ${values.length} = the top)`]));
    const label = view === "gradient" ? "gradient size" : "signal size";
    parts.push(h("text", { x: 12, y: top + plotH / 2, "font-size": 12, fill: "#4a5568", "text-anchor": "middle",
      transform: `rotate(-90 12 ${top + plotH / 2})` }, [`${label} (log)`]));
    chart.replaceChildren(h("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": `${label} at each of ${values.length} blocks, log scale` }, parts));
  }

  function draw() {
    const kind = shortcut ? "residual" : "plain";
    title.textContent = `${depth} ${kind} block${depth === 1 ? "" : "s"}: ` +
      (shortcut ? "y = F(x) + x" : "y = F(x)") + `, branch gain g = ${fmt(gain)}`;
    for (const b of shortcutBar.querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String((b.dataset.shortcut === "on") === shortcut));
    }
    for (const b of viewBar.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.view === view));
    depthSlider.out.textContent = String(depth);
    depthSlider.out.dataset.value = depth;
    gainSlider.out.textContent = fmt(gain);
    gainSlider.out.dataset.value = gain;
    const values = profile(depth, gain, shortcut, view);
    const factor = blockFactor(gain, shortcut);
    drawDiagram();
    drawChart(values);
    const factorText = shortcut ? `\u221A(1 + ${fmt(gain)}\u00B2) = ` : "";
    const rows = [
      h("div", {}, ["each block multiplies by ", factorText,
        h("b", { "data-role": "factor", "data-value": factor }, [fmt(factor)])]),
    ];
    if (view === "gradient") {
      rows.push(h("div", {}, [`block 1 receives ${fmt(factor)}^${depth - 1} = `,
        h("span", { class: "ck-y", "data-role": "first", "data-value": values[0] }, [fmtSize(values[0])]),
        " of the gradient that arrives at the top"]));
    } else {
      rows.push(h("div", {}, [`after ${depth} block${depth === 1 ? "" : "s"} the signal has size ${fmt(factor)}^${depth} = `,
        h("span", { class: "ck-y", "data-role": "last", "data-value": values[depth - 1] }, [fmtSize(values[depth - 1])])]));
    }
    rows.push(h("div", { "data-role": "identity" }, [shortcut
      ? "With all branch weights at zero (g = 0) each block passes x through unchanged: doing nothing is free."
      : "With all branch weights at zero (g = 0) the stack outputs 0; to do nothing a plain block must learn F(x) = x exactly."]));
    math.replaceChildren(...rows);
  }
  draw();
  el.append(root);
}

export default { render };
