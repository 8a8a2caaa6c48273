from httpkit.problems import ProblemError
from rest_framework import status


class BadCursor(ProblemError):
    status_code = status.HTTP_400_BAD_REQUEST
    title = "Invalid input"
