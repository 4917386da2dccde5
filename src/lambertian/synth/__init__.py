"""Synthetic scenes with ground truth: captures, spheres, meshes, surfaces with depth jumps."""
