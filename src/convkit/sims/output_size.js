// OutputSizeCalculator: the output size for the reader's numbers, either as the formula
// O = floor((W + 2P - D(K-1) - 1) / S) + 1 step by step (show_formula) or as a count of the
// window starts, with no formula on the page (for readers who derive it themselves).

const LIMITS = { size: [1, 256], kernel_size: [1, 15], stride: [1, 8], padding: [0, 16], dilation: [1, 8] };
const LABELS = { size: "input size W", kernel_size: "kernel size K", stride: "stride S",
  padding: "padding P", dilation: "dilation D" };
const MAX_STRIP = 48; // the padded input is drawn as a strip of cells up to this length
const MAX_LISTED = 12; // starts listed one by one; longer lists show their ends only

function render({ model, el }) {
  const values = {};
  for (const name of Object.keys(LIMITS)) {
    const [lo, hi] = LIMITS[name];
    values[name] = Math.min(Math.max(Math.round(model.get(name)), lo), hi);
  }
  const root = h("div", { class: "ck-sim ck-stridepad ck-outsize", "data-sim": "output_size" });
  const inputs = Object.keys(LIMITS).map((name) => {
    const [lo, hi] = LIMITS[name];
    const input = h("input", { type: "number", min: lo, max: hi, step: 1, value: values[name],
      "data-control": name, "aria-label": LABELS[name], style: "width:4.5em",
      oninput: (ev) => {
        const v = Number(ev.target.value);
        if (!Number.isInteger(v) || v < lo || v > hi) {
          warn.textContent = `${LABELS[name]} must be a whole number from ${lo} to ${hi}.`;
          return;
        }
        warn.textContent = "";
        values[name] = v;
        setTrait(model, name, v);
        update();
      } });
    return h("label", { class: "ck-slider" }, [h("span", { class: "ck-slider-label" }, [LABELS[name]]), input]);
  });
  const warn = h("div", { class: "ck-status", "data-role": "input-warning", "aria-live": "polite" });
  const formula = h("div", { class: "ck-math", "data-role": "formula", "aria-live": "polite" });
  const result = h("div", { class: "ck-title", "data-role": "result" });
  const strip = h("div", { "data-role": "strip", class: "ck-scroll-x" });
  const showFormula = model.get("show_formula") !== false;
  root.append(
    h("div", { class: "ck-title" }, [showFormula
      ? "Output size along one axis: O = \u230A(W + 2P \u2212 D(K\u22121) \u2212 1) / S\u230B + 1"
      : "Output size along one axis: the number of window positions"]),
    h("div", { class: "ck-controls", role: "group", "aria-label": "Layer settings" }, inputs),
    warn, formula, result, strip,
  );

  function update() {
    const { size: W, kernel_size: K, stride: S, padding: P, dilation: D } = values;
    const padded = W + 2 * P;
    const span = D * (K - 1) + 1;
    const fits = span <= padded;
    const rows = showFormula ? [
      h("div", {}, ["padded length W + 2P = ", h("span", { class: "ck-x" }, [`${W}`]), " + 2\u00B7", `${P}`,
        " = ", h("b", { "data-role": "padded", "data-value": padded }, [`${padded}`])]),
      h("div", {}, ["window span D(K\u22121) + 1 = ", `${D}\u00B7(${K}\u22121) + 1 = `,
        h("b", { "data-role": "span", "data-value": span }, [`${span}`])]),
    ] : [
      h("div", {}, [`padded input: ${P} zero${P === 1 ? "" : "s"}, ${W} pixel${W === 1 ? "" : "s"}, `
        + `${P} zero${P === 1 ? "" : "s"}: `,
        h("b", { "data-role": "padded", "data-value": padded }, [`${padded}`]), " cells"]),
      h("div", {}, [`window: ${K} tap${K === 1 ? "" : "s"}, ${D} cell${D === 1 ? "" : "s"} apart, reaching across `,
        h("b", { "data-role": "span", "data-value": span }, [`${span}`]), " cells"]),
    ];
    if (!fits) {
      formula.replaceChildren(...rows);
      result.replaceChildren(h("span", { class: "ck-error", "data-role": "error", style: "color:#c53030" }, [
        `The window does not fit: it spans ${span} cells but the padded input has only ${padded}. ` +
        "There is no output; convkit.output_size raises a ValueError and PyTorch refuses the layer. " +
        "Add padding, or use a smaller kernel or dilation."]));
      strip.replaceChildren();
      return;
    }
    const room = padded - span;
    const out = Math.floor(room / S) + 1;
    const lost = room % S;
    const outSpan = h("span", { class: "ck-y", "data-role": "out-size", "data-value": out }, [`${out}`]);
    if (showFormula) {
      rows.push(h("div", {}, ["O = \u230A(", `${padded} \u2212 ${span}`, ") / ", `${S}`, "\u230B + 1 = \u230A",
        `${room} / ${S}`, "\u230B + 1 = ", `${Math.floor(room / S)} + 1 = `, outSpan]));
      rows.push(h("div", { "data-role": "floor-note" }, [lost
        ? `The floor drops a remainder of ${lost}: ${lost > 1 ? `the last ${lost} cells` : "the last cell"} of the ` +
          `padded input cannot hold another window, and no window reads ${lost > 1 ? "them" : "it"}.`
        : "The stride divides the room exactly: the last window ends on the last cell."]));
    } else {
      const starts = [];
      for (let i = 0; i < out; i++) starts.push(i * S);
      const listed = out <= MAX_LISTED ? starts.join(", ")
        : `${starts.slice(0, 3).join(", ")}, \u2026, ${starts.slice(-2).join(", ")}`;
      rows.push(h("div", { "data-role": "starts" }, [`window starts, every ${S} cell${S === 1 ? "" : "s"} while the `
        + `window still ends inside: ${listed}`]));
      rows.push(h("div", {}, ["output size = number of starts = ", outSpan]));
      rows.push(h("div", { "data-role": "floor-note" }, [lost
        ? `${lost > 1 ? `The last ${lost} cells` : "The last cell"} of the padded input cannot hold another `
          + `window: no window reads ${lost > 1 ? "them" : "it"}.`
        : "The last window ends on the last cell of the padded input."]));
    }
    formula.replaceChildren(...rows);
    result.replaceChildren(`Output: ${out} (an input of ${W}\u00D7${W} gives ${out}\u00D7${out})`);
    drawStrip(W, K, S, P, D, padded, out);
  }

  function drawStrip(W, K, S, P, D, padded, out) {
    if (padded > MAX_STRIP) {
      strip.replaceChildren(h("div", { class: "ck-status" }, [`(The strip of cells is drawn for padded lengths up to ${MAX_STRIP}.)`]));
      return;
    }
    const reads = new Array(padded).fill(0);
    const starts = new Set();
    for (let i = 0; i < out; i++) {
      starts.add(i * S);
      for (let m = 0; m < K; m++) reads[i * S + m * D] += 1;
    }
    const cells = h("div", { class: "ck-cells", "data-role": "padded-strip", style: `grid-template-columns:repeat(${padded}, 22px)` });
    for (let c = 0; c < padded; c++) {
      const pad = c < P || c >= P + W;
      const cls = "ck-cell" + (pad ? " ck-pad" : "") + (reads[c] ? " ck-in-window" : " ck-empty");
      cells.append(h("div", { class: cls, "data-reads": reads[c], "data-pad": pad ? "true" : "false",
        style: "width:22px;height:22px;font-size:11px", title: `${pad ? "padding" : `input ${c - P}`}: read by ${reads[c]} window${reads[c] === 1 ? "" : "s"}` },
        [starts.has(c) ? "\u25BC" : ""]));
    }
    strip.replaceChildren(cells, h("div", { class: "ck-legend" }, [
      h("span", {}, ["\u25BC window start"]),
      h("span", {}, [h("span", { class: "ck-swatch", style: "background:var(--ck-input-bg)" }), "read by a window"]),
      h("span", {}, [h("span", { class: "ck-swatch ck-pad-swatch" }), "padding"]),
      h("span", {}, ["empty cell: never read"]),
    ]));
  }
  update();
  el.append(root);
}

export default { render };
