// AugmentExplorerSim: a colour tile through a random crop of the zero-padded tile, a horizontal flip,
// colour jitter (brightness, contrast, saturation) and cutout, shown before and after.
//
// The pipeline is the one of convkit/sims/augment_explorer.py (augment_tile), with the formulas of
// convkit.training.augment: apply_colour_jitter (each step a blend clipped to [0, 1]; grey level
// 0.299 R + 0.587 G + 0.114 B) and apply_cutout (rows and columns centre - floor(size / 2) onwards).
// Images are nested arrays img[channel][row][column] of numbers in [0, 1].

const GREY = [0.299, 0.587, 0.114];
const SCALE = 5; // CSS pixels per tile pixel, the same in every panel

/** A tile sent as C*H*W integers 0..255 (channel, row, column order) as img[c][r][q] in [0, 1]. */
function tileImage(flat, side) {
  return [0, 1, 2].map((c) => Array.from({ length: side }, (_, r) =>
    Array.from({ length: side }, (_, q) => flat[(c * side + r) * side + q] / 255)));
}

/** The image with `padding` rings of zeros around it (every channel). */
function padImage(img, padding) {
  const [H, W] = [img[0].length, img[0][0].length];
  return img.map((ch) => Array.from({ length: H + 2 * padding }, (_, i) =>
    Array.from({ length: W + 2 * padding }, (_, j) => {
      const [r, q] = [i - padding, j - padding];
      return r >= 0 && r < H && q >= 0 && q < W ? ch[r][q] : 0;
    })));
}

/** Crop an H x W window at (top, left) of the image padded by `padding` zeros, then mirror it
 * left-right if `flip`: out[i][j] = padded[top + i][left + j] (or column W - 1 - j when flipped). */
function cropFlip(img, padding, top, left, flip) {
  const [H, W] = [img[0].length, img[0][0].length];
  return img.map((ch) => Array.from({ length: H }, (_, i) => Array.from({ length: W }, (_, j) => {
    const [r, q] = [top + i - padding, left + (flip ? W - 1 - j : j) - padding];
    return r >= 0 && r < H && q >= 0 && q < W ? ch[r][q] : 0;
  })));
}

/** The grey level of every pixel of an RGB image: H x W rows. */
function greyImage(img) {
  const [R, G, B] = img;
  return R.map((row, r) => row.map((v, q) => GREY[0] * v + GREY[1] * G[r][q] + GREY[2] * B[r][q]));
}

/** factor * x + (1 - factor) * other, clipped to [0, 1] (one step of colour jitter). */
function blend(x, other, factor) {
  return Math.min(1, Math.max(0, factor * x + (1 - factor) * other));
}

/** The mean grey level of an RGB image. */
function meanGrey(img) {
  const grey = greyImage(img);
  let total = 0;
  for (const row of grey) for (const v of row) total += v;
  return total / (grey.length * grey[0].length);
}

/** The brightness step alone: every value times `factor`, clipped. */
function brighten(img, factor) {
  return img.map((ch) => ch.map((row) => row.map((v) => blend(v, 0, factor))));
}

/** Brightness (blend with black), contrast (with the mean grey level), saturation (with the grey
 * image), in this order, each clipped: convkit's apply_colour_jitter for one RGB image. */
function colourJitter(img, brightness, contrast, saturation) {
  let out = brighten(img, brightness);
  const mean = meanGrey(out);
  out = out.map((ch) => ch.map((row) => row.map((v) => blend(v, mean, contrast))));
  const pixelGrey = greyImage(out);
  return out.map((ch) => ch.map((row, r) => row.map((v, q) => blend(v, pixelGrey[r][q], saturation))));
}

/** The rows (or columns) a cutout square of `size` centred at `centre` covers: [first, end). */
function cutoutSpan(centre, size) {
  const first = centre - Math.floor(size / 2);
  return [first, first + size];
}

/** Zero a size x size square centred at (row, col), clipped at the borders: convkit's apply_cutout. */
function cutoutSquare(img, row, col, size) {
  const [[r0, r1], [c0, c1]] = [cutoutSpan(row, size), cutoutSpan(col, size)];
  return img.map((ch) => ch.map((line, r) => line.map((v, q) => (r >= r0 && r < r1 && q >= c0 && q < c1 ? 0 : v))));
}

/** The whole pipeline for one tile: crop of the padded tile, flip, colour jitter, cutout. */
function augment(img, p) {
  const cropped = cropFlip(img, p.padding, p.cropTop, p.cropLeft, p.flip);
  const jittered = colourJitter(cropped, p.brightness, p.contrast, p.saturation);
  return cutoutSquare(jittered, p.cutoutRow, p.cutoutCol, p.cutoutSize);
}

/** A seeded generator of numbers in [0, 1): xorshift32 (shifts 13, 17, 5) from a scrambled seed. */
function seededRandom(seed) {
  let state = ((seed >>> 0) ^ 0x9e3779b9) >>> 0 || 1;
  const step = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  for (let k = 0; k < 16; k++) step(); // let the seed's bits spread before the first draw
  return () => step() / 4294967296;
}

/** A number to two decimals (as the factor sliders show it). */
function twoDecimals(v) {
  return Math.round(v * 100) / 100;
}

/** New random parameters, drawn as convkit's random functions draw them for one image: the crop's
 * corner uniformly over 0..2*padding (row, then column), a flip with probability 1/2, each factor
 * uniformly over [max(0, 1 - j), 1 + j] (to two decimals), the cutout's centre uniformly over the
 * tile (row, then column).  `next` returns numbers in [0, 1); padding and the cutout size are kept. */
function drawParams(next, { padding, side, jitter, cutoutSize }) {
  const integer = (n) => Math.min(n - 1, Math.floor(next() * n));
  const factor = (j) => {
    const [lo, hi] = [Math.max(0, 1 - j), 1 + j];
    return Math.min(hi, Math.max(lo, twoDecimals(lo + (hi - lo) * next())));
  };
  const cropTop = integer(2 * padding + 1);
  const cropLeft = integer(2 * padding + 1);
  const flip = next() < 0.5;
  const [brightness, contrast, saturation] = jitter.map(factor);
  const cutoutRow = integer(side);
  const cutoutCol = integer(side);
  return { padding, cropTop, cropLeft, flip, brightness, contrast, saturation, cutoutSize, cutoutRow, cutoutCol };
}

/** A pixel value in [0, 1] as a canvas byte. */
function toByte(v) {
  return Math.round(255 * Math.min(1, Math.max(0, v)));
}

/** Paint an RGB image on a canvas, one canvas pixel per image pixel, enlarged (pixelated) by CSS. */
function paintImage(canvas, img) {
  const [H, W] = [img[0].length, img[0][0].length];
  canvas.width = W;
  canvas.height = H;
  canvas.style.width = `${W * SCALE}px`;
  canvas.style.height = `${H * SCALE}px`;
  const ctx = canvas.getContext("2d");
  const picture = ctx.createImageData(W, H);
  for (let r = 0; r < H; r++) for (let q = 0; q < W; q++) {
    const at = 4 * (r * W + q);
    for (let c = 0; c < 3; c++) picture.data[at + c] = toByte(img[c][r][q]);
    picture.data[at + 3] = 255;
  }
  ctx.putImageData(picture, 0, 0);
}

/** Trait names of the parameters (Python) -> their names here. */
const TRAITS = { padding: "padding", crop_top: "cropTop", crop_left: "cropLeft", flip: "flip", brightness: "brightness",
  contrast: "contrast", saturation: "saturation", cutout_size: "cutoutSize", cutout_row: "cutoutRow", cutout_col: "cutoutCol" };

function render({ model, el }) {
  const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
  const side = model.get("side");
  const images = model.get("images").map((flat) => tileImage(flat, side));
  const labels = model.get("labels");
  const indices = model.get("indices");
  const jitter = model.get("jitter");
  const limits = model.get("limits");
  const seed = model.get("seed");
  const next = seededRandom(seed);
  let draws = 0;
  let tile = clamp(Math.round(model.get("tile")), 0, images.length - 1);
  const p = {};
  for (const [trait, key] of Object.entries(TRAITS)) p[key] = model.get(trait);
  p.flip = Boolean(p.flip);

  const root = h("div", { class: "ck-sim ck-augment", "data-sim": "augment_explorer" });
  const title = h("div", { class: "ck-title", "data-role": "title" });
  const tileBar = h("div", { class: "ck-controls", role: "group", "aria-label": "Tile" },
    labels.map((label, i) => button(label, () => { tile = i; setTrait(model, "tile", i); draw(); },
      { "data-control": "tile", "data-tile": i, "aria-pressed": "false",
        title: `training tile ${indices[i]} of load_colour_patches() (class ${label})` })));

  const canvas = (role, label) => h("canvas", { class: "ck-augment-canvas", "data-role": role, role: "img",
    "aria-label": label });
  const originalCanvas = canvas("original", `the original tile, ${side} by ${side} pixels`);
  const paddedCanvas = canvas("padded", "the tile padded with zeros, the crop window outlined");
  const augmentedCanvas = canvas("augmented", `the augmented tile, ${side} by ${side} pixels`);
  const cropWindow = h("div", { class: "ck-augment-window", "data-role": "crop-window", "aria-hidden": "true" });
  const paddedCaption = h("figcaption", { "data-role": "padded-caption" });
  root.append(title, tileBar, h("div", { class: "ck-grids ck-augment-panels" }, [
    h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, [`original (${side}\u00D7${side})`]), originalCanvas]),
    h("figure", { class: "ck-grid-box" }, [paddedCaption,
      h("div", { class: "ck-augment-stack" }, [paddedCanvas, cropWindow])]),
    h("figure", { class: "ck-grid-box" }, [h("figcaption", {}, [`augmented (${side}\u00D7${side})`]), augmentedCanvas]),
  ]));

  const sliders = {};
  const slider = (key, label, min, max, step, description = label) => {
    const out = h("output", { class: "ck-slider-value", "data-role": `${key}-value` });
    const input = h("input", { type: "range", min, max, step, "data-control": key, "aria-label": description,
      oninput: (ev) => set({ [key]: Number(ev.target.value) }) });
    sliders[key] = { input, out };
    return h("label", { class: "ck-slider", title: description }, [h("span", { class: "ck-slider-label" }, [label]), input, out]);
  };
  const group = (name, children) => h("div", { class: "ck-controls ck-augment-row", role: "group", "aria-label": name },
    [h("span", { class: "ck-augment-step" }, [name]), ...children]);
  const flipButton = button("Mirror left-right", () => set({ flip: !p.flip }),
    { "data-control": "flip", "aria-pressed": "false" });
  root.append(
    group("1. Crop", [
      slider("padding", "padding", 0, limits.padding, 1, "padding: rings of zeros around the tile"),
      slider("cropTop", "row", 0, 2 * p.padding, 1, "crop window's top row in the padded tile"),
      slider("cropLeft", "column", 0, 2 * p.padding, 1, "crop window's left column in the padded tile"),
    ]),
    group("2. Flip", [flipButton]),
    group("3. Colour", [
      slider("brightness", "brightness", 0, limits.factor, 0.01, "brightness factor"),
      slider("contrast", "contrast", 0, limits.factor, 0.01, "contrast factor"),
      slider("saturation", "saturation", 0, limits.factor, 0.01, "saturation factor"),
    ]),
    group("4. Cutout", [
      slider("cutoutSize", "size", 0, limits.cutout, 1, "cutout square's side"),
      slider("cutoutRow", "row", 0, side - 1, 1, "cutout centre's row"),
      slider("cutoutCol", "column", 0, side - 1, 1, "cutout centre's column"),
    ]),
  );
  const randomButton = button("Random \u2684", () => {
    draws += 1;
    set(drawParams(next, { padding: p.padding, side, jitter, cutoutSize: p.cutoutSize }));
  }, { "data-action": "random", title: "Draw every parameter at random, as training would" });
  const resetButton = button("No augmentation \u21BA", () => set({ cropTop: p.padding, cropLeft: p.padding, flip: false,
    brightness: 1, contrast: 1, saturation: 1, cutoutSize: 0 }), { "data-action": "reset" });
  const drawStatus = h("span", { class: "ck-status", "data-role": "draw-status" });
  root.append(h("div", { class: "ck-controls", role: "group", "aria-label": "Draw" }, [randomButton, resetButton, drawStatus]));
  const readout = h("div", { class: "ck-math", "data-role": "readout", "aria-live": "polite" });
  const recipe = h("div", { class: "ck-status", "data-role": "recipe" }, [
    `Random draws as convkit.training.augment would for one image: random_crop(x, ${side}, padding, rng), ` +
    `horizontal_flip(x, rng, p=0.5), colour_jitter(x, rng, ${jitter.map(fmt).join(", ")}) and cutout(x, size, rng) ` +
    `(seeded: the same page draws the same sequence).`]);
  root.append(readout, recipe);

  function set(changes) {
    const before = p.padding;
    for (const [key, value] of Object.entries(changes)) p[key] = value;
    if ("padding" in changes && changes.padding !== before && !("cropTop" in changes)) {
      p.cropTop = p.padding; // a new padding starts centred: no shift
      p.cropLeft = p.padding;
    }
    p.padding = clamp(Math.round(p.padding), 0, limits.padding);
    p.cropTop = clamp(Math.round(p.cropTop), 0, 2 * p.padding);
    p.cropLeft = clamp(Math.round(p.cropLeft), 0, 2 * p.padding);
    for (const key of ["brightness", "contrast", "saturation"]) p[key] = clamp(Number(p[key]), 0, limits.factor);
    p.cutoutSize = clamp(Math.round(p.cutoutSize), 0, limits.cutout);
    p.cutoutRow = clamp(Math.round(p.cutoutRow), 0, side - 1);
    p.cutoutCol = clamp(Math.round(p.cutoutCol), 0, side - 1);
    for (const [trait, key] of Object.entries(TRAITS)) {
      if (model.get(trait) !== p[key]) setTrait(model, trait, p[key]);
    }
    draw();
  }

  function drawReadout(greyLevel) {
    const num = (role, value, text = fmt(value)) => h("span", { class: "ck-y", "data-role": role, "data-value": value }, [text]);
    const padded = side + 2 * p.padding;
    const [down, right] = [p.padding - p.cropTop, p.padding - p.cropLeft];
    const shift = (n, plus, minus) => (n === 0 ? null : `${Math.abs(n)} px ${n > 0 ? plus : minus}`);
    const moves = [shift(down, "down", "up"), shift(right, "right", "left")].filter(Boolean);
    const [r0, r1] = cutoutSpan(p.cutoutRow, p.cutoutSize);
    const [c0, c1] = cutoutSpan(p.cutoutCol, p.cutoutSize);
    readout.replaceChildren(
      h("div", {}, ["1. crop: padding ", num("padding", p.padding), ` makes a ${padded}\u00D7${padded} image; the `,
        `${side}\u00D7${side} window at row `, num("crop-top", p.cropTop), ", column ", num("crop-left", p.cropLeft),
        moves.length ? ` moves the tile ${moves.join(" and ")}` : " gives the tile back unshifted"]),
      h("div", {}, ["2. flip: ", h("span", { class: "ck-y", "data-role": "flip", "data-value": String(p.flip) },
        [p.flip ? "mirrored left-right" : "not mirrored"])]),
      h("div", {}, ["3. colour: brightness \u00D7", num("brightness", p.brightness), ", then contrast \u00D7",
        num("contrast", p.contrast), " (towards the mean grey ", num("mean-grey", greyLevel),
        "), then saturation \u00D7", num("saturation", p.saturation), " (towards each pixel's grey); each step clipped to [0, 1]"]),
      h("div", {}, ["4. cutout: ", ...(p.cutoutSize === 0 ? ["size 0, nothing cut"] : [
        "a ", num("cutout-size", p.cutoutSize), `\u00D7${p.cutoutSize} square of zeros centred at row `,
        num("cutout-row", p.cutoutRow), ", column ", num("cutout-col", p.cutoutCol),
        ` (rows ${Math.max(0, r0)}\u2013${Math.min(side, r1) - 1}, columns ${Math.max(0, c0)}\u2013${Math.min(side, c1) - 1})`])]),
    );
  }

  function draw() {
    const img = images[tile];
    title.textContent = `Augmenting a ${side}\u00D7${side} tile of the "${labels[tile]}" photograph`;
    for (const b of tileBar.querySelectorAll("button")) b.setAttribute("aria-pressed", String(Number(b.dataset.tile) === tile));
    flipButton.setAttribute("aria-pressed", String(p.flip));
    for (const [key, { input, out }] of Object.entries(sliders)) {
      if (key === "cropTop" || key === "cropLeft") input.max = String(2 * p.padding);
      input.value = String(p[key]);
      out.textContent = fmt(p[key]);
      out.dataset.value = String(p[key]);
    }
    const result = augment(img, p);
    const cropped = cropFlip(img, p.padding, p.cropTop, p.cropLeft, p.flip);
    paintImage(originalCanvas, img);
    paintImage(paddedCanvas, padImage(img, p.padding));
    paintImage(augmentedCanvas, result);
    augmentedCanvas.dataset.values = JSON.stringify(result.flat(2));
    augmentedCanvas.dataset.shape = `3,${side},${side}`;
    paddedCaption.textContent = `padded (${side + 2 * p.padding}\u00D7${side + 2 * p.padding}), crop window`;
    Object.assign(cropWindow.style, { top: `${p.cropTop * SCALE}px`, left: `${p.cropLeft * SCALE}px`,
      width: `${side * SCALE}px`, height: `${side * SCALE}px` });
    drawStatus.textContent = draws ? `draw ${draws} (seed ${seed})` : "";
    drawReadout(meanGrey(brighten(cropped, p.brightness)));
  }
  // A change made in the kernel (sim.padding = 2, ...) redraws the page; the page's own writes
  // arrive here too and change nothing.
  for (const [trait, key] of Object.entries(TRAITS)) {
    model.on(`change:${trait}`, () => { if (model.get(trait) !== p[key]) set({ [key]: model.get(trait) }); });
  }
  model.on("change:tile", () => {
    const wanted = clamp(Math.round(model.get("tile")), 0, images.length - 1);
    if (wanted !== tile) { tile = wanted; draw(); }
  });
  draw();
  el.append(root);
}

export default { render };
