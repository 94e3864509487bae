"""The administrator workspace: agencies, user accounts, access review. Thin views over access.admin_services.

Administrators read no record content here: only accounts and agencies.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from access import admin_services, web
from access.forms import AgencyForm, ImportForm, UserForm
from access.models import Agency, Role, User

admin_only = web.role_required("administrator")


def _ctx(request: HttpRequest) -> dict:
    return {"actor": web.principal(request), "context": web.context(request)}


@admin_only
def workspace(request: HttpRequest) -> HttpResponse:
    from django.conf import settings

    from governance.selectors import agreements_expiring

    days = settings.AGREEMENT_EXPIRY_WARNING_DAYS
    expiring = agreements_expiring(today=timezone.localdate(), days=days).count()
    return render(request, "access/admin/workspace.html", {"review": _review_counts(), "expiring": expiring, "expiry_days": days})


@admin_only
def agencies(request: HttpRequest) -> HttpResponse:
    form = AgencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        agency = admin_services.agency_save(**_ctx(request), agency=None, values=form.cleaned_data)
        messages.success(request, f"Agency {agency.name} created.")
        return redirect("admin-agencies")
    return render(request, "access/admin/agencies.html", {"agencies": Agency.objects.all(), "form": form})


@admin_only
def agency_edit(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = get_object_or_404(Agency, pk=agency_id)
    form = AgencyForm(request.POST or None, instance=agency)
    if request.method == "POST" and "active" in request.POST:
        admin_services.agency_set_active(**_ctx(request), agency=agency, active=request.POST["active"] == "1")
        messages.success(request, f"{agency.name} {'activated' if agency.is_active else 'deactivated: its users cannot sign in'}.")
        return redirect("admin-agencies")
    if request.method == "POST" and form.is_valid():
        values = {k: form.cleaned_data[k] for k in form.fields}
        agency.refresh_from_db()
        admin_services.agency_save(**_ctx(request), agency=agency, values=values)
        messages.success(request, "Agency saved.")
        return redirect("admin-agencies")
    return render(request, "access/admin/agency_edit.html", {"agency": agency, "form": form})


@admin_only
def users(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    qs = User.objects.select_related("agency").prefetch_related("groups__role").order_by("username")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(last_name__icontains=q) | Q(agency__name__icontains=q))
    return render(request, "access/admin/users.html", {"users": qs[:200], "q": q})


@admin_only
def user_new(request: HttpRequest) -> HttpResponse:
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = admin_services.user_register(
            **_ctx(request),
            username=data["username"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            agency=data["agency"],
            roles=data["roles"],
            expires_on=data["expires_on"],
        )
        messages.success(
            request, f"{user.username} registered. Issue a password link so they can set a password and enrol their authenticator app."
        )
        return redirect("admin-user", user_id=user.pk)
    return render(request, "access/admin/user_form.html", {"form": form, "title": "Register a user"})


@admin_only
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    roles = list(Role.objects.filter(group__user=user).values_list("code", flat=True))
    initial = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "agency": user.agency_id,
        "roles": roles,
        "expires_on": user.expires_on,
    }
    form = UserForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        values = {k: data[k] for k in ("first_name", "last_name", "email", "agency", "expires_on")}
        admin_services.user_update(**_ctx(request), user=user, values=values, roles=data["roles"])
        messages.success(request, "User saved. New roles apply from their next request.")
        return redirect("admin-user", user_id=user.pk)
    return render(
        request,
        "access/admin/user_form.html",
        {"form": form, "title": f"User {user.username}", "subject_user": user, "reset_link": request.session.pop("mais_reset_link", None)},
    )


@admin_only
@require_POST
def user_action(request: HttpRequest, user_id: int, action: str) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    if action == "deactivate":
        admin_services.user_set_active(**_ctx(request), user=user, active=False)
        messages.success(request, f"{user.username} deactivated: any session they have ends on its next request.")
    elif action == "activate":
        admin_services.user_set_active(**_ctx(request), user=user, active=True)
        messages.success(request, f"{user.username} activated.")
    elif action == "reset-second-factor":
        admin_services.user_reset_second_factor(**_ctx(request), user=user)
        messages.success(request, f"{user.username} must set up their authenticator app again at next sign-in.")
    elif action == "password-link":
        path = admin_services.user_issue_password_reset(**_ctx(request), user=user)
        request.session["mais_reset_link"] = request.build_absolute_uri(path)
    else:
        return render(request, "errors/404.html", status=404)
    next_page = request.POST.get("next", "")
    if next_page.startswith("/admin/") and not next_page.startswith("//"):
        return redirect(next_page)
    return redirect("admin-user", user_id=user.pk)


@admin_only
def users_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > 2_000_000:
            form.add_error("file", "The file is larger than 2 MB: split it into smaller files.")
        else:
            result = admin_services.users_import_csv(**_ctx(request), content=upload.read())
            if not result.errors:
                messages.success(request, f"{len(result.created)} users registered.")
                return redirect("admin-users")
    return render(request, "access/admin/import.html", {"form": form, "result": result})


def _review_querysets() -> dict:
    now = timezone.now()
    today = timezone.localdate()
    active = User.objects.filter(is_active=True).select_related("agency")
    return {
        "unused": active.filter(
            Q(last_login__lt=now - dt.timedelta(days=90)) | Q(last_login__isnull=True, date_joined__lt=now - dt.timedelta(days=90))
        ),
        "expiring": active.filter(expires_on__gte=today, expires_on__lte=today + dt.timedelta(days=30)),
        "expired": active.filter(expires_on__lt=today),
    }


def _review_counts() -> dict:
    return {k: v.count() for k, v in _review_querysets().items()}


@admin_only
def access_review(request: HttpRequest) -> HttpResponse:
    return render(
        request, "access/admin/access_review.html", {k: list(v.order_by("username")[:500]) for k, v in _review_querysets().items()}
    )
