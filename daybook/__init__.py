"""daybook: the Wikipedia Current Events Portal as a linked, searchable news archive."""

from daybook.errors import DaybookError, ParseError, StoreError, UsageError
from daybook.model import Day, Event, Source

__version__ = "0.1.0"

__all__ = ["Day", "DaybookError", "Event", "ParseError", "Source", "StoreError", "UsageError", "__version__"]
