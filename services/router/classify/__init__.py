"""Buyer-message intent classifier of the router: keyword rules plus a learned model.

from services.router.classify import classifier_for
c = classifier_for(policy.for_shop(shop_id).routing.keywords)
c.classify("不是要退货，我想问什么时候发货", order_stage="paid")
# Classification(intent='urge_shipment', role='presale', priority='normal', ...)
"""

from .classifier import Classification, Classifier, classifier_for
from .lexicon import INTENTS
from .roles import decide_role

__all__ = [
    "INTENTS",
    "Classification",
    "Classifier",
    "classifier_for",
    "decide_role",
]
