"""Benchmark suites behind ``lambertian bench``."""
