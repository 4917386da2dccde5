"""lambertian: how was this scene lit, and what surface does the light reveal?

Layers (data flows down, nothing reaches up)::

    cli / bench / viz          user-facing: commands, benchmark tables, figures
    fit  learn                 optimisation
    ps  lights  integrate      estimators: normals/albedo, lights, depth
    render  synth              renderer; synthetic scenes
    io                         readers/writers of real formats
    core                       shading model, frames, metrics, errors

Frame everywhere: x right, y up, z toward the camera; light vectors point from the
surface toward the light (see :mod:`lambertian.core.frames`).
"""

__version__ = "0.1.0"
