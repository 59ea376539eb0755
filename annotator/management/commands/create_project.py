from django.core.management.base import CommandError

from annotator.formats.schema import load_schema
from annotator.services.projects import project_create

from ._base import WarrantCommand


class Command(WarrantCommand):
    help = "Create a project with a label schema: the 'argument' preset or a JSON file."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", default="")
        parser.add_argument("--schema", default="argument", help="argument, or FILE.json")
        parser.add_argument("--guidelines", help="a Markdown file with the guidelines")
        parser.add_argument("--per-document", type=int, default=2,
                            help="annotators per document (default 2)")

    def handle(self, *args, slug, name, schema, guidelines, per_document, **options):
        schema_spec = load_schema(schema)
        text = ""
        if guidelines:
            try:
                with open(guidelines, encoding="utf-8") as fh:
                    text = fh.read()
            except OSError as exc:
                raise CommandError(f"{guidelines}: {exc.strerror}") from None
        project = project_create(
            slug=slug, name=name, schema=schema_spec, guidelines=text,
            annotators_per_document=per_document,
        )
        labels = ", ".join(lab.name for lab in schema_spec.span_labels)
        self.stdout.write(f"created project {project.slug} with labels {labels}")
