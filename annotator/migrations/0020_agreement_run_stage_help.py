"""The help text of AgreementRun.stage names the stages a run now passes through: the
pooling and the ranks are two tasks, and whichever stores its part second finishes the
run (services.agreement._finish). No change in the database."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("annotator", "0019_web_session"),
    ]

    operations = [
        migrations.AlterField(
            model_name="agreementrun",
            name="stage",
            field=models.CharField(
                blank=True,
                help_text="While running: chunks, then pooling, then reported or ranked once "
                          "the report or the documents' ranks is stored (the other finishes "
                          "the run).",
                max_length=16,
            ),
        ),
    ]
