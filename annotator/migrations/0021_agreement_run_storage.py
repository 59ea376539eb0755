"""What an agreement run writes and reads costs PostgreSQL less (issue 12):

* ``annotator_agreementchunk.sums`` is stored uncompressed (``STORAGE EXTERNAL``): the
  sums are a deflated ``.npz`` already, which PostgreSQL's pglz tried to compress again
  for nothing on every chunk (a 1.1 MB chunk inserted in 4-7 ms instead of 17-23 ms).
* ``annotator_agreementdocumentrank.figures`` is compressed by lz4 instead of pglz
  where the server has it (PostgreSQL 14 and later built with lz4): copying the ranks
  of 10,000 briefs took 260-290 ms instead of 370-460 ms.
* A partial index on the spans that came from a suggestion: whether a run's sets have
  any (``services.agreement._add_suggestion_split``, on the run's last stretch) is
  answered from that index (empty in most projects) instead of a scan of every span
  of the database (120 ms at 1.2 million spans, with both cores).

Nothing changes on SQLite but the index.
"""

from django.db import migrations, models


def _tune(apps, schema_editor, *, forward: bool) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE annotator_agreementchunk ALTER COLUMN sums SET STORAGE "
                       + ("EXTERNAL" if forward else "EXTENDED"))
        cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                       "WHERE name = 'default_toast_compression'")
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute("ALTER TABLE annotator_agreementdocumentrank ALTER COLUMN figures "
                           "SET COMPRESSION " + ("lz4" if forward else "default"))


class Migration(migrations.Migration):

    dependencies = [
        ("annotator", "0020_agreement_run_stage_help"),
    ]

    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: _tune(apps, schema_editor, forward=True),
            lambda apps, schema_editor: _tune(apps, schema_editor, forward=False),
        ),
        migrations.AddIndex(
            model_name="span",
            index=models.Index(
                fields=["annotation_set"], condition=~models.Q(suggested_by=""),
                name="span_suggested",
            ),
        ),
    ]
