"""A project's assignments counted by annotator, status and due date, kept by the database.

The progress dashboard and the documents page showed how many assignments are
assigned, in progress, submitted and overdue by counting the sets, through the
index of 0015: 300,000 index entries per page view at 100,000 briefs (70-140 ms,
twice that under load, issue 12). ``annotator_assignmentcount`` holds those counts
by (project, annotator, status, due date), a few hundred rows per project; a page
adds up the rows it needs, and "overdue" is the unsubmitted rows whose due date
has passed.

The database keeps them, as 0015 keeps the sets' copy of their document's project:
the ORM's writes, bulk inserts, the assignment's array insert, deletes (a cascade
from a document too) and COPY all fire these triggers, in the same transaction as
the write. On PostgreSQL one trigger per statement adds up what the statement
changed (transition tables) and applies it to each count in key order, so that an
assignment of 300,000 sets costs one grouped query, and two writers of the same
counts take their locks in the same order. SQLite has no statement triggers: a row
trigger there. A set without a due date is counted under 9999-12-31
(``models.NO_DUE``), never past. Written for each database Warrant runs on, as in
0002 and 0015.
"""

from django.conf import settings
from django.db import migrations, models

SET = "annotator_annotationset"
COUNT = "annotator_assignmentcount"
NO_DUE = "'9999-12-31'"  # a date to PostgreSQL beside a date column
KEY = "project_id, annotator_id, status, due"

# What a statement changed, as signed counts by key, applied in key order; the
# counts it brought to zero are removed. Each branch names only its own transition
# tables (PL/pgSQL plans a statement when it first runs it).
_DELTA = """
    INSERT INTO {count} AS c ({key}, n)
    SELECT project_id, annotator_id, status, due, SUM(d) FROM (
        {rows}
    ) AS changed
    GROUP BY project_id, annotator_id, status, due
    HAVING SUM(d) <> 0
    ORDER BY project_id, annotator_id, status, due
    ON CONFLICT ({key}) DO UPDATE SET n = c.n + EXCLUDED.n;
    DELETE FROM {count} c USING (
        SELECT DISTINCT project_id, annotator_id FROM ({rows}) AS changed
    ) AS k
    WHERE c.n = 0 AND c.project_id = k.project_id AND c.annotator_id = k.annotator_id;
"""


def _rows(table: str, sign: int) -> str:
    return (f"SELECT project_id, annotator_id, status, COALESCE(due, {NO_DUE}) AS due, "
            f"{sign} AS d FROM {table} WHERE NOT is_gold")


POSTGRES_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION annotator_assignment_count() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {_DELTA.format(count=COUNT, key=KEY, rows=_rows("new_sets", 1))}
        ELSIF TG_OP = 'DELETE' THEN
            {_DELTA.format(count=COUNT, key=KEY, rows=_rows("old_sets", -1))}
        ELSE
            -- Most updates of a set (every save bumps its version) change no count.
            IF EXISTS (
                SELECT 1 FROM new_sets n JOIN old_sets o ON o.id = n.id
                WHERE (n.project_id, n.annotator_id, n.status, n.due, n.is_gold)
                      IS DISTINCT FROM (o.project_id, o.annotator_id, o.status, o.due, o.is_gold)
            ) THEN
                {_DELTA.format(count=COUNT, key=KEY, rows=_rows("new_sets", 1)
                               + " UNION ALL " + _rows("old_sets", -1))}
            END IF;
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    f"""
    CREATE TRIGGER annotator_assignment_count_insert AFTER INSERT ON {SET}
    REFERENCING NEW TABLE AS new_sets
    FOR EACH STATEMENT EXECUTE FUNCTION annotator_assignment_count();
    """,
    f"""
    CREATE TRIGGER annotator_assignment_count_update AFTER UPDATE ON {SET}
    REFERENCING OLD TABLE AS old_sets NEW TABLE AS new_sets
    FOR EACH STATEMENT EXECUTE FUNCTION annotator_assignment_count();
    """,
    f"""
    CREATE TRIGGER annotator_assignment_count_delete AFTER DELETE ON {SET}
    REFERENCING OLD TABLE AS old_sets
    FOR EACH STATEMENT EXECUTE FUNCTION annotator_assignment_count();
    """,
]
POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS annotator_assignment_count_{event} ON {SET};"
    for event in ("insert", "update", "delete")
] + ["DROP FUNCTION IF EXISTS annotator_assignment_count();"]


# SQLite: one row at a time. The set's project is 0015's copy, or, while that copy is
# still NULL (SQLite corrects it just after the insert, in a trigger of its own), its
# document's; both sides of an update are taken the same way, so the correction moves
# nothing.
def _sqlite_project(row: str) -> str:
    return (f"COALESCE({row}.project_id, "
            f"(SELECT project_id FROM annotator_document WHERE id = {row}.document_id))")


def _sqlite_add(row: str, sign: int) -> str:
    return f"""
        INSERT INTO {COUNT} ({KEY}, n)
        VALUES ({_sqlite_project(row)}, {row}.annotator_id, {row}.status,
                COALESCE({row}.due, {NO_DUE}), {sign})
        ON CONFLICT ({KEY}) DO UPDATE SET n = n + {sign};
        DELETE FROM {COUNT}
        WHERE n = 0 AND project_id = {_sqlite_project(row)}
          AND annotator_id = {row}.annotator_id AND status = {row}.status
          AND due = COALESCE({row}.due, {NO_DUE});
    """


SQLITE_CREATE = [
    f"""
    CREATE TRIGGER annotator_assignment_count_insert AFTER INSERT ON {SET}
    FOR EACH ROW WHEN NOT NEW.is_gold
    BEGIN {_sqlite_add("NEW", 1)} END;
    """,
    f"""
    CREATE TRIGGER annotator_assignment_count_delete AFTER DELETE ON {SET}
    FOR EACH ROW WHEN NOT OLD.is_gold
    BEGIN {_sqlite_add("OLD", -1)} END;
    """,
    f"""
    CREATE TRIGGER annotator_assignment_count_update_old
    AFTER UPDATE OF project_id, document_id, annotator_id, status, due, is_gold ON {SET}
    FOR EACH ROW WHEN NOT OLD.is_gold
    BEGIN {_sqlite_add("OLD", -1)} END;
    """,
    f"""
    CREATE TRIGGER annotator_assignment_count_update_new
    AFTER UPDATE OF project_id, document_id, annotator_id, status, due, is_gold ON {SET}
    FOR EACH ROW WHEN NOT NEW.is_gold
    BEGIN {_sqlite_add("NEW", 1)} END;
    """,
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS annotator_assignment_count_{event};"
    for event in ("insert", "delete", "update_old", "update_new")
]


def count_and_keep(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("SET LOCAL statement_timeout = 0")  # a big database's sets
    schema_editor.execute(
        f"INSERT INTO {COUNT} ({KEY}, n) "
        f"SELECT project_id, annotator_id, status, COALESCE(due, {NO_DUE}), COUNT(*) "
        f"FROM {SET} WHERE NOT is_gold GROUP BY 1, 2, 3, 4"
    )
    for sql in {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(vendor, []):
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("annotator", "0017_agreement_rank_position"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AssignmentCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                           serialize=False, verbose_name="ID")),
                ("status", models.CharField(choices=[("assigned", "Assigned"),
                                                     ("in_progress", "In progress"),
                                                     ("submitted", "Submitted")],
                                            max_length=16)),
                ("due", models.DateField()),
                ("n", models.IntegerField(default=0)),
                ("annotator", models.ForeignKey(
                    db_constraint=False, on_delete=models.deletion.DO_NOTHING,
                    related_name="+", to=settings.AUTH_USER_MODEL)),
                ("project", models.ForeignKey(
                    db_constraint=False, on_delete=models.deletion.DO_NOTHING,
                    related_name="+", to="annotator.project")),
            ],
            options={
                "constraints": [models.UniqueConstraint(
                    fields=("project", "annotator", "status", "due"),
                    name="one_assignment_count")],
            },
        ),
        migrations.RunPython(count_and_keep, drop),
    ]
