"""Relighting: leave-lights-out accuracy on DiLiGenT, fit time, viewer size and frame time.

    python benchmarks/bench_relight.py [--objects ball bear reading] [--skip-browser]
        [--skip-accuracy] [--skip-speed]

``--objects diligent_test/buddha diligent_test/pot2`` evaluates on DiLiGenT's test views,
objects that no choice of the model was made on (they have no normals, but relighting
needs none).

Accuracy: for each object, 10% of the usable lights (chosen with seed 0) are held out;
every model is fitted on the other 90% and relights the held-out lights; the table gives
the RMSE against the real photos (divided by their light intensities, linear, over the
mask and the three channels), over all pixels and over the unsaturated ones (a 16-bit
photo clipped at its top code holds no true value there). Bear's first 20 images are
damaged (about 20% too bright; the data README's traps): they are left out of every
model's fit and of the evaluation, so bear has 76 usable lights (68 fitted, 8 held out).
Our model is fitted with the robust normals and without the saturated training
observations (``relight.lobe``).

Speed and size on the DiLiGenT bear placed back into its original 612 x 512 frame (96
images, its mask): the fit on one core (wall clock), with least-squares photometric stereo
on the same pixels as the baseline measured in the same run; the viewer folder's size;
the viewer's frame time in headless Chromium (SwiftShader WebGL, CPU), the median of 50
relit frames measured in the page with performance.now(), each synchronised by a readback.
The viewer shades only the mask's bounding box, so the same numbers follow for the worst
case, every one of the 313,344 pixels fitted and shown (``all_pixels_*``).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core, before NumPy loads
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from lambertian.io import data_root, read_capture  # noqa: E402
from lambertian.io.markdown import markdown_table  # noqa: E402
from lambertian.ps import get_solver  # noqa: E402
from lambertian.relight import fit_model, relight  # noqa: E402
from lambertian.relight.lobe import saturated_observations  # noqa: E402
from lambertian.viz.viewer import write_viewer  # noqa: E402

KINDS = ("ptm", "hsh9", "hsh16", "ours")
HELD_OUT = 0.1
SEED = 0
#: Images known to be damaged, left out of every fit and of the evaluation (data README).
DAMAGED = {"bear": tuple(range(20))}


def split(k: int, seed: int = SEED, damaged: tuple[int, ...] = ()
          ) -> tuple[np.ndarray, np.ndarray]:
    """(fitted, held-out) image indices: 10% of the usable images held out at random."""
    usable = np.setdiff1d(np.arange(k), damaged)
    rng = np.random.default_rng(seed)
    test = np.sort(rng.choice(usable, int(round(usable.size * HELD_OUT)), replace=False))
    return np.setdiff1d(usable, test), test


def fit(kind, img, L, mask, valid):
    if kind == "ours":
        return fit_model(kind, img, L, mask, method="robust", valid=valid)
    return fit_model(kind, img, L, mask)


def accuracy(objects: list[str]) -> list[dict]:
    root = data_root()
    rows = []
    for name in objects:
        # a DiLiGenT main-set name, or a folder under the data root (diligent_test/pot2)
        cap = read_capture(root / name if "/" in name else root / "diligent" / name)
        img, L, m = cap.normalized_images(), cap.lights, cap.mask
        sat = saturated_observations(cap.images, cap.bit_depth)
        train, test = split(cap.num_images, damaged=DAMAGED.get(name, ()))
        ok = ~sat[test][:, m]  # (T, P)
        for kind in KINDS:
            model = fit(kind, img[train], L[train], m, ~sat[train])
            err = np.stack([relight(model, L[k])[m] - img[k][m] for k in test])  # T, P, C
            rows.append({"object": name, "model": kind,
                         "numbers_per_pixel": model.numbers_per_pixel(),
                         "rmse": float(np.sqrt(np.mean(err ** 2))),
                         "rmse_unsaturated": float(np.sqrt(np.mean(err[ok] ** 2)))})
            print(f"{name:8s} {kind:6s} rmse {rows[-1]['rmse']:.5f} "
                  f"unsaturated {rows[-1]['rmse_unsaturated']:.5f}", flush=True)
    return rows


def full_frame_bear() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """The bear capture pasted back into its original 612 x 512 frame (crop.txt)."""
    cap = read_capture(data_root() / "diligent" / "bear")
    x0, y0, w, h = (int(v) for v in np.loadtxt(cap.root / "crop.txt"))
    img = np.zeros((cap.num_images, 512, 612, 3), np.float32)
    img[:, y0:y0 + h, x0:x0 + w] = cap.normalized_images()
    raw = np.zeros_like(img)
    raw[:, y0:y0 + h, x0:x0 + w] = cap.images
    mask = np.zeros((512, 612), bool)
    mask[y0:y0 + h, x0:x0 + w] = cap.mask
    return img, raw, cap.lights, mask, cap.bit_depth


def speed_and_size(out_dir: Path, browser: bool) -> dict:
    img, raw, L, mask, bits = full_frame_bear()
    res: dict = {"frame": "612 x 512", "images": int(img.shape[0]),
                 "mask_pixels": int(mask.sum()), "load_average_1min": os.getloadavg()[0]}
    t = time.perf_counter()
    get_solver("ls")(img, L, mask)
    res["ls_normals_s"] = time.perf_counter() - t
    t = time.perf_counter()
    model = fit_model("ours", img, L, mask, method="robust",
                      valid=~saturated_observations(raw, bits))
    res["fit_ours_s"] = time.perf_counter() - t
    res["fit_over_ls"] = res["fit_ours_s"] / res["ls_normals_s"]
    t = time.perf_counter()
    fit_model("ours", img, L, mask, method="ls", valid=~saturated_observations(raw, bits))
    res["fit_ours_ls_normals_s"] = time.perf_counter() - t
    for kind in ("ours", "hsh16"):
        m = model if kind == "ours" else fit_model(kind, img, L, mask)
        folder = write_viewer(out_dir / kind, m, normals=model.normals, albedo=model.albedo,
                              title=f"bear 612x512 {kind}")
        res[f"viewer_{kind}_MB"] = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
    if browser:
        res.update(frame_time(out_dir / "ours"))
    # Worst case: every pixel of the frame is object (no background to skip).
    full = np.ones_like(mask)
    t = time.perf_counter()
    model = fit_model("ours", img, L, full, method="ls",
                      valid=~saturated_observations(raw, bits))
    res["all_pixels_fit_ours_ls_normals_s"] = time.perf_counter() - t
    folder = write_viewer(out_dir / "full", model, title="bear 612x512, every pixel")
    res["all_pixels_viewer_MB"] = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
    if browser:
        res.update({f"all_pixels_{k}": v for k, v in frame_time(folder).items()})
    return res


def frame_time(folder: Path) -> dict:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        print("headless Chromium absent: frame time skipped")
        return {}
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader",
                "--enable-unsafe-swiftshader", "--window-size=1000,800"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(options=opts, service=Service(driver))
    try:
        drv.get((folder / "index.html").as_uri())
        for _ in range(400):
            if drv.execute_script("return window.viewer.ready || !!window.viewer.error"):
                break
            time.sleep(0.05)
        drv.execute_script("window.viewer.benchmark(5)")  # warm up (shader, texture)
        b = drv.execute_script("return window.viewer.benchmark(50)")
    finally:
        drv.quit()
    return {"frame_median_ms": b["median_ms"], "frame_min_ms": b.get("min_ms"),
            "frame_mean_ms": b["mean_ms"], "frame_max_ms": b["max_ms"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--objects", nargs="+", default=["ball", "bear", "reading"])
    ap.add_argument("--skip-browser", action="store_true")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if data_root() is None:
        raise SystemExit("real data not found: set $LAMBERTIAN_DATA")
    if not args.skip_accuracy:
        rows = accuracy(args.objects)
        print(markdown_table([{k: (f"{v:.5f}" if isinstance(v, float) else v)
                               for k, v in r.items()} for r in rows]))
        for col in ("rmse", "rmse_unsaturated"):
            mean = {k: np.mean([r[col] for r in rows if r["model"] == k]) for k in KINDS}
            print(f"mean {col}: " + ", ".join(f"{k} {v:.5f}" for k, v in mean.items())
                  + f"; ours / hsh16 = {mean['ours'] / mean['hsh16']:.3f}")
    if args.skip_speed:
        return
    with tempfile.TemporaryDirectory() as tmp:
        res = speed_and_size(Path(tmp), not args.skip_browser)
    print(markdown_table([{k: (round(v, 3) if isinstance(v, float) else v)
                           for k, v in res.items()}]))


if __name__ == "__main__":
    main()
