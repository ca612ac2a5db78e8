"""Read a Prometheus text exposition into ``{(name, labels): value}`` with prometheus-client's own parser."""

import re

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

# What a bounded label value never looks like: a number (an id), a UUID, a path or URL.
_UNBOUNDED = re.compile(r"^\d+$|[0-9a-f]{8}-[0-9a-f]{4}-|/|^https?:", re.IGNORECASE)
# Labels whose values are numbers by design.
_NUMERIC_LABELS = {"status", "le", "quantile"}


def samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    """Sum the samples named ``name`` whose labels include ``labels`` (0 when there is none)."""
    wanted = set(labels.items())
    return sum(v for (sample, sample_labels), v in found.items() if sample == name and wanted <= sample_labels)


def unbounded_labels(found: Samples) -> list[tuple[str, str, str]]:
    """Return ``(metric, label, value)`` for every label of ours (``orders_*``) that looks like an id, a UUID or a path.

    prometheus-client's own ``python_*``/``process_*`` families carry fixed numbers (``generation``, ``major``).
    """
    bad = []
    for name, labels in found:
        if not name.startswith("orders_"):
            continue
        for label, label_value in labels:
            if label in _NUMERIC_LABELS:
                if label == "status" and not re.fullmatch(r"[1-5]\d\d", label_value):
                    bad.append((name, label, label_value))
                continue
            if _UNBOUNDED.search(label_value):
                bad.append((name, label, label_value))
    return bad
