"""Validation of flow and environment files: the API the rest of syncer imports, in one place.

Every finding is a ``Problem`` that names the file, line and column and says what to do.

- ``check_flow`` / ``check_environment``: one loaded document (``document``);
- ``check_definition``: a tenant's definition checked as the file it would be in Git (``document``);
- ``check_repository`` / ``validate_repository``: the files of a GitOps repository, with cross-checks
  (flow keys and definition ids unique, environments agree with the flows' concealed constants)
  (``repository``);
- ``schema_problems``: the JSON Schema violations of a document, in the user's words (``schema``);
- ``parse_environment``: a validated environment document as ``model.Environment`` (``environment``).

The meaning checks of a care flow live in ``semantics`` and ``references``, on the shared machinery
of ``checker``.
"""

from __future__ import annotations

from .document import check_definition, check_environment, check_flow, check_rendered
from .environment import duration_seconds, parse_environment
from .repository import (
    RepositoryCheck,
    check_repository,
    cross_check_environment,
    is_flow_key,
    outside_problem,
    validate_repository,
)
from .schema import SchemaKind, schema_problems

__all__ = [
    "RepositoryCheck",
    "SchemaKind",
    "check_definition",
    "check_environment",
    "check_flow",
    "check_rendered",
    "check_repository",
    "cross_check_environment",
    "duration_seconds",
    "is_flow_key",
    "outside_problem",
    "parse_environment",
    "schema_problems",
    "validate_repository",
]
