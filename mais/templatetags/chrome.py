"""``mais.chrome``'s page parts for Django's templates (the Jinja2 pages call the same functions as globals)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from mais import chrome

register = template.Library()


@register.simple_tag(takes_context=True)
def service_navigation(context: template.Context) -> SafeString:
    return chrome.service_navigation(context.get("nav"), context.get("csrf_token", ""))


@register.simple_tag(takes_context=True)
def message_banners(context: template.Context) -> SafeString:
    return chrome.message_banners(context.get("messages") or ())


@register.simple_tag
def form_errors(form: Any) -> SafeString:
    return chrome.form_errors(form)


@register.simple_tag
def emergency_banner(emergency: Any) -> SafeString:
    return chrome.emergency_banner(emergency)


@register.simple_tag
def page_header() -> SafeString:
    return chrome.HEADER


@register.simple_tag
def page_footer() -> SafeString:
    return chrome.FOOTER
