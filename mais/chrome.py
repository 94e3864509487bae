"""The parts of a page both template engines draw: the header, the service navigation, message banners, the
footer, a form's error summary and the emergency-access banner.

Rule and reason: the record, search and edit pages are drawn by Jinja2 (``jinja_templates/``, issue 6: Django's template
engine spent about 1.7 ms of a record view's 8.7 ms of Python walking the page's nodes), every other page by
Django's templates (``templates/``). Both call these functions, so each piece of markup has one source and the
pages of both engines look the same. Every value goes through ``mais.markup.escape``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.safestring import SafeString

from mais.markup import built, when
from mais.markup import escape as _e

HEADER = built(
    """<a href="#main-content" class="govuk-skip-link">Skip to main content</a>
  <header class="govuk-header" role="banner">
    <div class="govuk-header__container govuk-width-container">
      <div class="govuk-header__logo">
        <a href="/" class="govuk-header__link govuk-header__link--homepage"><span class="govuk-header__logotype-text">MAIS</span></a>
      </div>
      <div class="govuk-header__content"><span class="govuk-header__service-name">Multi-Agency Information Sharing</span></div>
    </div>
  </header>"""
)

FOOTER = built(
    """<footer class="govuk-footer" role="contentinfo">
    <div class="govuk-width-container">
      <p class="govuk-body-s">Every search and record view is recorded with your reason. Synthetic demonstration data only.</p>
    </div>
  </footer>"""
)

# (flag in the navigation context, link key, label), in the order shown.
_NAV_ITEMS = (
    ("search", "search", "Search"),
    ("caseload", "caseload", "Caseload"),
    ("search", "notifications", "Notifications"),
    ("referrals", "referrals", "Referrals"),
    ("reports", "reports", "Reports"),
    ("audit", "audit_workspace", "Audit"),
    ("admin", "admin_workspace", "Administration"),
    ("matrix", "matrix", "Sharing matrix"),
)


def csrf_hidden(token: Any) -> str:
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(token)}">'


def service_navigation(nav: Mapping[str, Any] | None, csrf_token: Any) -> SafeString:
    """The signed-in user's workspaces, sign-out and who they are signed in as (``mais.context_processors.navigation``);
    nothing for a page seen before sign-in."""
    if not nav:
        return built("")
    links = nav["links"]
    items = "\n".join(
        f'            <li class="govuk-service-navigation__item"><a class="govuk-service-navigation__link" href="{_e(links[key])}">{label}</a></li>'
        for flag, key, label in _NAV_ITEMS
        if nav[flag]
    )
    agency = f", {_e(nav['agency'])}" if nav["agency"] else ""
    return built(
        '<section class="govuk-service-navigation" aria-label="Service information">\n'
        '    <div class="govuk-width-container">\n      <div class="govuk-service-navigation__container">\n'
        '        <nav aria-label="Menu" class="govuk-service-navigation__wrapper">\n'
        f'          <ul class="govuk-service-navigation__list">\n{items}\n'
        '            <li class="govuk-service-navigation__item">\n'
        f'              <form method="post" action="{_e(links["logout"])}" class="mais-inline-form">{csrf_hidden(csrf_token)}\n'
        '                <button type="submit" class="govuk-button govuk-button--secondary govuk-!-margin-bottom-0 govuk-!-margin-top-1" '
        'data-testid="sign-out">Sign out</button>\n              </form>\n            </li>\n          </ul>\n        </nav>\n      </div>\n'
        f'      <p class="govuk-body-s govuk-!-margin-bottom-1">Signed in as <strong>{_e(nav["name"])}</strong>{agency} '
        f"({_e(', '.join(nav['roles']))})</p>\n    </div>\n  </section>"
    )


def message_banners(messages: Iterable[Any]) -> SafeString:
    """Each message waiting for the user (Django's messages) as a notification banner; a success one as an alert."""
    banners = []
    for number, message in enumerate(messages, start=1):
        success = message.tags == "success"
        banners.append(
            f'<div class="govuk-notification-banner{" govuk-notification-banner--success" if success else ""}" '
            f'role="{"alert" if success else "region"}" aria-labelledby="msg-{number}">\n'
            f'  <div class="govuk-notification-banner__header"><h2 class="govuk-notification-banner__title" id="msg-{number}">'
            f"{'Success' if success else 'Important'}</h2></div>\n"
            f'  <div class="govuk-notification-banner__content"><p class="govuk-notification-banner__heading">{_e(str(message))}</p></div>\n</div>'
        )
    return built("\n".join(banners))


def form_errors(form: Any) -> SafeString:
    """GOV.UK's error summary for a bound form with errors: each field's errors link to the field."""
    if not form or not form.errors:
        return built("")
    lines = [f"<li>{_e(error)}</li>" for error in form.non_field_errors()]
    lines += [
        f'<li><a href="#{_e(field.id_for_label)}">{_e(field.label)}: {_e(error)}</a></li>' for field in form for error in field.errors
    ]
    return built(
        '<div class="govuk-error-summary" data-module="govuk-error-summary">\n  <div role="alert">\n'
        '    <h2 class="govuk-error-summary__title">There is a problem</h2>\n    <div class="govuk-error-summary__body">\n'
        f'      <ul class="govuk-list govuk-error-summary__list">\n        {"".join(lines)}\n      </ul>\n'
        "    </div>\n  </div>\n</div>"
    )


def emergency_banner(emergency: Any) -> SafeString:
    """The banner over a record or an item's history seen under emergency access, with the time it ends."""
    if not emergency:
        return built("")
    return built(
        '<div class="govuk-notification-banner mais-emergency-banner" role="region" aria-labelledby="emergency-title" '
        'data-testid="emergency-banner">\n<div class="govuk-notification-banner__header"><h2 class="govuk-notification-banner__title" '
        'id="emergency-title">Emergency access</h2></div>\n<div class="govuk-notification-banner__content"><p class="govuk-notification-banner__heading">'
        f"You are seeing items your role does not normally read, under emergency access that ends at {_e(when(emergency.expires_at, 'H:i'))}.</p>\n"
        '<p class="govuk-body">Every view is tagged as emergency access and reported to the auditors, who will review it.</p></div></div>'
    )
