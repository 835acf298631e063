"""What a plan is made of: the optimiser's inputs as the loader reads them, and their digest."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from webapp.services.planning.decompose import Part
from webapp.services.planning.optimiser_model import (
    EngineerIn,
    PlanSettings,
    RequirementIn,
    WorkshopIn,
)


@dataclass(frozen=True)
class PlanInputs:
    engineers: tuple[EngineerIn, ...]
    workshops: tuple[WorkshopIn, ...]
    requirements: tuple[RequirementIn, ...]
    level_names: Mapping[int, str]
    # engineer -> workshops accepted from an earlier plan, not passed yet (counted as taken)
    accepted: Mapping[int, frozenset[int]] = field(default_factory=dict)
    # For the whole organisation: each team's engineers and its projects' requirements, so the
    # plan can be made in parts (see decompose); empty for a team's own plan.
    parts: tuple[Part, ...] = ()
    # engineer -> (due date, hours) of those accepted workshops: learning time already promised
    committed: Mapping[int, tuple[tuple[date, float], ...]] = field(default_factory=dict)

    def digest(self, settings: PlanSettings) -> str:
        """A stable fingerprint of everything the plan depends on (the data version)."""
        accepted = sorted((e, sorted(ws)) for e, ws in self.accepted.items())
        committed = sorted(self.committed.items())
        text = repr(
            (self.engineers, self.workshops, self.requirements, accepted, committed, settings)
        )
        return hashlib.sha256(text.encode()).hexdigest()
