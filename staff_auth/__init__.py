"""Staff logins beyond the password (ADR 0030): a TOTP second factor and idle sessions.

The admin's and the dashboard's password logins stay as they are; a middleware then holds a
session that still owes a second factor at the enrol or code page. The API's tokens are for
machines and never asked for a code.
"""
