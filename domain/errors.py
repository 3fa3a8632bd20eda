"""Named rule violations. Each message says, in plain words, which rule was broken. May import: the
standard library only.
"""


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
    def __init__(self, decision: str, assigning_office: str, hint: str = "") -> None:
        message = f"only the assigning office '{assigning_office}' may {decision}"
        super().__init__(f"{message}; {hint}" if hint else message)
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


class ExtensionAssigneeRequiredError(DomainError):
    """Several subordinates' extension requests wait: a decision must name whose it is."""

    def __init__(self, waiting: list[str]) -> None:
        super().__init__(
            f"extension requests from {', '.join(waiting)} are waiting: "
            "name one with --assignee / assignee"
        )
        self.waiting = waiting


class ExtensionBeyondOwnDeadlineError(DomainError):
    """An extension granted to a subordinate may not pass the granting record's own deadline
    (as an assignment may not): the granting office must have its own deadline moved first."""

    def __init__(
        self, assignee: str, new_deadline: object, own_deadline: object, assigning_office: str
    ) -> None:
        way_out = (
            f"request an extension from your own assigning office '{assigning_office}' first"
            if assigning_office
            else "extend this item's own deadline first (request-extension on it, then "
            "grant-extension without an assignee)"
        )
        super().__init__(
            f"an extension granted to '{assignee}' may not move its deadline to {new_deadline}, "
            f"past this record's own deadline ({own_deadline}): grant a date on or before "
            f"{own_deadline}, or {way_out}"
        )
        self.own_deadline = own_deadline


class RectificationStateError(DomainError):
    """Rectification goes ordered → reported → accepted, one step at a time."""


class CloseNotAllowedError(DomainError):
    """Closing needs an accepted completion, or a leader's explicit closure with a reason."""


class NotClosedError(DomainError):
    def __init__(self) -> None:
        super().__init__("only a closed item can be reopened")


class TaskConcludedError(DomainError):
    """The task ended because the matter it serves was closed above it (结办)."""

    def __init__(self, closed_by: str) -> None:
        super().__init__(
            f"the task was concluded: the matter was closed by '{closed_by}'; "
            "nothing more can be done on it"
        )
        self.closed_by = closed_by


class NotConcludableError(DomainError):
    def __init__(self) -> None:
        super().__init__("only a task is concluded from above; an item is closed by its own office")


class PublicationStateError(DomainError):
    """Publishing what is published, or unpublishing what is not."""


class OfficeRuleError(DomainError):
    """A rule of the office registry was broken."""


class OfficeLevelError(OfficeRuleError):
    """An office's level does not sit below its parent's (a province under a county)."""
