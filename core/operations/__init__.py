"""Scheduled jobs: registry, runner with advisory locks, and the job_run record."""
