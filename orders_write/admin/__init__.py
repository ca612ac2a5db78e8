"""Staff admin for the write side: every change goes through the domain services.

Importing the package registers the customer, product and order admins (Django's admin
autodiscovery imports ``orders_write.admin``). Nothing here writes a model: forms and actions
call ``orders_write.services``; the models refuse any other write.
"""

from orders_write.admin import catalog, orders

__all__ = ["catalog", "orders"]
