"""Django's template backend, except that a page's context is freed as soon as the page is drawn.

Rule and reason: Django's ``RequestContext`` holds two ``ContextDict`` layers that each point back at it, so every
page's context, and all it refers to (a record page's item views with their explanations, a search page's fifty
people), is a reference cycle that only Python's cycle collector frees. Emptying the context's layers once the page
is drawn breaks the cycle, so reference counting frees it at once. The context is never used after ``render``
returns; the test client's record of rendered contexts keeps copies of the layer list, which are unaffected.

Measured (issue 6), one gunicorn worker at record-view saturation, per 2,000 requests: objects left to the
collector 300 -> 120 a request, collections 950 -> 554, collector CPU 0.45 -> 0.29 ms a request. A small gain
(a few per cent of a record view's CPU), and pages' memory is returned as soon as they are sent.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template import TemplateDoesNotExist
from django.template.backends import django as django_backend
from django.template.context import make_context
from django.utils.safestring import SafeString


class DjangoTemplates(django_backend.DjangoTemplates):
    def from_string(self, template_code: str) -> Template:
        return Template(self.engine.from_string(template_code), self)

    def get_template(self, template_name: str) -> Template:
        try:
            return Template(self.engine.get_template(template_name), self)
        except TemplateDoesNotExist as exc:
            django_backend.reraise(exc, self)  # type: ignore[attr-defined]
            raise  # unreachable: reraise always raises


class Template(django_backend.Template):  # type: ignore[misc]
    def render(self, context: dict[str, Any] | None = None, request: HttpRequest | None = None) -> SafeString:
        bound = make_context(context, request, autoescape=self.backend.engine.autoescape)
        try:
            return self.template.render(bound)  # type: ignore[no-any-return]
        except TemplateDoesNotExist as exc:
            django_backend.reraise(exc, self.backend)  # type: ignore[attr-defined]
            raise  # unreachable: reraise always raises
        finally:
            bound.dicts.clear()
