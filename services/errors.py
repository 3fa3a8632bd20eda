"""Errors of the services layer. Domain rule violations stay ``domain.errors.DomainError``. May
import: the domain's errors only.
"""

from domain.errors import DomainError


class ServiceError(Exception):
    """A request could not be carried out; nothing was recorded."""


class NotFoundError(ServiceError):
    """No such office or item (or, for isolation, one the caller may not see)."""


class AlreadyExistsError(ServiceError):
    """The thing to create exists already."""


class ConflictError(ServiceError):
    """Someone else changed the record first; reload and try again."""


class RegistryRuleError(ServiceError):
    """A rule of the office hierarchy was broken (parent, root, descendants)."""


class StoreUnavailableError(ServiceError):
    """A tenant's store is not provisioned or cannot be reached."""


class OfficeRetiredError(ServiceError, DomainError):
    """A command in a retired office (its records can still be read).

    Also a ``DomainError``: to the process manager, a decision relayed to a retired office's
    task no longer applies there, and is kept as a skipped relay."""

    def __init__(self, office: str) -> None:
        super().__init__(f"office '{office}' is retired")
        self.office = office
