"""Sessions with their user's id beside the signed data (models.WebSession).

A write of the annotation page then reads the session, the user and the user's set
in one statement (issue 12.5). The sessions of django_session are copied over, so
that nobody is logged out; their user's id is filled in when they are next saved
(until then a write reads the session first, as before).
"""

from django.db import migrations, models

COPY = (
    "INSERT INTO annotator_websession (session_key, session_data, expire_date)"
    " SELECT session_key, session_data, expire_date FROM django_session"
)


class Migration(migrations.Migration):
    dependencies = [
        ("annotator", "0018_assignment_count"),
        ("sessions", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="WebSession",
            fields=[
                ("session_key", models.CharField(max_length=40, primary_key=True, serialize=False,
                                                 verbose_name="session key")),
                ("session_data", models.TextField(verbose_name="session data")),
                ("expire_date", models.DateTimeField(db_index=True, verbose_name="expire date")),
                ("user_id", models.BigIntegerField(blank=True, null=True)),
            ],
            options={
                "verbose_name": "session",
                "verbose_name_plural": "sessions",
                "abstract": False,
            },
        ),
        migrations.RunSQL(COPY, migrations.RunSQL.noop),
    ]
