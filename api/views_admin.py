"""Administrators register client systems and issue and revoke their credentials (each action audited)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from access import web
from access.models import Agency, Role
from api.models import ApiClient, ApiCredential
from api.services import api_client_register, api_credential_issue, api_credential_revoke
from mais.forms import GovukFormMixin

admin_only = web.role_required("administrator")


class ClientForm(GovukFormMixin, forms.Form):
    name = forms.CharField(label="System name", max_length=200, help_text="For example: Merseyside Police custody system")
    agency = forms.ModelChoiceField(label="Agency", queryset=Agency.objects.filter(is_active=True))
    role = forms.ModelChoiceField(label="Acts with the grants of", queryset=Role.objects.exclude(code__in=["administrator", "auditor"]))
    webhook_url = forms.URLField(label="Webhook address (optional)", required=False, assume_scheme="https")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if ApiClient.objects.filter(name=name).exists():
            raise forms.ValidationError("A client system with this name is already registered.")
        return name


@admin_only
def clients(request: HttpRequest) -> HttpResponse:
    form = ClientForm(request.POST or None)
    token = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        client = api_client_register(
            actor=web.principal(request),
            name=d["name"],
            agency=d["agency"],
            role=d["role"],
            webhook_url=d["webhook_url"],
            context=web.context(request),
        )
        token = api_credential_issue(actor=web.principal(request), client=client, context=web.context(request))
        form = ClientForm()
    listing = ApiClient.objects.select_related("agency", "role").prefetch_related("credentials")
    return render(request, "api/clients.html", {"clients": listing, "form": form, "token": token})


@admin_only
def client_action(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(ApiClient, pk=client_id)
    if request.method != "POST":
        return redirect("admin-api-clients")
    if request.POST.get("action") == "issue":
        token = api_credential_issue(actor=web.principal(request), client=client, context=web.context(request))
        listing = ApiClient.objects.select_related("agency", "role").prefetch_related("credentials")
        return render(request, "api/clients.html", {"clients": listing, "form": ClientForm(), "token": token})
    credential = get_object_or_404(ApiCredential, pk=request.POST.get("credential") or 0, client=client, revoked_at__isnull=True)
    api_credential_revoke(actor=web.principal(request), credential=credential, context=web.context(request))
    messages.success(request, f"Credential {credential.prefix} revoked: it stops working on its next call.")
    return redirect("admin-api-clients")
