"""One exception hierarchy whose messages a tired human can act on."""


class SeawallError(Exception):
    """An error whose message is fit to show to a person as-is."""


class ConfigError(SeawallError):
    """Configuration is missing or invalid; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class StoreUnavailable(SeawallError):
    """Redis could not be reached: the caller should ask the sender to retry."""


class ExternalServiceError(SeawallError):
    """A call to Alertmanager, Sentry or Slack failed; nothing was changed there."""
