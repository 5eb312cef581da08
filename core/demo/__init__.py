"""Deterministic synthetic demo data: ``seed(session, therapists=3000, patients=300, seed=42, today=...)``."""

from core.demo.generate import generate
from core.demo.service import seed, validate_counts

__all__ = ["generate", "seed", "validate_counts"]
