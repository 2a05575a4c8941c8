"""A made-up cohort for ch01's similarity report: ten people, and two who copied.

Each of the ten wrote ch01's answers in their own way (loops over outputs or
over kernel taps, sliding windows, im2col, strides, numpy's 1-D correlate, helper
functions, while loops...).  ``kofi`` and ``lena`` handed in ``amara``'s code
with the names changed and independent statements reordered, each in their own
way.  Every answer is correct: ``test_similarity_report.py`` checks them against
convkit's references before comparing them.

An answer is a dict: the function's name -> its body (indented as in the
function), ``"helpers"`` -> {function name: code placed above the function in
its cell}, ``"prediction"`` and ``"measurement"`` -> the two prediction cells.
"""

from __future__ import annotations

# --- the ten who wrote their own -----------------------------------------------

AMARA = {
    "conv1d": """
    if stride != 1 or padding != 0 or dilation != 1:
        raise ValueError("only stride=1, padding=0, dilation=1")
    x = np.asarray(x, dtype=float)
    weight = np.asarray(weight, dtype=float)
    batch, channels, length = x.shape
    filters, _, taps = weight.shape
    steps = length - taps + 1
    result = np.zeros((batch, filters, steps))
    for b in range(batch):
        for f in range(filters):
            for t in range(steps):
                patch = x[b, :, t:t + taps]
                result[b, f, t] = np.sum(patch * weight[f])
    if bias is not None:
        bias = np.asarray(bias, dtype=float)
        for f in range(filters):
            result[:, f, :] += bias[f]
    return result
""",
    "correlate2d": """
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    rows = image.shape[0] - kernel.shape[0] + 1
    cols = image.shape[1] - kernel.shape[1] + 1
    result = np.empty((rows, cols))
    for r in range(rows):
        for c in range(cols):
            patch = image[r:r + kernel.shape[0], c:c + kernel.shape[1]]
            result[r, c] = (patch * kernel).sum()
    return result
""",
    "convolve2d": """
    flipped = np.flip(np.asarray(kernel, dtype=float))
    return correlate2d(image, flipped)
""",
    "conv2d": """
    if (stride, padding, dilation) != (1, 0, 1):
        raise ValueError("only stride=1, padding=0, dilation=1")
    x = np.asarray(x, dtype=float)
    weight = np.asarray(weight, dtype=float)
    batch, channels, height, width = x.shape
    filters, _, kh, kw = weight.shape
    rows, cols = height - kh + 1, width - kw + 1
    result = np.zeros((batch, filters, rows, cols))
    for b in range(batch):
        for f in range(filters):
            for r in range(rows):
                for c in range(cols):
                    patch = x[b, :, r:r + kh, c:c + kw]
                    result[b, f, r, c] = np.sum(patch * weight[f])
            if bias is not None:
                result[b, f] += bias[f]
    return result
""",
    "prediction": """
predicted_shape = (2, 4, 5, 5)
predicted_value = 21.0
""",
    "measurement": """
measured = conv2d(x, weight, bias)
print(measured.shape, measured[1, 3, 0, 0])
""",
}

BILAL = {
    "conv1d": """
    from numpy.lib.stride_tricks import sliding_window_view
    assert stride == 1 and padding == 0 and dilation == 1, "not supported"
    xs = np.asarray(x, dtype=np.float64)
    ws = np.asarray(weight, dtype=np.float64)
    win = sliding_window_view(xs, ws.shape[-1], axis=2)  # (N, C, L_out, k)
    y = np.einsum("nclk,ock->nol", win, ws)
    return y if bias is None else y + np.reshape(bias, (1, -1, 1))
""",
    "correlate2d": """
    from numpy.lib.stride_tricks import sliding_window_view
    k = np.asarray(kernel, dtype=np.float64)
    views = sliding_window_view(np.asarray(image, dtype=np.float64), k.shape)
    return np.einsum("ijab,ab->ij", views, k)
""",
    "convolve2d": """
    img = np.asarray(image, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    kh, kw = k.shape
    res = np.zeros((img.shape[0] - kh + 1, img.shape[1] - kw + 1))
    for i in range(res.shape[0]):
        for j in range(res.shape[1]):
            # true convolution: image index grows while kernel index shrinks
            res[i, j] = sum(img[i + a, j + b] * k[kh - 1 - a, kw - 1 - b]
                            for a in range(kh) for b in range(kw))
    return res
""",
    "conv2d": """
    from numpy.lib.stride_tricks import sliding_window_view
    assert stride == 1 and padding == 0 and dilation == 1, "not supported"
    ws = np.asarray(weight, dtype=np.float64)
    win = sliding_window_view(np.asarray(x, dtype=np.float64), ws.shape[-2:], axis=(2, 3))
    y = np.tensordot(win, ws, axes=([1, 4, 5], [1, 2, 3]))  # (N, H', W', C_out)
    y = np.moveaxis(y, -1, 1)
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float64)[:, None, None]
    return y
""",
    "prediction": """
# batch 2, 4 kernels, rows 7-3+1, cols 6-2+1
predicted_shape = (2, 4, 7 - 3 + 1, 6 - 2 + 1)
# 3*3*2 ones summed, plus the last bias
predicted_value = 3 * 3 * 2 + 3
""",
    "measurement": """
measured = conv2d(x, weight, bias)
print("shape:", measured.shape)
print("value:", measured[1, 3, 0, 0])
""",
}

CHEN = {
    "conv1d": """
    if stride != 1 or padding or dilation != 1:
        raise ValueError("stride, padding and dilation are not implemented yet")
    signal = np.asarray(x, dtype=float)
    kern = np.asarray(weight, dtype=float)
    k = kern.shape[2]
    n_out = signal.shape[2] - k + 1
    total = 0.0
    # shift-and-add: one matrix product per kernel tap
    for tap in range(k):
        total = total + np.einsum("oc,ncl->nol", kern[:, :, tap], signal[:, :, tap:tap + n_out])
    if bias is not None:
        total = total + np.asarray(bias, dtype=float).reshape(-1, 1)
    return total
""",
    "correlate2d": """
    img = np.asarray(image, dtype=float)
    ker = np.asarray(kernel, dtype=float)
    h_out = img.shape[0] - ker.shape[0] + 1
    w_out = img.shape[1] - ker.shape[1] + 1
    acc = np.zeros((h_out, w_out))
    for dy in range(ker.shape[0]):
        for dx in range(ker.shape[1]):
            acc += ker[dy, dx] * img[dy:dy + h_out, dx:dx + w_out]
    return acc
""",
    "convolve2d": """
    return correlate2d(image, np.rot90(np.asarray(kernel, dtype=float), 2))
""",
    "conv2d": """
    if stride != 1 or padding or dilation != 1:
        raise ValueError("stride, padding and dilation are not implemented yet")
    signal = np.asarray(x, dtype=float)
    kern = np.asarray(weight, dtype=float)
    kh, kw = kern.shape[2:]
    h_out = signal.shape[2] - kh + 1
    w_out = signal.shape[3] - kw + 1
    total = np.zeros((signal.shape[0], kern.shape[0], h_out, w_out))
    for dy in range(kh):
        for dx in range(kw):
            shifted = signal[:, :, dy:dy + h_out, dx:dx + w_out]
            total += np.einsum("oc,nchw->nohw", kern[:, :, dy, dx], shifted)
    if bias is not None:
        total += np.asarray(bias, dtype=float).reshape(1, -1, 1, 1)
    return total
""",
    "prediction": """
N, C_out = 2, 4
H_out, W_out = 7 - 3 + 1, 6 - 2 + 1
predicted_shape = (N, C_out, H_out, W_out)
predicted_value = 3 * 3 * 2 * 1 * 1 + 3.0  # bias[3] = 3
""",
    "measurement": """
measured = conv2d(x, weight, bias)
print(f"predicted {predicted_shape}, measured {measured.shape}")
print(f"predicted {predicted_value}, measured {measured[1, 3, 0, 0]}")
""",
}

DARA = {
    "conv1d": """
    if stride != 1 or padding != 0 or dilation != 1:
        raise ValueError("not supported")
    N, C, L = len(x), len(x[0]), len(x[0][0])
    O, K = len(weight), len(weight[0][0])
    out = np.zeros((N, O, L - K + 1))
    for n in range(N):
        for o in range(O):
            for pos in range(L - K + 1):
                s = 0.0 if bias is None else float(bias[o])
                for c in range(C):
                    for m in range(K):
                        s += x[n][c][pos + m] * weight[o][c][m]
                out[n, o, pos] = s
    return out
""",
    "correlate2d": """
    H, W = len(image), len(image[0])
    KH, KW = len(kernel), len(kernel[0])
    out = np.zeros((H - KH + 1, W - KW + 1))
    for y in range(H - KH + 1):
        for x in range(W - KW + 1):
            s = 0.0
            for m in range(KH):
                for n in range(KW):
                    s += image[y + m][x + n] * kernel[m][n]
            out[y, x] = s
    return out
""",
    "convolve2d": """
    KH, KW = len(kernel), len(kernel[0])
    flipped = [[kernel[KH - 1 - m][KW - 1 - n] for n in range(KW)] for m in range(KH)]
    return correlate2d(image, flipped)
""",
    "conv2d": """
    if stride != 1 or padding != 0 or dilation != 1:
        raise ValueError("not supported")
    x = np.asarray(x, dtype=float)
    N, C = x.shape[:2]
    O = len(weight)
    maps = []
    for n in range(N):
        row = []
        for o in range(O):
            acc = sum(correlate2d(x[n, c], weight[o][c]) for c in range(C))
            if bias is not None:
                acc = acc + bias[o]
            row.append(acc)
        maps.append(row)
    return np.array(maps, dtype=float)
""",
    "prediction": """
# 4 kernels -> 4 maps; 7x6 input with a 3x2 kernel -> 5x5
predicted_shape = (2, 4, 5, 5)
# every window: 18 ones times ones = 18, then + 3
predicted_value = 18 + 3
""",
    "measurement": """
measured = conv2d(x, weight, bias)
measured.shape, measured[1, 3, 0, 0]
""",
}

EMEKA = {
    "helpers": {
        "conv2d": """
def im2col(images, kh, kw):
    # images: (N, C, H, W) -> columns (N, C*kh*kw, H'*W')
    n, c, h, w = images.shape
    ho, wo = h - kh + 1, w - kw + 1
    cols = np.empty((n, c, kh, kw, ho, wo))
    for a in range(kh):
        for b in range(kw):
            cols[:, :, a, b] = images[:, :, a:a + ho, b:b + wo]
    return cols.reshape(n, c * kh * kw, ho * wo), ho, wo

""",
    },
    "conv1d": """
    if (stride, padding, dilation) != (1, 0, 1):
        raise ValueError("unsupported arguments")
    xx = np.asarray(x, float)
    ww = np.asarray(weight, float)
    k = ww.shape[-1]
    lo = xx.shape[-1] - k + 1
    # unfold: cols[n, c, m, i] = x[n, c, i + m]
    cols = np.stack([xx[:, :, m:m + lo] for m in range(k)], axis=2)
    flat = cols.reshape(xx.shape[0], -1, lo)          # (N, C*k, L_out)
    out = ww.reshape(ww.shape[0], -1) @ flat          # (N, C_out, L_out)
    if bias is not None:
        out += np.asarray(bias, float)[:, None]
    return out
""",
    "correlate2d": """
    img = np.asarray(image, float)
    ker = np.asarray(kernel, float)
    cols, ho, wo = im2col(img[None, None], *ker.shape)
    return (ker.ravel() @ cols[0]).reshape(ho, wo)
""",
    "convolve2d": """
    return correlate2d(image, np.asarray(kernel, float)[::-1, ::-1])
""",
    "conv2d": """
    if (stride, padding, dilation) != (1, 0, 1):
        raise ValueError("unsupported arguments")
    xx = np.asarray(x, float)
    ww = np.asarray(weight, float)
    cols, ho, wo = im2col(xx, ww.shape[2], ww.shape[3])
    out = (ww.reshape(ww.shape[0], -1) @ cols).reshape(xx.shape[0], ww.shape[0], ho, wo)
    if bias is not None:
        out += np.asarray(bias, float)[:, None, None]
    return out
""",
    "prediction": """
predicted_shape = (2, 4, 5, 5)
predicted_value = 3.0 * 3 * 2 + bias[3]
""",
    "measurement": """
measured = conv2d(x, weight, bias)
print(measured.shape == predicted_shape, measured[1, 3, 0, 0] == predicted_value)
""",
}

FATIMA = {
    "helpers": {
        "conv1d": """
def windows_1d(a, size):
    \"\"\"All length-`size` windows along the last axis, as a new second-to-last axis.\"\"\"
    return np.array([a[..., s:s + size] for s in range(a.shape[-1] - size + 1)])

""",
    },
    "conv1d": """
    for name, value, ok in (("stride", stride, 1), ("padding", padding, 0),
                            ("dilation", dilation, 1)):
        if value != ok:
            raise ValueError(f"{name}={value} is not supported")
    signal = np.asarray(x, dtype=float)
    filt = np.asarray(weight, dtype=float)
    wins = windows_1d(signal, filt.shape[2])       # (L_out, N, C, k)
    outputs = [[np.sum(w * f, axis=(1, 2)) for f in filt] for w in wins]
    res = np.transpose(np.array(outputs), (2, 1, 0))   # (N, C_out, L_out)
    if bias is not None:
        res = res + np.asarray(bias, dtype=float)[np.newaxis, :, np.newaxis]
    return res
""",
    "correlate2d": """
    picture = np.asarray(image, dtype=float)
    filt = np.asarray(kernel, dtype=float)
    fh, fw = filt.shape
    return np.array([
        [np.vdot(picture[top:top + fh, left:left + fw], filt)
         for left in range(picture.shape[1] - fw + 1)]
        for top in range(picture.shape[0] - fh + 1)
    ])
""",
    "convolve2d": """
    filt = np.asarray(kernel, dtype=float)
    return correlate2d(image, np.flipud(np.fliplr(filt)))
""",
    "conv2d": """
    for name, value, ok in (("stride", stride, 1), ("padding", padding, 0),
                            ("dilation", dilation, 1)):
        if value != ok:
            raise ValueError(f"{name}={value} is not supported")
    batch = np.asarray(x, dtype=float)
    filt = np.asarray(weight, dtype=float)
    fh, fw = filt.shape[2:]
    positions = [(top, left) for top in range(batch.shape[2] - fh + 1)
                 for left in range(batch.shape[3] - fw + 1)]
    flat = np.stack(
        [np.einsum("nchw,ochw->no", batch[:, :, t:t + fh, l:l + fw], filt) for t, l in positions],
        axis=-1,
    )
    res = flat.reshape(batch.shape[0], filt.shape[0], batch.shape[2] - fh + 1, -1)
    if bias is not None:
        res = res + np.asarray(bias, dtype=float)[np.newaxis, :, np.newaxis, np.newaxis]
    return res
""",
    "prediction": """
predicted_shape = (x.shape[0], weight.shape[0], x.shape[2] - 2, x.shape[3] - 1)
predicted_value = float(weight[3].size) + 3.0
""",
    "measurement": """
measured = conv2d(x, weight, bias)
print("measured", measured.shape, "entry", measured[1, 3, 0, 0])
""",
}

GORAN = {
    "conv1d": """
    if stride != 1:
        raise ValueError("stride must be 1")
    if padding != 0:
        raise ValueError("padding must be 0")
    if dilation != 1:
        raise ValueError("dilation must be 1")
    data = np.array(x, dtype=float)
    w = np.array(weight, dtype=float)
    width = w.shape[-1]
    out = []
    start = 0
    while start + width <= data.shape[-1]:
        segment = data[:, :, start:start + width]
        out.append(np.tensordot(segment, w, axes=[[1, 2], [1, 2]]))  # (N, C_out)
        start += 1
    y = np.stack(out, axis=-1)
    if bias is not None:
        y += np.array(bias, dtype=float).reshape(1, len(bias), 1)
    return y
""",
    "correlate2d": """
    data = np.array(image, dtype=float)
    w = np.array(kernel, dtype=float)
    out = np.zeros((data.shape[0] - w.shape[0] + 1, data.shape[1] - w.shape[1] + 1))
    i = 0
    while i < out.shape[0]:
        j = 0
        while j < out.shape[1]:
            out[i, j] = np.dot(data[i:i + w.shape[0], j:j + w.shape[1]].ravel(), w.ravel())
            j += 1
        i += 1
    return out
""",
    "convolve2d": """
    w = np.array(kernel, dtype=float)
    return correlate2d(image, w[::-1][:, ::-1])
""",
    "conv2d": """
    if stride != 1:
        raise ValueError("stride must be 1")
    if padding != 0:
        raise ValueError("padding must be 0")
    if dilation != 1:
        raise ValueError("dilation must be 1")
    data = np.array(x, dtype=float)
    w = np.array(weight, dtype=float)
    y = np.zeros((data.shape[0], w.shape[0], data.shape[2] - w.shape[2] + 1,
                  data.shape[3] - w.shape[3] + 1))
    i = 0
    while i < y.shape[2]:
        j = 0
        while j < y.shape[3]:
            block = data[:, :, i:i + w.shape[2], j:j + w.shape[3]]
            y[:, :, i, j] = np.tensordot(block, w, axes=[[1, 2, 3], [1, 2, 3]])
            j += 1
        i += 1
    if bias is not None:
        y += np.array(bias, dtype=float).reshape(1, -1, 1, 1)
    return y
""",
    "prediction": """
predicted_shape = 2, 4, 5, 5
predicted_value = 21
""",
    "measurement": """
measured = conv2d(x, weight, bias=bias)
print(measured.shape)
print(measured[1][3][0][0])
""",
}

HANA = {
    "conv1d": """
    if stride != 1 or padding != 0 or dilation != 1:
        raise ValueError("stride/padding/dilation other than the defaults")
    arr = np.ascontiguousarray(x, dtype=float)
    ker = np.asarray(weight, dtype=float)
    n, c, length = arr.shape
    k = ker.shape[2]
    s0, s1, s2 = arr.strides
    view = np.lib.stride_tricks.as_strided(
        arr, shape=(n, c, length - k + 1, k), strides=(s0, s1, s2, s2), writeable=False
    )
    result = np.einsum("ncik,dck->ndi", view, ker)
    return result if bias is None else result + np.asarray(bias, dtype=float)[:, np.newaxis]
""",
    "correlate2d": """
    arr = np.ascontiguousarray(image, dtype=float)
    ker = np.asarray(kernel, dtype=float)
    (h, w), (kh, kw) = arr.shape, ker.shape
    view = np.lib.stride_tricks.as_strided(
        arr, shape=(h - kh + 1, w - kw + 1, kh, kw), strides=arr.strides * 2, writeable=False
    )
    return np.tensordot(view, ker, axes=2)
""",
    "convolve2d": """
    ker = np.asarray(kernel, dtype=float)
    return correlate2d(image, ker[::-1, ::-1].copy())
""",
    "conv2d": """
    if stride != 1 or padding != 0 or dilation != 1:
        raise ValueError("stride/padding/dilation other than the defaults")
    arr = np.ascontiguousarray(x, dtype=float)
    ker = np.asarray(weight, dtype=float)
    n, c, h, w = arr.shape
    kh, kw = ker.shape[2:]
    s = arr.strides
    view = np.lib.stride_tricks.as_strided(
        arr, shape=(n, c, h - kh + 1, w - kw + 1, kh, kw),
        strides=(s[0], s[1], s[2], s[3], s[2], s[3]), writeable=False,
    )
    result = np.einsum("ncijab,dcab->ndij", view, ker)
    if bias is not None:
        result = result + np.asarray(bias, dtype=float)[:, np.newaxis, np.newaxis]
    return result
""",
    "prediction": """
predicted_shape = (2, 4, 5, 5)  # (N, C_out, H - kh + 1, W - kw + 1)
predicted_value = 3 * 3 * 2 + 3.0
""",
    "measurement": """
measured = conv2d(x, weight, bias)
print("predicted", predicted_shape, predicted_value)
print("measured ", measured.shape, measured[1, 3, 0, 0])
""",
}

IVAN = {
    "conv1d": """
    if stride != 1 or padding != 0 or dilation != 1:
        raise ValueError("stride=1, padding=0, dilation=1 only")
    x = np.asarray(x, dtype=float)
    weight = np.asarray(weight, dtype=float)
    out = []
    for sample in x:
        maps = []
        for o, kernels in enumerate(weight):
            # np.convolve flips its second argument: flip it back to correlate
            m = sum(np.convolve(chan, ker[::-1], mode="valid")
                    for chan, ker in zip(sample, kernels))
            maps.append(m + (0.0 if bias is None else bias[o]))
        out.append(maps)
    return np.array(out)
""",
    "correlate2d": """
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    # a 2-D correlation is a sum of 1-D correlations of matching rows
    rows = []
    for top in range(image.shape[0] - kernel.shape[0] + 1):
        band = image[top:top + kernel.shape[0]]
        rows.append(sum(np.correlate(r, k, mode="valid") for r, k in zip(band, kernel)))
    return np.array(rows)
""",
    "convolve2d": """
    kernel = np.asarray(kernel, dtype=float)
    return correlate2d(image, kernel[::-1, ::-1])
""",
    "conv2d": """
    if stride != 1 or padding != 0 or dilation != 1:
        raise ValueError("stride=1, padding=0, dilation=1 only")
    x = np.asarray(x, dtype=float)
    weight = np.asarray(weight, dtype=float)
    out = np.stack([
        np.stack([sum(correlate2d(ch, k) for ch, k in zip(sample, kernels))
                  for kernels in weight])
        for sample in x
    ])
    if bias is not None:
        out = out + np.asarray(bias, dtype=float).reshape(-1, 1, 1)
    return out
""",
    "prediction": """
predicted_shape = (2, 4, 5, 5)
predicted_value = 3 * (3 * 2) + 3.0  # channels x window + bias
""",
    "measurement": """
measured = conv2d(x, weight, bias)
print(measured.shape, float(measured[1, 3, 0, 0]))
""",
}

JUN = {
    "conv1d": """
    if dilation != 1 or stride != 1 or padding != 0:
        raise ValueError("only the plain case is supported")
    inp = np.asarray(x, dtype=float)
    kern = np.asarray(weight, dtype=float)
    N, C, L = inp.shape
    O, _, K = kern.shape
    res = np.zeros((N, O, L - K + 1))
    for o in range(O):
        for c in range(C):
            for n in range(N):
                res[n, o] += np.correlate(inp[n, c], kern[o, c], "valid")
    if bias is not None:
        res += np.asarray(bias, dtype=float)[None, :, None]
    return res
""",
    "correlate2d": """
    inp = np.asarray(image, dtype=float)
    kern = np.asarray(kernel, dtype=float)
    H, W = inp.shape
    K1, K2 = kern.shape
    idx_r = np.arange(H - K1 + 1)[:, None, None, None] + np.arange(K1)[None, None, :, None]
    idx_c = np.arange(W - K2 + 1)[None, :, None, None] + np.arange(K2)[None, None, None, :]
    patches = inp[idx_r, idx_c]              # (H', W', K1, K2) by fancy indexing
    return (patches * kern).sum(axis=(-2, -1))
""",
    "convolve2d": """
    kern = np.asarray(kernel, dtype=float)
    return correlate2d(image, kern[::-1, :][:, ::-1])
""",
    "conv2d": """
    if dilation != 1 or stride != 1 or padding != 0:
        raise ValueError("only the plain case is supported")
    inp = np.asarray(x, dtype=float)
    kern = np.asarray(weight, dtype=float)
    N, C, H, W = inp.shape
    O, _, K1, K2 = kern.shape
    rr = np.arange(H - K1 + 1)[:, None, None, None] + np.arange(K1)[None, None, :, None]
    cc = np.arange(W - K2 + 1)[None, :, None, None] + np.arange(K2)[None, None, None, :]
    patches = inp[:, :, rr, cc]              # (N, C, H', W', K1, K2)
    res = np.einsum("ncijkl,ockl->noij", patches, kern)
    if bias is not None:
        res += np.asarray(bias, dtype=float)[None, :, None, None]
    return res
""",
    "prediction": """
predicted_shape = (2, 4, 7 - 2, 6 - 1)
predicted_value = 18.0 + 3.0
""",
    "measurement": """
measured = conv2d(x, weight, bias)
assert measured.shape == predicted_shape
print(measured[1, 3, 0, 0])
""",
}

# --- the two who copied amara --------------------------------------------------------
# Every name changed (consistently); statements that do not depend on each other swapped.

KOFI = {
    "conv1d": """
    if stride != 1 or padding != 0 or dilation != 1:
        raise ValueError("only stride=1, padding=0, dilation=1")
    weight = np.asarray(weight, dtype=float)
    x = np.asarray(x, dtype=float)
    n_out, _, ksize = weight.shape
    nb, nc, sig_len = x.shape
    n_pos = sig_len - ksize + 1
    out = np.zeros((nb, n_out, n_pos))
    for i in range(nb):
        for k in range(n_out):
            for p in range(n_pos):
                seg = x[i, :, p:p + ksize]
                out[i, k, p] = np.sum(seg * weight[k])
    if bias is not None:
        bias = np.asarray(bias, dtype=float)
        for k in range(n_out):
            out[:, k, :] += bias[k]
    return out
""",
    "correlate2d": """
    kernel = np.asarray(kernel, dtype=float)
    image = np.asarray(image, dtype=float)
    w_out = image.shape[1] - kernel.shape[1] + 1
    h_out = image.shape[0] - kernel.shape[0] + 1
    out = np.empty((h_out, w_out))
    for a in range(h_out):
        for b in range(w_out):
            seg = image[a:a + kernel.shape[0], b:b + kernel.shape[1]]
            out[a, b] = (seg * kernel).sum()
    return out
""",
    "convolve2d": """
    reversed_k = np.flip(np.asarray(kernel, dtype=float))
    return correlate2d(image, reversed_k)
""",
    "conv2d": """
    if (stride, padding, dilation) != (1, 0, 1):
        raise ValueError("only stride=1, padding=0, dilation=1")
    weight = np.asarray(weight, dtype=float)
    x = np.asarray(x, dtype=float)
    n_out, _, fh, fw = weight.shape
    nb, nc, ih, iw = x.shape
    h_out, w_out = ih - fh + 1, iw - fw + 1
    out = np.zeros((nb, n_out, h_out, w_out))
    for i in range(nb):
        for k in range(n_out):
            for a in range(h_out):
                for b in range(w_out):
                    seg = x[i, :, a:a + fh, b:b + fw]
                    out[i, k, a, b] = np.sum(seg * weight[k])
            if bias is not None:
                out[i, k] += bias[k]
    return out
""",
    "prediction": """
predicted_value = 21.0
predicted_shape = (2, 4, 5, 5)
""",
    "measurement": """
measured = conv2d(x, weight, bias)
print(measured.shape, measured[1, 3, 0, 0])
""",
}

LENA = {
    "conv1d": """
    if stride != 1 or padding != 0 or dilation != 1:
        raise ValueError("only stride=1, padding=0, dilation=1")
    x = np.asarray(x, dtype=float)
    weight = np.asarray(weight, dtype=float)
    kernels, _, width = weight.shape
    samples, chans, size = x.shape
    positions = size - width + 1
    output = np.zeros((samples, kernels, positions))
    for s in range(samples):
        for q in range(kernels):
            for pos in range(positions):
                window = x[s, :, pos:pos + width]
                output[s, q, pos] = np.sum(window * weight[q])
    if bias is not None:
        bias = np.asarray(bias, dtype=float)
        for q in range(kernels):
            output[:, q, :] += bias[q]
    return output
""",
    "correlate2d": """
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    ncols = image.shape[1] - kernel.shape[1] + 1
    nrows = image.shape[0] - kernel.shape[0] + 1
    output = np.empty((nrows, ncols))
    for u in range(nrows):
        for v in range(ncols):
            window = image[u:u + kernel.shape[0], v:v + kernel.shape[1]]
            output[u, v] = (window * kernel).sum()
    return output
""",
    "convolve2d": """
    k_flipped = np.flip(np.asarray(kernel, dtype=float))
    return correlate2d(image, k_flipped)
""",
    "conv2d": """
    if (stride, padding, dilation) != (1, 0, 1):
        raise ValueError("only stride=1, padding=0, dilation=1")
    x = np.asarray(x, dtype=float)
    weight = np.asarray(weight, dtype=float)
    kernels, _, k_rows, k_cols = weight.shape
    samples, chans, in_rows, in_cols = x.shape
    nrows, ncols = in_rows - k_rows + 1, in_cols - k_cols + 1
    output = np.zeros((samples, kernels, nrows, ncols))
    for s in range(samples):
        for q in range(kernels):
            for u in range(nrows):
                for v in range(ncols):
                    window = x[s, :, u:u + k_rows, v:v + k_cols]
                    output[s, q, u, v] = np.sum(window * weight[q])
            if bias is not None:
                output[s, q] += bias[q]
    return output
""",
    "prediction": """
predicted_shape = (2, 4, 5, 5)
predicted_value = 21.0
""",
    "measurement": """
measured = conv2d(x, weight, bias)
print(measured.shape, measured[1, 3, 0, 0])
""",
}

INDEPENDENT = {
    "amara": AMARA,
    "bilal": BILAL,
    "chen": CHEN,
    "dara": DARA,
    "emeka": EMEKA,
    "fatima": FATIMA,
    "goran": GORAN,
    "hana": HANA,
    "ivan": IVAN,
    "jun": JUN,
}
COPIES = {"kofi": KOFI, "lena": LENA}  # both copied ORIGINAL
ORIGINAL = "amara"
COHORT = {**INDEPENDENT, **COPIES}
FUNCTIONS = ("conv1d", "correlate2d", "convolve2d", "conv2d")
