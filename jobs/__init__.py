"""Batch jobs: one module per job, run as ``python -m jobs.<name> [--dry-run] ...``."""
