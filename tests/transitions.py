"""The order lifecycle as the tests expect it, written out independently of the services."""

LEGAL_FROM = {"confirm": {"PENDING"}, "ship": {"CONFIRMED"}, "deliver": {"SHIPPED"}, "cancel": {"PENDING", "CONFIRMED"}}
STATUS_AFTER = {"confirm": "CONFIRMED", "ship": "SHIPPED", "deliver": "DELIVERED", "cancel": "CANCELLED"}
