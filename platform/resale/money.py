"""Money as a decimal string plus an ISO 4217 currency, checked against the currency's minor unit."""

from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision, list_currencies

CURRENCIES = frozenset(code for code in list_currencies() if len(code) == 3 and code.isalpha())
MAX_AMOUNT = Decimal("1000000000")


class InvalidMoney(ValueError):
    pass


def currency_validate(currency: str) -> str:
    if currency not in CURRENCIES:
        raise InvalidMoney(f"{currency!r} is not an ISO 4217 currency code.")
    return currency


def amount_normalize(amount: str, currency: str) -> str:
    """The amount as a canonical decimal string with the currency's number of decimals."""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError) as exc:
        raise InvalidMoney('Send the amount as a decimal string, like "12.50".') from exc
    if not value.is_finite() or value <= 0 or value >= MAX_AMOUNT:
        raise InvalidMoney("The amount must be positive and below 1,000,000,000.")
    places = get_currency_precision(currency)
    quantum = Decimal(1).scaleb(-places)
    if value != value.quantize(quantum):
        raise InvalidMoney(f"{currency} allows {places} decimal places.")
    return str(value.quantize(quantum))
