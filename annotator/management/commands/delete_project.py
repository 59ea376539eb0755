from django.core.management.base import CommandError

from annotator.services.projects import project_delete

from ._base import WarrantCommand, get_project


class Command(WarrantCommand):
    help = (
        "Delete a project and everything of it: documents, annotation sets, gold, members' "
        "roles, agreement runs, export files and import uploads (its users remain). There is "
        "no undo: run `manage.py backup SLUG -o FILE` first."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--yes", action="store_true",
                            help="confirm: without it nothing is deleted")

    def handle(self, *args, slug, yes, **options):
        project = get_project(slug)
        if not yes:
            raise CommandError(
                f"deleting {slug} cannot be undone: back it up first (manage.py backup {slug} "
                "-o FILE), then run again with --yes; nothing was deleted"
            )
        report = project_delete(project=project, confirm=slug)
        self.stdout.write(report.summary())
