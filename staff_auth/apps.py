from django.apps import AppConfig


class StaffAuthConfig(AppConfig):
    """The second factor for staff logins and the idle session timeout (ADR 0030)."""

    name = "staff_auth"
    verbose_name = "Staff logins"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from staff_auth import sessions

        user_logged_in.connect(sessions.on_login, dispatch_uid="staff_auth.on_login")
