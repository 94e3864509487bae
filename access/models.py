"""Agencies, users, roles, teams, data items and the versioned role x item policy.

Rules:
- A role is a Django ``Group`` with a ``Role`` row; a team (a caseload owner)
  is a ``Group`` with a ``Team`` row. Only role groups carry item grants.
- ``view_dataitem`` / ``change_dataitem`` granted to a role's group on a
  ``DataItem`` object (django-guardian, direct foreign keys) means that role
  may read / write that item. Nothing else grants an item: deny by default.
- Every change to the matrix bumps ``PolicyVersion`` so that cached policy is
  recomputed on the very next request.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class AgencyKind(models.TextChoices):
    POLICE = "police", "Police force"
    CUSTODY_HEALTH = "custody_health", "Health provider in police custody"
    NHS_TRUST = "nhs_trust", "NHS mental health trust"
    PRISON_HEALTH = "prison_health", "NHS trust in prison"
    PROBATION = "probation", "Probation service"
    OTHER = "other", "Other"


class Agency(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=30, choices=AgencyKind.choices)
    is_active = models.BooleanField(default=True)
    works_out_of_hours = models.BooleanField(
        default=False, help_text="A 24-hour service (police, custody): access at night is normal and raises no alert."
    )

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A professional who signs in. Belongs to one agency and one or more roles."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="users")
    expires_on = models.DateField(null=True, blank=True, help_text="The account cannot sign in after this date.")

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Role(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="role")
    writes_need_caseload = models.BooleanField(
        default=False,
        help_text="Writes granted to this role apply only to subjects on the user's team caseload.",
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.label


class Team(models.Model):
    """A team that owns a caseload (guardian ``change_subject`` on its subjects)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)
    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="team")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="team_unique_name_per_agency")]

    def __str__(self) -> str:
        return self.name


class DataItem(models.Model):
    """One item of the minimum dataset (codes in DATASET.md)."""

    code = models.CharField(max_length=80, unique=True)
    section = models.CharField(max_length=40)
    label = models.CharField(max_length=200)
    help_text = models.TextField()
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return self.code


class DataItemUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(DataItem, on_delete=models.CASCADE)


class DataItemGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(DataItem, on_delete=models.CASCADE)


class PolicyVersion(models.Model):
    """One row per version of the role x item matrix; the highest number is in force."""

    number = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-number"]


class PolicyChange(models.Model):
    """One cell of the matrix changed in one version."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="changes")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(DataItem, on_delete=models.PROTECT, related_name="+")
    permission = models.CharField(max_length=10, choices=[("view", "read"), ("change", "write")])
    granted = models.BooleanField()
