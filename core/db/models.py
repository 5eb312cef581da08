"""The one registry of mapped classes: importing this module imports every domain's models.

``metadata`` then holds the whole schema (Alembic, tests, foreign keys between domains resolve), and
``configure()`` sets the mappers up once. A process must do both before it works in threads: SQLAlchemy
configures all mappers on first use, and a thread that does so while another thread is still importing a
model module fails with "failed to locate a name", which breaks every mapper of the process for good.
``core.db.get_engine`` does both, so any process that reaches the database has every model mapped.
"""

from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import configure_mappers

from core.audit.models import AuditEvent
from core.auth.models import StaffUser
from core.communication.inbound_models import FailingAddress, InboundMail
from core.communication.models import Email, PhoneCall
from core.communication.selfservice_models import CapacityReport
from core.db.base import Base
from core.directory.models import DirectoryChange, DirectoryImport, DirectoryLayout, DirectoryListing, DirectoryReview
from core.drafts.models import FormDraft
from core.events.models import DomainEvent
from core.geo.models import GeocacheEntry, Postcode
from core.matching.models import Inquiry, InquiryItem, Placement
from core.models_registry.models import MatchModelVersion
from core.operations.models import JobRun
from core.patients.call_models import FollowUpTask, PatientCall
from core.patients.models import Consent, Patient, Search
from core.reports.models import SavedReport
from core.therapists.models import Practice, Therapist

metadata = Base.metadata

__all__ = [
    "AuditEvent",
    "CapacityReport",
    "Consent",
    "DirectoryChange",
    "DirectoryImport",
    "DirectoryLayout",
    "DirectoryListing",
    "DirectoryReview",
    "DomainEvent",
    "Email",
    "FailingAddress",
    "FollowUpTask",
    "FormDraft",
    "GeocacheEntry",
    "InboundMail",
    "Inquiry",
    "InquiryItem",
    "JobRun",
    "MatchModelVersion",
    "Patient",
    "PatientCall",
    "PhoneCall",
    "Placement",
    "Postcode",
    "Practice",
    "SavedReport",
    "Search",
    "StaffUser",
    "Therapist",
    "configure",
    "mapping_error",
    "metadata",
]


def configure() -> None:
    """Configure every mapper now (idempotent); raise InvalidRequestError naming a class that cannot be mapped."""
    configure_mappers()


def mapping_error() -> str | None:
    """Return why the mappers cannot be configured (the ORM of this process is unusable), or None if they can."""
    try:
        configure_mappers()
    except InvalidRequestError as exc:
        return str(exc)
    return None
