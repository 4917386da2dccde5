"""Uncalibrated photometric stereo: light directions and relative intensities from the
images alone.

1. Robust rank-3 factorisation of the grey image stack (Hayakawa 1994), shadows and
   highlights left out (:mod:`lambertian.lights.factorisation`): the lights and
   pseudo-normals up to an unknown 3x3 matrix.
2. Integrability of the pseudo-normal field (Yuille & Snow 1997) reduces that matrix to
   the generalised bas-relief group (Belhumeur, Kriegman, Yuille 1999), solved in the
   whitened gauge so the answer does not depend on the factorisation's arbitrary basis
   (:mod:`lambertian.lights.integrability`).
3. The GBR parameters by minimising the entropy of the albedo distribution (Alldrin,
   Mallick, Kriegman 2007) (:mod:`lambertian.lights.albedo_entropy`) plus, with weight
   ``MAXIMA_WEIGHT``, the misalignment of normals and lights at the local diffuse
   reflectance maxima (Papadhimitri & Favaro 2013)
   (:mod:`lambertian.lights.diffuse_maxima`) and, in colour captures, with weight
   ``CHROMA_WEIGHT``, the spread of log albedo within groups of one chromaticity (one
   paint; :mod:`lambertian.lights.albedo_chromaticity`) and, in ``method="auto"``, with
   weight ``PRIOR_WEIGHT``, the angle between the lights and those of a learned LCNet-like
   prior (Chen et al., CVPR 2019; :mod:`lambertian.lights.light_prior`), checked by the
   specular highlights: at each highlight peak the normal should bisect the light and the
   viewer (Drbohlav & Chantler 2005) (:mod:`lambertian.lights.specular_cues`).
4. The convex/concave flip, which no shading or specular cue resolves, from the
   occluding boundary: there the normals point out of the silhouette.

5. (``method="network"``, and ``"auto"`` when the network contradicts steps 2-4 by
   more than ``AGREE_DEG``, twice its own error) the integrability step is skipped: the
   factorisation's full 3x3 ambiguity is chosen by projecting the lights of a learned
   LCNet-like prior (Chen et al., CVPR 2019; :mod:`lambertian.lights.light_net`, trained
   on synthetic objects only) onto the factorisation's family of light sets. Such results
   are always flagged ``resolved = False``: no physical cue confirms them.

What remains is reported, not hidden: one global scale of the intensities (and albedo),
and, when the highlights are too few to check the GBR or disagree with it, the GBR
itself (the result is then flagged ``resolved = False``, never silently presented as
calibrated).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.ndimage import binary_erosion

from lambertian.core.errors import InputError
from lambertian.core.light import LightSet
from lambertian.lights.albedo_chromaticity import group_spread_cost, paint_groups
from lambertian.lights.albedo_entropy import resolve_gbr_entropy, sample_rows
from lambertian.lights.diffuse_maxima import diffuse_maxima, maxima_cost
from lambertian.lights.factorisation import rank3_factorise
from lambertian.lights.gbr import apply_gbr, flip_convex_concave, unit
from lambertian.lights.integrability import integrable_basis
from lambertian.lights.light_net import load_light_net, network_guided_lights, predict_lights
from lambertian.lights.light_prior import light_prior_cost
from lambertian.lights.specular_cues import bisector_error_deg, highlight_peaks
from lambertian.ps.inputs import check_images, check_mask, to_grey

# Fewest images with a detected highlight for the specular GBR resolution (each gives
# two equations for three unknowns; a few more make the robust loss meaningful).
MIN_HIGHLIGHTS = 4
# Median bisector error (degrees) of the highlights at the entropy GBR above which the
# two cues disagree (a poor integrable basis, a wrong entropy minimum, or peaks that are
# not highlights): the result is flagged as unresolved.
MAX_BISECTOR_DEG = 10.0
# Weight of the diffuse-maxima cost (mean Cauchy misalignment per maximum) added to the
# albedo entropy (nats). Chosen on the selection data (UW psm, generated Lambertian and
# glossy captures; benchmarks/bench_uncalibrated.py --synthetic 6 --glossy 6): mean light
# error over them 6.60 deg with entropy alone, 5.91 / 5.73 / 6.50 with weights 0.05 / 0.1 /
# 0.2 (and worse at 0.3 and 1, where the maxima's pixel-level noise takes over). Not every
# capture gains: UW psm buddha went 2.2 -> 4.2 deg, DiLiGenT pot2 16.3 -> 19.1.
MAXIMA_WEIGHT = 0.1
# Weight of the chromaticity-group cue (mean 0.5 log robust variance of log albedo within
# groups of one chromaticity, nats) added to entropy + maxima in colour captures, and the
# number of groups. Chosen on the selection data (as MAXIMA_WEIGHT; mean light error of the
# four groups UW psm / generated / glossy 32 / glossy 12 8-bit): 5.72 deg without it
# (6.80 / 2.84 / 7.10 / 6.16); 4 groups: 5.60 / 5.41 / 5.57 with weights 0.15 / 0.25 / 0.4
# (0.25: 6.63 / 1.89 / 7.01 / 6.11); 3 groups: 5.65 / 5.53 / 5.68 / 5.87 with 0.1 / 0.25 /
# 0.5 / 1, 2 groups 5.74 at 0.25. The gain is mostly on the generated Lambertian captures
# (9 colour patches, 2.84 -> 1.89); UW psm gains 0.17 (buddha 4.2 -> 3.1, the rest within
# 0.2), the glossy ones 0.05-0.1. Replacing the entropy by this cue was worse (6.54 at
# weight 1). DiLiGenT (reported, never chosen on) went 8.24 -> 8.41 deg, every object
# 0.03-0.3 deg worse (ball 0.96, bear 5.55, reading 8.75, buddha 7.62, pot2 19.18).
CHROMA_WEIGHT = 0.25
CHROMA_GROUPS = 4
# Weight of the learned light prior (mean angle in radians between the GBR member's
# lights and the LCNet-like network's, :mod:`lambertian.lights.light_prior`) added to the
# GBR cost in ``method="auto"``. Chosen on the selection data as CHROMA_WEIGHT
# (experiments/uncalibrated_light_prior.py; mean light error of UW psm / generated /
# glossy 32 / glossy 12 8-bit): 5.41 deg without it (6.63 / 1.88 / 7.01 / 6.11); weights
# 0.15 / 0.3 / 0.5 / 1 / 3: 5.38 / 5.35 / 5.36 / 5.40 / 5.49 (0.3: 6.58 / 1.82 / 6.85 /
# 6.15), flat from 0.15 to 0.5, its middle taken. DiLiGenT (reported, never chosen on):
# 8.59 -> 8.26 deg, no object worse (ball 0.96, bear 5.55, reading 8.75 -> 8.25, buddha
# 7.62 -> 7.47, pot2 20.05 -> 19.05).
PRIOR_WEIGHT = 0.3
# Pixels used by the GBR search (``resolve_gbr_entropy``'s sample; the chromaticity cue is
# computed on the same ones).
GBR_SAMPLE = 20000
# Fewest images with a diffuse maximum for that cue to be used (each gives two equations
# for the three GBR parameters).
MIN_MAXIMA = 3
# Pixels need this many inlier observations for a reliable pseudo-normal.
MIN_INLIERS = 6
# Width in pixels of the band inside the silhouette used for the convex/concave choice.
BOUNDARY_BAND = 4
# Mean angle (degrees) between the entropy lights and the network's above which the
# physical path is taken to have failed (method="auto") and the network's lights are used:
# twice the network's own mean error on held-out synthetic objects (13.2 degrees,
# learn.uncalibrated_net.validate), so a disagreement the network's error alone explains
# never overrules the physical cues; a wrong convex/concave flip or a lost GBR (40-100
# degrees) does.
AGREE_DEG = 26.0
METHODS = ("auto", "entropy", "network")
# Second/third singular values of the stack below this share of the first: the images
# do not span three dimensions (flat object or degenerate lights).
RANK_RCOND = 1e-3


@dataclass(kw_only=True, eq=False)
class UncalibratedLights(LightSet):
    """Result of :func:`uncalibrated_lights`: a :class:`~lambertian.core.light.LightSet`
    plus what the factorisation found besides the lights.

    directions : (K, 3) unit light directions, project frame (NaN rows for images with
        no usable observation, e.g. black ones: their light is unknown, not guessed).
    intensities : (K,) relative intensities (mean 1 over the lit images: the global scale
        is unknown; NaN where the direction is).
    normals : (H, W, 3) unit normals of the factorisation in the same frame (zeros where
        unknown); albedo : (H, W) relative albedo.
    resolved : whether the GBR found by albedo entropy is confirmed by the highlights
        (else the lights are known only up to a GBR transformation).
    gbr : (mu, nu, lam) applied to the integrable basis.
    notes (also ``info``) : ambiguity statement, cues used, timings.
    """

    normals: np.ndarray
    albedo: np.ndarray
    resolved: bool
    gbr: tuple[float, float, float]
    method: str = "uncalibrated"

    @property
    def info(self) -> dict[str, Any]:
        """The ambiguity statement, cues used and timings (the set's ``notes``)."""
        return self.notes


def boundary_outward(mask: np.ndarray, band: int = BOUNDARY_BAND
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Pixels within ``band`` of the silhouette and their outward 2D directions in the
    project frame (x = column, y = -row), from the gradient of a smoothed mask."""
    from scipy.ndimage import gaussian_filter

    m = mask.astype(np.float64)
    sm = gaussian_filter(m, sigma=band)
    gr, gc = np.gradient(sm)
    inner = binary_erosion(mask, iterations=band)
    ring = mask & ~inner
    out = np.stack([-gc, gr], axis=-1)  # -grad points outward; y = -row flips the row part
    return ring, unit(out)


def _maps(b: np.ndarray, s: np.ndarray, m: np.ndarray, keep: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relative intensities (mean 1), and normal and albedo maps from pseudo-normals ``b``
    (P, 3) at the mask's pixels and lights ``s`` (K, 3); normals are zero outside ``keep``."""
    inten = np.linalg.norm(s, axis=1)
    lit = inten > 0  # an image with no usable observation (black) has no light
    scale = float(inten[lit].mean()) if lit.any() else 1.0
    normals = np.zeros((*m.shape, 3))
    albedo = np.zeros(m.shape)
    normals[m] = unit(b)
    albedo[m] = np.linalg.norm(b, axis=1) * scale
    normals[~keep] = 0.0
    return np.where(lit, inten / scale, np.nan), normals, albedo


def _directions(s: np.ndarray) -> np.ndarray:
    """Unit light directions (K, 3); NaN rows for images without a light (see _maps)."""
    d = unit(s)
    d[np.linalg.norm(s, axis=1) == 0] = np.nan
    return d


def uncalibrated_lights(images: np.ndarray, mask: np.ndarray | None = None, *,
                        method: str = "auto", sample: int = 20000, seed: int = 0,
                        weights: str | None = None,
                        source: str = "images") -> UncalibratedLights:
    """Light directions and relative intensities of K images of one object, lights
    unknown (see the module docstring for the method and references).

    Parameters
    ----------
    images : (K, H, W) or (K, H, W, C) linear images as captured (not divided by any
        intensity; colour is reduced to grey with the DiLiGenT weights).
    mask : (H, W) bool object pixels (all when None).
    method : ``"entropy"`` (integrability + albedo-entropy GBR, checked by highlights),
        ``"network"`` (the factorisation's full 3x3 ambiguity chosen by the learned light
        prior, :mod:`lambertian.lights.light_net`), or ``"auto"``: the entropy result,
        its GBR criterion with the network's lights as a weak prior term
        (``PRIOR_WEIGHT``), unless the network's lights contradict it (mean angle above
        ``AGREE_DEG``: the physical path failed) or the integrability step cannot be
        solved, then the network-guided one (flagged unresolved).
    weights : light-network weights file (the shipped ones when None).
    sample : pixels used to fit the lights in the factorisation (seeded sample).
    seed : seed of every random choice.
    source : name used in error messages.

    Returns
    -------
    UncalibratedLights (directions in the project frame: x right, y up, z toward the
    camera, pointing toward the lights).

    Raises
    ------
    InputError : fewer than 3 images, an empty or mismatched mask, or images that do not
        constrain three dimensions (flat or degenerate data), an unknown method.
    """
    if method not in METHODS:
        raise InputError(source, f"unknown uncalibrated method {method!r} "
                                 f"({', '.join(METHODS)})")
    t0 = time.perf_counter()
    img = check_images(images, source)
    k, h, w, _ = img.shape
    if k < 3:
        raise InputError(source, f"{k} image(s): uncalibrated estimation needs at least "
                                 "3 images")
    m = check_mask(mask, (h, w), source)
    grey = to_grey(img)
    I = grey[:, m].astype(np.float64)  # (K, P)
    if I.shape[1] < 100:
        raise InputError(source, f"only {I.shape[1]} object pixels: too few for "
                                 "uncalibrated estimation")
    sv = np.linalg.svd(I[:, :: max(1, I.shape[1] // 5000)], compute_uv=False)
    if sv[0] <= 0 or sv[2] < RANK_RCOND * sv[0]:
        raise InputError(source, "the images do not span three dimensions (dark, flat or "
                                 "degenerate data): lights are not identifiable")

    E, S, inliers = rank3_factorise(I, sample=sample, seed=seed)
    usable = usable_pixels(E, inliers)
    net_lights = None
    no_net = None
    if method in ("network", "auto"):
        try:
            net_lights = _network_lights(grey, m, S, weights, source)
        except InputError as err:  # no weights: "auto" falls back to the entropy cue
            if method == "network":
                raise
            no_net = str(err)
        if method == "network":
            return _network_result(E, S, m, usable, net_lights, t0)
    try:
        b0, s0, valid, gap = integrable_member(E, S, m, usable, source)
    except InputError as err:
        if net_lights is None:
            raise
        # "auto": the network's prior still answers where integrability cannot (a mask
        # too thin or broken for derivatives, a scene too flat); flagged unresolved
        out = _network_result(E, S, m, usable, net_lights, t0)
        out.info["integrability"] = str(err)
        return out
    t_fact = time.perf_counter() - t0

    # The GBR: albedo entropy (every pixel votes) with the diffuse maxima decides; the
    # specular highlights, an independent cue, only check it. Measured on DiLiGenT (see the
    # report): the peak normals of the factorisation are biased on broad lobes, the
    # entropy is not.
    maxima_pix, maxima_img = diffuse_maxima(E, S, b0, m, usable)
    b_use = b0[usable]
    pick = sample_rows(len(b_use), GBR_SAMPLE, seed)  # the search's sample, shared by the cues
    costs = []
    if len(maxima_img) >= MIN_MAXIMA:
        def maxima_term(p: np.ndarray) -> float:
            return MAXIMA_WEIGHT * maxima_cost(p, b0[maxima_pix], s0[maxima_img])
        costs.append(maxima_term)
    chroma_groups = 0
    if img.shape[-1] >= 2:  # colour: pixels of one chromaticity share one albedo
        labels = paint_groups(img[:, m].astype(np.float64), inliers, CHROMA_GROUPS,
                              seed=seed)[usable][pick]
        costs.append(group_spread_cost(b_use[pick], labels, CHROMA_WEIGHT))
        chroma_groups = int(len(np.unique(labels)))
    if net_lights is not None:  # "auto": the learned prior picks along flat directions
        costs.append(light_prior_cost(s0, net_lights[0], PRIOR_WEIGHT))
    extra = None
    if costs:
        def extra(p: np.ndarray) -> float:
            return sum(c(p) for c in costs)
    params, entropy = resolve_gbr_entropy(b_use[pick], s0, sample=GBR_SAMPLE, seed=seed,
                                          extra_cost=extra)
    peak, strength = highlight_peaks(I, E, S, usable)
    have = peak >= 0
    info: dict[str, Any] = {"method": "uncalibrated (factorisation + integrability + "
                                      "albedo-entropy GBR with diffuse maxima and, in "
                                      "colour, chromaticity groups" + (
                                          ", and weakly the learned light prior"
                                          if net_lights is not None else "") +
                                      ", checked by specular highlights)",
                            "highlights": int(have.sum()), "albedo_entropy": entropy,
                            "diffuse_maxima": (int(len(maxima_img))
                                               if len(maxima_img) >= MIN_MAXIMA else 0),
                            "chromaticity_groups": chroma_groups,
                            "light_prior_weight": PRIOR_WEIGHT if net_lights is not None
                            else 0.0}
    cues = ("albedo entropy (Alldrin et al. 2007)" + (
        ", diffuse maxima (Papadhimitri & Favaro 2013)" if info["diffuse_maxima"] else "") + (
        ", chromaticity groups (Klinker et al. 1990)" if chroma_groups else "") + (
        ", the learned light prior (Chen et al. 2019)" if net_lights is not None else ""))
    if not np.isfinite(entropy):
        params, resolved = np.array([0.0, 0.0, 1.0]), False
        ambiguity = ("GBR NOT resolved: no generalised bas-relief transformation keeps "
                     "every light in front of the object; lights and normals are known "
                     "only up to a GBR and a global scale")
    elif have.sum() >= MIN_HIGHLIGHTS:
        bis_err = float(np.median(bisector_error_deg(params, b0[peak[have]], s0[have])))
        resolved = bis_err <= MAX_BISECTOR_DEG
        info["bisector_median_deg"] = bis_err
        if resolved:
            ambiguity = (f"GBR resolved by {cues}, confirmed "
                         "by specular highlights (Drbohlav & Chantler 2005); convex/concave "
                         "by the occluding boundary; intensities and albedo share one "
                         "unknown global scale")
        else:
            ambiguity = (f"GBR NOT reliably resolved: the highlights disagree with the "
                         f"GBR of {cues} (median bisector error {bis_err:.1f} deg > "
                         f"{MAX_BISECTOR_DEG:g}); the lights may be off by a generalised "
                         "bas-relief transformation")
    else:
        resolved = False
        ambiguity = (f"GBR NOT confirmed: {cues} chose it but only "
                     f"{int(have.sum())} highlight(s) were found ({MIN_HIGHLIGHTS} needed "
                     "to check it); the lights may be off by a generalised bas-relief "
                     "transformation and a global scale")
    b, s = apply_gbr(params, b0, s0)

    ring, outward = boundary_outward(m)
    nb = np.zeros((h, w, 3))
    nb[m] = unit(b)
    sel = ring & valid
    flipped = False
    if sel.any() and np.mean(np.sum(nb[sel][:, :2] * outward[sel], axis=1)) < 0:
        b, s = flip_convex_concave(b, s)
        flipped = True

    inten, normals, albedo = _maps(b, s, m, m & valid)
    info.update({"ambiguity": ambiguity, "integrability_gap": gap,
                 "convex_concave_flipped": flipped,
                 "usable_pixels": int(usable.sum()), "pixels": int(m.sum()),
                 "factorisation_seconds": t_fact,
                 "seconds": time.perf_counter() - t0})
    result = UncalibratedLights(directions=_directions(s), intensities=inten, normals=normals,
                                albedo=albedo, resolved=resolved,
                                gbr=(float(params[0]), float(params[1]), float(params[2])),
                                notes=info)
    if net_lights is None:
        if no_net is not None:
            result.info["network"] = no_net
        return result
    agree = float(np.nanmean(np.degrees(np.arccos(np.clip(
        np.sum(result.directions * net_lights[0], axis=1), -1.0, 1.0)))))
    if agree <= AGREE_DEG:
        # the network does not contradict the physical cues: keep the entropy lights
        # (sharper than the network's projection where right); ``resolved`` still says
        # whether highlights confirmed them
        result.info["network_agreement_deg"] = agree
        result.info["method"] += "; the learned light prior does not contradict it"
        return result
    out = _network_result(E, S, m, usable, net_lights, t0)
    out.info["network_agreement_deg"] = agree
    out.info["entropy_resolved"] = resolved
    return out


def usable_pixels(E: np.ndarray, inliers: np.ndarray) -> np.ndarray:
    """(P,) bool pixels of the factorisation with a reliable pseudo-normal: enough inlier
    observations (``MIN_INLIERS``) and a non-zero fit."""
    return (inliers.sum(axis=0) >= MIN_INLIERS) & np.any(E != 0, axis=1)


def integrable_member(E: np.ndarray, S: np.ndarray, mask: np.ndarray, usable: np.ndarray,
                      source: str = "images"
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Step 2: the factorisation (``E`` (P, 3) over the mask's pixels, ``S`` (K, 3)) moved
    to an integrable basis. Returns pseudo-normals b0 (P, 3) and lights s0 (K, 3) (one GBR
    away from the truth; normals facing the camera), the (H, W) bool pixels used, and the
    integrability gap (see :func:`integrable_basis`)."""
    h, w = mask.shape
    grid = np.zeros((h, w, 3))
    grid[mask] = E
    valid = np.zeros((h, w), bool)
    valid[mask] = usable
    P, gap = integrable_basis(grid, valid, source)
    b0 = E @ P.T
    s0 = S @ np.linalg.inv(P)
    if np.median(b0[usable, 2]) < 0:  # a common sign: normals face the camera
        b0, s0 = -b0, -s0
    return b0, s0, valid, gap


def _network_lights(grey: np.ndarray, m: np.ndarray, S: np.ndarray, weights: str | None,
                    source: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The network's directions (K, 3) and intensities (K,), and the factorisation's
    member closest to them: X (3, 3) with ``L = S X`` and the (K,) residual angles."""
    net = load_light_net(weights)
    d, e = predict_lights(grey, m, net)
    X, resid = network_guided_lights(S, d, e)
    return d, e, X, resid


def _network_result(E: np.ndarray, S: np.ndarray, m: np.ndarray, usable: np.ndarray,
                    net_lights: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                    t0: float) -> UncalibratedLights:
    """Lights ``S X`` and pseudo-normals ``E X^-T`` of the network-guided member."""
    _, _, X, resid = net_lights
    s = S @ X
    b = E @ np.linalg.inv(X).T
    h, w = m.shape
    keep = np.zeros((h, w), bool)
    keep[m] = usable
    inten, normals, albedo = _maps(b, s, m, keep)
    info = {"method": "uncalibrated (factorisation; its 3x3 ambiguity chosen by a learned "
                      "light prior, LCNet-like, trained on synthetic objects)",
            "ambiguity": ("lights NOT resolved by a physical cue: the factorisation's 3x3 "
                          "ambiguity was chosen by a network trained on synthetic objects, "
                          "which can be off by tens of degrees on real ones; intensities and "
                          "albedo share one unknown global scale"),
            "network_residual_median_deg": float(np.median(resid)),
            "usable_pixels": int(usable.sum()), "pixels": int(m.sum()),
            "seconds": time.perf_counter() - t0}
    return UncalibratedLights(directions=_directions(s), intensities=inten, normals=normals,
                              albedo=albedo, resolved=False, gbr=(0.0, 0.0, 1.0), notes=info)
