"""Errors of the services layer. Domain rule violations stay ``domain.errors.DomainError``."""


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
