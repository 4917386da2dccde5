"""integrate: Ctrl-C inside the compiled bilateral kernel, and intrinsics that pass the
shape checks but hold implausible numbers (docs/robustness.md)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from lambertian.cli.main import main
from lambertian.integrate import _stencil

# the module (lambertian.integrate.bilateral, the attribute, is the function)
bilateral_module = importlib.import_module("lambertian.integrate.bilateral")

SIZE = 32


def _sphere_normals() -> np.ndarray:
    """(SIZE, SIZE, 3) normals of a hemisphere, zeros outside its disc."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    x, y = (xx - SIZE / 2) / (0.45 * SIZE), -(yy - SIZE / 2) / (0.45 * SIZE)
    d = x * x + y * y < 0.9
    n = np.zeros((SIZE, SIZE, 3))
    n[d, 0], n[d, 1] = x[d], y[d]
    n[d, 2] = np.sqrt(1 - x[d] ** 2 - y[d] ** 2)
    return n


def _interrupted_kernel(*args):
    """What numba's dispatcher raises when SIGINT/SIGTERM lands while the kernel runs: the
    handler's KeyboardInterrupt, set while a result is returned, wrapped by CPython."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        raise SystemError("CPUDispatcher(<function _stencil_pcg_source>) returned a result "
                          "with an exception set") from exc


def _broken_kernel(*args):
    raise SystemError("some other internal error")


def _stencil_matrix() -> _stencil.StencilMatrix:
    m = np.ones((3, 4), bool)
    p = int(m.sum())
    st = _stencil.make_stencil(m, np.ones(p), np.ones(p), np.zeros(p), np.zeros(p))
    mat = _stencil.StencilMatrix(st)
    diag, right, down, _ = _stencil.assemble(st, np.full(p, 0.5), np.full(p, 0.5))
    mat.set(diag + 1.0, right, down)
    return mat


# ------------------------------------------------------------- Ctrl-C in the kernel

def test_interrupt_inside_the_compiled_kernel_is_a_keyboard_interrupt(monkeypatch):
    monkeypatch.setattr(_stencil, "compiled_pcg", lambda: _interrupted_kernel)
    mat = _stencil_matrix()
    with pytest.raises(KeyboardInterrupt):
        _stencil.jacobi_pcg(mat, np.ones(mat.P), np.zeros(mat.P), 1e-3, 10, "numba")


def test_other_system_errors_of_the_kernel_pass_unchanged(monkeypatch):
    monkeypatch.setattr(_stencil, "compiled_pcg", lambda: _broken_kernel)
    mat = _stencil_matrix()
    with pytest.raises(SystemError, match="some other internal error"):
        _stencil.jacobi_pcg(mat, np.ones(mat.P), np.zeros(mat.P), 1e-3, 10, "numba")


def test_integrate_interrupted_in_the_kernel_exits_130_and_writes_nothing(
        monkeypatch, tmp_path, capsys):
    # the bilateral integrator (the default) picks its backend through compiled_pcg too
    monkeypatch.setattr(_stencil, "compiled_pcg", lambda: _interrupted_kernel)
    monkeypatch.setattr(bilateral_module, "compiled_pcg", lambda: _interrupted_kernel)
    np.save(tmp_path / "n.npy", _sphere_normals())
    out = tmp_path / "out"
    assert main(["integrate", str(tmp_path / "n.npy"), "--out", str(out)]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["lambertian integrate: interrupted"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.npy"]  # no OUT, no temporary


# ------------------------------------------------------------- implausible intrinsics

@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("K, problem", [
    ([[50, 0, 1e300], [0, 50, 32], [0, 0, 1]], "principal point"),
    ([[50, 0, 32], [0, 50, -2e9], [0, 0, 1]], "principal point"),
    ([[1e300, 0, 32], [0, 1e300, 32], [0, 0, 1]], "focal lengths"),
    ([[1e-300, 0, 32], [0, 1e-300, 32], [0, 0, 1]], "focal lengths"),
    ([[1e9, 0, 32], [0, 1e-3, 32], [0, 0, 1]], "aspect ratio"),
])
def test_integrate_refuses_implausible_intrinsics_with_one_line(tmp_path, capsys, K, problem):
    np.save(tmp_path / "n.npy", _sphere_normals())
    np.savetxt(tmp_path / "K.txt", np.asarray(K, float))
    out = tmp_path / "out"
    assert main(["integrate", str(tmp_path / "n.npy"), "--camera", str(tmp_path / "K.txt"),
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # no RuntimeWarning lines before it
    assert err[0].startswith(f"lambertian integrate: error: {tmp_path / 'K.txt'}: ")
    assert problem in err[0] and "unexpected" not in err[0]
    assert not out.exists()


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("K", [
    [[1e9, 0, 1e9], [0, 1e9, -1e9], [0, 0, 1]],  # the bounds themselves are accepted
    [[1e-3, 0, 32], [0, 1e-3, 32], [0, 0, 1]],
    [[1e3, 0, 1e9], [0, 1.0, -1e9], [0, 0, 1]],
])
def test_integrate_takes_extreme_but_plausible_intrinsics_without_warnings(tmp_path, capsys,
                                                                           K):
    np.save(tmp_path / "n.npy", _sphere_normals())
    np.savetxt(tmp_path / "K.txt", np.asarray(K, float))
    assert main(["integrate", str(tmp_path / "n.npy"), "--camera", str(tmp_path / "K.txt"),
                 "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err.replace("\r", "\n")
    assert not [ln for ln in err.splitlines() if ln.startswith(("warning", "lambertian"))]
    d = np.load(tmp_path / "out" / "depth.npy")
    assert np.isfinite(d[np.linalg.norm(_sphere_normals(), axis=-1) > 0]).all()
