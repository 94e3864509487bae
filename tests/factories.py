"""factory_boy factories: agencies, users with roles and a confirmed TOTP device, subjects."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import factory
from django.contrib.auth.models import Group, Permission
from django_otp.plugins.otp_totp.models import TOTPDevice
from faker import Faker

from access.models import Agency, AgencyKind, Role, Team, User
from governance.models import SharingAgreement
from records.dataset import ITEMS
from records.models import ItemChange, Subject, SubjectGroupObjectPermission
from records.services import _sync_search_names
from records.synthetic import subject_values

PASSWORD = "correct horse battery staple 42"
_rng = random.Random(42)
_fake = Faker("en_GB")
_fake.seed_instance(42)


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"agency-{n}")
    name = factory.Sequence(lambda n: f"Agency {n}")
    kind = AgencyKind.OTHER

    @factory.post_generation
    def agreement(obj: Agency, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        """Every test agency is party to the network agreement unless made with ``agreement=False``."""
        if create and extracted is not False:
            join_network_agreement(obj)


def all_purposes() -> list[str]:
    from records.vocabularies import VOCABULARIES

    return [code for code, _, _ in VOCABULARIES["access_reason"][1]]


def make_agreement(
    agencies: list[Agency],
    *,
    reference: str,
    items: list[str] | None = None,
    purposes: list[str] | None = None,
    starts_on: dt.date = dt.date(2020, 1, 1),
    ends_on: dt.date = dt.date(2099, 12, 31),
) -> SharingAgreement:
    agreement = SharingAgreement.objects.create(
        reference=reference,
        title=f"Agreement {reference}",
        purposes=purposes if purposes is not None else all_purposes(),
        items=items if items is not None else [i.code for i in ITEMS],
        starts_on=starts_on,
        ends_on=ends_on,
        signatory_name="Sam Signer",
        signatory_role="Caldicott Guardian",
    )
    agreement.parties.set(agencies)
    return agreement


def join_network_agreement(agency: Agency) -> None:
    """The test network's agreement: every item, every purpose, in force for decades."""
    agreement = SharingAgreement.objects.filter(reference="TEST-NETWORK").first() or make_agreement([], reference="TEST-NETWORK")
    agreement.parties.add(agency)


def make_user(username: str, *, role: str | None, agency: Agency, team: Team | None = None, first_name: str = "", **extra: Any) -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, agency=agency, first_name=first_name or username.title(), last_name="Test", **extra
    )
    if role:
        user.groups.add(Role.objects.get(code=role).group)
    if team:
        user.groups.add(team.group)
    TOTPDevice.objects.create(user=user, name="app", confirmed=True, key="3132333435363738393031323334353637383930")
    return user


def make_team(name: str, agency: Agency) -> Team:
    group = Group.objects.create(name=f"team:{agency.code}:{name}")
    return Team.objects.create(agency=agency, name=name, group=group)


def make_subject(*, team: Team | None = None, **overrides: Any) -> Subject:
    values = subject_values(_rng, _fake)
    values.update(overrides)
    subject = Subject.objects.create(**values)
    _sync_search_names(subject)
    if team is not None:
        perm = Permission.objects.get(content_type__app_label="records", codename="change_subject")
        SubjectGroupObjectPermission.objects.create(group=team.group, permission=perm, content_object=subject)
    return subject


def add_provenance(subject: Subject, user: User, codes: list[str]) -> None:
    ItemChange.objects.bulk_create(
        ItemChange(
            subject=subject,
            item_code=c,
            value=None,
            changed_at=dt.datetime.now(dt.UTC),
            changed_by=user,
            changed_by_name=user.get_full_name(),
            agency_name=user.agency.name if user.agency else "",
            role_code="x",
        )
        for c in codes
    )


def make_subjects_bulk(names: list[tuple[str, str]]) -> list[Subject]:
    """Many subjects at once (given, family), with their search names; for namesake pools."""
    from records.models import SubjectName
    from records.normalise import compact_name, name_words

    subjects = [
        Subject(family_name=family, given_names=given, date_of_birth=dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 28))
        for i, (given, family) in enumerate(names)
    ]
    Subject.objects.bulk_create(subjects)
    SubjectName.objects.bulk_create(
        SubjectName(
            subject=s,
            kind="current",
            family_norm=compact_name(s.family_name),
            given_norm=compact_name(s.given_names),
            given_first=(name_words(s.given_names) or [""])[0],
        )
        for s in subjects
    )
    return subjects
