"""An annotation set knows its document's project and position, kept by the database.

A project's progress counts, document totals and assignment list read 300,000
sets; through ``document__project`` each of those joins every document of the
project (1.4 s for the progress page of 100,000 briefs, issue 12), and a deep
page of the assignment list sorted them all (0.9 s). The copies live in
``annotation_set.project_id`` and ``annotation_set.document_position`` with
indexes of their own.

The database keeps them, not the code, so that no write path can leave them
wrong: the ORM's inserts and updates, bulk inserts and the benchmarks' COPY all
go through the triggers below (one primary-key lookup of the document per row
written). On PostgreSQL a row inserted with both already set keeps them: the one
writer that sets them, the assignment's array insert, reads them from the
document table in the same statement. A document that moves to another project
or place carries its sets along (no code does that today; the trigger costs
nothing until then). Written for each database Warrant runs on, as in 0002.

PostgreSQL fills the row before it is written (BEFORE trigger). SQLite's
triggers cannot change the row being written, so there the row is corrected
just after (AFTER trigger; recursive triggers are off, so its own UPDATE does
not fire it again); the columns are nullable for that moment.
"""

import django.db.models.deletion
from django.db import DatabaseError, migrations, models, transaction

SET = "annotator_annotationset"
DOCUMENT = "annotator_document"


def _of_document(column: str) -> str:
    return f"(SELECT {column} FROM {DOCUMENT} WHERE id = NEW.document_id)"


SQLITE_CREATE = [
    f"""
    CREATE TRIGGER annotator_annotationset_project_{when}
    AFTER {event} ON {SET}
    FOR EACH ROW
    WHEN NEW.project_id IS NOT {_of_document("project_id")}
      OR NEW.document_position IS NOT {_of_document("position")}
    BEGIN
        UPDATE {SET}
        SET project_id = {_of_document("project_id")},
            document_position = {_of_document("position")}
        WHERE id = NEW.id;
    END;
    """
    for when, event in (
        ("insert", "INSERT"),
        ("update", "UPDATE OF document_id, project_id, document_position"),
    )
] + [
    f"""
    CREATE TRIGGER annotator_document_moves_sets
    AFTER UPDATE OF project_id, position ON {DOCUMENT}
    FOR EACH ROW
    WHEN NEW.project_id IS NOT OLD.project_id OR NEW.position IS NOT OLD.position
    BEGIN
        UPDATE {SET} SET project_id = NEW.project_id, document_position = NEW.position
        WHERE document_id = NEW.id;
    END;
    """
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS annotator_annotationset_project_insert;",
    "DROP TRIGGER IF EXISTS annotator_annotationset_project_update;",
    "DROP TRIGGER IF EXISTS annotator_document_moves_sets;",
]

POSTGRES_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION annotator_annotationset_project() RETURNS trigger AS $$
    BEGIN
        SELECT project_id, position INTO NEW.project_id, NEW.document_position
        FROM {DOCUMENT} WHERE id = NEW.document_id;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    # A row inserted with both already set was given them from its document in the
    # same statement (the assignment's array insert joins the document table): the
    # condition spares it the function call, which costs ~11 s per 300,000 rows.
    f"""
    CREATE TRIGGER annotator_annotationset_project
    BEFORE INSERT ON {SET}
    FOR EACH ROW WHEN (NEW.project_id IS NULL OR NEW.document_position IS NULL)
    EXECUTE FUNCTION annotator_annotationset_project();
    """,
    f"""
    CREATE TRIGGER annotator_annotationset_project_update
    BEFORE UPDATE OF document_id, project_id, document_position ON {SET}
    FOR EACH ROW EXECUTE FUNCTION annotator_annotationset_project();
    """,
    f"""
    CREATE OR REPLACE FUNCTION annotator_document_moves_sets() RETURNS trigger AS $$
    BEGIN
        UPDATE {SET} SET project_id = NEW.project_id, document_position = NEW.position
        WHERE document_id = NEW.id;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    f"""
    CREATE TRIGGER annotator_document_moves_sets
    AFTER UPDATE OF project_id, position ON {DOCUMENT}
    FOR EACH ROW WHEN (NEW.project_id IS DISTINCT FROM OLD.project_id
                       OR NEW.position IS DISTINCT FROM OLD.position)
    EXECUTE FUNCTION annotator_document_moves_sets();
    """,
]
POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS annotator_annotationset_project ON {SET};",
    f"DROP TRIGGER IF EXISTS annotator_annotationset_project_update ON {SET};",
    "DROP FUNCTION IF EXISTS annotator_annotationset_project();",
    f"DROP TRIGGER IF EXISTS annotator_document_moves_sets ON {DOCUMENT};",
    "DROP FUNCTION IF EXISTS annotator_document_moves_sets();",
]


def fill_and_keep(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # The migration is one transaction; a big database's sets take longer to
        # copy and index than a request may (settings' statement timeout).
        schema_editor.execute("SET LOCAL statement_timeout = 0")
        schema_editor.execute(
            f"UPDATE {SET} SET project_id = d.project_id, document_position = d.position "
            f"FROM {DOCUMENT} d WHERE d.id = {SET}.document_id"
        )
    else:
        of = f"FROM {DOCUMENT} WHERE {DOCUMENT}.id = {SET}.document_id"
        schema_editor.execute(
            f"UPDATE {SET} SET project_id = (SELECT project_id {of}), "
            f"document_position = (SELECT position {of})"
        )
    for sql in {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(vendor, []):
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(vendor, []):
        schema_editor.execute(sql)


# The documents list's title search (``icontains`` is ``UPPER(col) LIKE UPPER(%q%)`` on
# PostgreSQL) reads this trigram index instead of every title of the project: 4 ms
# instead of 100 for "Brief 77" in 100,000 briefs. PostgreSQL only, and only where
# the pg_trgm extension may be created (it is "trusted" from PostgreSQL 13: a
# database owner may); elsewhere, and on SQLite, the search reads the titles of the
# index ``document_order``, as before.
TRIGRAM_INDEX = (
    f"CREATE INDEX IF NOT EXISTS document_search_trgm ON {DOCUMENT} USING gin "
    "(UPPER(title::text) gin_trgm_ops, UPPER(external_id::text) gin_trgm_ops)"
)


def search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            schema_editor.execute(TRIGRAM_INDEX)
    except DatabaseError:
        pass  # no pg_trgm here: the search scans titles, as it did


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS document_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("annotator", "0014_relation_update")]

    operations = [
        migrations.AddField(
            model_name="annotationset",
            name="project",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="annotator.project",
            ),
        ),
        migrations.AddField(
            model_name="annotationset",
            name="document_position",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill_and_keep, drop),
        migrations.AddIndex(
            model_name="annotationset",
            index=models.Index(
                condition=models.Q(("is_gold", False)),
                fields=["project", "annotator", "status", "due"],
                name="assignment_project_progress",
            ),
        ),
        migrations.AddIndex(
            model_name="annotationset",
            index=models.Index(
                condition=models.Q(("is_gold", False)),
                fields=["project", "document_position", "document"],
                name="assignment_project_order",
            ),
        ),
        migrations.RunPython(search_index, drop_search_index),
    ]
