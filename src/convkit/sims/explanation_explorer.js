// ExplanationExplorerSim: a few images and every class; for the chosen (image, class) pair, each
// attribution method's map side by side, normalised on its own and optionally blended over the image.
//
// The arithmetic is convkit/sims/explanation_explorer.py's: a map arrives as one base-64 character per
// pixel, code q in 0..62 standing for q / 62 (sequential) or (q - 31) / 31 (signed), 63 for NaN;
// codeColour is its palette(), blendByte its blend(), and NaN pixels are hatched in two greys.

const CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const CODE_LEVELS = 63;
const CODE_NAN = 63;
const SEQUENTIAL = [[255, 255, 255], [254, 196, 79], [236, 112, 20], [153, 52, 4], [102, 0, 13]];
const DIVERGING = [[5, 48, 97], [67, 147, 195], [255, 255, 255], [214, 96, 77], [103, 0, 31]];
const HATCH = { light: [226, 232, 240], dark: [160, 174, 192] }; // dark where (x + y) % 6 < 2
const THUMB_SCALE = 2;

/** The codes of a base-64 string, one per character. */
function decodeCodes(text) {
  const codes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) codes[i] = CODE_ALPHABET.indexOf(text[i]);
  return codes;
}

/** The bytes of standard base64 (the images' pixels). */
function decodeBytes(b64) {
  const raw = atob(b64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/** The value code q stands for: q / 62, or (q - 31) / 31 when signed; NaN for CODE_NAN. */
function codeValue(q, signed) {
  if (q === CODE_NAN) return NaN;
  const top = CODE_LEVELS - 1;
  const half = Math.floor(top / 2);
  return signed ? (q - half) / half : q / top;
}

/** The colour of code q (not NaN): its value, as t in [0, 1] ((v + 1) / 2 when signed), interpolated
 * linearly between equally spaced stops, each channel rounded half up. */
function codeColour(q, signed) {
  const stops = signed ? DIVERGING : SEQUENTIAL;
  const v = codeValue(q, signed);
  const t = signed ? (v + 1) / 2 : v;
  const segments = stops.length - 1;
  const seg = Math.min(Math.floor(t * segments), segments - 1);
  const f = t * segments - seg;
  return [0, 1, 2].map((c) => Math.round(stops[seg][c] + (stops[seg + 1][c] - stops[seg][c]) * f));
}

/** One RGB byte of a map's colour over the image's: round((1 - a) * image + a * colour). */
function blendByte(image, colour, a) {
  return Math.round((1 - a) * image + a * colour);
}

/** The pixel size of a panel's blocks: panels about 160 px wide, at least 4 px a pixel. */
function blockSize(H, W) {
  return Math.max(4, Math.floor(160 / Math.max(H, W)));
}

/** Paint an H x W picture on `canvas`, each pixel an s x s block: rgb(r, c) gives [R, G, B], or null
 * for a hatched (NaN) pixel. */
function paintBlocks(canvas, H, W, s, rgb) {
  canvas.width = W * s;
  canvas.height = H * s;
  const ctx = canvas.getContext("2d");
  const picture = ctx.createImageData(W * s, H * s);
  for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) {
    const colour = rgb(r, c);
    for (let y = r * s; y < (r + 1) * s; y++) for (let x = c * s; x < (c + 1) * s; x++) {
      const at = 4 * (y * W * s + x);
      const paint = colour ?? ((x + y) % 6 < 2 ? HATCH.dark : HATCH.light);
      picture.data[at] = paint[0];
      picture.data[at + 1] = paint[1];
      picture.data[at + 2] = paint[2];
      picture.data[at + 3] = 255;
    }
  }
  ctx.putImageData(picture, 0, 0);
}

/** A map's scale to 3 significant digits: 0.00123, 45.6, 1.2×10⁻⁷ (fmtSize beyond 1e-3 .. 1e5). */
function fmtScale(v) {
  return v >= 1e-3 && v < 1e5 ? String(Number(v.toPrecision(3))) : fmtSize(v);
}

/** A probability as a percentage: one decimal, "< 0.1 %" below that. */
function percent(p) {
  return p > 0 && p < 0.0005 ? "< 0.1 %" : `${(100 * p).toFixed(1)} %`;
}

/** A colour bar for a method: a CSS gradient through its palette's stops, ends and middle labelled. */
function colourBar(signed, scale) {
  const stops = (signed ? DIVERGING : SEQUENTIAL).map(([r, g, b], i, all) =>
    `rgb(${r}, ${g}, ${b}) ${(100 * i) / (all.length - 1)}%`);
  const ends = signed ? [`\u2212${fmtScale(scale)}`, "0", `+${fmtScale(scale)}`] : ["0", fmtScale(scale)];
  return h("div", { class: "ck-xplore-bar", "aria-hidden": "true" }, [
    h("div", { class: "ck-xplore-ramp", style: `background: linear-gradient(to right, ${stops.join(", ")})` }),
    h("div", { class: "ck-xplore-ends" }, ends.map((text) => h("span", {}, [text]))),
  ]);
}

function render({ model, el }) {
  const clamp = (v, lo, hi) => Math.min(Math.max(Math.round(Number(v)) || 0, lo), hi);
  const [H, W, C] = [model.get("height"), model.get("width"), model.get("channels")];
  const bytes = decodeBytes(model.get("pixels"));
  const K = bytes.length / (H * W * C);
  const names = model.get("class_names");
  const n = names.length;
  const labels = model.get("labels");
  const predicted = model.get("predicted");
  const probabilities = model.get("probabilities");
  const methods = model.get("methods");
  const signed = model.get("signed");
  const codes = model.get("codes");
  const scales = model.get("scales");
  const s = blockSize(H, W);
  let image = clamp(model.get("image"), 0, K - 1);
  let target = clamp(model.get("target"), 0, n - 1);
  let opacity = Math.min(Math.max(Number(model.get("opacity")) || 0, 0), 1);
  let saving = false;

  /** Image k's pixel (r, c) as [R, G, B] bytes (grey as three equal channels). */
  const pixel = (k, r, c) => {
    const at = ((k * H + r) * W + c) * C;
    return C === 1 ? [bytes[at], bytes[at], bytes[at]] : [bytes[at], bytes[at + 1], bytes[at + 2]];
  };
  /** The codes of method m's map for image k and class t: H * W numbers, row-major. */
  const mapCodes = (m, k, t) => decodeCodes(codes[m].slice((k * n + t) * H * W, (k * n + t + 1) * H * W));
  const describe = (k) => {
    const facts = [labels.length ? `true class "${names[labels[k]]}"` : null,
      predicted.length ? `the model answers "${names[predicted[k]]}"` : null].filter(Boolean);
    return `image ${k}` + (facts.length ? ` (${facts.join("; ")})` : "");
  };

  const root = h("div", { class: "ck-sim ck-xplore", "data-sim": "explanation_explorer" });
  const title = h("div", { class: "ck-title", "data-role": "title" });

  /** Arrow keys move along a row of buttons (and choose the one they land on). */
  const arrows = (count, current, choose) => (ev) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: -count, End: count }[ev.key];
    if (step === undefined) return;
    ev.preventDefault();
    choose(Math.min(Math.max(current() + step, 0), count - 1), true);
  };
  const imageBar = h("div", { class: "ck-controls ck-xplore-thumbs", role: "group", "aria-label": "Image",
    onkeydown: arrows(K, () => image, (k, focus) => change({ image: k }, focus ? "image" : null)) });
  for (let k = 0; k < K; k++) {
    const thumb = h("canvas", { class: "ck-xplore-thumb", "aria-hidden": "true" });
    paintBlocks(thumb, H, W, THUMB_SCALE, (r, c) => pixel(k, r, c));
    const wrong = labels.length && predicted.length && labels[k] !== predicted[k];
    imageBar.append(h("button", { type: "button", class: "ck-btn ck-xplore-thumb-btn", "data-control": "image",
      "data-image": k, "aria-pressed": "false", "aria-label": describe(k) + (wrong ? " (wrong)" : ""),
      title: describe(k), onclick: () => change({ image: k }) },
    [thumb, h("span", {}, [`${k}`, wrong ? " \u2717" : ""])]));
  }
  const classBar = h("div", { class: "ck-controls", role: "group", "aria-label": "Class to explain",
    onkeydown: arrows(n, () => target, (t, focus) => change({ target: t }, focus ? "target" : null)) },
  names.map((name, t) => button(name, () => change({ target: t }), { "data-control": "target", "data-target": t,
    "aria-pressed": "false" })));
  const predictedBtn = predicted.length
    ? button("Predicted class \u2605", () => change({ target: predicted[image] }), { "data-action": "predicted",
      title: "Explain the class the model answers for this image" })
    : null;

  const imageCanvas = h("canvas", { class: "ck-xplore-canvas", "data-role": "image", role: "img" });
  const panels = methods.map((method, m) => {
    const canvas = h("canvas", { class: "ck-xplore-canvas", "data-role": "map", "data-method": method, role: "img" });
    const caption = h("div", { class: "ck-status", "data-role": "scale", "data-method": method });
    const bar = h("div", { "data-role": "bar" });
    const figure = h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, [method]), canvas, bar, caption]);
    return { method, m, canvas, caption, bar, figure };
  });
  const opacityOut = h("output", { class: "ck-slider-value", "data-role": "opacity-value" });
  const opacityInput = h("input", { type: "range", min: 0, max: 1, step: 0.05, "data-control": "opacity",
    "aria-label": "map opacity over the image (0: the image alone, 1: the map alone)",
    oninput: (ev) => change({ opacity: Number(ev.target.value) }) });
  const readout = h("div", { class: "ck-math", "data-role": "readout", "aria-live": "polite" });
  const probe = h("div", { class: "ck-status", "data-role": "probe" },
    ["Point at a pixel to read every map's value there."]);

  root.append(title,
    h("div", { class: "ck-xplore-label" }, ["Image"]), imageBar,
    h("div", { class: "ck-xplore-label" }, ["Class to explain"]), classBar,
    h("div", { class: "ck-controls", hidden: !predictedBtn }, [predictedBtn]),
    h("div", { class: "ck-grids ck-xplore-panels" }, [
      h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, [`image (${H}\u00D7${W})`]), imageCanvas]),
      ...panels.map((p) => p.figure)]),
    h("div", { class: "ck-controls", role: "group", "aria-label": "Overlay" }, [
      h("label", { class: "ck-slider" }, [h("span", { class: "ck-slider-label" }, ["map opacity"]), opacityInput, opacityOut])]),
    probe, readout,
    h("div", { class: "ck-status" }, ["Each map is divided by its own largest |value| (printed under it): signed maps ",
      "run blue (\u22121), white (0), red (+1); non-negative maps white (0) to dark red (1). Hatched: no value (NaN)."]));

  /** Write the shown image, class and opacity to their traits (only those that changed). */
  function save() {
    saving = true;
    try {
      for (const [name, value] of Object.entries({ image, target, opacity })) {
        if (model.get(name) !== value) setTrait(model, name, value);
      }
    } finally {
      saving = false;
    }
  }

  function change(proposal, focus = null) {
    if ("image" in proposal) image = clamp(proposal.image, 0, K - 1);
    if ("target" in proposal) target = clamp(proposal.target, 0, n - 1);
    if ("opacity" in proposal) opacity = Math.min(Math.max(Number(proposal.opacity) || 0, 0), 1);
    save();
    draw();
    if (focus === "image") imageBar.querySelector(`[data-image="${image}"]`).focus();
    if (focus === "target") classBar.querySelector(`[data-target="${target}"]`).focus();
  }

  function draw() {
    const answer = predicted.length ? predicted[image] : null;
    title.textContent = `Why "${names[target]}"? The maps of ${describe(image)}`;
    for (const b of imageBar.querySelectorAll("button")) {
      const on = Number(b.dataset.image) === image;
      b.setAttribute("aria-pressed", String(on));
      b.tabIndex = on ? 0 : -1; // one tab stop; the arrow keys move along the row
    }
    for (const b of classBar.querySelectorAll("button")) {
      const t = Number(b.dataset.target);
      const on = t === target;
      b.setAttribute("aria-pressed", String(on));
      b.tabIndex = on ? 0 : -1;
      b.classList.toggle("ck-xplore-answer", t === answer);
      const p = probabilities.length ? `, probability ${percent(probabilities[image][t])}` : "";
      b.setAttribute("aria-label", `class ${names[t]}` + (t === answer ? " (the model's answer)" : "") + p);
      b.title = `class ${t}: ${names[t]}${t === answer ? " (the model's answer)" : ""}${p}`;
      b.textContent = names[t] + (t === answer ? " \u2605" : "");
    }
    if (predictedBtn) predictedBtn.disabled = target === answer;
    opacityInput.value = String(opacity);
    opacityOut.textContent = fmt(opacity);
    opacityOut.dataset.value = String(opacity);

    paintBlocks(imageCanvas, H, W, s, (r, c) => pixel(image, r, c));
    imageCanvas.setAttribute("aria-label", `${describe(image)}, ${H} by ${W} pixels`);
    imageCanvas.dataset.image = String(image);
    const notes = [];
    for (const p of panels) {
      const q = mapCodes(p.m, image, target);
      const isSigned = signed[p.m];
      const scale = scales[p.m][image][target];
      const colours = Array.from({ length: CODE_LEVELS }, (_, code) => codeColour(code, isSigned));
      let missing = 0;
      paintBlocks(p.canvas, H, W, s, (r, c) => {
        const code = q[r * W + c];
        if (code === CODE_NAN) { missing += 1; return null; }
        const [under, colour] = [pixel(image, r, c), colours[code]];
        return [0, 1, 2].map((ch) => blendByte(under[ch], colour[ch], opacity));
      });
      Object.assign(p.canvas.dataset, { image: String(image), target: String(target), codes: Array.from(q,
        (code) => CODE_ALPHABET[code]).join(""), signed: String(isSigned), scale: String(scale), nan: String(missing) });
      p.canvas.setAttribute("aria-label", `${p.method} map of ${describe(image)} for class "${names[target]}": ` +
        `${isSigned ? "signed" : "non-negative"}, largest |value| ${fmtScale(scale)}` +
        (missing ? `, ${missing} pixels without a value` : ""));
      p.caption.textContent = `divided by ${fmtScale(scale)}` + (missing ? `; ${missing} px no value` : "");
      p.caption.dataset.value = String(scale);
      p.bar.replaceChildren(colourBar(isSigned, scale));
      notes.push(h("div", { "data-role": "method-note", "data-method": p.method }, [
        `${p.method}: ${isSigned ? "signed" : "non-negative"}, divided by its largest |value| `,
        h("span", { class: "ck-y", "data-value": scale }, [fmtScale(scale)]),
        scale === 0 ? " (every value is 0)" : "",
        missing ? `; ${missing} of ${H * W} pixels have no value (hatched)` : ""]));
    }
    const lines = [];
    if (answer !== null) {
      const p = probabilities.length ? probabilities[image][answer] : null;
      lines.push(h("div", {}, ["The model answers ",
        h("span", { class: "ck-y", "data-role": "answer", "data-value": answer }, [`"${names[answer]}"`]),
        p === null ? "" : ` with probability ${percent(p)}`,
        labels.length ? (labels[image] === answer ? " (right)." : ` (wrong: the true class is "${names[labels[image]]}").`) : "."]));
    } else if (labels.length) {
      lines.push(h("div", {}, [`Its true class is "${names[labels[image]]}".`]));
    }
    const chosen = probabilities.length ? probabilities[image][target] : null;
    lines.push(h("div", {}, ["Explained class: ",
      h("span", { class: "ck-y", "data-role": "target", "data-value": target }, [`"${names[target]}"`]),
      chosen === null ? "" : h("span", {}, [", its probability ",
        h("span", { class: "ck-y", "data-role": "probability", "data-value": chosen }, [percent(chosen)])]),
      answer === null ? "" : target === answer ? " (the model's answer)" : " (not the model's answer)"]));
    readout.replaceChildren(...lines, ...notes);
    root.dataset.traits = JSON.stringify({ image: model.get("image"), target: model.get("target"),
      opacity: model.get("opacity") });
  }

  /** Every map's value at the pixel under the pointer. */
  function showProbe(ev) {
    const rect = ev.target.getBoundingClientRect();
    const r = Math.floor(((ev.clientY - rect.top) / rect.height) * H);
    const c = Math.floor(((ev.clientX - rect.left) / rect.width) * W);
    if (r < 0 || r >= H || c < 0 || c >= W) return;
    const parts = panels.map((p) => {
      const v = codeValue(mapCodes(p.m, image, target)[r * W + c], signed[p.m]);
      return `${p.method} ${Number.isNaN(v) ? "no value" : fmt(v)}`;
    });
    probe.textContent = `pixel (row ${r}, column ${c}): ` + parts.join(" \u00B7 ") + " (each \u00F7 its largest |value|)";
  }
  for (const canvas of [imageCanvas, ...panels.map((p) => p.canvas)]) canvas.addEventListener("mousemove", showProbe);

  // A change made in the kernel (sim.image = 3, ...) redraws the page, brought into range the way the
  // controls would, and is written back if it had to change -- after the change event: a value set
  // inside it that equals the trait's value before the kernel's change is no change to Backbone's
  // diff, so it would never reach the kernel (sim.target = 9 with the page at 3, brought back to 3).
  // The page's own writes change nothing.
  function fromModel() {
    if (saving) return;
    image = clamp(model.get("image"), 0, K - 1);
    target = clamp(model.get("target"), 0, n - 1);
    opacity = Math.min(Math.max(Number(model.get("opacity")) || 0, 0), 1);
    draw();
    setTimeout(() => { save(); draw(); }, 0);
  }
  for (const name of ["image", "target", "opacity"]) model.on(`change:${name}`, fromModel);
  save();
  draw();
  el.append(root);
}

export default { render };
