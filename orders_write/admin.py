"""Staff admin for the write side: every change goes through the domain services."""
