"""The seed's Deep Lambertian spheres algorithm in NumPy: the peer of the spheres benchmark.

    python benchmarks/seed_spheres_numpy.py [--n-epochs 120] [--dtype float32]
                                            [--results-json run.json]

A clean-room reimplementation of the algorithm that the seed document 002 (Deep
Lambertian synthetic spheres) specifies for its NumPy script ``deep_lambertian_spheres.py``,
written from that document only, with NumPy alone (no torch import, so its memory and
start-up are what a NumPy script costs):

- data: 400 training spheres (seed 0) and 64 test spheres (seed 10000), 32 x 32 RGB,
  per-sphere albedo ``U(0, 1)^3``, 6 lights per sphere uniform on the unit sphere with
  ``l_z > 0.15``, sphere diameter 80% of the image side, ``I = albedo * max(0, n . l)``,
  no shadows beyond the clamp, no noise (drawn in the order albedo, lights from one
  ``default_rng(seed)``, so the images equal :func:`lambertian.synth.spheres.make_spheres`);
- encoder per silhouette pixel: ``[N RGB observations | N light directions]`` (6N) ->
  ``W1`` (192) + ReLU -> ``W2`` (5); albedo ``sigmoid(z[:3])``, ``n_xy = 0.985 tanh(z[3:5])``,
  ``n_z = sqrt(max(1 - |n_xy|^2, 1e-6))``; He-normal weights, zero biases;
- fixed Lambertian decoder with each sphere's own lights, reconstruction MSE over
  (B, K, 3), manual backpropagation (the ReLU mask at ``max(0, n . l)`` and the
  hemisphere parametrisation);
- minibatch SGD over shuffled pixels: batch 1024, lr 0.02 with momentum 0.9, cosine
  decay of the learning rate from 1.0 to 0.05 of its peak, 120 epochs;
- the test metrics after every epoch (the seed's training curves): mean and median
  normal angular error over the silhouette pixels of all test spheres, albedo MSE of the
  per-sphere mean of the predicted albedo, reconstruction MSE.

The seed does not state its floating-point type. float32 (the default here) is the faster
and so the stricter peer for a timing comparison; ``--dtype float64`` is NumPy's default.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

SHRINK = 0.985


def sphere(resolution: int = 32, fill: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) analytic normals (x right, y up, z to the camera) and the (H, W) mask."""
    c = (resolution - 1) / 2.0
    r = fill * resolution / 2.0
    yy, xx = np.mgrid[0:resolution, 0:resolution].astype(np.float64)
    x, y = (xx - c) / r, -(yy - c) / r
    mask = x * x + y * y < 1.0
    n = np.stack([x, y, np.sqrt(np.clip(1.0 - x * x - y * y, 0.0, None))], axis=-1)
    n[~mask] = 0.0
    return n, mask


def make_set(n_spheres: int, n_lights: int, seed: int, resolution: int = 32) -> dict:
    """Masked observations (S, P, K, 3), lights (S, K, 3), albedo (S, 3), normals (P, 3)."""
    rng = np.random.default_rng(seed)
    albedo = rng.uniform(0.0, 1.0, size=(n_spheres, 3))
    count = n_spheres * n_lights
    lights = np.empty((0, 3))
    while lights.shape[0] < count:  # uniform on the sphere, kept when l_z > 0.15
        v = rng.normal(size=(2 * count + 16, 3))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        lights = np.concatenate([lights, v[v[:, 2] > 0.15]])
    lights = lights[:count].reshape(n_spheres, n_lights, 3)
    normals, mask = sphere(resolution)
    n = normals[mask]  # (P, 3)
    shade = np.clip(np.einsum("pc,skc->spk", n, lights), 0.0, None)
    obs = albedo[:, None, None, :] * shade[..., None]  # (S, P, K, 3)
    return {"obs": obs, "lights": lights, "albedo": albedo, "normals": n}


class Net:
    """The per-pixel encoder with its decoder, forward and manual backward."""

    def __init__(self, n_lights: int, hidden: int, rng: np.random.Generator, dtype):
        d = 6 * n_lights
        self.p = {"W1": (rng.normal(size=(d, hidden)) * math.sqrt(2.0 / d)).astype(dtype),
                  "b1": np.zeros(hidden, dtype),
                  "W2": (rng.normal(size=(hidden, 5)) * math.sqrt(2.0 / hidden)).astype(dtype),
                  "b2": np.zeros(5, dtype)}

    def encode(self, x: np.ndarray):
        h = x @ self.p["W1"] + self.p["b1"]
        a1 = np.maximum(h, 0.0)
        z = a1 @ self.p["W2"] + self.p["b2"]
        alb = 1.0 / (1.0 + np.exp(-z[:, :3]))
        t = np.tanh(z[:, 3:5])
        nxy = SHRINK * t
        q = 1.0 - (nxy * nxy).sum(1)
        nz = np.sqrt(np.maximum(q, 1e-6))
        n = np.concatenate([nxy, nz[:, None]], axis=1)
        return alb, n, (h, a1, t, q, nz)

    def loss_and_grads(self, x: np.ndarray, obs: np.ndarray, L: np.ndarray):
        """x (B, 6K), obs (B, K, 3), L (B, K, 3) -> reconstruction MSE and gradients."""
        alb, n, (h, a1, t, q, nz) = self.encode(x)
        d = np.einsum("bc,bkc->bk", n, L)
        dc = np.maximum(d, 0.0)
        r = alb[:, None, :] * dc[..., None] - obs
        loss = float((r * r).mean())
        gr = (2.0 / r.size) * r
        g_alb = np.einsum("bkc,bk->bc", gr, dc)
        g_d = np.einsum("bkc,bc->bk", gr, alb) * (d > 0)
        g_n = np.einsum("bk,bkc->bc", g_d, L)
        dnz = np.where(q > 1e-6, -1.0 / nz, 0.0)[:, None] * (SHRINK * t)
        g_nxy = g_n[:, :2] + g_n[:, 2:3] * dnz
        gz = np.concatenate([g_alb * alb * (1.0 - alb), g_nxy * SHRINK * (1.0 - t * t)],
                            axis=1)
        g = {"W2": a1.T @ gz, "b2": gz.sum(0)}
        gh = (gz @ self.p["W2"].T) * (h > 0)
        g["W1"] = x.T @ gh
        g["b1"] = gh.sum(0)
        return loss, g


def features(obs: np.ndarray, L: np.ndarray) -> np.ndarray:
    b = obs.shape[0]
    return np.concatenate([obs.reshape(b, -1), L.reshape(b, -1)], axis=1)


def evaluate(net: Net, data: dict, dtype) -> dict:
    s, p, k, _ = data["obs"].shape
    obs = data["obs"].reshape(-1, k, 3).astype(dtype)
    L = np.broadcast_to(data["lights"][:, None], (s, p, k, 3)).reshape(-1, k, 3).astype(dtype)
    alb, n, _ = net.encode(features(obs, L))
    recon = alb[:, None, :] * np.maximum(np.einsum("bc,bkc->bk", n, L), 0.0)[..., None]
    gt = np.broadcast_to(data["normals"], (s, p, 3)).reshape(-1, 3)
    cos = (n.astype(np.float64) * gt).sum(1) / np.linalg.norm(n, axis=1)
    err = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    a = alb.reshape(s, p, 3).mean(1)
    return {"normal_angular_error_deg_mean": float(err.mean()),
            "normal_angular_error_deg_median": float(np.median(err)),
            "albedo_mse": float(((a - data["albedo"]) ** 2).mean()),
            "recon_mse": float(((recon - obs) ** 2).mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-spheres", type=int, default=400)
    ap.add_argument("--n-test-spheres", type=int, default=64)
    ap.add_argument("--n-lights-per-sphere", type=int, default=6)
    ap.add_argument("--n-epochs", type=int, default=120)
    ap.add_argument("--hidden", type=int, default=192)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--results-json", default=None)
    args = ap.parse_args()
    t0 = time.perf_counter()
    dtype = np.dtype(args.dtype)
    train = make_set(args.n_spheres, args.n_lights_per_sphere, args.seed)
    test = make_set(args.n_test_spheres, args.n_lights_per_sphere, 10000)
    s, p, k, _ = train["obs"].shape
    obs = train["obs"].reshape(-1, k, 3).astype(dtype)
    L = np.broadcast_to(train["lights"][:, None], (s, p, k, 3)).reshape(-1, k, 3).astype(dtype)
    X = features(obs, L)
    rng = np.random.default_rng(args.seed)
    net = Net(k, args.hidden, rng, dtype)
    vel = {name: np.zeros_like(v) for name, v in net.p.items()}
    steps = math.ceil(X.shape[0] / args.batch_size)
    total = args.n_epochs * steps
    history, step = [], 0
    for epoch in range(1, args.n_epochs + 1):
        perm = rng.permutation(X.shape[0])
        running = 0.0
        for i in range(steps):
            idx = perm[i * args.batch_size:(i + 1) * args.batch_size]
            lr = args.lr * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * step / total)))
            loss, g = net.loss_and_grads(X[idx], obs[idx], L[idx])
            for name, v in vel.items():  # SGD with momentum (PyTorch's form)
                v *= args.momentum
                v += g[name]
                net.p[name] -= lr * v
            running += loss * idx.size
            step += 1
        m = evaluate(net, test, dtype)
        history.append({"epoch": epoch, "train_recon_mse": running / X.shape[0], **m})
    final = history[-1]
    out = {"final_test": {k: v for k, v in final.items() if k not in ("epoch",
                                                                     "train_recon_mse")},
           "history": history, "args": vars(args),
           "wallclock_seconds": time.perf_counter() - t0}
    print(f"seed numpy ({args.dtype}): mean {final['normal_angular_error_deg_mean']:.2f} deg, "
          f"median {final['normal_angular_error_deg_median']:.2f} deg, albedo mse "
          f"{final['albedo_mse']:.4f}; {out['wallclock_seconds']:.1f} s")
    if args.results_json:
        with open(args.results_json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
