// ConnectivitySim: which inputs each output unit reads, fully connected vs convolutional.

const KERNEL_COLOURS = ["#c05621", "#2b6cb0", "#805ad5", "#2f855a", "#d53f8c", "#b7791f", "#319795"];

function render({ model, el }) {
  const n = model.get("n_inputs");
  const k = model.get("kernel_size");
  const nOut = n - k + 1;
  let mode = model.get("mode");
  let selected = Math.min(Math.max(model.get("selected"), 0), nOut - 1);
  const denseWeights = nOut * n;
  const convWeights = k;

  const W = 700, top = 46, bottom = 206, r = 17;
  const xIn = (i) => 40 + (i * (W - 80)) / (n - 1);
  const xOut = (j) => (xIn(j) + xIn(j + k - 1)) / 2;

  const root = h("div", { class: "ck-sim ck-conn mathjax_process", "data-sim": "connectivity" });
  root.append(h("div", { class: "ck-title" }, [`${n} inputs, ${nOut} outputs: who is connected to whom?`]));
  const denseBtn = button("Fully connected", () => setMode("dense"), { "data-action": "dense" });
  const convBtn = button(`Convolutional (kernel size ${k})`, () => setMode("conv"), { "data-action": "conv" });
  root.append(h("div", { class: "ck-controls", role: "group", "aria-label": "Layer type" }, [denseBtn, convBtn]));
  const svg = h("svg", { viewBox: `0 0 ${W} 250`, role: "img", "data-role": "diagram" });
  const caption = h("div", { class: "ck-math", "data-role": "caption", "aria-live": "polite" });
  const counts = h("div", { class: "ck-counts", "data-role": "counts" });
  root.append(svg, caption, counts, h("div", { class: "ck-status" },
    ["Click (or Tab to and press Enter on) an output unit to see the inputs and weights it uses."]));

  function setMode(m) { mode = m; setTrait(model, "mode", m); draw(); }
  function select(j) { selected = j; setTrait(model, "selected", j); draw(); }

  function edges() {
    const list = [];
    for (let j = 0; j < nOut; j++) {
      if (mode === "dense") {
        for (let i = 0; i < n; i++) {
          list.push({ i, j, colour: `hsl(${((j * n + i) * 137.508) % 360}, 62%, 45%)`, label: `w${j},${i}` });
        }
      } else {
        for (let m = 0; m < k; m++) {
          list.push({ i: j + m, j, colour: KERNEL_COLOURS[m % KERNEL_COLOURS.length], label: `w${m}` });
        }
      }
    }
    return list;
  }

  function draw() {
    denseBtn.setAttribute("aria-pressed", String(mode === "dense"));
    convBtn.setAttribute("aria-pressed", String(mode === "conv"));
    svg.replaceChildren();
    svg.append(h("title", {}, [`${mode === "dense" ? "Fully connected" : "Convolutional"} layer: output y${selected} highlighted`]));
    svg.append(h("text", { x: 4, y: 18, "font-size": 13, fill: "#4a5568" }, ["inputs x"]));
    svg.append(h("text", { x: 4, y: 244, "font-size": 13, fill: "#4a5568" }, ["outputs y"]));
    const all = edges();
    const touched = new Set(all.filter((e) => e.j === selected).map((e) => e.i));
    for (const e of all.filter((e) => e.j !== selected)) {
      svg.append(h("line", { x1: xIn(e.i), y1: top + r, x2: xOut(e.j), y2: bottom - r, stroke: e.colour,
        "stroke-width": 1.5, opacity: mode === "dense" ? 0.16 : 0.3 }));
    }
    for (const e of all.filter((e) => e.j === selected)) {
      svg.append(h("line", { x1: xIn(e.i), y1: top + r, x2: xOut(e.j), y2: bottom - r, stroke: e.colour,
        "stroke-width": 3.5, "data-role": "edge", "data-input": e.i, "data-weight": e.label }));
      if (mode === "conv") {
        const t = 0.32;
        svg.append(h("text", { x: xIn(e.i) + (xOut(e.j) - xIn(e.i)) * t + 6, y: top + r + (bottom - top - 2 * r) * t,
          "font-size": 14, "font-weight": 700, fill: e.colour }, [e.label]));
      }
    }
    for (let i = 0; i < n; i++) {
      const on = touched.has(i);
      svg.append(h("g", { "data-role": "input", "data-index": i, "data-touched": String(on) }, [
        h("circle", { cx: xIn(i), cy: top, r, fill: on ? "#e3eefb" : "#fff", stroke: on ? "#2b6cb0" : "#a0aec0",
          "stroke-width": on ? 3 : 1.5 }),
        h("text", { x: xIn(i), y: top + 5, "text-anchor": "middle", "font-size": 14, fill: "#1a202c" }, [`x${i}`]),
      ]));
    }
    for (let j = 0; j < nOut; j++) {
      const on = j === selected;
      const unit = h("g", { class: "ck-unit", tabindex: 0, role: "button", "data-role": "output", "data-index": j,
        "aria-pressed": String(on), "aria-label": `output y${j}`,
        onclick: () => select(j),
        onkeydown: (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(j); } } }, [
        h("circle", { cx: xOut(j), cy: bottom, r, fill: on ? "#dff3e7" : "#fff", stroke: on ? "#2f855a" : "#a0aec0",
          "stroke-width": on ? 3 : 1.5 }),
        h("text", { x: xOut(j), y: bottom + 5, "text-anchor": "middle", "font-size": 14, fill: "#1a202c" }, [`y${j}`]),
      ]);
      svg.append(unit);
    }
    const inputs = [...touched].sort((a, b) => a - b);
    caption.replaceChildren(mode === "dense"
      ? `y${selected} reads all ${n} inputs through ${n} weights of its own (w${selected},0 \u2026 w${selected},${n - 1}); ` +
        "no other output uses them: every line has its own colour."
      : `y${selected} reads only x${inputs[0]}\u2026x${inputs[inputs.length - 1]} through w0\u2026w${k - 1}, ` +
        `the same ${k} weights every output uses: equal colours are one shared weight.`);
    counts.replaceChildren(
      h("span", { class: mode === "dense" ? "ck-active" : "" }, ["Fully connected:"]),
      h("span", { class: mode === "dense" ? "ck-active" : "", "data-role": "dense-count", "data-value": denseWeights },
        [`${nOut} \u00D7 ${n} = ${denseWeights} weights`]),
      h("span", { class: mode === "conv" ? "ck-active" : "" }, ["Convolutional:"]),
      h("span", { class: mode === "conv" ? "ck-active" : "", "data-role": "conv-count", "data-value": convWeights },
        [`${convWeights} weights, shared by all ${nOut} outputs`]),
    );
  }
  draw();
  el.append(root);
}

export default { render };
