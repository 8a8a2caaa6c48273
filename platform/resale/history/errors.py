from rest_framework import status

from httpkit.problems import ProblemError


class BadCursor(ProblemError):
    status_code = status.HTTP_400_BAD_REQUEST
    title = "Invalid input"
