"""Natural-image textures for the synthetic generator, read from files that installed packages ship.

Nothing is downloaded: the images are the sample data of scikit-image (`skimage/data/`) and
matplotlib (`mpl-data/sample_data/`), found through the packages' install locations without
importing them. When neither package is installed, procedural noise textures stand in.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import cv2
import numpy as np

# (package, folder inside the package, file names); images absent from an installed version are skipped.
_SOURCES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "skimage",
        "data",
        (
            "astronaut.png", "camera.png", "coffee.png", "chelsea.png", "rocket.jpg", "brick.png",
            "grass.png", "gravel.png", "coins.png", "hubble_deep_field.jpg", "horse.png",
            "motorcycle_left.png", "motorcycle_right.png", "page.png", "text.png", "retina.jpg",
            "moon.png", "ihc.png", "cell.png", "clock_motion.png", "color.png",
        ),
    ),
    ("matplotlib", "mpl-data/sample_data", ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png")),
)
# Larger images are shrunk on load: the generator never needs more detail, and it bounds memory.
_MAX_SIDE = 1024
_MIN_SIDE = 96
_PROCEDURAL_COUNT = 12


def package_folder(package: str) -> Path | None:
    """Install folder of a package, without importing it; None when it is not installed."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def texture_files() -> list[Path]:
    """Sample images of the installed packages that can serve as textures, in a fixed order."""
    files = []
    for package, folder, names in _SOURCES:
        root = package_folder(package)
        if root is None:
            continue
        files.extend(root / folder / name for name in names if (root / folder / name).is_file())
    return files


def _read_rgb(path: Path) -> np.ndarray | None:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.dtype != np.uint8 or min(image.shape[:2]) < _MIN_SIDE:
        return None
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.shape[2] == 4:
        # Transparent pixels (silhouettes) get a mid grey rather than whatever colour they store.
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        image = (image[:, :, :3] * alpha + 128.0 * (1.0 - alpha)).astype(np.uint8)
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    else:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    scale = _MAX_SIDE / max(image.shape[:2])
    if scale < 1.0:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image)


def procedural_texture(rng: np.random.Generator, size: int = 384) -> np.ndarray:
    """A coloured multi-octave noise texture (size x size x 3 uint8), the stand-in for natural images."""
    field = np.zeros((size, size, 3), np.float32)
    for octave in range(5):
        cells = 4 * 2**octave
        coarse = rng.standard_normal((cells, cells, 3)).astype(np.float32)
        field += cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC) / 1.6**octave
    field -= field.min(axis=(0, 1))
    field /= np.maximum(field.max(axis=(0, 1)), 1e-6)
    return (field * 255.0).astype(np.uint8)


@functools.lru_cache(maxsize=1)
def texture_library() -> tuple[np.ndarray, ...]:
    """All textures of this process (loaded once): RGB uint8 arrays, natural images first."""
    textures = [t for t in (_read_rgb(path) for path in texture_files()) if t is not None]
    if not textures:
        rng = np.random.default_rng(20240601)
        textures = [procedural_texture(rng) for _ in range(_PROCEDURAL_COUNT)]
    for texture in textures:
        texture.setflags(write=False)
    return tuple(textures)
