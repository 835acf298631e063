"""The data model, one module per aggregate; importing this registers every table."""

from webapp.models.catalog import (
    CatalogSync,
    Difficulty,
    Exercise,
    ExerciseKind,
    Notebook,
    NotebookVersion,
    Workshop,
    WorkshopPrerequisite,
    WorkshopSkill,
    WorkshopSkillPrerequisite,
)
from webapp.models.grading import (
    Draft,
    ExerciseResult,
    ResultStatus,
    Submission,
    SubmissionMode,
    SubmissionStatus,
    WorkshopProgress,
)
from webapp.models.live import LiveKernel
from webapp.models.people import ApiToken, AuditEvent, Role, Team, TeamMembership, User
from webapp.models.skills import (
    EvidenceSource,
    ProficiencyLevel,
    RoleProfile,
    RoleProfileSkill,
    Skill,
    SkillCategory,
    SkillEvidence,
)
from webapp.models.staffing import Project, ProjectAssignment, ProjectRequirement, ProjectStatus

__all__ = [
    "ApiToken",
    "AuditEvent",
    "CatalogSync",
    "Difficulty",
    "Draft",
    "EvidenceSource",
    "Exercise",
    "ExerciseKind",
    "ExerciseResult",
    "LiveKernel",
    "Notebook",
    "NotebookVersion",
    "ProficiencyLevel",
    "Project",
    "ProjectAssignment",
    "ProjectRequirement",
    "ProjectStatus",
    "ResultStatus",
    "Role",
    "RoleProfile",
    "RoleProfileSkill",
    "Skill",
    "SkillCategory",
    "SkillEvidence",
    "Submission",
    "SubmissionMode",
    "SubmissionStatus",
    "Team",
    "TeamMembership",
    "User",
    "Workshop",
    "WorkshopPrerequisite",
    "WorkshopProgress",
    "WorkshopSkill",
    "WorkshopSkillPrerequisite",
]
