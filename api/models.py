"""Client systems that use the API: one agency, one role, revocable credentials, an optional signed webhook.

Rules:
- A client acts through a service account (``user``) that holds exactly the
  client's role and agency and can never sign in (unusable password), so the
  choke point applies the same policy, agreements and consent rules as for a
  person, and the audit trail names the client.
- A credential is stored only as its SHA-256 hash; the secret is shown once.
  Revoking it takes effect on the next call (every call looks it up).
- Every call names the end user it acts for and a purpose; both are audited.
"""

from __future__ import annotations

from django.db import models


class ApiClient(models.Model):
    name = models.CharField(max_length=200, unique=True)
    agency = models.ForeignKey("access.Agency", on_delete=models.PROTECT, related_name="api_clients")
    role = models.ForeignKey("access.Role", on_delete=models.PROTECT, related_name="api_clients")
    user = models.OneToOneField("access.User", on_delete=models.PROTECT, related_name="api_client")
    webhook_url = models.URLField(blank=True, help_text="Where change notifications are POSTed, signed with the webhook secret.")
    webhook_secret = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiCredential(models.Model):
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="credentials")
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
