from rest_framework import status

from httpkit.problems import ProblemError


class ListingNotAvailable(ProblemError):
    """The listing is reserved, sold or withdrawn: it cannot be changed or bought."""

    status_code = status.HTTP_409_CONFLICT
    title = "Listing not available"


class StaleVersion(ProblemError):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    title = "Stale version"


class VersionRequired(ProblemError):
    status_code = 428
    title = "Precondition required"


class InvalidAttributes(ProblemError):
    title = "Invalid input"


class InvalidListing(ProblemError):
    title = "Invalid input"
