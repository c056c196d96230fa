"""The relate stage: each event's related events (``rank``, pure, over ``index``) and
``stage``, which keeps the stored lists current."""

from daybook.model import Item, Related
from daybook.relate.index import entity_weight
from daybook.relate.rank import Relation, RelationChange, context_order, relate
from daybook.relate.settings import DEFAULT_K, DEFAULT_RANKER, RANKERS, Ranker, Settings
from daybook.relate.stage import RelateReport, refresh, settings_json

__all__ = [
    "DEFAULT_K",
    "DEFAULT_RANKER",
    "RANKERS",
    "Item",
    "Ranker",
    "RelateReport",
    "Related",
    "Relation",
    "RelationChange",
    "Settings",
    "context_order",
    "entity_weight",
    "refresh",
    "relate",
    "settings_json",
]
