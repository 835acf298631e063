"""What a plan is made of: the optimiser's inputs as the loader reads them, and their digest."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

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

    def digest(self, settings: PlanSettings) -> str:
        """A stable fingerprint of everything the plan depends on (the data version)."""
        text = repr((self.engineers, self.workshops, self.requirements, settings))
        return hashlib.sha256(text.encode()).hexdigest()
