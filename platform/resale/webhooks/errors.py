from rest_framework import status

from httpkit.problems import ProblemError


class WebhookNotFound(ProblemError):
    status_code = status.HTTP_404_NOT_FOUND
    title = "Webhook not found"


class WebhookDeliveryNotFound(ProblemError):
    status_code = status.HTTP_404_NOT_FOUND
    title = "Webhook delivery not found"


class WebhookTargetRefused(ProblemError):
    status_code = status.HTTP_400_BAD_REQUEST
    title = "Webhook URL refused"


class WebhookLimitReached(ProblemError):
    status_code = status.HTTP_409_CONFLICT
    title = "Webhook limit reached"
