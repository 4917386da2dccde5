"""Property-based fuzzing of the readers and the commands with bad inputs and their
neighbours (issue 18).

The contract checked for every drawn case: the command exits 0 with a correct answer,
or exits 2 with one line that names the file at fault; on failure no earlier output and
no input has changed, and nothing temporary is left beside OUT. Commands run in-process
(``lambertian.cli.main.main``) on a 24 x 24 generated capture with 8 lights, so a case
takes a fraction of a second; ``derandomize=True`` makes every run draw the same cases.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambertian.cli.main import main
from lambertian.core.errors import InputError
from lambertian.core.metrics import angular_error_deg
from lambertian.io import read_image, read_mask
from lambertian.io.checks import load_npy, read_table
from lambertian.lights.single_image import estimate_light
from lambertian.synth.capture import make_capture, write_capture

# Every kind of bad input is its own test; hypothesis draws its neighbours (which image,
# streamed or not, what OUT held before, with or without a mask) a few times each.
PER_CASE = settings(max_examples=5, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
SIZE, LIGHTS = 24, 8
# Least squares on the generated capture: about 2 deg mean (noise, cast shadows);
# a wrongly decoded image or a flipped light moves it by tens of degrees.
PS_BOUND_DEG = 6.0
# One image of known normals on this small generated capture (patchy colour albedo, cast
# shadows): 1.1-11.7 deg from the true light over its 8 images (the same before this
# suite's checks); an accepted neighbour of the good map must give the good map's answer.
LIGHT_BOUND_DEG = 12.0
SAME_ANSWER_DEG = 0.5


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A good capture, its ground truth, a finished earlier output, and a scratch root."""
    root = tmp_path_factory.mktemp("fuzz")
    synth = make_capture(SIZE, LIGHTS, noise=0.002, seed=3)
    good = write_capture(root / "good", synth)
    np.save(root / "normals.npy", synth.normals.astype(np.float32))
    earlier = root / "earlier"
    assert run(["ps", str(good), "--method", "ls", "--out", str(earlier)])[0] == 0
    # The same capture as a generic folder: images, lights.txt with a count line (as UW
    # psm writes it), intensities.txt, mask.png and filenames.txt.
    folder = root / "folder"
    folder.mkdir()
    for name in ("filenames.txt", "mask.png", *(good / "filenames.txt").read_text().split()):
        shutil.copy(good / name, folder / name)
    _write_lights(folder / "lights.txt", np.loadtxt(good / "light_directions.txt"))
    shutil.copy(good / "light_intensities.txt", folder / "intensities.txt")
    return {"root": root, "good": good, "folder": folder, "synth": synth, "earlier": earlier,
            "names": (good / "filenames.txt").read_text().split(), "n": [0]}


def run(argv: list[str]) -> tuple[int, list[str]]:
    """Exit status and the non-progress lines of stderr of ``lambertian ARGV``."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse
            rc = exc.code
    lines = [ln for ln in err.getvalue().replace("\r", "\n").splitlines()
             if ln.strip() and "%|" not in ln and not ln.startswith("warning:")]
    return rc, lines


def snapshot(*paths: Path) -> dict[str, str]:
    """Every file under ``paths`` -> sha1 of its bytes (what must not change)."""
    out = {}
    for p in paths:
        files = [p] if p.is_file() else sorted(q for q in p.rglob("*") if q.is_file()) \
            if p.exists() else []
        for f in files:
            out[str(f)] = hashlib.sha1(f.read_bytes()).hexdigest()
    return out


def fresh(world, name: str) -> Path:
    world["n"][0] += 1
    return world["root"] / f"{name}{world['n'][0]}"


def angle_deg(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    c = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    return float(np.degrees(np.arccos(np.clip(c, -1, 1))))


def assert_refused(rc: int, lines: list[str], command: str, culprit: Path | str) -> None:
    assert rc == 2, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"lambertian {command}: error: ") and str(culprit) in lines[0], \
        (lines[0], culprit)


def prepare_out(world, state: str) -> Path:
    """OUT absent, holding an earlier complete result, or an empty folder."""
    out = fresh(world, "out")
    if state == "earlier":
        shutil.copytree(world["earlier"], out)
    elif state == "empty":
        out.mkdir()
    return out


def no_temporaries(out: Path) -> bool:
    return not any(p.name.startswith(f".{out.name}.") for p in out.parent.iterdir())


# --------------------------------------------------------------------- ps: the capture

def _write_lights(path: Path, L: np.ndarray) -> None:
    """lights.txt of a generic folder, with its count line."""
    path.write_text(f"{len(L)}\n" + "".join(f"{x:.9g} {y:.9g} {z:.9g}\n" for x, y, z in L))


def _light_files(cap: Path) -> tuple[Path, Path]:
    if (cap / "light_directions.txt").is_file():  # DiLiGenT layout
        return cap / "light_directions.txt", cap / "light_intensities.txt"
    return cap / "lights.txt", cap / "intensities.txt"


def _read_lights(lf: Path) -> np.ndarray:
    return read_table(lf, 3, what="light")


def _save_lights(lf: Path, L: np.ndarray) -> None:
    if lf.name == "lights.txt":
        _write_lights(lf, L)
    else:
        np.savetxt(lf, L)

def _write16(path: Path, img: np.ndarray) -> None:
    cv2.imwrite(str(path), np.ascontiguousarray(img[..., ::-1]))


def mutate_capture(cap: Path, kind: str, k: int, names: list[str]) -> Path | None:
    """Apply one bad (or harmless) change to the capture folder ``cap``; return the path
    the error must name, or None when the capture stays valid."""
    f = cap / names[k]
    raw = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
    if kind == "good":
        return None
    if kind == "8-bit image":
        cv2.imwrite(str(f), (raw >> 8).astype(np.uint8))
        return f
    if kind == "jpeg named png":
        f.write_bytes(cv2.imencode(".jpg", (raw >> 8).astype(np.uint8))[1].tobytes())
        return f
    if kind == "saturated image":
        cv2.imwrite(str(f), np.full_like(raw, 65535))
        return f
    if kind == "one black image":  # a failed exposure, or a crop all in shadow: warned
        cv2.imwrite(str(f), np.zeros_like(raw))
        return f
    if kind == "all black":
        for n in names:
            cv2.imwrite(str(cap / n), np.zeros_like(raw))
        return cap
    if kind == "one photo copied":  # every image the same file: no shading, refused
        for n in names:
            if n != names[k]:
                shutil.copyfile(f, cap / n)
        return cap
    lf, inf = _light_files(cap)
    if kind == "lights behind":
        L = _read_lights(lf)
        L[:, 2] = -np.abs(L[:, 2])
        _save_lights(lf, L)
        return lf
    if kind == "lights not unit":  # a neighbour: directions are normalised
        _save_lights(lf, _read_lights(lf) * (k + 0.5))
        return None
    if kind == "duplicate listing":
        listing = cap / "filenames.txt"
        lst = list(names)
        lst[(k + 1) % len(lst)] = lst[k]
        listing.write_text("\n".join(lst) + "\n")
        return listing
    if kind == "missing image":
        f.unlink()
        return f
    if kind == "truncated image":
        f.write_bytes(f.read_bytes()[:60])
        return f
    if kind == "other size":
        cv2.imwrite(str(f), raw[:-2])
        return f
    if kind == "extra light row":
        lf.write_text(lf.read_text() + "0 0 1\n")
        return lf
    if kind == "empty mask":
        m = cv2.imread(str(cap / "mask.png"), cv2.IMREAD_UNCHANGED)
        cv2.imwrite(str(cap / "mask.png"), np.zeros_like(m))
        return cap / "mask.png"
    if kind == "0/1 mask":  # a neighbour: nonzero marks the object, as fit --help says
        m = cv2.imread(str(cap / "mask.png"), cv2.IMREAD_UNCHANGED)
        cv2.imwrite(str(cap / "mask.png"), (m > 0).astype(np.uint8))
        return None
    if kind == "singular K":
        (cap / "K.txt").write_text("0 0 0\n0 0 0\n0 0 1\n")
        # only the DiLiGenT layout reads K.txt (for --depth); a generic folder ignores it
        return cap / "K.txt" if lf.name == "light_directions.txt" else None
    if kind == "zero intensity":
        e = np.loadtxt(inf)
        e[k] = 0
        np.savetxt(inf, e)
        return inf
    raise AssertionError(kind)


CAPTURE_CASES = ("good", "8-bit image", "jpeg named png", "saturated image", "all black",
                 "one photo copied", "lights behind", "lights not unit", "duplicate listing",
                 "missing image", "truncated image", "other size", "extra light row",
                 "empty mask", "0/1 mask", "singular K", "zero intensity")


@pytest.mark.parametrize("layout", ["good", "folder"])  # DiLiGenT layout, generic folder
@pytest.mark.parametrize("kind", CAPTURE_CASES)
@PER_CASE
@given(k=st.integers(0, LIGHTS - 1), stream=st.booleans(),
       out_state=st.sampled_from(["absent", "earlier", "empty"]))
def test_ps_answers_correctly_or_refuses_naming_the_file(world, kind, k, stream, out_state,
                                                          layout):
    cap = fresh(world, "cap")
    shutil.copytree(world[layout], cap)
    culprit = mutate_capture(cap, kind, k, world["names"])
    out = prepare_out(world, out_state)
    before_in, before_out = snapshot(cap), snapshot(out)
    argv = ["ps", str(cap), "--method", "ls", "--out", str(out)] + (["--stream"] if stream else [])
    rc, lines = run(argv)
    assert snapshot(cap) == before_in  # inputs never change
    assert no_temporaries(out)
    if culprit is None:
        assert rc == 0, lines
        normals = np.load(out / "normals.npy")
        synth = world["synth"]
        m = synth.mask
        err = np.degrees(np.arccos(np.clip((normals[m] * synth.normals[m]).sum(-1), -1, 1)))
        assert err.mean() < PS_BOUND_DEG
        summary = json.loads((out / "ps.json").read_text())
        assert summary.get("bit_depth") == 16
    else:
        assert_refused(rc, lines, "ps", culprit)
        assert snapshot(out) == before_out  # the earlier set is untouched


def test_one_black_image_is_warned_in_one_line_and_solved_around(world, capfd):
    """A failed exposure (or a tight crop all in shadow) is valid input: one warning line
    names it, and robust, which takes zeros as shadow, still answers correctly."""
    cap = fresh(world, "cap")
    shutil.copytree(world["good"], cap)
    culprit = mutate_capture(cap, "one black image", 2, world["names"])
    out = fresh(world, "out")
    capfd.readouterr()
    assert main(["ps", str(cap), "--method", "robust", "--out", str(out)]) == 0
    warned = [ln for ln in capfd.readouterr().err.replace("\r", "\n").splitlines()
              if ln.startswith("warning:")]
    assert len(warned) == 1 and str(culprit) in warned[0] and "black" in warned[0], warned
    synth = world["synth"]
    m = synth.mask
    err = angular_error_deg(np.load(out / "normals.npy")[m], synth.normals[m])
    assert err.mean() < PS_BOUND_DEG


def test_one_photo_twice_is_warned_in_one_line(world, capfd):
    """The same photo under two lights (a copying mistake) puts one observation wrong: one
    warning line names the copy, in memory and streamed alike."""
    cap = fresh(world, "cap")
    shutil.copytree(world["good"], cap)
    names = world["names"]
    shutil.copyfile(cap / names[1], cap / names[4])
    for stream in (False, True):
        out = fresh(world, "out")
        capfd.readouterr()
        argv = ["ps", str(cap), "--method", "robust", "--out", str(out)]
        assert main(argv + (["--stream"] if stream else [])) == 0
        warned = [ln for ln in capfd.readouterr().err.replace("\r", "\n").splitlines()
                  if ln.startswith("warning:")]
        assert len(warned) == 1 and str(cap / names[4]) in warned[0], warned
        assert names[1] in warned[0] and "same photo" in warned[0]


# ------------------------------------------------------- normal maps: light and integrate

NORMAL_CASES = ("good", "x1000", "x0.5", "int64", "bool", "nan inside", "nan outside",
                "inf inside", "2 channels", "float16", "object", "garbage", "npz")


def make_normals(world, kind: str, seed: int) -> tuple[Path, bool]:
    """A normal-map file for ``kind``; whether both commands must accept it."""
    synth = world["synth"]
    n = synth.normals.astype(np.float64)
    rng = np.random.default_rng(seed)
    inside = np.argwhere(synth.mask)
    outside = np.argwhere(~synth.mask)
    path = fresh(world, "normals").with_suffix(".npy")
    ok = False
    if kind == "good":
        ok = True
    elif kind == "x1000":
        n = n * 1000
    elif kind == "x0.5":
        n = n * 0.5
    elif kind == "int64":
        n = np.rint(n).astype(np.int64)
    elif kind == "bool":
        n = n != 0
    elif kind in ("nan inside", "inf inside"):
        r, c = inside[rng.integers(len(inside))]
        n[r, c, rng.integers(3)] = np.nan if kind == "nan inside" else np.inf
    elif kind == "nan outside":  # a neighbour: fine where the mask says so
        r, c = outside[rng.integers(len(outside))]
        n[r, c] = np.nan
        ok = "mask"  # type: ignore[assignment]
    elif kind == "2 channels":
        n = n[..., :2]
    elif kind == "float16":  # a neighbour: half precision is still a unit normal map
        n = n.astype(np.float16)
        ok = True
    elif kind == "object":
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        return path, False
    elif kind == "garbage":
        path.write_bytes(rng.bytes(int(rng.integers(1, 300))))
        return path, False
    elif kind == "npz":
        np.savez(path.with_suffix(".npz"), n=n)
        path.with_suffix(".npz").rename(path)
        return path, False
    np.save(path, n)
    return path, ok


@pytest.mark.parametrize("kind", NORMAL_CASES)
@PER_CASE
@given(seed=st.integers(0, 2**16), with_mask=st.booleans())
def test_light_and_integrate_agree_on_normal_maps(world, kind, seed, with_mask):
    good, synth = world["good"], world["synth"]
    path, ok = make_normals(world, kind, seed)
    if ok == "mask":
        ok = with_mask  # NaN outside the mask is fine only when a mask says so
    k = seed % LIGHTS
    image = good / world["names"][k]
    mask = ["--mask", str(good / "mask.png")] if with_mask else []
    light_out = fresh(world, "light").with_suffix(".json")
    depth_out = fresh(world, "depth")
    before = snapshot(path, good)
    rc_l, lines_l = run(["light", str(image), "--normals", str(path), *mask,
                         "--out", str(light_out)])
    rc_i, lines_i = run(["integrate", str(path), *mask, "--out", str(depth_out)])
    assert snapshot(path, good) == before
    assert (rc_l == 0) == (rc_i == 0), (lines_l, lines_i)  # the two commands agree
    if ok:
        assert rc_l == 0 and rc_i == 0, (lines_l, lines_i)
        light = json.loads(light_out.read_text())
        ref = estimate_light(read_image(image)[0], synth.normals, synth.mask)
        assert angle_deg(light["direction"], ref.direction) < SAME_ANSWER_DEG
        assert angle_deg(ref.direction, synth.lights[k]) < LIGHT_BOUND_DEG
        depth = np.load(depth_out / "depth.npy")
        assert np.isfinite(depth[synth.mask]).all()
    else:
        assert_refused(rc_l, lines_l, "light", path)
        assert_refused(rc_i, lines_i, "integrate", path)
        assert not light_out.exists() and not depth_out.exists()


# --------------------------------------------------------- light --model: identifiability

@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.sampled_from([1, 2, 7, 8, 24]), black=st.booleans(),
       model=st.sampled_from(["faces", "objects"]))
def test_light_model_refuses_images_that_cannot_constrain_a_light(world, size, black, model):
    img_path = fresh(world, "img").with_suffix(".png")
    img = cv2.imread(str(world["good"] / world["names"][0]), cv2.IMREAD_UNCHANGED)
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    if black:
        img[:] = 0
    cv2.imwrite(str(img_path), img)
    out = fresh(world, "light").with_suffix(".json")
    rc, lines = run(["light", str(img_path), "--model", model, "--out", str(out)])
    if black or size * size < 64:
        assert_refused(rc, lines, "light", img_path)
        assert "unidentifiable" in lines[0] and not out.exists()
    else:
        assert rc == 0, lines
        light = json.loads(out.read_text())
        assert abs(np.linalg.norm(light["direction"]) - 1) < 1e-6
        assert np.isfinite(light["uncertainty_deg"])


# ------------------------------------------------------------------ --out and the options

OUT_CASES = ("existing file", "an input", "under a file", "unwritable", "foreign folder")


def bad_out(world, case: str, input_path: Path) -> Path:
    root = world["root"]
    if case == "existing file":
        p = fresh(world, "file")
        p.write_text("keep me")
        return p
    if case == "an input":
        return input_path
    if case == "under a file":
        p = fresh(world, "file")
        p.write_text("keep me")
        return p / "out"
    if case == "unwritable":
        return Path("/proc/lambertian-out")
    p = fresh(world, "mine")
    p.mkdir()
    (p / "notes.txt").write_text("keep me")
    assert root in p.parents
    return p


def command_for(world, name: str, out: Path) -> tuple[list[str], Path]:
    good = world["good"]
    image = good / world["names"][0]
    normals = world["root"] / "normals.npy"
    return {
        "ps": (["ps", str(good), "--method", "ls", "--out", str(out)], good),
        "ps --stream": (["ps", str(good), "--stream", "--method", "ls", "--out", str(out)],
                        good),
        "lights": (["lights", str(good), "--out", str(out)], good),
        "light": (["light", str(image), "--normals", str(normals), "--out", str(out)],
                  normals),
        "integrate": (["integrate", str(normals), "--out", str(out)], normals),
        "batch": (["batch", "ps", str(world["root"] / "good"), "--out", str(out)], good),
    }[name]


# `light` writes one file, so an existing file (or a foreign folder's absence of marker)
# is no reason to refuse; batch's OUT is a root that grows run by run, never replaced.
OUT_PAIRS = [(command, case) for command in ("ps", "ps --stream", "lights", "light",
                                             "integrate", "batch") for case in OUT_CASES
             if not (command == "light" and case in ("existing file", "foreign folder"))
             and not (command == "batch" and case == "foreign folder")]


@pytest.mark.parametrize("command, case", OUT_PAIRS)
def test_a_bad_out_is_one_line_and_changes_nothing(world, command, case):
    _, input_path = command_for(world, command, Path("x"))
    out = bad_out(world, case, input_path)
    argv, _ = command_for(world, command, out)
    watched = [world["good"], world["root"] / "normals.npy"]
    if out.exists() or out.parent.exists() and out.parent != Path("/proc"):
        watched.append(out if out.exists() else out.parent)
    before = snapshot(*watched)
    rc, lines = run(argv)
    assert_refused(rc, lines, command.split()[0], out if case != "under a file" else out)
    assert snapshot(*watched) == before


@pytest.mark.parametrize("argv, culprit", [
    (["ps", "{good}", "--threads", "0"], "--threads"),
    (["ps", "{good}", "--threads", "-1"], "--threads"),
    (["demo", "--noise", "-1"], "--noise"),
    (["demo", "--noise", "nan"], "--noise"),
    (["batch", "ps", "{root}", "--out", "{out}", "--workers", "0"], "--workers"),
    (["batch", "ps", "{root}", "--out", "{out}", "--scheduler", "not an address"],
     "not an address"),
    (["integrate", "{normals}", "--albedo", "{objects}", "--out", "{out}"], "{objects}"),
])
def test_bad_options_are_one_line(world, argv, culprit):
    obj = world["root"] / "objects.npy"
    np.save(obj, np.array([None, 1], dtype=object), allow_pickle=True)
    fill = {"good": world["good"], "root": world["root"], "normals": world["root"] /
            "normals.npy", "objects": obj, "out": fresh(world, "out")}
    argv = [a.format(**fill) for a in argv]
    out = Path(fill["out"])
    rc, lines = run(argv)
    assert_refused(rc, lines, argv[0], culprit.format(**fill))
    assert "allow_pickle" not in lines[0] and not out.exists()


# -------------------------------------------------------------------------- the readers

@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".png", ".tif", ".jpg", ".pgm",
                                                             ".tga", ".exr", ".npy"]))
def test_readers_take_any_bytes_without_a_traceback(tmp_path_factory, data, suffix):
    p = tmp_path_factory.mktemp("bytes") / f"f{suffix}"
    p.write_bytes(data)
    for reader in (read_image, lambda q: read_mask(q), lambda q: load_npy(q, "array")):
        try:
            reader(p)
        except InputError as err:
            assert "\n" not in str(err) and str(p) in str(err)
            assert "allow_pickle" not in str(err) and "weights_only" not in str(err)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_a_cut_short_image_is_refused_not_decoded_as_grey(tmp_path, capfd, suffix):
    # libjpeg decodes a truncated JPEG's missing rows as flat grey with only a warning, and
    # libpng prints a line of its own: both are refused in one line before decoding
    img = (np.arange(64 * 80 * 3).reshape(64, 80, 3) % 251).astype(np.uint8)
    whole = tmp_path / f"whole{suffix}"
    cv2.imwrite(str(whole), img)
    data = whole.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputError, match=r"cut\.(png|jpg): (PNG|JPEG) file cut short"):
        read_image(cut)
    assert capfd.readouterr().err == ""
    # data after the end marker (a JPEG's appended preview, padding) is not a truncation
    padded = tmp_path / f"padded{suffix}"
    padded.write_bytes(data + b"\x00" * 100)
    assert read_image(padded)[0].shape == (64, 80, 3)


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(text=st.text(alphabet="0123456789 .-+e,#\nnaif\t", max_size=120),
       columns=st.sampled_from([None, 3]))
def test_tables_parse_or_say_why_in_one_line(tmp_path_factory, text, columns):
    p = tmp_path_factory.mktemp("table") / "lights.txt"
    p.write_text(text)
    try:
        t = read_table(p, columns, what="light")
    except InputError as err:
        assert "\n" not in str(err) and str(p) in str(err)
        assert "inhomogeneous" not in str(err)
    else:
        assert t.ndim == 2 and np.isfinite(t).all()
        assert columns is None or t.shape[1] == columns


def test_count_line_that_disagrees_is_said_in_words(tmp_path):
    p = tmp_path / "lights.txt"
    p.write_text("5\n0 0 1\n0 1 1\n1 0 1\n")
    with pytest.raises(InputError, match="first line says 5 rows but 3 follow"):
        read_table(p, 3, what="light")


# -------------------------------------------------------------- fit, weights, lights, batch

@pytest.mark.parametrize("scale, bad", [(1e30, "beyond"), (np.nan, "non-finite"),
                                        (1e20, "beyond")])
def test_fit_refuses_meshes_that_overflow_the_renderer(world, scale, bad):
    trimesh = pytest.importorskip("trimesh")
    root = fresh(world, "fit")
    root.mkdir()
    mesh = trimesh.creation.icosphere(1)
    mesh.vertices = mesh.vertices * scale
    mesh.export(root / "m.obj")
    np.savetxt(root / "K.txt", [[60, 0, 12], [0, 60, 12], [0, 0, 1]])
    np.savetxt(root / "pose.txt", np.hstack([np.eye(3), [[0], [0], [4]]]))
    good = world["good"]
    out = root / "out"
    rc, lines = run(["fit", str(root / "m.obj"), str(good / world["names"][0]), "--mask",
                     str(good / "mask.png"), "--camera", str(root / "K.txt"), "--pose",
                     str(root / "pose.txt"), "--out", str(out)])
    assert_refused(rc, lines, "fit", root / "m.obj")
    assert bad in lines[0] and not out.exists()


@pytest.mark.parametrize("content", [b"garbage" * 9, b"PK\x03\x04" + bytes(60), b""])
def test_a_garbage_weights_file_is_not_a_weights_file(world, content):
    w = fresh(world, "w").with_suffix(".pt")
    w.write_bytes(content)
    out = fresh(world, "light").with_suffix(".json")
    rc, lines = run(["light", str(world["good"] / world["names"][0]), "--model", str(w),
                     "--out", str(out)])
    assert_refused(rc, lines, "light", w)
    assert "weights_only" not in lines[0] and "allow_pickle" not in lines[0]
    assert "not a valid" in lines[0] and not out.exists()


def test_uncalibrated_lights_need_no_light_file(world):
    plain = fresh(world, "plain")
    plain.mkdir()
    for n in world["names"]:
        shutil.copy(world["good"] / n, plain / n)
    shutil.copy(world["good"] / "mask.png", plain / "mask.png")
    out = fresh(world, "lights")
    rc, lines = run(["lights", str(plain), "--out", str(out)])
    assert rc == 0, lines
    rows = json.loads((out / "lights.json").read_text())
    assert [r["file"] for r in rows] == world["names"]
    assert all(abs(np.linalg.norm(r["direction"]) - 1) < 1e-6 for r in rows)
    # a calibrated command still needs the light file, and says which
    rc, lines = run(["ps", str(plain), "--out", str(fresh(world, "out"))])
    assert_refused(rc, lines, "ps", plain)


def test_an_interrupt_after_the_solve_leaves_the_earlier_set(world, monkeypatch):
    import os
    import signal
    import time

    import lambertian.integrate as integrate

    out = prepare_out(world, "earlier")
    before = snapshot(out)

    def interrupted(*args, **kwargs):  # a real SIGINT, as Ctrl-C sends, after the solve
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # Python raises KeyboardInterrupt here, at once
        raise AssertionError("SIGINT was not delivered")

    # a shell's background job starts with SIGINT ignored, and Python then installs no
    # KeyboardInterrupt handler: install it, as an interactive run has it
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    monkeypatch.setattr(integrate, "write_depth_outputs", interrupted)
    try:
        rc, lines = run(["ps", str(world["good"]), "--method", "ls", "--depth", "--out",
                         str(out)])
    finally:
        signal.signal(signal.SIGINT, previous)
    assert rc == 130 and snapshot(out) == before and no_temporaries(out)


def test_batch_stays_inside_root_and_names_a_black_capture(world):
    pytest.importorskip("distributed")
    from lambertian.scale.batch import find_captures, process_capture

    root = fresh(world, "root")
    (root / "a").mkdir(parents=True)
    shutil.copytree(world["good"], root / "a" / "cap")
    (root / "a" / "loop").symlink_to("..")  # a loop inside ROOT
    (root / "up").symlink_to(world["root"])  # out of ROOT (holds many captures)
    skipped: list = []
    assert find_captures(root, skipped) == [root / "a" / "cap"]
    assert {p.name for p, _ in skipped} == {"loop", "up"}
    black = root / "black"
    shutil.copytree(world["good"], black)
    for n in world["names"]:
        img = cv2.imread(str(black / n), cv2.IMREAD_UNCHANGED)
        cv2.imwrite(str(black / n), np.zeros_like(img))
    row = process_capture(str(black), str(fresh(world, "out")), "ls")
    assert row["status"] == "failed" and row["error"].startswith(f"{black}: every one")
    assert ".tmp-" not in row["error"]


def test_an_unreachable_scheduler_is_one_line_within_the_timeout(world):
    pytest.importorskip("distributed")
    import time

    from lambertian.scale.batch import run_batch

    t0 = time.perf_counter()
    with pytest.raises(InputError, match="cannot reach the scheduler") as err:
        run_batch(world["good"], fresh(world, "out"), scheduler="tcp://127.0.0.1:9",
                  connect_timeout=2, progress=False)
    assert time.perf_counter() - t0 < 10 and "\n" not in str(err.value)


# ------------------------------------------------ the Python functions check the same

def test_python_functions_refuse_what_the_commands_refuse(world, tmp_path):
    from lambertian.ps.least_squares import least_squares
    from lambertian.scale.stream import stream_ps

    synth = world["synth"]
    img = synth.images / synth.intensities[:, None, None, :].astype(np.float32)
    behind = synth.lights * np.array([1, 1, -1])
    with pytest.raises(InputError, match="z <= 0"):
        least_squares(img, behind, synth.mask, source="capture")
    with pytest.raises(InputError, match="black"):
        least_squares(np.zeros_like(img), synth.lights, synth.mask, source="capture")
    k = 2
    with pytest.raises(InputError, match="not unit length"):
        estimate_light(synth.images[k], synth.normals * 1000, synth.mask)
    with pytest.raises(InputError, match="floating-point"):
        estimate_light(synth.images[k], synth.normals.astype(np.int64), synth.mask)
    cap = tmp_path / "cap"
    shutil.copytree(world["good"], cap)
    odd = cap / world["names"][0]  # the first image is the odd one out: it is named
    mutate_capture(cap, "8-bit image", 0, world["names"])
    files = [cap / n for n in world["names"]]
    with pytest.raises(InputError, match="8-bit") as err:
        stream_ps(files, synth.lights, synth.intensities, synth.mask, tmp_path / "out")
    assert str(err.value).startswith(str(odd))
    with pytest.raises(InputError, match="listed twice"):
        stream_ps([files[1], *files[1:]], synth.lights, synth.intensities, synth.mask,
                  tmp_path / "out")


@pytest.mark.parametrize("kind", ["truncated pnm", "truncated image", "jpeg named png",
                                  "saturated image"])
def test_one_line_on_the_real_stderr_too(world, capfd, kind):
    # capfd sees the file descriptor, so a decoder's own log line (OpenCV writes one, from
    # C++, for a PGM whose data ends early) would be caught here.
    cap = fresh(world, "cap")
    shutil.copytree(world["folder"], cap)
    if kind == "truncated pnm":
        culprit = cap / world["names"][3]
        culprit.write_bytes(b"P6\n24 24\n65535\n" + bytes(100))
    else:
        culprit = mutate_capture(cap, kind, 3, world["names"])
    capfd.readouterr()
    assert main(["ps", str(cap), "--method", "ls", "--out", str(fresh(world, "out"))]) == 2
    err = [ln for ln in capfd.readouterr().err.replace("\r", "\n").splitlines()
           if ln.strip() and "%|" not in ln]
    assert len(err) == 1 and str(culprit) in err[0], err


# `lights` estimates the lights, so it reads the same images through the same checks.
IMAGE_CASES = ("good", "8-bit image", "jpeg named png", "saturated image", "all black",
               "duplicate listing", "missing image", "truncated image", "other size",
               "empty mask", "0/1 mask")


@pytest.mark.parametrize("kind", IMAGE_CASES)
@settings(max_examples=2, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(k=st.integers(0, LIGHTS - 1))
def test_lights_answers_or_refuses_naming_the_file(world, kind, k):
    cap = fresh(world, "cap")
    shutil.copytree(world["folder"], cap)
    (cap / "lights.txt").unlink()  # not needed: the lights are what is estimated
    (cap / "intensities.txt").unlink()
    culprit = mutate_capture(cap, kind, k, world["names"])
    out = prepare_out(world, "earlier")
    before_in, before_out = snapshot(cap), snapshot(out)
    rc, lines = run(["lights", str(cap), "--out", str(out)])
    assert snapshot(cap) == before_in and no_temporaries(out)
    if culprit is None:
        assert rc == 0, lines
        rows = json.loads((out / "lights.json").read_text())
        assert len(rows) == LIGHTS
        assert all(abs(np.linalg.norm(r["direction"]) - 1) < 1e-6 for r in rows)
    else:
        assert_refused(rc, lines, "lights", culprit)
        assert snapshot(out) == before_out


# ------------------------------------------- found by probing the commands (2026-12-05)

def test_jpeg_damaged_inside_is_refused_though_it_ends_with_its_marker(tmp_path, capfd):
    # libjpeg decodes a JPEG cut short as flat grey rows with only a message of its own on
    # stderr; an end marker appended after the cut fooled the end check.
    img = (np.add.outer(np.arange(64), np.arange(64)) * 2).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    good = tmp_path / "good.jpg"
    good.write_bytes(data.tobytes())
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(data.tobytes()[: data.size // 2] + b"\xff\xd9")
    assert read_image(good)[0].shape == (64, 64, 1)
    capfd.readouterr()
    with pytest.raises(InputError, match="damaged image data") as err:
        read_image(bad)
    assert str(bad) in str(err.value)
    assert capfd.readouterr().err == ""  # the decoder's own line is in the error, not loose


def test_a_file_name_that_is_not_utf8_is_read(world, tmp_path):
    import os

    src = world["good"] / world["names"][0]
    odd = tmp_path / os.fsdecode(b"a\xe9.png")  # crashed OpenCV's path handling
    shutil.copy(src, odd)
    np.testing.assert_array_equal(read_image(odd)[0], read_image(src)[0])


def test_light_json_values_are_checked_and_its_file_names_order_the_lights(world):
    from lambertian.core.light import LightSet
    from lambertian.io.light_json import write_light_json

    synth, good = world["synth"], world["good"]
    names = world["names"]
    lights = LightSet(synth.lights, synth.intensities.mean(axis=1), names=names)
    path = fresh(world, "lights").with_suffix(".json")
    write_light_json(path, lights)
    ref = fresh(world, "out")
    assert run(["ps", str(good), "--method", "ls", "--lights", str(path), "--out", str(ref)]
               )[0] == 0
    rows = json.loads(path.read_text())
    swapped = [rows[1], rows[0], *rows[2:]]  # listed out of order, each naming its image
    path.write_text(json.dumps(swapped))
    out = fresh(world, "out")
    assert run(["ps", str(good), "--method", "ls", "--lights", str(path), "--out", str(out)]
               )[0] == 0
    np.testing.assert_array_equal(np.load(out / "normals.npy"), np.load(ref / "normals.npy"))
    for change in ({"intensity": -1.0}, {"direction": [0.0, 0.0, 0.0]},
                   {"direction": [0.0, 1.0]}, {"file": "elsewhere.png"}):
        path.write_text(json.dumps([{**rows[0], **change}, *rows[1:]]))
        rc, lines = run(["ps", str(good), "--lights", str(path), "--out", str(fresh(world, "o"))])
        assert_refused(rc, lines, "ps", path)
    path.write_text(json.dumps([{k: v for k, v in rows[0].items() if k != "direction"},
                                *rows[1:]]))
    assert_refused(*run(["ps", str(good), "--lights", str(path)]), "ps", path)


def test_unexpected_errors_and_usage_errors_are_one_line(world, monkeypatch):
    from lambertian.cli import ps as ps_cli

    rc, lines = run(["ps", str(world["good"]), "--gamma", "abc"])
    assert rc == 2 and len(lines) == 1 and "--gamma" in lines[0], lines
    rc, lines = run(["ps", str(world["good"]), "--threads", "100000"])
    assert_refused(rc, lines, "ps", "--threads")

    def broken(args):
        raise ValueError("something\nnobody foresaw")

    monkeypatch.setattr(ps_cli, "run", broken)
    rc, lines = run(["ps", str(world["good"]), "--out", str(fresh(world, "out"))])
    assert rc == 2 and len(lines) == 1 and "unexpected ValueError" in lines[0], lines


def test_integration_refuses_normals_facing_away_and_tilts_a_few_edge_on(world, tmp_path):
    n = np.load(world["root"] / "normals.npy").astype(np.float64)
    m = np.linalg.norm(n, axis=-1) > 0
    away = n * np.array([1.0, 1.0, -1.0])  # z flipped
    np.save(tmp_path / "away.npy", away)
    assert_refused(*run(["integrate", str(tmp_path / "away.npy"), "--out",
                         str(tmp_path / "o1")]), "integrate", tmp_path / "away.npy")
    edge = n.copy()  # a tenth of the pixels edge-on: singular before they were tilted
    rows = np.flatnonzero(m.ravel())[::10]
    flat = edge.reshape(-1, 3)
    flat[rows, 2] = 0.0
    flat[rows, :2] /= np.maximum(np.linalg.norm(flat[rows, :2], axis=1, keepdims=True), 1e-9)
    flat[rows[np.linalg.norm(flat[rows], axis=1) < 0.5]] = [1.0, 0.0, 0.0]
    np.save(tmp_path / "edge.npy", edge)
    for method in ("poisson", "bilateral"):
        rc, lines = run(["integrate", str(tmp_path / "edge.npy"), "--method", method,
                         "--out", str(tmp_path / method)])
        assert rc == 0, lines
        assert np.isfinite(np.load(tmp_path / method / "depth.npy")[m]).all()


def test_relight_refuses_one_file_for_both_rti_formats(world):
    same = fresh(world, "model").with_suffix(".bin")
    rc, lines = run(["relight", str(world["good"]), "--out", str(fresh(world, "viewer")),
                     "--ptm", str(same), "--rti", str(same)])
    assert_refused(rc, lines, "relight", same)
    assert not same.exists()


def test_batch_names_each_failed_capture_in_one_line_and_exits_2(world, monkeypatch):
    pytest.importorskip("distributed")
    import lambertian.scale.batch as batch

    rows = [{"capture": "good", "status": "done", "mean_deg": 1.0, "median_deg": 1.0,
             "seconds": 1.0, "error": ""},
            {"capture": "bad", "status": "failed", "mean_deg": None, "median_deg": None,
             "seconds": 0.1, "error": "root/bad/013.png: PNG file cut short or damaged"}]
    monkeypatch.setattr(batch, "run_batch", lambda *a, **k: rows)
    rc, lines = run(["batch", "ps", str(world["good"]), "--out", str(fresh(world, "out"))])
    assert rc == 2 and lines == ["lambertian batch ps: error: root/bad/013.png: PNG file cut "
                                 "short or damaged"], lines


def test_sigterm_leaves_no_temporary_folder(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "lambertian.cli.main", "demo", "--size",
                             "16", "--lights", "100000", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".o.tmp-") for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130 and "interrupted" in err, (proc.returncode, err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, culprit", [
    (["spheres", "train", "--lr", "nan"], "--lr"),
    (["spheres", "train", "--seed", "-1"], "--seed"),
    (["spheres", "train", "--model", "perpixel", "--hidden", "0"], "--hidden"),
    (["spheres", "train", "--batch-size", "0"], "--batch-size"),
    (["demo", "--seed", "-1"], "--seed"),
    (["demo", "--size", "100000"], "--size"),
])
def test_options_out_of_range_are_one_line(world, argv, culprit):
    rc, lines = run([*argv, *(["--out", str(fresh(world, "out"))] if argv[0] == "demo"
                              else [])])
    assert_refused(rc, lines, argv[0], culprit)


def test_hand_edited_light_model_weights_are_refused_naming_the_file(tmp_path, world):
    import torch

    from lambertian.learn.train_light import load_model, shipped_weights

    blob = torch.load(shipped_weights("faces"), map_location="cpu", weights_only=True)
    load_model(shipped_weights("faces"))
    for i, change in enumerate(({"size": [0, 0]}, {"size": [-4, 8]}, {"norm": ["a", "b"]},
                                {"norm": [float("nan"), 0.0]}, {"calibration": {"shift": "x"}},
                                {"size": None})):
        path = tmp_path / f"w{i}.pt"
        torch.save({**blob, **change}, path)
        with pytest.raises(InputError, match="not a valid light-model weights file"):
            load_model(path)
    rc, lines = run(["light-of-image", str(world["good"] / world["names"][0]), "--model",
                     str(path), "--out", str(tmp_path / "l.json")])
    assert_refused(rc, lines, "light-of-image", path)
