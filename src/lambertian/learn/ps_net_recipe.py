"""The recipe of the shipped photometric-stereo network weights (``ps_net.pt``).

``lambertian train-ps-net`` with no options trains exactly this, on one thread.
"""

RECIPE = {"steps": 25000, "batch": 512, "seed": 0, "lr": 1e-3, "width": 32, "blocks": 2}
