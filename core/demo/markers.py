"""How demo rows are recognised, so that ``replace=True`` deletes them and nothing else."""

from __future__ import annotations

DEMO_ACTOR = "demo-seed"  # audit_event.actor, job_run.triggered_by and domain_event.payload["origin"]
DEMO_EXTERNAL_ID_PREFIX = "demo-"  # therapist.external_id, whatever the therapist's source
DEMO_NOTE = "Synthetischer Demo-Datensatz."  # patient.notes starts with it; staff see the record is not real
DEMO_GEOCACHE_SOURCE = "demo"  # geocache.source
DEMO_MESSAGE_ID_PREFIX = "<demo-"  # inbound_mail.message_id of the mails the demo files (core.demo.inbound)
