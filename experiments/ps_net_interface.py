"""How the recipe's third stage was chosen: Wolff's interface model in the learned
solver's least-squares head (``PixelSetNet(interface=True)``), and which of its weights
to train.

The shipped network without its third stage is the second stage's network exactly (the
third trains nothing else), so this script takes it from the shipped file, trains the
variants below from it unless their files exist (one thread, batches with the
Fresnel-transmitted diffuse, ``observation_batch(fresnel_diffuse=True)``), and prints
the mean angular error (degrees) of each network, with its mean interface weight p on
the generated pixels:

- generated pixels of each family, with and without the transmittance (the 96 lights of
  DiLiGenT ball, seed 7);
- the demo's generated Lambertian capture (``lambertian demo``'s defaults: 128 x 128, 32
  lights, cast shadows, noise), UW psm gray and DiLiGenT ball / bear / reading, whole
  masks, as ``lambertian ps --method net`` runs.

The last column is the shipped network without the evaluation's choice between the
interface model and the bare Lambertian one (``PixelSetNet.interface_choice``).

    python experiments/ps_net_interface.py [--out DIR]

The Mitsuba captures: ``python benchmarks/bench_ps_mitsuba.py --no-lights --weights
DIR/second_stage.pt DIR/*.pt``. Measured (2026-12-05): docs/learned-ps.md, "Wolff's
interface in the least-squares head".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from lambertian.core.metrics import angular_error_deg
from lambertian.learn.ps_net_recipe import INTERFACE_STAGE, RECIPE
from lambertian.learn.ps_net_training import train_ps_net
from lambertian.ps import get_solver
from lambertian.ps.net import PixelSetNet, load_ps_net, save_ps_net, token_features
from lambertian.synth.pixel_observations import FAMILIES, observation_batch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ps_net_width import real_sets, selection_root  # noqa: E402

# name: (steps, lr, seed, parameters trained); the first is the recipe's third stage
VARIANTS = {
    "interface weight (shipped)": (INTERFACE_STAGE["steps"], INTERFACE_STAGE["lr"],
                                   RECIPE["seed"] + 2, "interface."),
    "interface and observation weights": (3000, 3e-3, RECIPE["seed"] + 2,
                                          ("interface.", "weigh.")),
    "the whole network": (1500, 3e-4, RECIPE["seed"] + 1, None),
}


def second_stage() -> PixelSetNet:
    """The shipped network without the interface model (the recipe's second stage)."""
    shipped = load_ps_net()
    cfg = {k: v for k, v in shipped.config.items() if k != "interface"}
    net = PixelSetNet(**cfg)
    net.load_state_dict({k: v for k, v in shipped.state_dict().items()
                         if not k.startswith("interface.")})
    return net.eval()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(".cache/ps_net_interface"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    root = selection_root()
    start = args.out / "second_stage.pt"
    files = {"second stage (no interface model)": start}
    save_ps_net(second_stage(), start)
    for i, (name, (steps, lr, seed, only)) in enumerate(VARIANTS.items()):
        files[name] = args.out / f"variant_{i}.pt"
        if not files[name].exists():
            train_ps_net(steps=steps, batch=RECIPE["batch"], seed=seed, lr=lr,
                         grooves=RECIPE["grooves"], fresnel_diffuse=True, lsq_head=True,
                         interface=True, train_only=only, init=start,
                         out=files[name], every=500)
    nets = {name: load_ps_net(f) for name, f in files.items()}
    unchosen = load_ps_net(files["interface weight (shipped)"])
    unchosen.interface_choice = False
    nets["shipped, without the choice"] = unchosen
    print("| data | " + " | ".join(nets) + " |")
    print("|---|" + "---|" * len(nets))
    L = np.loadtxt(root / "diligent/ball/light_directions.txt")
    L = torch.from_numpy(L / np.linalg.norm(L, axis=1, keepdims=True)).float()
    for fresnel in (True, False):
        for fam in FAMILIES:
            b = observation_batch(4000, len(L), torch.Generator().manual_seed(7), lights=L,
                                  family=fam, fresnel_diffuse=fresnel)
            cells = []
            for net in nets.values():
                with torch.no_grad():
                    out = net.branches(token_features(b.obs, b.lights))
                err = angular_error_deg(out["normal"].numpy(), b.normals.numpy()).mean()
                p = out.get("interface")
                cells.append(f"{err:.2f}" + ("" if p is None else f" (p {float(p.mean()):.2f})"))
            label = f"generated {fam}, {'with' if fresnel else 'without'} the transmittance"
            print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
    from lambertian.synth.capture import make_capture

    demo = make_capture()
    demo_set = ("demo capture (Lambertian)", demo.images / demo.intensities[:, None, None],
                demo.lights, demo.mask, demo.normals)
    for name, img, lights, m, gt in (demo_set, *real_sets(root)):
        errs = [float(angular_error_deg(get_solver("net")(img, lights, m, weights=net)
                                        .normals[m], gt[m]).mean()) for net in nets.values()]
        print(f"| {name} | " + " | ".join(f"{e:.2f}" for e in errs) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
