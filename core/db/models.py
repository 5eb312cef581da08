"""Import every domain's models so that ``metadata`` holds the whole schema (for Alembic and tests)."""

from core.audit.models import AuditEvent
from core.auth.models import StaffUser
from core.communication.models import Email, PhoneCall
from core.db.base import Base
from core.events.models import DomainEvent
from core.geo.models import GeocacheEntry, Postcode
from core.matching.models import Inquiry, InquiryItem, Placement
from core.operations.models import JobRun
from core.patients.models import Consent, Patient, Search
from core.therapists.models import Practice, Therapist

metadata = Base.metadata

__all__ = [
    "AuditEvent",
    "Consent",
    "DomainEvent",
    "Email",
    "GeocacheEntry",
    "Inquiry",
    "InquiryItem",
    "JobRun",
    "Patient",
    "PhoneCall",
    "Placement",
    "Postcode",
    "Practice",
    "Search",
    "StaffUser",
    "Therapist",
    "metadata",
]
