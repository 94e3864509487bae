"""Exact surname in subject order, for the search's exact-surname tier (issue 6).

Built CONCURRENTLY: at a million people the names table is large, and a plain
CREATE INDEX would block enrolments and name changes while it builds.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("records", "0006_subject_visibility_index")]

    operations = [
        AddIndexConcurrently(
            model_name="subjectname",
            index=models.Index(fields=["family_norm", "subject_id"], include=["kind"], name="subjectname_family_exact"),
        ),
    ]
