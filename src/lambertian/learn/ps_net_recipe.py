"""The recipe of the shipped photometric-stereo network weights (``ps_net.pt``).

``lambertian train-ps-net`` with no options trains exactly this, on one thread, in three
stages: :data:`RECIPE` trains the set network and its regression head from scratch;
:data:`LSQ_STAGE` then adds the least-squares head (the per-observation weights,
:class:`lambertian.ps.net.PixelSetNet` with ``lsq_head``) and trains the whole network on
fresh batches (the next seed) at a lower learning rate; :data:`INTERFACE_STAGE` adds
Wolff's interface model to that head (``interface``) and trains only its per-pixel weight
(65 numbers; everything else stays as the second stage left it) on batches whose
dielectrics and paints carry the Fresnel transmittance of the incoming light
(``observation_batch(fresnel_diffuse=True)``; the seed after).
"""

# grooves: the share of generated pixels in a V-groove (light-dependent interreflection and
# the groove's own shadow; ``lambertian.synth.pixel_observations``), set a priori;
# glossy_grooves: their far wall also mirrors the light (specular interreflection), in
# every stage (docs/learned-ps.md, "Specular interreflection in the folds").
RECIPE = {"steps": 25000, "batch": 512, "seed": 0, "lr": 1e-3, "width": 32, "blocks": 2,
          "grooves": 0.3, "glossy_grooves": True}
LSQ_STAGE = {"steps": 4000, "lr": 3e-4}
# a single linear layer on a frozen network: a short run at a high learning rate
# (1500 steps at 1e-2 and 3000 at 3e-3 measured level: docs/learned-ps.md)
INTERFACE_STAGE = {"steps": 1500, "lr": 1e-2}
