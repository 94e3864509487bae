"""Register a client system, issue or revoke its credentials (administrators can do the same in the web workspace).

manage.py api_client register --name "Police custody system" --agency police --role police_officer [--webhook URL]
manage.py api_client issue --name "Police custody system"      # prints a new credential once
manage.py api_client revoke --prefix 1a2b3c4d
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from access.models import Agency, Role
from api.models import ApiClient, ApiCredential
from api.services import api_client_register, api_credential_issue, api_credential_revoke
from audit.services import RequestContext


class Command(BaseCommand):
    help = "Register API client systems and manage their credentials."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["register", "issue", "revoke"])
        parser.add_argument("--name")
        parser.add_argument("--agency", help="agency code")
        parser.add_argument("--role", help="role code")
        parser.add_argument("--webhook", default="")
        parser.add_argument("--prefix", help="credential prefix (revoke)")

    def handle(self, *args: Any, action: str, **o: Any) -> None:
        ctx = RequestContext.system()
        if action == "register":
            agency = Agency.objects.filter(code=o["agency"]).first()
            role = Role.objects.filter(code=o["role"]).first()
            if not o["name"] or agency is None or role is None:
                raise CommandError("register needs --name, an existing --agency code and an existing --role code")
            client = api_client_register(actor=None, name=o["name"], agency=agency, role=role, webhook_url=o["webhook"], context=ctx)
            self.stdout.write(f"Registered {client.name}. Webhook secret (for checking signatures): {client.webhook_secret}")
            self.stdout.write(f"Credential (shown once): {api_credential_issue(actor=None, client=client, context=ctx)}")
        elif action == "issue":
            found = ApiClient.objects.filter(name=o["name"]).first()
            if found is None:
                raise CommandError(f"No client called {o['name']!r}")
            self.stdout.write(f"Credential (shown once): {api_credential_issue(actor=None, client=found, context=ctx)}")
        else:
            credential = ApiCredential.objects.filter(prefix=o["prefix"], revoked_at__isnull=True).select_related("client").first()
            if credential is None:
                raise CommandError(f"No credential in use with prefix {o['prefix']!r}")
            api_credential_revoke(actor=None, credential=credential, context=ctx)
            self.stdout.write(f"Revoked credential {credential.prefix} of {credential.client.name}; it stops working on its next call.")
