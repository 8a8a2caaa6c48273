class OrderStatus:
    SUBMITTED = "submitted"
    PAID = "paid"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    PAYMENT_FAILED = "payment_failed"
    CANCELLED = "cancelled"


TERMINAL_STATUSES = frozenset({OrderStatus.COMPLETED, OrderStatus.PAYMENT_FAILED, OrderStatus.CANCELLED})
IN_FLIGHT_STATUSES = (OrderStatus.SUBMITTED, OrderStatus.PAID, OrderStatus.SHIPPED)
CANCELLABLE_STATUSES = (OrderStatus.SUBMITTED, OrderStatus.PAID)
WORKFLOW_ACTOR = "system:order-workflow"
