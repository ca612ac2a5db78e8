"""Realistic demo data, recorded through the domain services (used by ``seed_demo``)."""
