"""This project's relighting model: photometric-stereo normals, a diffuse ratio and a
specular lobe with its own axis per pixel.

    I_c(l) = albedo_c * max(0, n . l) * max(0, 1 + r . b(l))
             + specular * max(0, m . h)^s * [n . l > 0]

with ``h = normalize(l + v)`` the half vector, ``v = (0, 0, 1)`` the orthographic view
direction (project frame: x right, y up, z toward the camera), ``s`` the Blinn-Phong
exponent and ``m`` the lobe's axis. The normal comes from a photometric-stereo solver
(:func:`lambertian.ps.get_solver`).

- The lobe is the light's colour (images are divided by the light's RGB intensities, so
  white): one strength for the three channels, the dichromatic reflection model (Shafer
  1985); the diffuse albedo carries the surface's colour.
- The lobe's axis ``m`` is either the normal or the "specular normal" where the pixel's
  highlight was seen: the centroid of the half vectors of the observations in the top
  half (:data:`AXIS_PEAK`) of what a Lambertian fit leaves. Mesostructure, and
  photometric-stereo normals biased by interreflections and shadows, put the highlight
  away from ``n``; a surface's specular and diffuse normals differ (Ma et al. 2007). The
  fit keeps, per pixel, whichever axis leaves the smaller residual; 2 numbers (``m`` is a
  unit vector toward the camera).
- With the axis and exponent fixed, the model is linear in ``(albedo_c, specular)``: a
  small non-negative least-squares problem in closed form for every exponent of the set
  :data:`SHININESS` and both axes; the best of them is kept.
- The diffuse ratio ``1 + r . b(l)`` is what a Lambertian surface with the pixel's normal
  does not explain and a real one shows: cast shadows (the visibility of the light),
  interreflections and a rough surface's departure from the cosine law scale the diffuse
  light by a factor that depends on the light direction only and varies slowly with it.
  It is the 6 terms of the PTM biquadratic ``b(l)`` (Malzbender et al. 2001,
  :func:`lambertian.relight.basis.ptm_basis`), shared by the colour channels (geometry,
  not colour), fitted by ridge least squares (:data:`RATIO_RIDGE`) of the lobe fit's
  residual, the lobe then refitted through it (:data:`RATIO_ROUNDS`), and clamped at zero
  when relit (a ratio of light received cannot be negative).

Numbers per pixel: normal 3, albedo C, specular 1, exponent 1, axis 2, ratio 6 (16 for
RGB).

References
----------
R. J. Woodham, "Photometric method for determining surface orientation from multiple
images", Optical Engineering 19(1), 1980 (the normals).
J. F. Blinn, "Models of light reflection for computer synthesized pictures", SIGGRAPH 1977
(the lobe).
S. A. Shafer, "Using color to separate reflection components", Color Research &
Application 10(4), 1985 (one specular colour, the light's).
W.-C. Ma, T. Hawkins, P. Peers, C.-F. Chabert, M. Weiss, P. Debevec, "Rapid Acquisition
of Specular and Diffuse Normal Maps from Polarized Spherical Gradient Illumination",
EGSR 2007 (specular normals apart from diffuse ones).
T. Malzbender, D. Gelb, H. Wolters, "Polynomial Texture Maps", SIGGRAPH 2001 (the basis
of the diffuse ratio).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from lambertian.core.errors import InputError
from lambertian.ps import DEFAULT_METHOD, get_solver
from lambertian.ps.inputs import check_inputs
from lambertian.ps.least_squares import pixel_chunks
from lambertian.relight.basis import ptm_basis
from lambertian.relight.model import RATIO_TERMS, RelightModel

#: Blinn-Phong exponents tried at every pixel: a log-spaced grid from a broad sheen to a
#: near-mirror highlight, fixed a priori (not tuned on any evaluation set).
SHININESS = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)

# A lobe counts as observed at a pixel when some usable observation sees at least this
# fraction of its peak; an exponent whose lobe no light samples near its peak would be
# extrapolated blindly (its strength is unconstrained), so it is not offered there.
LOBE_SEEN = 0.5

VIEW = np.array([0.0, 0.0, 1.0])

#: Pixels per block of the lobe fit: its candidate lobes are P x 2 E x K floats (19 MB at
#: 4096 pixels, 12 candidates, 96 lights), which stay near the CPU's caches; 65,536-pixel
#: blocks (the solvers' DEFAULT_CHUNK) made the fit 2-3x slower on the 612 x 512 frame.
LOBE_CHUNK = 4096

# The highlight's own axis: the centroid of the half vectors of the observations whose
# Lambertian-fit residual is at least this fraction of the pixel's largest (the top half
# of the highlight, the same half-peak notion as LOBE_SEEN; fixed a priori).
AXIS_PEAK = 0.5

# Ridge of the diffuse ratio's 6 x 6 normal equations, relative to their mean diagonal: a
# pixel whose lit observations leave a direction of the basis unobserved (few lights on
# its side, or in attached shadow for most) keeps that coefficient near 0 (ratio 1,
# Lambert) instead of extrapolating it. A fixed small value, a priori.
RATIO_RIDGE = 1e-3

#: Rounds of (lobe given the ratio, ratio given the lobe): the first fits the lobe beside
#: a Lambertian diffuse term, the second refits it beside the diffuse term seen through
#: the ratio.
RATIO_ROUNDS = 2


def saturated_observations(raw_images: np.ndarray, bit_depth: int) -> np.ndarray:
    """(K, H, W) bool: observations with a channel at the top code of their bit depth.

    ``raw_images`` are (K, H, W[, C]) values scaled to [0, 1] by the bit depth but not yet
    divided by the light intensities (``Capture.images``). Float files (32 bits) never
    saturate.
    """
    img = np.asarray(raw_images)
    if img.ndim == 3:
        img = img[..., None]
    if bit_depth >= 32:
        return np.zeros(img.shape[:3], bool)
    top = 1.0 - 0.5 / (2 ** bit_depth - 1)
    return (img >= top).any(axis=-1)


def half_vectors(lights: np.ndarray) -> np.ndarray:
    """(K, 3) unit half vectors between unit lights and the view direction (0, 0, 1)."""
    H = np.asarray(lights, dtype=np.float64) + VIEW
    return H / np.linalg.norm(H, axis=1, keepdims=True).clip(1e-12)


def _solve_pair(Sdd, Sdf, Sff, Sdi, Sfi, seen):
    """Least squares of ``I_c ~ a_c d + b f`` (one b for every channel) from its sums.

    Sdd, Sdf, Sff, seen : (P, E, 1); Sdi, Sfi : (P, E, C) (E candidate lobes). b and then
    the a_c are clamped at 0 (an active-set step); b is 0 where the lobe is not ``seen``.
    Returns a (P, E, C), b (P, E, 1) and the residual sum minus ``sum I^2`` (P, E).
    """
    c = Sdi.shape[-1]
    sdd = Sdd.clamp_min(1e-12)
    den = c * (Sff - Sdf * Sdf / sdd)  # the Schur complement of the a_c
    num = Sfi.sum(-1, keepdim=True) - Sdf * Sdi.sum(-1, keepdim=True) / sdd
    ok = seen & (den > 1e-6 * c * Sff.clamp_min(1e-30))
    b = torch.where(ok, num / torch.where(ok, den, torch.ones_like(den)),
                    torch.zeros_like(den)).clamp_min(0.0)
    a = ((Sdi - b * Sdf) / sdd).clamp_min(0.0)
    err = (a * a * Sdd + 2 * a * b * Sdf + b * b * Sff - 2 * a * Sdi - 2 * b * Sfi).sum(-1)
    return a, b, err


def _best_lobe(d, F, Sff, Sfi, seen, obs):
    """Per pixel, the candidate lobe whose (albedo, specular) fit leaves the smallest
    residual summed over the channels.

    d : (P, K) diffuse feature; F : (P, E, K) the candidate lobes; Sff (P, E, 1),
    Sfi (P, E, C), seen (P, E, 1): their sums; obs : (P, K, C).
    Returns a (P, C), b (P, 1) and the candidate's index (P,).
    """
    Sdd = (d * d).sum(1)[:, None, None]  # (P, 1, 1)
    Sdi = torch.bmm(d[:, None, :], obs)  # (P, 1, C)
    Sdf = (F * d[:, None, :]).sum(-1, keepdim=True)  # (P, E, 1); faster than bmm here
    a, b, err = _solve_pair(Sdd, Sdf, Sff, Sdi, Sfi, seen)
    j = err.argmin(1)  # the first of equals
    at = torch.arange(j.numel())
    return a[at, j], b[at, j], j


def _diffuse_ratio(d, f, a, b, obs, use, Bt, BBt):
    """Ridge least squares of ``obs - a d - b f ~ a d (r . B)`` per pixel: r (P, 6).

    d, f : (P, K) diffuse and lobe features (zero where unused); a : (P, C), b : (P, 1);
    obs : (P, K, C); use : (P, K) bool or None; Bt : (K, 6) basis, BBt : (K, 36) its
    outer products. Only channel sums enter, so nothing of size P K C is formed.
    """
    aa = (a * a).sum(1, keepdim=True)  # (P, 1)
    ab = (a * b).sum(1, keepdim=True)
    a_res = torch.bmm(obs, a[..., None])[..., 0] - aa * d - ab * f  # sum_c a_c res_c
    w2 = d * d * aa  # (P, K)
    if use is not None:
        w2 = w2 * use
    A = (w2 @ BBt).reshape(-1, RATIO_TERMS, RATIO_TERMS)
    rhs = (d * a_res) @ Bt  # (P, 6)
    ridge = RATIO_RIDGE * A.diagonal(dim1=1, dim2=2).mean(1).clamp_min(1e-12)
    A = A + ridge[:, None, None] * torch.eye(RATIO_TERMS)
    return torch.linalg.solve(A, rhs[..., None])[..., 0]


def _powers(x, exponents):
    """(P, A, K) values in [0, 1] -> (P, A, E, K) their powers. Integer exponents by
    repeated squaring (a few multiplications instead of one exp and log each, the fit's
    largest cost), others by exp(s log x)."""
    out = x.new_empty(x.shape[:2] + (len(exponents),) + x.shape[2:])
    squares = {1: x}
    for i, s in enumerate(exponents):
        if float(s).is_integer() and 1 <= s <= 1 << 16:
            e, bit, acc = int(s), 1, None
            while bit <= e:
                if bit not in squares:
                    squares[bit] = squares[bit >> 1] * squares[bit >> 1]
                if e & bit:
                    acc = squares[bit] if acc is None else acc * squares[bit]
                bit <<= 1
            out[:, :, i] = acc
        else:
            out[:, :, i] = torch.exp(s * torch.log(x.clamp_min(1e-30))) * (x > 0)
    return out


def _highlight_axis(n, d, lit, obs, Ht):
    """(P, 3) unit axis of each pixel's highlight: the centroid of the half vectors of the
    observations in the top :data:`AXIS_PEAK` of the Lambertian fit's grey residual; the
    normal where nothing is left above the Lambertian fit."""
    a0 = torch.bmm(d[:, None, :], obs)[:, 0] / (d * d).sum(1, keepdim=True).clamp_min(1e-12)
    e = (obs - a0.clamp_min(0.0)[:, None, :] * d[..., None]).mean(-1)  # (P, K)
    e = torch.where(lit, e, torch.zeros_like(e))
    top = e.amax(1, keepdim=True)
    ax = (e - AXIS_PEAK * top).clamp_min(0.0) @ Ht  # (P, 3)
    norm = ax.norm(dim=1, keepdim=True)
    return torch.where((norm > 1e-9) & (top > 0), ax / norm.clamp_min(1e-12), n)


def fit_lobe(images: np.ndarray, lights: np.ndarray, mask: np.ndarray | None = None, *,
             method: str = DEFAULT_METHOD, normals: np.ndarray | None = None,
             valid: np.ndarray | None = None,
             shininess: tuple[float, ...] = SHININESS, chunk: int = LOBE_CHUNK,
             source: str = "images", progress: bool = False) -> RelightModel:
    """Fit normals, albedo and a Blinn-Phong lobe per pixel (this project's model).

    Parameters
    ----------
    images : (K, H, W) or (K, H, W, C) linear images divided by the light intensities.
    lights : (K, 3) light directions, project frame (normalised here; coplanar sets are
        an InputError).
    mask : (H, W) bool pixels to fit (all when None).
    method : photometric-stereo solver for the normals (one of ``lambertian.ps.METHODS``), ignored
        when ``normals`` is given.
    normals : optional (H, W, 3) unit normals to use instead of solving for them.
    valid : optional (K, H, W) bool, the observations the lobe fit may use; pass
        ``~saturated_observations(raw)`` so that clipped highlights, whose true value is
        unknown (censored), do not pull the lobe down. All are used when None.
    shininess : Blinn-Phong exponents to choose from per pixel.
    chunk : pixels per block (memory about 2 E K chunk floats; :data:`LOBE_CHUNK`).
    source : name used in error messages.
    progress : progress bars on stderr.

    Returns
    -------
    RelightModel of kind ``ours``: normals (H, W, 3), albedo and specular (H, W, C),
    shininess (H, W), ratio (H, W, 6), zeros outside the mask.
    """
    t0 = time.perf_counter()
    img, L, m = check_inputs(images, lights, mask, source)
    k, h, w, c = img.shape
    if normals is None:
        normals = get_solver(method)(img, L, m, source=source, progress=progress).normals
        info_method = method
    else:
        info_method = "given normals"
    t_ps = time.perf_counter() - t0
    N = np.asarray(normals, np.float32).reshape(-1, 3)
    idx = np.flatnonzero(m.ravel())
    obs_all = img.reshape(k, h * w, c)
    if valid is not None:
        if np.shape(valid) != (k, h, w):
            raise InputError(source, f"valid must be {k} x {h} x {w} like the images, got "
                                     f"{np.shape(valid)}")
        valid_all = np.asarray(valid, bool).reshape(k, h * w)
    Lt = torch.from_numpy(L.astype(np.float32))
    Ht = torch.from_numpy(half_vectors(L).astype(np.float32))
    exps = torch.tensor(shininess, dtype=torch.float32)
    albedo = np.zeros((h * w, c), np.float32)
    spec = np.zeros((h * w, 1), np.float32)
    shin = np.zeros(h * w, np.float32)
    axis = np.zeros((h * w, 3), np.float32)
    ratio = np.zeros((h * w, RATIO_TERMS), np.float32)
    Bt = torch.from_numpy(ptm_basis(L).astype(np.float32))  # (K, 6)
    BBt = (Bt[:, :, None] * Bt[:, None, :]).reshape(k, -1)  # (K, 36)
    ne = len(shininess)
    for sl in pixel_chunks(idx.size, chunk, progress, "specular lobe"):
        pix = idx[sl]
        n = torch.from_numpy(N[pix])
        obs = torch.from_numpy(np.ascontiguousarray(obs_all[:, pix, :].transpose(1, 0, 2)))
        nl = n @ Lt.T  # (P, K)
        d = nl.clamp_min(0.0)
        lit = nl > 0
        if valid is not None:
            # A censored observation drops out of every sum: zero its features and value.
            use = torch.from_numpy(np.ascontiguousarray(valid_all[:, pix].T))
            d = torch.where(use, d, torch.zeros_like(d))
            lit = lit & use
            obs = obs * use[..., None]
        # Candidate lobes: every exponent about the normal, then about the highlight's
        # axis; with the sums that do not change between the rounds.
        axes = torch.stack([n, _highlight_axis(n, d, lit, obs, Ht)], 1)  # (P, 2, 3)
        nh = torch.where(lit[:, None, :], (axes @ Ht.T).clamp_min(0.0), torch.zeros(()))
        F = _powers(nh, shininess).flatten(1, 2)  # (P, 2 E, K), zero where unlit
        Sff = (F * F).sum(-1, keepdim=True)  # (P, 2 E, 1)
        Sfi = torch.bmm(F, obs)  # (P, 2 E, C)
        seen = F.amax(-1, keepdim=True) >= LOBE_SEEN
        keep = use if valid is not None else None
        r = torch.zeros(pix.size, RATIO_TERMS)
        for _ in range(RATIO_ROUNDS):
            # The lobe beside the diffuse term seen through the current ratio, then the
            # ratio from what that fit leaves: obs - b f - a d ~ a d (r . b(l)).
            dr = d * (1.0 + r @ Bt.T).clamp_min(0.0)
            a, b, j = _best_lobe(dr, F, Sff, Sfi, seen, obs)
            f = F[torch.arange(pix.size), j]  # (P, K)
            r = _diffuse_ratio(d, f, a, b, obs, keep, Bt, BBt)
        albedo[pix] = a.numpy()
        spec[pix] = b.numpy()
        shin[pix] = exps[j % ne].numpy()
        axis[pix] = axes[torch.arange(pix.size), j // ne].numpy()
        ratio[pix] = r.numpy()
    Nout = np.zeros((h * w, 3), np.float32)
    Nout[idx] = N[idx]
    return RelightModel("ours", m, normals=Nout.reshape(h, w, 3),
                        albedo=albedo.reshape(h, w, c), specular=spec.reshape(h, w, 1),
                        shininess=shin.reshape(h, w), axis=axis.reshape(h, w, 3),
                        ratio=ratio.reshape(h, w, RATIO_TERMS),
                        info={"method": f"normals ({info_method}) + diffuse ratio + "
                                        "Blinn-Phong lobe about its own axis",
                              "shininess_set": list(shininess),
                              "seconds_normals": t_ps,
                              "seconds": time.perf_counter() - t0})
