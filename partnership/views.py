"""Referrals and sharing decisions. Thin: validate, one choke-point or service call, render.

No view here reads a subject or a referral's content: names and what partners wrote come from access.disclosure.
"""

from __future__ import annotations

import uuid

from django import forms as forms_
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from access import web
from access.disclosure import (
    NotFound,
    disclose_referral,
    disclose_referral_list,
    disclose_sharing_decisions,
    may_act_on,
)
from partnership.forms import ContactForm, DecideForm, OutcomeForm, ReferralForm, SharingDecisionForm
from partnership.services import (
    PartnershipRefused,
    SharingDecisionInput,
    referral_contact,
    referral_create,
    referral_decide,
    referral_outcome,
    referral_outcome_seen,
    sharing_decision_record,
)


def referrals(request: HttpRequest) -> HttpResponse:
    """Two lists: referrals to the user's team(s), most urgent and longest waiting first; and those the user made."""
    who = web.principal(request)
    show_closed = request.GET.get("show") == "all"
    ctx = web.context(request)
    team = disclose_referral_list(principal=who, box="team", open_only=not show_closed, context=ctx) if who.team_group_ids else ()
    sent = disclose_referral_list(principal=who, box="sent", open_only=False, context=ctx)
    return render(
        request,
        "partnership/referrals.html",
        {"team": team, "sent": sent, "has_team": bool(who.team_group_ids), "show_closed": show_closed},
    )


def refer(request: HttpRequest, subject_id: uuid.UUID) -> HttpResponse:
    purpose = web.purpose_in_force(request)
    if purpose is None:
        messages.error(request, "Give your reason for access on the record first; the referral is made under it.")
        return redirect("record", subject_id=subject_id)
    who = web.principal(request)
    if may_act_on(principal=who, subject_id=subject_id, purpose=purpose) is None:
        return render(request, "errors/404.html", status=404)
    form = ReferralForm(request.POST or None, exclude_group_ids=who.team_group_ids)
    if request.method == "POST" and form.is_valid():
        try:
            referral = referral_create(
                actor=who,
                subject_id=subject_id,
                to_team_id=form.cleaned_data["to_team"],
                reason=form.cleaned_data["reason"],
                urgency=form.cleaned_data["urgency"],
                purpose=purpose,
                context=web.context(request),
            )
        except PartnershipRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Referral sent to {referral.to_team.name}. You will see their response under Referrals.")
            return redirect("referral", referral_id=referral.pk)
    return render(request, "partnership/refer.html", {"form": form, "subject_id": subject_id})


def referral(request: HttpRequest, referral_id: int) -> HttpResponse:
    who = web.principal(request)
    try:
        view = disclose_referral(principal=who, referral_id=referral_id, context=web.context(request))
    except NotFound:
        return render(request, "errors/404.html", status=404)
    if view.is_referrer and view.facts.status == "closed" and view.facts.outcome_seen_at is None:
        referral_outcome_seen(actor=who, referral_id=referral_id, context=web.context(request))
    version = {"version": view.facts.version}
    forms: dict[str, forms_.Form] = {}
    if view.is_receiver:
        if view.facts.status == "pending":
            forms["decide"] = DecideForm(initial=version)
        elif view.facts.status == "accepted":
            forms["contact"] = ContactForm(initial=version)
            forms["outcome"] = OutcomeForm(initial=version)
    return render(request, "partnership/referral.html", {"r": view, "forms": forms})


def referral_step(request: HttpRequest, referral_id: int, step: str) -> HttpResponse:
    """The receiving team's steps: decide, contact, outcome. A refused or invalid step re-shows the page with the message."""
    if request.method != "POST" or step not in ("decide", "contact", "outcome"):
        return redirect("referral", referral_id=referral_id)
    who = web.principal(request)
    ctx = web.context(request)
    form_class = {"decide": DecideForm, "contact": ContactForm, "outcome": OutcomeForm}[step]
    form = form_class(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if step == "decide":
                referral_decide(
                    actor=who,
                    referral_id=referral_id,
                    version=data["version"],
                    accept=data["decision"] == "accept",
                    reason=data["reason"],
                    context=ctx,
                )
                messages.success(
                    request, "Referral accepted." if data["decision"] == "accept" else "Referral declined; the referrer is told why."
                )
            elif step == "contact":
                assert isinstance(form, ContactForm)
                referral_contact(
                    actor=who,
                    referral_id=referral_id,
                    version=data["version"],
                    engagement=data["engagement"],
                    contact_at=form.contact_at(),
                    context=ctx,
                )
                messages.success(request, "Contact recorded.")
            else:
                referral_outcome(
                    actor=who, referral_id=referral_id, version=data["version"], outcome=data["outcome"], note=data["note"], context=ctx
                )
                messages.success(request, "Outcome recorded. The referrer is told.")
            return redirect("referral", referral_id=referral_id)
        except PartnershipRefused as exc:
            form.add_error(None, str(exc))
    try:
        view = disclose_referral(principal=who, referral_id=referral_id, context=ctx)
    except NotFound:
        return render(request, "errors/404.html", status=404)
    forms = {step: form}
    return render(request, "partnership/referral.html", {"r": view, "forms": forms, "failed": step}, status=400)


def sharing_decisions(request: HttpRequest, subject_id: uuid.UUID) -> HttpResponse:
    purpose = web.purpose_in_force(request)
    if purpose is None:
        messages.error(request, "Give your reason for access on the record first.")
        return redirect("record", subject_id=subject_id)
    try:
        view = disclose_sharing_decisions(
            principal=web.principal(request), subject_id=subject_id, purpose=purpose, context=web.context(request)
        )
    except NotFound:
        return render(request, "errors/404.html", status=404)
    return render(request, "partnership/sharing_decisions.html", {"view": view})


def sharing_decision_new(request: HttpRequest, subject_id: uuid.UUID) -> HttpResponse:
    purpose = web.purpose_in_force(request)
    if purpose is None:
        messages.error(request, "Give your reason for access on the record first.")
        return redirect("record", subject_id=subject_id)
    who = web.principal(request)
    if may_act_on(principal=who, subject_id=subject_id, purpose=purpose) is None:
        return render(request, "errors/404.html", status=404)
    form = SharingDecisionForm(request.POST or None, readable=who.grants.readable)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        data = SharingDecisionInput(
            decided_on=d["decided_on"],
            purpose=d["purpose"].strip(),
            necessity=d["necessity"].strip(),
            recipient_organisation=d["recipient_organisation"].strip(),
            recipient_person=d["recipient_person"].strip(),
            shared=d["shared"] == "yes",
            items=tuple(d["items"]),
            what_shared=d["what_shared"].strip(),
            minimum_reasoning=d["minimum_reasoning"].strip(),
            why_not=d["why_not"].strip(),
            lawful_basis=d["lawful_basis"],
            method=d["method"],
        )
        try:
            sharing_decision_record(actor=who, subject_id=subject_id, data=data, purpose=purpose, context=web.context(request))
        except PartnershipRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Sharing decision recorded. The owning team and auditors can see it.")
            return redirect("record", subject_id=subject_id)
    return render(request, "partnership/sharing_decision_form.html", {"form": form, "subject_id": subject_id})
