"""The Jinja2 environment of the pages drawn by Jinja2 (``jinja_templates/``: the record, search and edit pages).

Rule and reason: the pages every police officer and nurse opens on each request are drawn by Jinja2, which compiles a
template to Python code, rather than by Django's template engine, which walks a tree of nodes each time: on a record
view that walk was about 1.7 ms of 8.7 ms of Python (issue 6, measured with the item markup itself left out). Every
other page stays a Django template. What both kinds of page share (layout, navigation, messages, error summary,
emergency banner) is drawn by ``mais.chrome``, once for both. Autoescaping is on, as in Django's templates.

The names a page may use are the ones below, plus what its view passes and what the context processors add
(``nav``, ``messages``) and the backend adds (``request``, ``csrf_token``, ``csrf_input``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2
from django.middleware.csrf import get_token
from django.template import defaultfilters
from django.template.backends import jinja2 as django_jinja2
from django.templatetags.static import static
from django.urls import reverse
from django.utils import dateformat
from django.utils.functional import SimpleLazyObject

from mais import chrome
from mais.markup import built, when


def date(value: dt.date | dt.datetime | None, pattern: str) -> str:
    """``|date:"pattern"``: a time in the current time zone (Django's filter does that conversion in its template
    engine, not in the function), a date as it is, nothing for no value."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return when(value, pattern)
    return dateformat.format(value, pattern)


def url(name: str, *args: Any) -> str:
    """``{% url name arg %}``: the path of a named route."""
    return reverse(name, args=args)


class Jinja2(django_jinja2.Jinja2):
    """Django's Jinja2 backend, except that a page's CSRF token is made once however many forms the page draws.

    Django's backend hands a page a token that is worked out again each time the page prints it, and each time is a
    fresh mask of the secret: 0.1 ms each here (32 random characters drawn one by one), three times on a record page
    (sign-out, follow, the section forms; issue 6). Django's own template engine makes it once per page, as
    this does (lazily, so a page with no form sets no CSRF cookie). Any one of the masks is as good as another.
    """

    def get_template(self, template_name: str) -> Template:
        return Template(super().get_template(template_name).template, self)

    def from_string(self, template_code: str) -> Template:
        return Template(self.env.from_string(template_code), self)


class Template(django_jinja2.Template):
    def render(self, context: dict[str, Any] | None = None, request: Any = None) -> str:
        if request is None:
            return super().render(context)
        token = SimpleLazyObject(lambda: get_token(request))
        context = {
            **(context or {}),
            "request": request,
            "csrf_token": token,
            "csrf_input": SimpleLazyObject(lambda: built(chrome.csrf_hidden(token))),
        }
        for context_processor in self.backend.template_context_processors:
            context.update(context_processor(request))
        return super().render(context)  # without the request: Django's would put its own token back


def environment(**options: Any) -> jinja2.Environment:
    from records import pages  # the apps are loaded by the time Django builds the environment

    options.pop("autoescape", None)
    options.setdefault("keep_trailing_newline", True)  # as Django's templates: a page ends as its file does
    env = jinja2.Environment(autoescape=True, **options)  # always, whatever the settings say
    env.globals.update(
        url=url,
        static=static,
        page_header=chrome.HEADER,
        page_footer=chrome.FOOTER,
        service_navigation=chrome.service_navigation,
        message_banners=chrome.message_banners,
        form_errors=chrome.form_errors,
        emergency_banner=chrome.emergency_banner,
        key_item_rows=pages.key_item_rows,
        section_cards=pages.section_cards,
        result_cards=pages.result_cards,
        item_value=pages.item_value,
    )
    env.filters.update(date=date, pluralize=defaultfilters.pluralize)
    return env
