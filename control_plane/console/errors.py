"""The console's errors, as types; views turn each into a message on the page."""


class ConsoleError(Exception):
    """A request the console refuses, with a message fit to show the user."""


class InvitationInvalid(ConsoleError):
    pass


class ExistingAccountPasswordWrong(ConsoleError):
    """An invitee with an account gave a password that is not theirs."""


class AttributeSchemaInvalid(ConsoleError):
    pass


class FeatureNotInTier(ConsoleError):
    pass
