"""Named rule violations. Each message says, in plain words, which rule was broken."""


class DomainError(Exception):
    """A command broke a rule of the supervision domain; nothing was recorded."""


class InvalidFieldError(DomainError):
    """A field is missing or malformed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DeadlineBeforeIssueError(InvalidFieldError):
    def __init__(self) -> None:
        super().__init__("deadline", "the deadline is before the issue date")


class MissingDeadlineError(InvalidFieldError):
    def __init__(self, source_kind: str) -> None:
        super().__init__(
            "deadline",
            f"a deadline is required for source kind '{source_kind}' "
            "(only a leader's instruction gets the 30-working-day default)",
        )


class ItemClosedError(DomainError):
    def __init__(self) -> None:
        super().__init__("the item is closed; reopen it first")


class AlreadyAcknowledgedError(DomainError):
    def __init__(self) -> None:
        super().__init__("the item has already been acknowledged")


class NotAcknowledgedError(DomainError):
    def __init__(self) -> None:
        super().__init__("the item must be acknowledged before reports are made")


class NotOpenForReportsError(DomainError):
    def __init__(self, status: str) -> None:
        super().__init__(f"reports are not accepted while the item is {status}")


class NoCompletionPendingError(DomainError):
    def __init__(self) -> None:
        super().__init__("no completion report is waiting for review")


class NotAssigningOfficeError(DomainError):
    def __init__(self, decision: str, assigning_office: str) -> None:
        super().__init__(f"only the assigning office '{assigning_office}' may {decision}")
        self.assigning_office = assigning_office


class InvalidAssignmentError(DomainError):
    """An assignment names no lead, two leads, the same assignee twice, or itself."""


class AssignmentDeadlineError(DomainError):
    def __init__(self) -> None:
        super().__init__("an assignment's deadline may not be later than the item's deadline")


class CompletionAlreadyAcceptedError(DomainError):
    def __init__(self) -> None:
        super().__init__("the completion has already been accepted")


class ExtensionAfterDeadlineError(DomainError):
    def __init__(self, deadline: object) -> None:
        super().__init__(f"an extension must be requested on or before the deadline ({deadline})")


class ExtensionNotLaterError(DomainError):
    def __init__(self, deadline: object) -> None:
        super().__init__(f"the new deadline must be later than the current one ({deadline})")


class ExtensionPendingError(DomainError):
    def __init__(self) -> None:
        super().__init__("an extension request is already waiting for a decision")


class NoExtensionPendingError(DomainError):
    def __init__(self) -> None:
        super().__init__("no extension request is waiting for a decision")


class RectificationStateError(DomainError):
    """Rectification goes ordered → reported → accepted, one step at a time."""


class CloseNotAllowedError(DomainError):
    """Closing needs an accepted completion, or a leader's explicit closure with a reason."""


class NotClosedError(DomainError):
    def __init__(self) -> None:
        super().__init__("only a closed item can be reopened")


class PublicationStateError(DomainError):
    """Publishing what is published, or unpublishing what is not."""


class OfficeRuleError(DomainError):
    """A rule of the office registry was broken."""
