"""The first administrator of a new installation, from the server's command line (nobody can sign in yet).

Creates the agency if needed and the user with the administrator role and no usable password, audits it as
the server operator, and prints a single-use link to set a password; the administrator then enrols a second
factor at first sign-in, like everyone else. Every later user is registered in the administration workspace.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from access.models import Agency, AgencyKind, Role, User
from audit.services import CREATE, RequestContext, audit_record


class Command(BaseCommand):
    help = "Create the first administrator and print a single-use link to set their password."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--first-name", required=True)
        parser.add_argument("--last-name", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--agency-code", required=True, help="A short slug, for example mersey-mh-trust")
        parser.add_argument("--agency-name", required=True)
        parser.add_argument("--agency-kind", required=True, choices=AgencyKind.values)
        parser.add_argument("--base-url", default="https://<your MAIS host>", help="Printed in front of the link")

    def handle(self, *args: Any, **o: Any) -> None:
        if User.objects.filter(username=o["username"]).exists():
            raise CommandError(f"A user called {o['username']!r} already exists.")
        with transaction.atomic():
            agency, _ = Agency.objects.get_or_create(code=o["agency_code"], defaults={"name": o["agency_name"], "kind": o["agency_kind"]})
            user = User(username=o["username"], first_name=o["first_name"], last_name=o["last_name"], email=o["email"], agency=agency)
            user.set_unusable_password()
            user.save()
            user.groups.add(Role.objects.get(code="administrator").group)
            audit_record(
                event="admin.user",
                action=CREATE,
                context=RequestContext.system(),
                about=User,
                object_pk=str(user.pk),
                object_repr=str(user),
                actor_username="manage.py create_administrator",
                changes={"action": "register", "before": None, "after": {"username": user.username, "roles": ["administrator"]}},
            )
        link = f"/login/reset/{urlsafe_base64_encode(force_bytes(user.pk))}/{default_token_generator.make_token(user)}/"
        self.stdout.write(f"Administrator {user.username} created. Single-use link to set the password:\n{o['base_url']}{link}")
