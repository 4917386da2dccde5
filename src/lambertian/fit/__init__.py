"""Inverse rendering: fit NMR lighting and the pose of a known mesh to a masked photo."""

from lambertian.fit.light import LightParams, MeshLightFit, fit_light
from lambertian.fit.pose import fit_pose

__all__ = ["LightParams", "MeshLightFit", "fit_light", "fit_pose"]
