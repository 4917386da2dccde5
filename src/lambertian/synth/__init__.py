"""Synthetic scenes with ground truth: captures, spheres, meshes."""
