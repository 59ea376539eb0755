from .actions import ActionKind, AnnotationAction  # noqa: F401 (the undo log, issue 3)
from .documents import AnnotationSet, AnnotationStatus, Document, Relation, Span
from .jobs import AgreementRun, ExportJob, ExportScope, JobStatus
from .projects import Membership, Project, RelationType, Role, SpanLabel
from .users import User

__all__ = [
    "AgreementRun",
    "AnnotationSet",
    "AnnotationStatus",
    "Document",
    "ExportJob",
    "ExportScope",
    "JobStatus",
    "Membership",
    "Project",
    "Relation",
    "RelationType",
    "Role",
    "Span",
    "SpanLabel",
    "User",
]
