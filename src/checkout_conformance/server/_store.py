"""The reference server's seeded data, built from the reference profile.

The profile's keys say what each id is (a one-time product, a customer's saved payment method,
...), so the server builds its catalog of products, customers and codes from the same file the
suite reads: the two cannot drift apart.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from ..profile import Profile

OTHER_CUSTOMER_ID = "cus_ref_other_customer"


@dataclass(frozen=True)
class Product:
    id: str
    subscription: bool
    addon_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Store:
    """What exists on the reference server: products, customers and their cards, codes."""

    products: dict[str, Product] = field(default_factory=dict)
    payment_method_owner: dict[str, str] = field(default_factory=dict)
    customers: frozenset[str] = frozenset()
    discount_codes: frozenset[str] = frozenset()
    product_collections: frozenset[str] = frozenset()

    def known(self, kind: str) -> frozenset[str]:
        """The ids of one kind (the facts contracts/rules.yaml's conditions read)."""
        return self._known[kind]

    @functools.cached_property
    def _known(self) -> dict[str, frozenset[str]]:
        # Computed once: the conditions read these on every request the server answers.
        return {
            "products": frozenset(self.products),
            "subscription_products": frozenset(
                product.id for product in self.products.values() if product.subscription
            ),
            "product_collections": self.product_collections,
            "payment_methods": frozenset(self.payment_method_owner),
            "customers": self.customers,
        }

    def owner(self, payment_method: str) -> str | None:
        return self.payment_method_owner.get(payment_method)

    @classmethod
    def from_profile(cls, profile: Profile) -> Store:
        data = profile.data
        products = {data["one_time_product_id"]: Product(data["one_time_product_id"], False)}
        if "subscription_product_id" in data:
            addons = frozenset({data["addon_id"]}) if "addon_id" in data else frozenset()
            subscription_id = data["subscription_product_id"]
            products[subscription_id] = Product(subscription_id, True, addons)
        if "on_demand_product_id" in data:  # a subscription billed on demand, without addons
            on_demand_id = data["on_demand_product_id"]
            products[on_demand_id] = Product(on_demand_id, True)
        customers = {OTHER_CUSTOMER_ID}
        owners: dict[str, str] = {}
        if "customer_id" in data:
            customers.add(data["customer_id"])
            if "payment_method_id" in data:
                owners[data["payment_method_id"]] = data["customer_id"]
        if "other_payment_method_id" in data:
            owners[data["other_payment_method_id"]] = OTHER_CUSTOMER_ID
        return cls(
            products=products,
            payment_method_owner=owners,
            customers=frozenset(customers),
            discount_codes=frozenset({data["discount_code"]} if "discount_code" in data else ()),
            product_collections=frozenset(
                {data["product_collection_id"]} if "product_collection_id" in data else ()
            ),
        )
