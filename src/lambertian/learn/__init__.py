"""Learning: networks trained through a fixed Lambertian decoder (Deep Lambertian family)."""
