"""One root exception, one subclass per seam, each with one meaning."""


class PlantwinError(Exception):
    """Root of every error plantwin raises on purpose."""


class PlantModelError(PlantwinError):
    """A plant file or plant model is invalid; the message lists every problem found."""


class StoreError(PlantwinError):
    """The store failed to read or write; the driver's error is chained."""


class BusError(PlantwinError):
    """The bus failed to deliver or subscribe."""


class ConnectorError(PlantwinError):
    """A connector failed to start, read or write."""


class QueryError(PlantwinError):
    """A query asked for something that does not exist or cannot be answered."""


class InteropError(PlantwinError):
    """A model could not be exported to or imported from another format (e.g. an AAS)."""


class AnalyticsError(PlantwinError):
    """Analytics input (e.g. a benchmark data set) is missing or malformed, or a model failed."""


class SimulationError(PlantwinError):
    """A simulator (e.g. an FMU) could not be built, loaded or stepped."""


class AuthError(PlantwinError):
    """A credential is missing, unknown, expired or revoked (HTTP 401); the message says which."""


class AccountError(PlantwinError):
    """A request about users or tokens cannot be done (unknown user, name taken, weak password)."""
