"""The match-model registry: trained versions, their artifacts and metrics, and which one scores (issue 12)."""
