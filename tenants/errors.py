from rest_framework import status

from httpkit.problems import ProblemError


class SlugTaken(ProblemError):
    status_code = status.HTTP_409_CONFLICT
    title = "Slug taken"


class InvalidTenantTransition(ProblemError):
    status_code = status.HTTP_409_CONFLICT
    title = "Invalid tenant state"


class NoCellCapacity(ProblemError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    title = "No cell has room"


class LastAdmin(ProblemError):
    """Removing this member would leave the tenant without an admin."""

    status_code = status.HTTP_409_CONFLICT
    title = "Last admin"
