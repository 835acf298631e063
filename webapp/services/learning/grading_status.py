"""What the admin's grading page shows: which sandbox works here, the queue, and recent failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from webapp.db import Session
from webapp.grading.sandbox import probe_backends
from webapp.models import Submission, SubmissionStatus, User


@dataclass(frozen=True)
class FailedAttempt:
    id: int
    engineer: str
    submitted_at: datetime
    error: str


@dataclass(frozen=True)
class GradingStatus:
    backends: dict[str, str]  # backend -> "ok" or why it does not work here
    allow_unsandboxed: bool
    counts: dict[str, int]  # submission status -> how many
    failures: tuple[FailedAttempt, ...]

    @property
    def sandboxed(self) -> bool:
        return any(result == "ok" for result in self.backends.values())


def grading_status(
    session: Session, *, kernel_python: str, allow_unsandboxed: bool
) -> GradingStatus:
    counts = dict.fromkeys((s.value for s in SubmissionStatus), 0)
    counts.update(
        session.execute(select(Submission.status, func.count()).group_by(Submission.status)).all()
    )
    failures = session.execute(
        select(Submission.id, User.display_name, Submission.submitted_at, Submission.error)
        .join(User, User.id == Submission.user_id)
        .where(Submission.status == SubmissionStatus.ERROR.value)
        .order_by(Submission.id.desc())
        .limit(20)
    )
    return GradingStatus(
        probe_backends(kernel_python),
        allow_unsandboxed,
        counts,
        tuple(FailedAttempt(i, n, t, e or "") for i, n, t, e in failures),
    )
