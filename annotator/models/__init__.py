from .actions import ActionKind, AnnotationAction  # noqa: F401 (the undo log, issue 3)
from .documents import (
    NO_DUE,
    AnnotationSet,
    AnnotationStatus,
    AssignmentCount,
    Document,
    Relation,
    Span,
)
from .grading import SetReopening
from .jobs import (
    AgreementChunk,
    AgreementDocumentRank,
    AgreementRun,
    ExportJob,
    ExportScope,
    ImportJob,
    JobStatus,
)
from .projects import Membership, Project, RelationType, Role, SpanLabel
from .security import LoginFailure, WebSession
from .suggestions import (
    DismissedSuggestion,
    SuggestionAudience,
    SuggestionModel,
    SuggestionSettings,
)
from .users import User

__all__ = [
    "NO_DUE",
    "AgreementChunk",
    "AgreementDocumentRank",
    "AgreementRun",
    "AnnotationSet",
    "AnnotationStatus",
    "AssignmentCount",
    "DismissedSuggestion",
    "Document",
    "ExportJob",
    "ExportScope",
    "ImportJob",
    "JobStatus",
    "LoginFailure",
    "Membership",
    "Project",
    "Relation",
    "RelationType",
    "Role",
    "SetReopening",
    "Span",
    "SpanLabel",
    "SuggestionAudience",
    "SuggestionModel",
    "SuggestionSettings",
    "User",
    "WebSession",
]
