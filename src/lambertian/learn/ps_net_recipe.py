"""The recipe of the shipped photometric-stereo network weights (``ps_net.pt``).

``lambertian train-ps-net`` with no options trains exactly this, on one thread, in two
stages: :data:`RECIPE` trains the set network and its regression head from scratch;
:data:`LSQ_STAGE` then adds the least-squares head (the per-observation weights,
:class:`lambertian.ps.net.PixelSetNet` with ``lsq_head``) and trains the whole network on
fresh batches (the next seed) at a lower learning rate.
"""

# grooves: the share of generated pixels in a V-groove (light-dependent interreflection and
# the groove's own shadow; ``lambertian.synth.pixel_observations``), set a priori.
RECIPE = {"steps": 25000, "batch": 512, "seed": 0, "lr": 1e-3, "width": 32, "blocks": 2,
          "grooves": 0.3}
LSQ_STAGE = {"steps": 4000, "lr": 3e-4}
