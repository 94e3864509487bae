"""Reports: counts equal counts computed independently from the audit trail and the records; small counts suppressed.

Ada (administrator) and Aud (auditor) see the network reports; Morgan sees
his team's caseload report; Priya (police) sees none.
"""

from __future__ import annotations

import csv
import html
import io
from collections import Counter

from django.utils import timezone

from access.disclosure import disclose_caseload, disclose_search, disclose_subject
from access.policy import principal_for
from audit.models import AuditEvent
from audit.services import Purpose, RequestContext
from partnership.models import Referral
from records.dataset import ITEMS
from records.models import Subject
from records.selectors import SearchCriteria
from records.terms import terms
from reports.tables import SUPPRESSED, Table, suppress
from tests.factories import make_subject
from tests.partnership.test_referrals import accept, ld_team, refer  # noqa: F401  (ld_team is a fixture)

PURPOSE = Purpose("custody_detention", "test")
RISK_LABELS = {i.label for i in ITEMS if i.section == "risk"}
CTX = RequestContext("test-request", "127.0.0.1")


def cells(page: str, row_label: str) -> list[str]:
    """The numeric cells of the table row with this heading, as the page shows them."""
    for row in page.split("<tr")[1:]:
        if f">{row_label}</th>" in row:
            return [html.unescape(c.split(">", 1)[1].split("</td>")[0]) for c in row.split("<td")[1:]]
    raise AssertionError(f"no row {row_label!r}")


def shown(count: int) -> str:
    value = suppress(count)
    return SUPPRESSED if value is None else str(value)


def test_suppression_hides_one_to_four_and_shows_zero_and_five():
    table = Table.of("t", ("n",), [("a", (0,)), ("b", (1,)), ("c", (4,)), ("d", (5,))])
    assert [cells[0] for _, cells in table.text_rows] == ["0", SUPPRESSED, SUPPRESSED, "5"]
    assert [bar.width for bar in table.bars][1:3] == [0.0, 0.0]
    assert table.csv_rows()[2] == ["b", SUPPRESSED]


def test_activity_counts_equal_the_audit_trail(priya_police, nia_nurse, ada_admin, subject, client_for):
    priya, nia = principal_for(priya_police), principal_for(nia_nurse)
    for _ in range(6):
        disclose_search(principal=priya, criteria=SearchCriteria(name="Quenby"), purpose=PURPOSE, context=CTX)
    for _ in range(7):
        disclose_subject(principal=priya, subject_id=subject.id, purpose=PURPOSE, context=CTX)
    for _ in range(2):
        disclose_subject(principal=nia, subject_id=subject.id, purpose=PURPOSE, context=CTX)
    page = client_for(ada_admin).get("/reports/activity/").content.decode()
    month = timezone.localdate().strftime("%b %Y")
    for person in (priya_police, nia_nurse):
        agency = person.agency.name
        month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        events = AuditEvent.objects.filter(agency=agency, outcome="ok", timestamp__gte=month_start)
        searches = events.filter(event="search").count()
        views = events.filter(event="record.view").count()
        users = events.exclude(actor_id=None).values("actor_id").distinct().count()
        row = cells(page, f"{month} · {agency}")
        assert row == [shown(searches), shown(views)], agency
        assert cells(page.rsplit("Active users per agency", 1)[1], f"{month} · {agency}") == [shown(users)]
    assert cells(page, f"{month} · {priya_police.agency.name}")[:2] == ["6", "7"]
    assert cells(page, f"{month} · {nia_nurse.agency.name}")[1] == SUPPRESSED  # two views: fewer than five
    assert "<svg" in page
    event = AuditEvent.objects.filter(event="report.view", actor_id=ada_admin.pk).latest("id")
    assert event.additional_data["report"] == "activity"


def test_csv_has_the_same_suppressed_counts(priya_police, nia_nurse, aud_auditor, subject, client_for):
    for _ in range(2):
        disclose_subject(principal=principal_for(nia_nurse), subject_id=subject.id, purpose=PURPOSE, context=CTX)
    response = client_for(aud_auditor).get("/reports/activity/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    nia_row = next(r for r in rows if r and r[0].endswith(nia_nurse.agency.name))
    assert nia_row[2] == SUPPRESSED


def test_referral_counts_equal_the_referrals(priya_police, pat_probation, lena_liaison, ld_team, cmht_team, ada_admin, client_for):  # noqa: F811
    referrals = [refer(priya_police, make_subject(team=cmht_team), ld_team) for _ in range(7)]
    for r in referrals[:6]:
        accept(lena_liaison, r)
    refer(pat_probation, make_subject(team=cmht_team), ld_team)
    page = client_for(ada_admin).get("/reports/referrals/").content.decode()
    for agency in (priya_police.agency, pat_probation.agency):
        made = Referral.objects.filter(from_agency=agency)
        accepted = made.filter(status__in=["accepted", "closed"]).count()
        assert cells(page, agency.name)[:2] == [shown(made.count()), shown(accepted)], agency.name
    assert cells(page, priya_police.agency.name)[:2] == ["7", "6"]
    assert cells(page, pat_probation.agency.name)[0] == SUPPRESSED
    # Accepted with no contact yet: six, counted from the referrals themselves.
    no_contact = Referral.objects.filter(status="accepted", first_contact_at=None).count()
    assert cells(page, "Accepted, no contact yet") == [shown(no_contact)] == ["6"]


def test_caseload_report_counts_equal_the_records(morgan_mh, cmht_team, client_for):
    for i in range(10):
        make_subject(team=cmht_team, diagnosis_group="psychosis" if i < 7 else "bipolar")
    make_subject(diagnosis_group="bipolar")  # on nobody's caseload: not counted
    page = client_for(morgan_mh).get("/reports/caseload/").content.decode()
    on_caseload = Subject.objects.filter(subjectgroupobjectpermission__group=cmht_team.group)
    by_group = Counter(on_caseload.values_list("diagnosis_group", flat=True))
    assert by_group["bipolar"] == 3
    labels = {code: label for (vocab, code), (label, _) in terms().items() if vocab == "diagnosis_group"}
    for code, count in by_group.items():
        assert cells(page, labels.get(code, code)) == [shown(count)]
    assert cells(page, labels["psychosis"]) == ["7"]
    assert cells(page, labels["bipolar"]) == [SUPPRESSED]


def test_overdue_report_agrees_with_the_caseload_page(morgan_mh, cmht_team, ada_admin, client_for):
    for _ in range(6):
        make_subject(team=cmht_team)
    rows = disclose_caseload(principal=principal_for(morgan_mh), purpose=Purpose("care_planning"), context=CTX)
    risk = sum(1 for r in rows for label, _ in r.overdue if label in RISK_LABELS)
    mental = sum(len(r.overdue) for r in rows) - risk
    page = client_for(ada_admin).get("/reports/overdue/").content.decode()
    assert cells(page, cmht_team.name) == [shown(len(rows)), shown(risk), shown(mental)]


def test_who_sees_which_report(priya_police, morgan_mh, ada_admin, client_for):
    assert client_for(priya_police).get("/reports/").status_code == 403
    morgan = client_for(morgan_mh)
    assert morgan.get("/reports/caseload/").status_code == 200
    assert morgan.get("/reports/activity/").status_code == 404
    admin = client_for(ada_admin)
    assert admin.get("/reports/caseload/").status_code == 404
    assert admin.get("/reports/nonsense/").status_code == 404


def test_bad_filters_get_a_clear_message_and_a_sensible_report(ada_admin, client_for):
    page = client_for(ada_admin).get("/reports/activity/?from=April&to=2026-01&agency=Nowhere").content.decode()
    assert "“April” is not a month. Use the form YYYY-MM" in page
    assert "No such agency; showing every agency." in page
