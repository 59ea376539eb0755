"""Both endpoints of a relation belong to the relation's annotation set.

A CHECK constraint cannot read other rows, so the rule is a trigger, written
for each database Warrant runs on (SQLite embedded, PostgreSQL in production).
"""

from django.db import migrations

MESSAGE = "relation endpoints must belong to the annotation set of the relation"

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER annotator_relation_same_set_{when}
    BEFORE {when.upper()} ON annotator_relation
    FOR EACH ROW
    WHEN (SELECT annotation_set_id FROM annotator_span WHERE id = NEW.source_id)
             IS NOT NEW.annotation_set_id
      OR (SELECT annotation_set_id FROM annotator_span WHERE id = NEW.target_id)
             IS NOT NEW.annotation_set_id
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE}');
    END;
    """
    for when in ("insert", "update")
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS annotator_relation_same_set_{when};" for when in ("insert", "update")
]

POSTGRES_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION annotator_relation_same_set() RETURNS trigger AS $$
    BEGIN
        IF (SELECT annotation_set_id FROM annotator_span WHERE id = NEW.source_id)
               IS DISTINCT FROM NEW.annotation_set_id
           OR (SELECT annotation_set_id FROM annotator_span WHERE id = NEW.target_id)
               IS DISTINCT FROM NEW.annotation_set_id THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER annotator_relation_same_set
    BEFORE INSERT OR UPDATE ON annotator_relation
    FOR EACH ROW EXECUTE FUNCTION annotator_relation_same_set();
    """,
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS annotator_relation_same_set ON annotator_relation;",
    "DROP FUNCTION IF EXISTS annotator_relation_same_set();",
]


def create(apps, schema_editor):
    statements = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("annotator", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
