"""Administration writes: agencies and user accounts. Each writes one audit event with before and after.

Rules:
- Deactivating an agency or a user, or an account passing its expiry date, stops sign-in at
  once and ends live sessions on their next request (access.backends.AccountBackend).
- Resetting the second factor removes every device; the user must enrol again at next sign-in.
- A password reset link sets a password only: the second factor is still required to sign in.
- A CSV import validates every row first and imports nothing if any row is wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import Agency, Role, User
from access.policy import Principal
from audit.services import CREATE, UPDATE, RequestContext, audit_record

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,149}$")
NAME_RE = re.compile(r"^[^\W\d_][\w .'\-]*$", re.UNICODE)
CSV_COLUMNS = ["username", "first_name", "last_name", "email", "agency_code", "roles", "expires_on"]
MAX_IMPORT_ROWS = 5000


def _agency_state(agency: Agency) -> dict[str, Any]:
    return {
        "code": agency.code,
        "name": agency.name,
        "kind": agency.kind,
        "is_active": agency.is_active,
        "works_out_of_hours": agency.works_out_of_hours,
    }


def _user_state(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "name": user.get_full_name(),
        "email": user.email,
        "agency": user.agency.code if user.agency_id else None,  # type: ignore[union-attr]
        "roles": sorted(Role.objects.filter(group__user=user).values_list("code", flat=True)),
        "is_active": user.is_active,
        "expires_on": user.expires_on.isoformat() if user.expires_on else None,
    }


def _audit_admin(
    actor: Principal, context: RequestContext, event: str, target: Any, action: str, before: dict | None, after: dict | None
) -> None:
    audit_record(
        event=event,
        action=CREATE if before is None else UPDATE,
        context=context,
        about=type(target),
        object_pk=str(target.pk),
        object_repr=str(target),
        changes={"action": action, "before": before, "after": after},
        **actor.audit_identity(),
    )


@transaction.atomic
def agency_save(*, actor: Principal, context: RequestContext, agency: Agency | None, values: dict[str, Any]) -> Agency:
    before = _agency_state(agency) if agency else None
    agency = agency or Agency()
    for key, value in values.items():
        setattr(agency, key, value)
    agency.save()
    _audit_admin(actor, context, "admin.agency", agency, "create" if before is None else "edit", before, _agency_state(agency))
    return agency


@transaction.atomic
def agency_set_active(*, actor: Principal, context: RequestContext, agency: Agency, active: bool) -> None:
    before = _agency_state(agency)
    agency.is_active = active
    agency.save(update_fields=["is_active"])
    _audit_admin(actor, context, "admin.agency", agency, "activate" if active else "deactivate", before, _agency_state(agency))


def _set_roles(user: User, role_codes: list[str]) -> None:
    role_groups = Group.objects.filter(role__isnull=False)
    user.groups.remove(*role_groups)
    user.groups.add(*Group.objects.filter(role__code__in=role_codes))


@transaction.atomic
def user_register(
    *,
    actor: Principal,
    context: RequestContext,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    agency: Agency,
    roles: list[str],
    expires_on: dt.date | None,
) -> User:
    user = User(username=username, first_name=first_name, last_name=last_name, email=email, agency=agency, expires_on=expires_on)
    user.set_unusable_password()  # the user sets one through a reset link, then enrols a second factor
    user.save()
    _set_roles(user, roles)
    _audit_admin(actor, context, "admin.user", user, "register", None, _user_state(user))
    return user


@transaction.atomic
def user_update(*, actor: Principal, context: RequestContext, user: User, values: dict[str, Any], roles: list[str]) -> None:
    before = _user_state(user)
    for key, value in values.items():
        setattr(user, key, value)
    user.save()
    _set_roles(user, roles)
    _audit_admin(actor, context, "admin.user", user, "edit", before, _user_state(user))


@transaction.atomic
def user_set_active(*, actor: Principal, context: RequestContext, user: User, active: bool) -> None:
    before = _user_state(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    _audit_admin(actor, context, "admin.user", user, "activate" if active else "deactivate", before, _user_state(user))


@transaction.atomic
def user_reset_second_factor(*, actor: Principal, context: RequestContext, user: User) -> None:
    before = {"devices": TOTPDevice.objects.filter(user=user).count() + StaticDevice.objects.filter(user=user).count()}
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _audit_admin(actor, context, "admin.user", user, "reset_second_factor", before, {"devices": 0})


@transaction.atomic
def user_issue_password_reset(*, actor: Principal, context: RequestContext, user: User) -> str:
    """A single-use link (path) that lets the user set a password. Sign-in still needs the second factor."""
    state = _user_state(user)
    _audit_admin(actor, context, "admin.user", user, "issue_password_reset", state, state)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/login/reset/{uid}/{default_token_generator.make_token(user)}/"


@dataclass
class ImportResult:
    errors: list[tuple[int, str]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


def _check_text(value: str, label: str, errors: list[str], *, pattern: re.Pattern[str] = NAME_RE) -> None:
    if not value:
        errors.append(f"{label} is missing")
    elif value[0] in "=+-@\t\r":
        errors.append(f"{label} must not start with {value[0]!r} (it could run as a spreadsheet formula)")
    elif not pattern.match(value) or len(value) > 150:
        errors.append(f"{label} {value!r} has characters a name cannot have")


def users_import_csv(*, actor: Principal, context: RequestContext, content: bytes) -> ImportResult:
    """Validate every row; if all are good, create them all in one transaction, else create none."""
    result = ImportResult()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append((0, "The file is not UTF-8 text. Save it as 'CSV UTF-8' and try again."))
        return result
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != CSV_COLUMNS:
        result.errors.append((1, "The first row must be exactly: " + ",".join(CSV_COLUMNS)))
        return result
    agencies = {a.code: a for a in Agency.objects.all()}
    roles = set(Role.objects.values_list("code", flat=True))
    existing = set(User.objects.values_list("username", flat=True))
    seen: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_IMPORT_ROWS:
            result.errors.append((number, f"Too many rows: import at most {MAX_IMPORT_ROWS} at a time"))
            break
        if None in raw:
            result.errors.append((number, "This row has more cells than the header"))
            continue
        row = {k: (v or "").strip() for k, v in raw.items()}
        errors: list[str] = []
        username = row["username"].lower()
        if not USERNAME_RE.match(username):
            errors.append(f"username {row['username']!r} must be 2-150 lower-case letters, digits, dots, dashes or underscores")
        elif username in existing:
            errors.append(f"username {username!r} already exists")
        elif username in seen:
            errors.append(f"username {username!r} is also on row {seen[username]}")
        seen.setdefault(username, number)
        _check_text(row["first_name"], "first name", errors)
        _check_text(row["last_name"], "last name", errors)
        try:
            validate_email(row["email"])
        except ValidationError:
            errors.append(f"email {row['email']!r} is not a valid address")
        agency = agencies.get(row["agency_code"])
        if agency is None:
            errors.append(f"agency {row['agency_code']!r} does not exist")
        elif not agency.is_active:
            errors.append(f"agency {row['agency_code']!r} is deactivated")
        role_codes = [r.strip() for r in row["roles"].split(";") if r.strip()]
        if not role_codes:
            errors.append("at least one role is needed (separate several with ';')")
        unknown = [r for r in role_codes if r not in roles]
        if unknown:
            errors.append(f"unknown role {', '.join(unknown)}")
        expires_on = None
        if row["expires_on"]:
            try:
                expires_on = dt.date.fromisoformat(row["expires_on"])
                if expires_on <= dt.date.today():
                    errors.append("expires_on must be in the future")
            except ValueError:
                errors.append(f"expires_on {row['expires_on']!r} must be a date as YYYY-MM-DD")
        if errors:
            result.errors.append((number, "; ".join(errors)))
        else:
            rows.append({**row, "username": username, "agency": agency, "roles": role_codes, "expires_on": expires_on})
    if not rows and not result.errors:
        result.errors.append((2, "The file has no users in it"))
    if result.errors:
        return result
    with transaction.atomic():
        for row in rows:
            user_register(
                actor=actor,
                context=context,
                username=row["username"],
                first_name=row["first_name"],
                last_name=row["last_name"],
                email=row["email"],
                agency=row["agency"],
                roles=row["roles"],
                expires_on=row["expires_on"],
            )
            result.created.append(row["username"])
    return result
