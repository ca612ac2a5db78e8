"""The second factor's pages: enter a code (``/two-factor/``) and enrol a device (``/two-factor/enrol/``).

Both are reached by a session that passed the password and owes a code (``SecondFactorMiddleware``
sends it here with ``?next=``). A code is checked against the user's TOTP device inside a
transaction that locks the device row, so one code is accepted once (django-otp remembers the
last time step used) and concurrent guesses are serialised; every wrong code lengthens
django-otp's back-off on that device (1, 2, 4, … seconds), which a new password login does not
reset (ADR 0030).
"""

import logging
from base64 import b32encode
from urllib.parse import urlencode

import segno
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff_auth.forms import CodeForm
from staff_auth.policy import remember_device

logger = logging.getLogger(__name__)

INVALID_CODE = "invalid_code"
THROTTLED = "throttled"
DEVICE_NAME = "Authenticator app"


def _next_url(request: HttpRequest) -> str:
    """The safe ``next`` the middleware passed along, else the user's home page."""
    candidate = request.POST.get("next", request.GET.get("next", ""))
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index") if request.user.is_staff else reverse("dashboard:index")


def _check_code(device: TOTPDevice, code: str) -> tuple[TOTPDevice | None, dict]:
    """Return the device if it accepts ``code``, else ``None`` and the error for the page."""
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, extra = locked.verify_is_allowed()
        if not allowed:
            return None, {"code": THROTTLED, "locked_until": (extra or {}).get("locked_until")}
        if locked.verify_token(code):
            return locked, {}
    return None, {"code": INVALID_CODE}


def _refused(request: HttpRequest, template: str, context: dict, error: dict) -> HttpResponse:
    logger.warning("second factor refused: %s", error["code"], extra={"user_id": request.user.pk})
    status = 429 if error["code"] == THROTTLED else 400
    return render(request, template, {**context, "error": error}, status=status)


def _complete(request: HttpRequest, device: TOTPDevice) -> HttpResponse:
    otp_login(request, device)
    remember_device(request, has_device=True)
    return HttpResponseRedirect(_next_url(request))


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Ask for the code of the user's device; on a right one, mark the session verified."""
    if request.user.is_verified():
        return HttpResponseRedirect(_next_url(request))
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:  # reset by staff since the session looked: enrol, if the policy says so
        remember_device(request, has_device=False)
        return HttpResponseRedirect(_next_url(request))
    form = CodeForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "next": _next_url(request)}
    if not form.is_valid():
        return render(request, "staff_auth/verify.html", context, status=400 if form.is_bound else 200)
    verified, error = _check_code(device, form.cleaned_data["code"])
    if verified is None:
        return _refused(request, "staff_auth/verify.html", context, error)
    return _complete(request, verified)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Show a new device's secret (QR code, otpauth URI, base32); confirm it with its first code.

    Only a user without a confirmed device may enrol: one who has a device proves it here first
    (else a stolen password could add a device of the thief's). The unconfirmed device is kept
    across reloads, so a scanned QR code stays valid until it is confirmed.
    """
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return HttpResponseRedirect(f"{reverse('staff_auth:verify')}?{urlencode({'next': _next_url(request)})}")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name=DEVICE_NAME, confirmed=False)
    secret = b32encode(device.bin_key).decode()
    form = CodeForm(request.POST if request.method == "POST" else None)
    context = {
        "form": form,
        "next": _next_url(request),
        "otpauth_uri": device.config_url,
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "qr_code": segno.make(device.config_url, error="m").svg_data_uri(scale=4),
    }
    if not form.is_valid():
        return render(request, "staff_auth/enrol.html", context, status=400 if form.is_bound else 200)
    confirmed, error = _check_code(device, form.cleaned_data["code"])
    if confirmed is None:
        return _refused(request, "staff_auth/enrol.html", context, error)
    confirmed.confirmed = True
    confirmed.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
    return _complete(request, confirmed)
