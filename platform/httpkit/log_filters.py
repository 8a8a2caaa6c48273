"""Log filters for the request loggers."""

import logging


class QuotaRefusalFilter(logging.Filter):
    """Drops Django's warning for each 429 answer.

    A tenant over its quota is refused thousands of times a second in a flood; a log line for
    each would turn that flood into one of logs, and would cost the server more than the
    refusal itself. Refusals are counted per tenant in /metrics and listed in the access log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 429
