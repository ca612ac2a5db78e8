"""The made-up shop demo data is drawn from: names, catalogue, rates and daily rhythm."""

from datetime import timedelta

WINDOW = timedelta(days=90)

DEFAULT_SIZES = {"customers": 1_000, "products": 200, "orders": 10_000}
IF_EMPTY_SIZES = {"customers": 200, "products": 60, "orders": 2_000}

CANCEL_RATE = 0.08
DISCOUNT_RATE = 0.15
REPRICE_RATE = 1 / 400
RENAME_RATE = 1 / 1_500
LINE_COUNT_WEIGHTS = {1: 45, 2: 25, 3: 15, 4: 10, 5: 5}
QUANTITY_WEIGHTS = {1: 62, 2: 24, 3: 9, 4: 3, 5: 2}
DISCOUNT_PERCENTS = (5, 10, 10, 15, 20, 25)
DISCOUNT_AMOUNTS = (500, 1_000, 1_000, 1_500, 2_000, 2_500)
# Relative shop traffic per hour of the day (UTC): quiet nights, busy evenings.
HOURLY_TRAFFIC = (2, 1, 1, 1, 1, 2, 3, 5, 6, 7, 8, 8, 9, 9, 8, 8, 8, 9, 10, 10, 9, 7, 5, 3)

FIRST_NAMES = (
    "Ada", "Alan", "Amara", "Ana", "Anders", "Aoife", "Arjun", "Aylin", "Bea", "Björn", "Carlos", "Chiara",
    "Chloé", "Dana", "David", "Elena", "Emil", "Fatima", "Felix", "Grace", "Hana", "Hugo", "Ines", "Ivan",
    "Jakob", "José", "Julia", "Kai", "Kenji", "Lara", "Leon", "Lina", "Lucas", "Maja", "Marta", "Mateo",
    "Mei", "Nadia", "Nils", "Noah", "Olga", "Omar", "Priya", "Rafael", "Rosa", "Sami", "Sofia", "Tariq",
    "Theo", "Valentina", "Yusuf", "Zoë",
)  # fmt: skip
LAST_NAMES = (
    "Andersen", "Bauer", "Becker", "Costa", "Dubois", "Eriksson", "Fischer", "García", "Hoffmann", "Ivanova",
    "Jansen", "Kowalski", "Lambert", "Lopez", "Martin", "Meyer", "Moreau", "Müller", "Nakamura", "Novak",
    "Okafor", "Olsen", "Patel", "Rossi", "Schmidt", "Schneider", "Silva", "Smith", "Takahashi", "Torres",
    "Van Dijk", "Weber", "Wagner", "Yilmaz", "Zimmermann",
)  # fmt: skip
ADJECTIVES = ("Classic", "Compact", "Deluxe", "Everyday", "Nordic", "Organic", "Pro", "Recycled", "Travel", "Urban")
# sku prefix, product nouns, price range in minor units
CATALOGUE = (
    ("COF", ("Espresso Beans 1kg", "Filter Coffee 500g", "Cold Brew Kit", "Decaf Blend 250g"), (699, 3_499)),
    ("TEA", ("Green Tea 100g", "Earl Grey 50 Bags", "Chai Spice Mix", "Matcha Tin"), (399, 2_999)),
    ("KIT", ("Chef Knife", "Cast Iron Pan", "Cutting Board", "Pour-Over Kettle", "Salad Bowl"), (1_499, 12_999)),
    ("MUG", ("Ceramic Mug", "Travel Tumbler", "Espresso Cup Set", "Glass Teapot"), (899, 4_999)),
    ("HOM", ("Linen Throw", "Scented Candle", "Desk Lamp", "Plant Pot", "Wall Clock"), (1_299, 8_999)),
    ("STA", ("Notebook A5", "Fountain Pen", "Desk Organiser", "Wall Planner"), (299, 5_999)),
    ("OUT", ("Water Bottle", "Picnic Blanket", "Daypack 20L", "Camping Mug"), (999, 9_999)),
)
CARRIERS = ("DHL", "DPD", "GLS", "UPS")
CANCEL_REASONS = (
    "customer changed their mind",
    "ordered by mistake",
    "found a better price elsewhere",
    "payment failed",
    "delivery would take too long",
    "out of stock",
)
