"""Offline datasets, generated or bundled with a package, never downloaded.

- digits:          scikit-learn's bundled 8x8 handwritten digits (1,797 real images), scaled to [0, 1].
- shifted_digits:  the same digits pasted in the centre of a larger blank canvas, so that test images
                   can be translated by a controlled number of pixels without leaving the canvas.
- mnist1d:         the mnist1d package's procedural generator (seeded), never its download path.
- keras:<name>:    optional MNIST / Fashion-MNIST / CIFAR-10 through keras.datasets, when online.

Splits are fixed by `data_seed`, not by the trial seed: every arm and every seed of an experiment sees
the same train / validation / test examples, which is what lets arms be compared paired by seed.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field

import numpy as np

from claimlab.errors import RunFailure, UsageError
from claimlab.spec import DatasetInfo, Reference


# Published accuracies on these datasets, for the scope reports' references (claimlab.spec.Reference):
# a setting's baseline near them trains properly; far below, the setting is an under-trained toy.
# Each is (value, where a reader looks it up), the last two fields of a Reference.
# Each is (value, where a reader looks it up, dataset, model family, training examples): the Reference's
# fields after the metric. Whether it compares like with like with an arm is the Reference's to say.
DIGITS_PUBLISHED = (0.97, "scikit-learn's example 'Recognizing hand-written digits': an SVC trained on half of "
                          "the digits scores 97% on the other half", "digits", "an SVC (RBF kernel)", 898)
MNIST1D_CNN_PUBLISHED = (0.94, "the MNIST-1D README (github.com/greydanus/mnist1d): a CNN scores about 94% at the "
                               "standard size, 4,000 training examples", "mnist1d", "a CNN", 4000)
MNIST1D_MLP_PUBLISHED = (0.68, "the MNIST-1D README (github.com/greydanus/mnist1d): an MLP scores about 68% at the "
                               "standard size, 4,000 training examples", "mnist1d", "an MLP", 4000)
MNIST1D_LOGISTIC_PUBLISHED = (0.32, "the MNIST-1D README (github.com/greydanus/mnist1d): logistic regression scores "
                                    "about 32% at the standard size, 4,000 training examples", "mnist1d",
                              "logistic regression", 4000)
# The lab's training splits at the loaders' defaults (`split`'s fractions, mnist1d's 15% validation).
TRAIN_EXAMPLES = {"digits": 1068, "shifted_digits": 1068, "mnist1d": 3400}


def reference(arm: str, published: tuple, arm_family: str, arm_dataset: str | None = None,
              arm_train_examples: int | None = None, metric: str = "test/accuracy") -> Reference:
    """A setting's Reference: `arm` (a model of `arm_family`) against one of the *_PUBLISHED numbers, the arm
    trained on the lab's split of the same dataset unless `arm_dataset` / `arm_train_examples` say otherwise."""
    value, source, dataset, family, train_examples = published
    arm_dataset = arm_dataset or dataset
    return Reference(arm, metric, value, source, dataset, family, train_examples, arm_dataset=arm_dataset,
                     arm_family=arm_family, arm_train_examples=arm_train_examples or TRAIN_EXAMPLES[arm_dataset])


def digest_of(arrays) -> str:
    """sha256 over the arrays' shapes and bytes, in order: a changed generator or split shows up as a new
    dataset in MLflow. Every dataset the lab records is digested here, whatever type holds it."""
    h = hashlib.sha256()
    for array in arrays:
        h.update(str(np.shape(array)).encode())
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()[:16]


@dataclass
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    source: str
    params: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple:
        return tuple(self.x_train.shape[1:])

    @functools.cached_property
    def digest(self) -> str:
        return digest_of([self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test])

    def info(self) -> DatasetInfo:
        profile = {
            "train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test),
            "input_shape": list(self.input_shape), "classes": self.num_classes, **self.params,
        }
        return DatasetInfo(name=self.name, digest=self.digest, source=self.source, profile=profile)


def split(x: np.ndarray, y: np.ndarray, test_fraction: float, val_fraction: float, data_seed: int):
    """Stratified train / validation / test split, fixed by data_seed."""
    from sklearn.model_selection import train_test_split

    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test_fraction, stratify=y, random_state=data_seed
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val_fraction, stratify=y_rest, random_state=data_seed
    )
    return x_train, y_train, x_val, y_val, x_test, y_test


@functools.lru_cache(maxsize=8)
def digits(data_seed: int = 0, test_fraction: float = 0.3, val_fraction: float = 0.15) -> Dataset:
    """scikit-learn's 8x8 digits as (N, 8, 8, 1) float32 images in [0, 1]."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images / 16.0).astype("float32")[..., None]
    y = bunch.target.astype("int32")
    parts = split(x, y, test_fraction, val_fraction, data_seed)
    return Dataset("digits", *parts, num_classes=10, source="sklearn.datasets.load_digits",
                   params={"data_seed": data_seed})


def place_on_canvas(images: np.ndarray, canvas: int) -> np.ndarray:
    """Paste (N, h, w, C) images in the centre of a blank (N, canvas, canvas, C) canvas."""
    n, h, w, c = images.shape
    if canvas < max(h, w):
        raise UsageError(f"canvas {canvas} is smaller than the {h}x{w} images")
    out = np.zeros((n, canvas, canvas, c), dtype=images.dtype)
    top, left = (canvas - h) // 2, (canvas - w) // 2
    out[:, top : top + h, left : left + w] = images
    return out


@functools.lru_cache(maxsize=8)
def shifted_digits(data_seed: int = 0, canvas: int = 16) -> Dataset:
    """Digits centred on a canvas x canvas blank image; use `translate` to make shifted test sets."""
    base = digits(data_seed)
    arrays = [
        place_on_canvas(a, canvas) if a.ndim == 4 else a
        for a in (base.x_train, base.y_train, base.x_val, base.y_val, base.x_test, base.y_test)
    ]
    return Dataset("shifted_digits", *arrays, num_classes=10,
                   source=f"sklearn.datasets.load_digits centred on a {canvas}x{canvas} canvas",
                   params={"data_seed": data_seed, "canvas": canvas})


@functools.lru_cache(maxsize=8)
def mnist1d(data_seed: int = 0, num_samples: int = 5000, val_fraction: float = 0.15) -> Dataset:
    """MNIST-1D from its procedural generator: (N, 40, 1) sequences, 10 classes, 80/20 train/test."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as error:  # pragma: no cover - a broken install
        raise RunFailure(f"the mnist1d package is not importable ({error}); run pip install -e .") from error

    args = get_dataset_args()
    args.num_samples, args.seed = num_samples, data_seed
    state = np.random.get_state()  # mnist1d seeds numpy's global generator; leave it as it was
    try:
        generated = make_dataset(args)
    finally:
        np.random.set_state(state)
    x = generated["x"].astype("float32")[..., None]
    y = generated["y"].astype("int32")
    from sklearn.model_selection import train_test_split

    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=val_fraction, stratify=y,
                                                      random_state=data_seed)
    return Dataset("mnist1d", x_train, y_train, x_val, y_val,
                   generated["x_test"].astype("float32")[..., None], generated["y_test"].astype("int32"),
                   num_classes=10, source="mnist1d.data.make_dataset (generated, not downloaded)",
                   params={"data_seed": data_seed, "num_samples": num_samples})


KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10")


def keras_dataset(name: str, data_seed: int = 0, val_fraction: float = 0.1) -> Dataset:
    """An online-only keras.datasets set; a clear error when this machine cannot download it."""
    import keras

    if name not in KERAS_DATASETS:
        raise UsageError(f"unknown keras dataset {name!r}; choose one of {', '.join(KERAS_DATASETS)}")
    try:
        (x, y), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    except Exception as error:  # urllib raises several types; all mean the same to the user
        raise RunFailure(
            f"could not download keras.datasets.{name} ({type(error).__name__}); this machine looks offline: "
            "use an offline dataset (digits, shifted_digits, mnist1d)"
        ) from error
    x = (x / 255.0).astype("float32").reshape(len(x), *x.shape[1:3], -1)
    x_test = (x_test / 255.0).astype("float32").reshape(len(x_test), *x_test.shape[1:3], -1)
    y, y_test = y.ravel().astype("int32"), y_test.ravel().astype("int32")
    from sklearn.model_selection import train_test_split

    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=val_fraction, stratify=y,
                                                      random_state=data_seed)
    return Dataset(name, x_train, y_train, x_val, y_val, x_test, y_test, num_classes=10,
                   source=f"keras.datasets.{name}", params={"data_seed": data_seed})


OFFLINE = {"digits": digits, "shifted_digits": shifted_digits, "mnist1d": mnist1d}


def load(name: str, data_seed: int = 0, **options) -> Dataset:
    """A dataset by name: one of OFFLINE, or keras:<mnist|fashion_mnist|cifar10> when online."""
    if name in OFFLINE:
        return OFFLINE[name](data_seed, **options)
    if name.startswith("keras:"):
        return keras_dataset(name.split(":", 1)[1], data_seed)
    choices = ", ".join([*OFFLINE, *(f"keras:{n}" for n in KERAS_DATASETS)])
    raise UsageError(f"unknown dataset {name!r}; choose one of {choices}")


def translate(x: np.ndarray, shift: int, seed: int) -> np.ndarray:
    """Move every example by `shift` positions in a random direction, filling with zeros.

    Images (N, H, W, C): each moves by (dy, dx) with max(|dy|, |dx|) == shift (a random point on the
    square ring of radius `shift`). Sequences (N, L, C): each moves left or right by `shift`.
    The directions come from `seed`, so every arm is tested on the very same shifted set.
    """
    if shift == 0:
        return x.copy()
    rng = np.random.default_rng(seed)
    out = np.zeros_like(x)
    if x.ndim == 4:
        ring = [(dy, dx) for dy in range(-shift, shift + 1) for dx in range(-shift, shift + 1)
                if max(abs(dy), abs(dx)) == shift]
        moves = [ring[i] for i in rng.integers(len(ring), size=len(x))]
    elif x.ndim == 3:
        moves = [(int(s) * shift, 0) for s in rng.choice([-1, 1], size=len(x))]
    else:
        raise ValueError(f"translate expects images (N, H, W, C) or sequences (N, L, C), got {x.shape}")
    for i, (dy, dx) in enumerate(moves):
        out[i] = _shifted(x[i], dy, dx)
    return out


def _shifted(example: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """One example moved by dy along its first axis and dx along its second (images only), zero-filled."""
    out = np.zeros_like(example)
    src = [slice(max(0, -dy), example.shape[0] - max(0, dy))]
    dst = [slice(max(0, dy), example.shape[0] - max(0, -dy))]
    if example.ndim == 3:
        src.append(slice(max(0, -dx), example.shape[1] - max(0, dx)))
        dst.append(slice(max(0, dx), example.shape[1] - max(0, -dx)))
    out[tuple(dst)] = example[tuple(src)]
    return out
